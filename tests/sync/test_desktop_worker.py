"""The desktop as a worker of its paired server: allowed by the user, it enrolls with its device
key, and its ``assist.server`` job (on the job engine) works the server's ML jobs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from photodesk.cli.main import main
from photodesk.core import Library, Models
from photodesk.remote import pairing
from tests.catalogs import sql
from tests.conftest import make_jpeg
from tests.sync.test_immich_api import _api, _upload, _wait_until
from tests.sync.test_remote_worker_jobs import Embedder

os.environ.setdefault("PHOTODESK_KEYRING", "off")


def _assist_results(lib: Library) -> list[dict]:
    rows = sql(lib, "select result from jobs where kind = 'assist.server' and state = 'done'")
    return [r[0] if isinstance(r[0], dict) else json.loads(r[0]) for r in rows]


def test_a_paired_desktop_works_its_servers_jobs_when_allowed(
    start_server, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PHOTODESK_KEYRING", "off")
    server = start_server(local_ml=False)
    admin = server.lib.accounts.add_user("admin@example.org", "a long password", admin=True)
    call = _api(server, server.lib.accounts.create_api_key(admin, "phone"))
    for n in range(3):
        photo = make_jpeg(tmp_path / f"p{n}.jpg", seed=900 + n)
        assert _upload(call, photo.read_bytes(), photo.name).status_code == 201
    clip = "select count(*) from jobs where kind = 'clip' and state = ?"
    assert _wait_until(lambda: sql(server.lib, clip, "queued")[0][0] == 3)

    with Library.open(tmp_path / "desk") as lib:
        embedder = Embedder()
        lib.ml.attach(Models(image=embedder))
        pairing.add(lib, server.url, email="admin@example.org", password="a long password",
                    device="laptop")  # fmt: skip
        pairing.attach(lib)
        # Not allowed: the job does nothing.
        lib.jobs.enqueue("assist.server")
        assert lib.jobs.run_until_idle(timeout=120)
        assert _assist_results(lib) == [{"skipped": "not allowed"}]

        lib.sync.allow_worker(True)  # the Server dialog's box, `photodesk remote worker on`
        assert lib.jobs.run_until_idle(timeout=300)
        assert _assist_results(lib)[-1] == {"done": 3, "failed": 0, "by_kind": {"clip": 3}}
        assert sql(server.lib, clip, "done")[0][0] == 3
        workers = sql(server.lib, "select distinct worker from jobs where kind = 'clip'")
        assert workers == [("remote:desktop-laptop",)]
        token_file = lib.root / "remote-worker.key"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

        # Revoked on the server: the next run enrolls again with the device key.
        server.lib.workers.revoke("desktop-laptop")
        sql(server.lib, "delete from embeddings")
        assert server.lib.for_user(admin).queue_missing("clip", for_workers=True) == 3
        lib.jobs.enqueue("assist.server")
        assert lib.jobs.run_until_idle(timeout=300)
        assert _assist_results(lib)[-1]["done"] == 3

        lib.sync.allow_worker(False)
        assert not lib.sync.worker_allowed()
        pairing.remove(lib)
        assert not token_file.exists()


def test_only_an_administrators_desktop_may_work(start_server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PHOTODESK_KEYRING", "off")
    server = start_server(local_ml=False)
    server.lib.accounts.add_user("kid@example.org", "a long password")
    with Library.open(tmp_path / "desk") as lib:
        lib.ml.attach(Models(image=Embedder()))
        pairing.add(lib, server.url, email="kid@example.org", password="a long password")
        pairing.attach(lib)
        lib.sync.allow_worker(True)
        assert lib.jobs.run_until_idle(timeout=120)
        assert "administrator" in _assist_results(lib)[-1]["error"]


def test_the_worker_switch_needs_a_pairing(tmp_path: Path, capsys) -> None:
    desk = str(tmp_path / "desk")
    assert main(["--library", desk, "init"]) == 0
    assert main(["--library", desk, "remote", "worker", "status"]) == 0
    assert "off" in capsys.readouterr().out
    assert main(["--library", desk, "remote", "worker", "on"]) == 1
    assert "not paired" in capsys.readouterr().err
