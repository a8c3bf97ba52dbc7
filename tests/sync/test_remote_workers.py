"""Remote workers: a server with local ML off, phone-style uploads, and ``photodesk worker`` on an
empty folder giving the photos their faces (dlib on CPU); a worker that dies loses its job to
another, and none is lost or finished twice."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from photodesk.bootstrap import load_models
from photodesk.remote.worker import RemoteWorker
from tests.catalogs import sql
from tests.sync.conftest import ROOT
from tests.sync.test_immich_api import _api, _upload, _wait_until

pytest.importorskip("dlib")
faces_dlib = pytest.importorskip("photodesk.ml.faces_dlib")
if faces_dlib.dlib_status():
    pytest.skip(faces_dlib.dlib_status(), allow_module_level=True)


def _face_photos(corpus: Path, n: int) -> list[Path]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    # One person's photos: three close faces found a person (Immich's minFaces).
    names = [
        r["file"]
        for r in rows
        if r["identity"] == "Barack Obama" and r["file"].startswith("facerec__obama")
        and r["file"].endswith(".jpg") and "partial" not in r["file"]
    ]  # fmt: skip
    return [corpus / name for name in sorted(names)[:n]]


def _server_with_uploads(start_server, corpus: Path, n: int):
    server = start_server(local_ml=False)
    lib = server.lib
    uid = lib.accounts.add_user("phone@example.org", "a long password")
    call = _api(server, lib.accounts.create_api_key(uid, "phone"))
    for photo in _face_photos(corpus, n):
        r = _upload(call, photo.read_bytes(), photo.name)
        assert r.status_code == 201, r.text
    return server, uid


def _faces_jobs(server) -> list[tuple[int, str, str | None, int]]:
    return [
        (int(i), str(state), worker, int(attempts))
        for i, state, worker, attempts in sql(
            server.lib, "select id, state, worker, attempts from jobs where kind = ? order by id",
            "faces",
        )
    ]  # fmt: skip


def test_a_worker_gives_a_server_without_local_ml_faces_and_people(
    start_server, corpus: Path, tmp_path: Path
) -> None:
    server, uid = _server_with_uploads(start_server, corpus, 3)
    jobs = _faces_jobs(server)
    assert len(jobs) == 3 and {state for _, state, _, _ in jobs} == {"queued"}
    token = server.lib.workers.add("gaming-pc")

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHOTODESK_FACE_MODEL": "dlib"}
    proc = subprocess.run(
        [sys.executable, "-m", "photodesk", "worker", "--server", server.url, "--token-stdin",
         "--queues", "faces", "--until-idle", "--models", str(tmp_path / "empty")],
        input=token + "\n", capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "3 job(s) done, 0 failed" in proc.stdout

    jobs = _faces_jobs(server)
    assert [(state, worker) for _, state, worker, _ in jobs] == [("done", "remote:gaming-pc")] * 3
    faces = sql(server.lib, "select count(*) from faces join assets on assets.id = faces.asset_id "
                "where assets.owner_id = ? and faces.embedding is not null", uid)[0][0]  # fmt: skip
    assert faces >= 3
    # Clustering runs on the server (it needs no model): the faces become people.
    people = server.lib.for_user(uid).people
    assert _wait_until(lambda: len(people.list()) >= 1, timeout=120)
    assert [w.name for w in server.lib.workers.list()] == ["gaming-pc"]
    assert server.lib.workers.list()[0].last_seen_at is not None


def test_a_dead_workers_job_goes_to_another_and_none_is_done_twice(
    start_server, corpus: Path, tmp_path: Path
) -> None:
    server, _ = _server_with_uploads(start_server, corpus, 2)
    dead = server.lib.workers.add("dies")
    alive = server.lib.workers.add("lives")
    headers = {"X-Worker-Token": dead}
    r = requests.post(server.url + "/api/workers/claim", json={"queues": ["faces"]},
                      headers=headers, timeout=60)  # fmt: skip
    assert r.status_code == 200
    taken = r.json()["job"]
    assert taken["kind"] == "faces"
    assert requests.get(
        f"{server.url}/api/workers/jobs/{taken['id']}/preview", headers=headers, timeout=60
    ).content.startswith(b"\xff\xd8")
    # The worker dies: its beats stop. After the stale window the server requeues the job.
    sql(server.lib, "update jobs set heartbeat_at = ? where id = ?",
        datetime.now() - timedelta(hours=1), taken["id"])  # fmt: skip
    assert server.lib.jobs.recover() >= 1

    models = load_models(tmp_path / "empty", clip="none", faces="dlib")
    stats = RemoteWorker(server.url, alive, models, ["faces"]).run(until_idle=True)
    assert stats.done == 2 and stats.failed == 0
    jobs = {i: (state, worker, attempts) for i, state, worker, attempts in _faces_jobs(server)}
    assert jobs[taken["id"]] == ("done", "remote:lives", 2)
    assert all(state == "done" and w == "remote:lives" for state, w, _ in jobs.values())

    # The dead worker's late answer is refused; the finished job stays as it is.
    late = requests.post(
        f"{server.url}/api/workers/jobs/{taken['id']}/result",
        json={"model": "x", "faces": []}, headers=headers, timeout=60,
    )  # fmt: skip
    assert late.status_code == 409
    assert _faces_jobs(server)[0][1] == "done"


def test_worker_tokens_are_checked_and_revoked(server, tmp_path: Path) -> None:
    token = server.lib.workers.add("nas-helper")
    claim = server.url + "/api/workers/claim"
    assert requests.post(claim, json={}, timeout=60).status_code == 401
    assert requests.post(claim, json={}, headers={"X-Worker-Token": "pdw_nope"}, timeout=60
                         ).status_code == 401  # fmt: skip
    ok = requests.post(claim, json={"queues": ["faces"]}, headers={"X-Worker-Token": token},
                       timeout=60)  # fmt: skip
    assert ok.status_code == 204  # nothing waiting
    bad = requests.post(claim, json={"queues": ["import"]}, headers={"X-Worker-Token": token},
                        timeout=60)  # fmt: skip
    assert bad.status_code == 400
    server.lib.workers.revoke("nas-helper")
    assert requests.post(claim, json={}, headers={"X-Worker-Token": token}, timeout=60
                         ).status_code == 401  # fmt: skip


def test_workers_cli_prints_the_token_last(tmp_path: Path, capsys, monkeypatch) -> None:
    from photodesk.cli.main import main

    lib = str(tmp_path / "lib")
    assert main(["--library", lib, "init"]) == 0
    capsys.readouterr()
    assert main(["--library", lib, "workers", "add", "gpu"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("pdw_")
    assert main(["--library", lib, "workers", "list"]) == 0
    assert "gpu" in capsys.readouterr().out
    assert main(["--library", lib, "workers", "add", "gpu"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["--library", lib, "workers", "revoke", "gpu"]) == 0
    assert main(["--library", lib, "workers", "revoke", "gpu"]) == 1
    monkeypatch.delenv("PHOTODESK_WORKER_TOKEN", raising=False)
    assert main(["worker", "--server", "http://127.0.0.1:9"]) == 2
    assert "no token" in capsys.readouterr().err
    monkeypatch.setenv("PHOTODESK_WORKER_TOKEN", token)
    assert main(["worker", "--server", "ftp://x"]) == 2
    assert "http(s) URL" in capsys.readouterr().err


def _worker_process(server, token: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHOTODESK_FACE_MODEL": "dlib"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "photodesk", "worker", "--server", server.url, "--token-stdin",
         "--queues", "faces", "--models", str(tmp_path / "empty")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(token + "\n")
    proc.stdin.close()
    return proc


def test_two_worker_processes_one_killed_mid_job(
    start_server, corpus: Path, tmp_path: Path
) -> None:
    """Two real worker processes; one is SIGKILLed while it holds a job. After the stale
    window the job goes to the other: every job done exactly once, no asset analysed twice."""
    server, uid = _server_with_uploads(start_server, corpus, 4)  # the corpus has 4 of them
    total = len(_faces_jobs(server))
    assert total == 4
    token_a, token_b = server.lib.workers.add("a"), server.lib.workers.add("b")
    held_by_a = "select id from jobs where kind = 'faces' and state = 'running' and worker = ?"
    a = _worker_process(server, token_a, tmp_path)
    b = None
    try:
        orphan = None
        for _ in range(5):  # kill A while it holds a job (retry if it was between two)
            assert _wait_until(lambda: sql(server.lib, held_by_a, "remote:a"), timeout=300)
            a.kill()
            a.wait(30)
            held = sql(server.lib, held_by_a, "remote:a")
            if held:
                orphan = int(held[0][0])
                break
            a = _worker_process(server, token_a, tmp_path)
        assert orphan is not None, "worker a never died holding a job"
        assert a.returncode == -9
        b = _worker_process(server, token_b, tmp_path)
        # Time passes: a's beats stopped, the server's recovery requeues its job.
        sql(server.lib, "update jobs set heartbeat_at = ? where id = ?",
            datetime.now() - timedelta(hours=1), orphan)  # fmt: skip
        assert server.lib.jobs.recover() >= 1
        done = "select count(*) from jobs where kind = 'faces' and state = 'done'"
        assert _wait_until(lambda: sql(server.lib, done)[0][0] == total, timeout=300)
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(60)
    jobs = {i: (state, worker, attempts) for i, state, worker, attempts in _faces_jobs(server)}
    assert len(jobs) == total and {s for s, _, _ in jobs.values()} == {"done"}
    assert jobs[orphan] == ("done", "remote:b", 2)
    # each asset was searched once: one analysis row each, faces stored once per asset
    rows = sql(server.lib, "select asset_id, found from asset_analysis where task = 'faces'")
    assert len(rows) == total and len({r[0] for r in rows}) == total
    per_asset = dict(sql(server.lib, "select faces.asset_id, count(*) from faces join assets "
                         "on assets.id = faces.asset_id where assets.owner_id = ? "
                         "group by faces.asset_id", uid))  # fmt: skip
    assert all(per_asset.get(int(aid), 0) == found for aid, found in rows)
