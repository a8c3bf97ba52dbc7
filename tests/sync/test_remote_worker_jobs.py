"""Remote workers beyond the happy path: a library imported before any worker (or with local ML
off) is queued for them when ``serve --no-local-ml`` starts; a video's clip job takes frames
from the original (bounded in size); an undecodable file and a job whose workers keep dying
mark the asset unanalysable instead of coming back forever."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from photodesk.core import JobName, Library, Models
from photodesk.remote.worker import RemoteWorker
from photodesk.sync.config import ServerConfig
from tests.catalogs import sql
from tests.conftest import make_jpeg, make_video
from tests.sync.test_immich_api import _api, _upload, _wait_until

DIM = 16


class Embedder:
    """An image embedder of the worker: a photo's mean colour; ``broken`` cannot decode."""

    model_name = "fake-clip"
    dim = DIM

    def __init__(self, *, broken: bool = False) -> None:
        self.calls: list[int] = []
        self.broken = broken

    def embed_images(self, paths: list[str]) -> np.ndarray:
        self.calls.append(len(paths))
        if self.broken:
            raise OSError("cannot identify image file")
        rows = []
        for p in paths:
            with Image.open(p) as im:
                v = np.zeros(DIM, dtype=np.float32)
                v[:3] = np.asarray(im.convert("RGB")).reshape(-1, 3).mean(0) / 255.0 + 0.01
                rows.append(v)
        return np.stack(rows)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), DIM), dtype=np.float32)


def _jobs(lib: Library, kind: str) -> list[tuple[int, str, str, int]]:
    rows = sql(lib, "select id, target, state, attempts from jobs where kind = ? order by id", kind)
    return [(int(i), str(t), str(s), int(a)) for i, t, s, a in rows]


def _worker(server, name: str, embedder: Embedder, **kw) -> RemoteWorker:
    token = server.lib.workers.add(name)
    return RemoteWorker(server.url, token, Models(image=embedder), ["clip"], **kw)


def test_serve_without_local_ml_queues_the_photos_imported_before(
    start_server, tmp_path: Path
) -> None:
    config = ServerConfig(local_ml=False)
    lib = Library.open(tmp_path / "lib", options=config.library_options())
    try:
        for n in range(3):
            make_jpeg(tmp_path / "in" / f"p{n}.jpg", seed=n)
        make_video(tmp_path / "in" / "clip.mp4", seconds=2.0)
        lib.importer.import_paths([tmp_path / "in"], workers=1)
        ids = [int(r[0]) for r in sql(lib, "select id from assets order by id")]
        assert len(ids) == 4
        # No model here and no worker then: nothing queued for analysis.
        assert _jobs(lib, "clip") == [] and _jobs(lib, "faces") == []

        server = start_server(lib=lib, local_ml=False)
        assert _wait_until(lambda: len(_jobs(lib, "clip")) == 4, timeout=60)
        assert _wait_until(lambda: len(_jobs(lib, "faces")) == 4, timeout=60)
        assert {t for _, t, _, _ in _jobs(lib, "clip")} == {str(i) for i in ids}

        embedder = Embedder()
        stats = _worker(server, "nas-gpu", embedder).run(until_idle=True)
        assert stats.done == 4 and stats.failed == 0
        # The video's job downloaded the original and pooled three frames, as the local job does.
        assert sorted(embedder.calls) == [1, 1, 1, 3]
        assert sql(lib, "select count(*) from embeddings where model = ?", "fake-clip")[0][0] == 4
        assert server.lib.workers.model("clip") == "fake-clip"

        # The catch-up now checks against the workers' model: nothing is left to queue.
        assert lib.queue_missing("clip", for_workers=True) == 0
        sql(lib, "delete from embeddings where asset_id = ?", ids[0])
        assert lib.queue_missing("clip", for_workers=True) == 1
    finally:
        lib.close()


def test_a_video_over_the_bound_is_analysed_from_its_preview(start_server, tmp_path: Path) -> None:
    server = start_server(local_ml=False)
    uid = server.lib.accounts.add_user("video@example.org", "a long password")
    call = _api(server, server.lib.accounts.create_api_key(uid, "phone"))
    video = make_video(tmp_path / "v.mp4", seconds=2.0)
    assert _upload(call, video.read_bytes(), "v.mp4").status_code == 201
    assert _wait_until(lambda: len(_jobs(server.lib, "clip")) == 1)

    small = Embedder()
    limit = video.stat().st_size - 1
    assert _worker(server, "small", small, max_original_bytes=limit).run(until_idle=True).done == 1
    assert small.calls == [1]  # the preview only

    # The original route is the held job's only: another worker or a finished job gets 409.
    job_id = _jobs(server.lib, "clip")[0][0]
    token = server.lib.workers.add("other")
    r = requests.get(f"{server.url}/api/workers/jobs/{job_id}/original",
                     headers={"X-Worker-Token": token}, timeout=30)  # fmt: skip
    assert r.status_code == 409
    assert requests.get(f"{server.url}/api/workers/jobs/{job_id}/original",
                        timeout=30).status_code == 401  # fmt: skip


def test_an_undecodable_file_is_given_up_not_retried(start_server, tmp_path: Path) -> None:
    server = start_server(local_ml=False)
    uid = server.lib.accounts.add_user("bad@example.org", "a long password")
    call = _api(server, server.lib.accounts.create_api_key(uid, "phone"))
    photo = make_jpeg(tmp_path / "a.jpg", seed=3)
    assert _upload(call, photo.read_bytes(), "a.jpg").status_code == 201
    assert _wait_until(lambda: len(_jobs(server.lib, "clip")) == 1)
    (job_id, target, _, _) = _jobs(server.lib, "clip")[0]

    stats = _worker(server, "picky", Embedder(broken=True)).run(until_idle=True)
    assert stats.failed == 1
    assert _jobs(server.lib, "clip") == [(job_id, target, "failed", 1)]  # once, no retry
    marks = sql(server.lib, "select asset_id, task, model, found from asset_analysis")
    assert marks == [(int(target), "clip", "fake-clip", -1)]
    error = sql(server.lib, "select last_error from jobs where id = ?", job_id)[0][0]
    assert "remote:picky" in error and "cannot identify" in error
    # The start-up catch-up leaves it alone; `index --for-workers --retry-failed` does not.
    user = server.lib.for_user(uid)
    assert user.queue_missing("clip", for_workers=True) == 0
    assert user.queue_missing("clip", for_workers=True, retry_failed=True) == 1


def test_a_job_its_workers_keep_dying_on_is_given_up(start_server, tmp_path: Path) -> None:
    server = start_server(local_ml=False)
    uid = server.lib.accounts.add_user("crash@example.org", "a long password")
    call = _api(server, server.lib.accounts.create_api_key(uid, "phone"))
    photo = make_jpeg(tmp_path / "a.jpg", seed=4)
    assert _upload(call, photo.read_bytes(), "a.jpg").status_code == 201
    assert _wait_until(lambda: len(_jobs(server.lib, "faces")) == 1)
    job_id = _jobs(server.lib, "faces")[0][0]
    tokens = [server.lib.workers.add(f"w{n}") for n in range(4)]
    claim = server.url + "/api/workers/claim"
    for n in range(3):  # three workers take it and die (their beats stop)
        r = requests.post(claim, json={"queues": ["faces"]},
                          headers={"X-Worker-Token": tokens[n]}, timeout=30)  # fmt: skip
        assert r.status_code == 200 and r.json()["job"]["id"] == job_id
        sql(server.lib, "update jobs set heartbeat_at = ? where id = ?",
            datetime.now() - timedelta(hours=1), job_id)  # fmt: skip
        assert server.lib.jobs.recover() >= 1
    r = requests.post(claim, json={"queues": ["faces"]},
                      headers={"X-Worker-Token": tokens[3]}, timeout=30)  # fmt: skip
    assert r.status_code == 204  # not handed out a fourth time
    assert _jobs(server.lib, "faces")[0][2:] == ("failed", 4)
    found = sql(server.lib, "select task, found from asset_analysis")
    assert found == [(JobName.FACES.value, -1)]


def test_an_admins_device_enrolls_as_a_worker(server, make_user) -> None:
    _, _, _, admin_key = make_user(admin=True)
    _, _, _, user_key = make_user()
    enroll = server.url + "/api/workers/enroll"
    r = requests.post(enroll, json={"name": "desk"}, headers={"x-api-key": user_key}, timeout=30)
    assert r.status_code == 403
    r = requests.post(enroll, json={"name": "desk"}, headers={"x-api-key": admin_key}, timeout=30)
    assert r.status_code == 200
    first = r.json()["token"]
    again = requests.post(enroll, json={"name": "desk"}, headers={"x-api-key": admin_key},
                          timeout=30).json()["token"]  # fmt: skip
    claim = server.url + "/api/workers/claim"
    assert requests.post(claim, json={}, headers={"X-Worker-Token": first},
                         timeout=30).status_code == 401  # fmt: skip
    assert requests.post(claim, json={"queues": ["faces"]}, headers={"X-Worker-Token": again},
                         timeout=30).status_code == 204  # fmt: skip
    assert requests.post(enroll, json={"name": "desk"}, timeout=30).status_code == 401
