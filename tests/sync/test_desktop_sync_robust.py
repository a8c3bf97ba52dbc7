"""Sync under stress: a viewer's push, a full quota, a client killed mid-round, the CLI alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from photodesk.core import AssetQuery, Library
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ROOT, ServerInfo

os.environ.setdefault("PHOTODESK_KEYRING", "off")
MakeUser = Callable[..., tuple[int, str, str, str]]


def _env() -> dict[str, str]:
    env = {**os.environ, "PHOTODESK_KEYRING": "off", "PHOTODESK_ML": "off"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def cli(library: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(library), *args],
        input=stdin, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300,
    )  # fmt: skip


def test_a_viewer_of_a_shared_album_cannot_push_into_it(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser
) -> None:
    owner, _, _, _ = make_user()
    viewer, _, _, viewer_key = make_user()
    photo = make_jpeg(tmp_path / "shared.jpg", seed=3)
    mine = server.lib.for_user(owner)
    [aid] = mine.importer.import_paths([str(photo)]).asset_ids
    album = mine.albums.create("Family")
    mine.albums.add("Family", [aid])
    server.lib.shares.share_album(owner, int(album), viewer, "viewer")
    checksum = mine.assets.get(aid).checksum
    push = {"mutations": [{"id": "v-1", "checksum": checksum, "field": "rating", "value": 5,
                           "hlc": "9999999999999.00000000.evil"}]}  # fmt: skip
    r = requests.post(
        server.url + "/api/photodesk/sync/push", json=push, headers={"x-api-key": viewer_key}
    )
    assert r.status_code == 200
    assert r.json()["applied"] == 0 and "no asset" in r.json()["errors"][0]
    assert mine.assets.get(aid).rating == 0
    # and the viewer's feed carries none of the owner's photos
    feed = requests.get(
        server.url + "/api/photodesk/sync/changes", headers={"x-api-key": viewer_key}
    ).json()
    assert feed["items"] == []
    # no key at all: refused
    assert requests.get(server.url + "/api/photodesk/sync/changes").status_code == 401


def test_a_full_quota_is_a_clear_error(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser
) -> None:
    _, email, password, _ = make_user(quota_bytes=10)
    lib = Library.open(tmp_path / "desk")
    try:
        pairing.add(lib, server.url, email=email, password=password)
        lib.importer.import_paths([str(make_jpeg(tmp_path / "big.jpg", seed=5))])
        report = pairing.sync(lib)
        assert report.errors and report.errors[0].startswith("quota:")
        assert "quota" in report.errors[0]
        assert any("quota" in e for e in pairing.status(lib)["errors"])
        assert pairing.status(lib)["pending"] == 1
    finally:
        lib.close()


def _server_count(server: ServerInfo, uid: int) -> int:
    return len(server.lib.for_user(uid).assets.list(AssetQuery(archived=None)))


def test_a_client_killed_mid_sync_converges_on_rerun(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser
) -> None:
    uid, email, password, _ = make_user()
    desk = tmp_path / "desk"
    files = [make_jpeg(tmp_path / "in" / f"k{i}.jpg", seed=100 + i, size=(900, 600))
             for i in range(40)]  # fmt: skip
    done = cli(desk, "import", str(tmp_path / "in"), "--json")
    assert done.returncode == 0, done.stderr
    assert cli(desk, "tag", "add", "Batch", *[str(i) for i in range(1, 41)]).returncode == 0
    paired = cli(desk, "remote", "add", server.url, "--email", email, "--password-stdin",
                 stdin=password + "\n")  # fmt: skip
    assert paired.returncode == 0, paired.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "photodesk", "--library", str(desk), "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=ROOT,
    )  # fmt: skip
    try:
        while proc.poll() is None and _server_count(server, uid) < 5:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = _server_count(server, uid)
    assert killed_at < len(files), "the round ended before it could be killed"
    rerun = cli(desk, "sync", "--json")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["errors"] == []
    on_server = server.lib.for_user(uid).assets.list(AssetQuery(archived=None))
    assert len(on_server) == len(files)  # no duplicate, none missing
    assert all(r.tags == ("Batch",) for r in on_server)
    listed = json.loads(cli(desk, "ls", "--json").stdout)
    assert {a["checksum"] for a in listed} == {r.checksum for r in on_server}
    status = json.loads(cli(desk, "remote", "status", "--json").stdout)
    assert status["pending"] == 0 and status["errors"] == [] and status["state"] == "online"


def test_the_whole_scenario_from_the_command_line(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser
) -> None:
    _, email, password, key = make_user()
    a, b = tmp_path / "A", tmp_path / "B"
    for i in range(2):
        make_jpeg(tmp_path / "in" / f"c{i}.jpg", seed=200 + i)
    assert cli(a, "import", str(tmp_path / "in")).returncode == 0
    assert cli(a, "tag", "add", "Friends", "1").returncode == 0
    assert cli(a, "rate", "4", "2").returncode == 0
    assert cli(a, "remote", "add", server.url, "--email", email, "--password-stdin",
               stdin=password + "\n").returncode == 0  # fmt: skip
    assert cli(b, "remote", "add", server.url, "--api-key-stdin", stdin=key + "\n").returncode == 0
    first = json.loads(cli(a, "sync", "--json").stdout)
    assert {"pulled", "pushed", "conflicts", "errors"} <= set(first) and first["errors"] == []
    server.analysed()  # the uploads' own analysis on the server (a job after each upload)
    second = json.loads(cli(b, "sync", "--json").stdout)
    assert second["errors"] == [] and second["thumbnails"] == 2

    def listing(lib: Path) -> dict[str, dict[str, Any]]:
        return {x["checksum"]: x for x in json.loads(cli(lib, "ls", "--json").stdout)}

    la, lb = listing(a), listing(b)
    assert set(la) == set(lb)
    for checksum, item in lb.items():
        assert item["path"] is None and item["original"] == "server"
        for k in ("rating", "tags", "taken_at", "make", "width", "kind"):
            assert item[k] == la[checksum][k], k
    # an original fetched on demand is the same file
    remote_only = next(x for x in lb.values() if x["rating"] == 4)
    fetched = cli(b, "remote", "fetch", str(remote_only["id"]))
    assert fetched.returncode == 0, fetched.stderr
    assert (
        Path(fetched.stdout.strip()).read_bytes()
        == Path(la[remote_only["checksum"]]["path"]).read_bytes()
    )
    shown = json.loads(cli(b, "show", str(remote_only["id"]), "--json").stdout)
    assert shown["original"] == "here" and shown["path"] == fetched.stdout.strip()


@pytest.mark.parametrize("args", [["sync"], ["remote", "fetch", "1"]])
def test_unpaired_commands_say_so(tmp_path: Path, args: list[str]) -> None:
    assert cli(tmp_path / "lib", "init").returncode == 0
    done = cli(tmp_path / "lib", *args)
    assert done.returncode != 0
    assert "not paired" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_daemon_killed_mid_sync_converges_on_rerun(
    tmp_path: Path, serve_subprocess: Callable[..., Any]
) -> None:
    server_dir = tmp_path / "server"
    with Library.open(server_dir) as lib:
        uid = lib.accounts.add_user("kim@example.org", "correct horse battery", name="Kim")
    port = str(_free_port())
    daemon = serve_subprocess(server_dir, "--port", port, env={"PHOTODESK_ML": "off"})
    desk = tmp_path / "desk"
    for i in range(40):
        make_jpeg(tmp_path / "in" / f"d{i}.jpg", seed=300 + i, size=(900, 600))
    assert cli(desk, "import", str(tmp_path / "in")).returncode == 0
    assert cli(desk, "rate", "3", *[str(i) for i in range(1, 41)]).returncode == 0
    paired = cli(desk, "remote", "add", daemon.url, "--email", "kim@example.org",
                 "--password-stdin", stdin="correct horse battery\n")  # fmt: skip
    assert paired.returncode == 0, paired.stderr

    def count() -> int:
        with Library.open(server_dir) as lib:
            return len(lib.for_user(uid).assets.list(AssetQuery(archived=None)))

    client = subprocess.Popen(
        [sys.executable, "-m", "photodesk", "--library", str(desk), "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )  # fmt: skip
    while client.poll() is None and count() < 5:
        time.sleep(0.05)
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    out, _ = client.communicate(timeout=120)
    assert json.loads(out)["errors"], "the round must notice the server went away"
    assert count() < 40
    status = json.loads(cli(desk, "remote", "status", "--json").stdout)
    assert status["state"] == "offline" and status["pending"] > 0
    again = cli(desk, "sync", "--json")  # still down: the round records why
    assert json.loads(again.stdout)["errors"]
    status = json.loads(cli(desk, "remote", "status", "--json").stdout)
    assert len(status["errors"]) == 1, status["errors"]  # the round's and the check's: one line
    serve_subprocess(server_dir, "--port", port, env={"PHOTODESK_ML": "off"})
    rerun = cli(desk, "sync", "--json")
    assert json.loads(rerun.stdout)["errors"] == [], rerun.stdout
    with Library.open(server_dir) as lib:
        on_server = lib.for_user(uid).assets.list(AssetQuery(archived=None))
    assert len(on_server) == 40 and all(r.rating == 3 for r in on_server)
    # the photos' own date on both sides, never the date an upload guessed from the file's time
    # (the daemon may be killed after saving an upload and before answering: docs/sync.md)
    assert {r.taken_at for r in on_server} == {datetime(2023, 7, 4, 10, 15)}
    assert {a["taken_at"] for a in json.loads(cli(desk, "ls", "--json").stdout)} == {
        "2023-07-04T10:15:00"
    }
    status = json.loads(cli(desk, "remote", "status", "--json").stdout)
    assert status["pending"] == 0 and status["state"] == "online"


def test_users_add_owner_makes_the_desktop_owner_a_real_account(tmp_path: Path) -> None:
    lib = tmp_path / "box"
    make_jpeg(tmp_path / "in" / "o.jpg", seed=400)
    assert cli(lib, "import", str(tmp_path / "in")).returncode == 0
    done = cli(lib, "users", "add", "Me@Example.org", "--owner", "--password-stdin",
               stdin="a long enough password\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    users = json.loads(cli(lib, "users", "list", "--json").stdout)
    assert [(u["email"], u["is_admin"], u["can_log_in"]) for u in users] == [
        ("me@example.org", True, True)
    ]
    with Library.open(lib) as opened:  # the photos stayed theirs, and they can sign in
        assert len(opened.assets.list()) == 1
        assert opened.accounts.verify_password("me@example.org", "a long enough password")
    again = cli(lib, "users", "add", "other@example.org", "--owner", "--password-stdin",
                stdin="a long enough password\n")  # fmt: skip
    assert again.returncode != 0 and "owner is me@example.org" in again.stderr


def test_a_phone_upload_reaches_the_desktop(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser
) -> None:
    _, email, password, key = make_user()
    photo = make_jpeg(tmp_path / "phone.jpg", seed=500)
    when = "2024-05-01T10:00:00Z"
    form = {"deviceAssetId": "phone-1", "deviceId": "phone", "fileCreatedAt": when,
            "fileModifiedAt": when}  # fmt: skip
    with open(photo, "rb") as fh:  # what the Immich app and CLI do
        r = requests.post(
            server.url + "/api/assets",
            headers={"x-api-key": key},
            data=form,
            files={"assetData": ("phone.jpg", fh, "image/jpeg")},
        )
    assert r.status_code == 201, r.text
    desk = tmp_path / "desk"
    assert cli(desk, "remote", "add", server.url, "--email", email, "--password-stdin",
               stdin=password + "\n").returncode == 0  # fmt: skip
    assert json.loads(cli(desk, "sync", "--json").stdout)["errors"] == []
    [item] = json.loads(cli(desk, "ls", "--json").stdout)
    import hashlib

    assert item["checksum"] == hashlib.sha1(photo.read_bytes()).hexdigest()
    assert item["original"] == "server" and item["make"] == "Canon"
