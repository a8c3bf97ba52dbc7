"""WebDAV at /dav/ against a real daemon on loopback: litmus, rclone, raw HTTP for the edges."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from photodesk.core.accounts.totp import code_at
from photodesk.core.catalog.db.schema import Asset, DavEntry
from tests.conftest import make_jpeg

requests = pytest.importorskip("requests", reason="requests is in the dev extra")

LITMUS_SUITES = ("basic", "copymove", "props", "locks")


def _count(lib, model, **where) -> int:
    with lib.read() as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(s.scalar(stmt) or 0)


def _photos(folder: Path, n: int, first_seed: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_jpeg(folder / f"IMG_{i:04d}.jpg", seed=first_seed + i, size=(160, 120))
        for i in range(n)
    ]


def _leftovers(lib, uid: int) -> list[Path]:
    """Staged or half-received files of this user (nothing may remain after a request)."""
    staging = lib.uploads.root / str(uid)
    return [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else []


def _wait_for(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.05)


@pytest.mark.skipif(
    shutil.which("litmus") is None, reason="litmus is not installed (apt install litmus)"
)
def test_litmus_basic_copymove_props_and_locks_pass(server, make_user, tmp_path: Path) -> None:
    uid, email, _, key = make_user()
    proc = subprocess.run(
        ["litmus", "-k", f"{server.url}/dav/", email, key],
        env={**os.environ, "TESTS": " ".join(LITMUS_SUITES)},
        cwd=tmp_path,  # litmus writes its debug.log here
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    summaries = dict(re.findall(r"<- summary for `(\w+)': of \d+ tests run: (\d+) passed", out))
    failed = dict(
        re.findall(r"<- summary for `(\w+)': of \d+ tests run: \d+ passed, (\d+) failed", out)
    )
    assert set(summaries) == set(LITMUS_SUITES), out
    assert all(n == "0" for n in failed.values()), out
    assert " FAIL " not in out and "SKIPPED" not in out, out
    assert "WARNING" not in out, out
    assert _leftovers(server.lib, uid) == []


def _rclone(server, email: str, secret: str, *args: str) -> subprocess.CompletedProcess[str]:
    obscured = subprocess.run(
        ["rclone", "obscure", secret], capture_output=True, text=True, check=True
    ).stdout.strip()
    remote = f":webdav,url='{server.url}/dav/',vendor=other,user='{email}',pass='{obscured}'"
    cmd = [
        "rclone",
        *[a.replace("REMOTE:", remote + ":") for a in args],
        "--stats-one-line",
        "-v",
        "--retries",
        "1",
        "--low-level-retries",
        "1",
    ]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RCLONE_CONFIG": "/dev/null"},
    )


@pytest.mark.skipif(
    shutil.which("rclone") is None, reason="rclone is not installed (apt install rclone)"
)
def test_rclone_copy_imports_every_photo_once_for_that_account(
    server, make_user, tmp_path: Path
) -> None:
    uid, email, _, key = make_user()
    other, *_ = make_user()
    phone = tmp_path / "phone"
    photos = _photos(phone / "DCIM" / "Camera", 12)
    (phone / "DCIM" / ".nomedia").write_bytes(b"")  # apps write small non-media files too
    done = _rclone(server, email, key, "copy", str(phone), "REMOTE:Backup")
    assert done.returncode == 0, done.stderr
    assert _count(server.lib, Asset, owner_id=uid) == len(photos)
    assert _count(server.lib, Asset, owner_id=other) == 0
    with server.lib.read() as s:
        sums = set(s.scalars(select(Asset.checksum).where(Asset.owner_id == uid)))
    assert sums == {hashlib.sha1(p.read_bytes()).hexdigest() for p in photos}
    # each upload is analysed by a job that files it under the storage template; a second copy
    # while that runs may send a file again (the duplicate check keeps one asset)
    server.analysed()
    again = _rclone(server, email, key, "copy", str(phone), "REMOTE:Backup")
    assert again.returncode == 0, again.stderr
    assert "Copied" not in again.stderr  # everything was found by name and size
    assert _count(server.lib, Asset, owner_id=uid) == len(photos)

    # The folder structure the app made is there, with sizes; the bytes come back unchanged.
    listed = _rclone(server, email, key, "lsl", "REMOTE:Backup")
    assert listed.returncode == 0, listed.stderr
    assert f"{photos[0].stat().st_size} " in listed.stdout
    assert "DCIM/Camera/IMG_0000.jpg" in listed.stdout and "DCIM/.nomedia" in listed.stdout
    back = tmp_path / "back"
    got = _rclone(server, email, key, "copy", "REMOTE:Backup/DCIM/Camera", str(back))
    assert got.returncode == 0, got.stderr
    assert (back / "IMG_0003.jpg").read_bytes() == photos[3].read_bytes()

    # The same photos under other names (an app that re-uploads after a reinstall): no duplicates.
    again = _rclone(server, email, key, "copy", str(phone), "REMOTE:Reinstalled")
    assert again.returncode == 0, again.stderr
    assert _count(server.lib, Asset, owner_id=uid) == len(photos)
    assert _leftovers(server.lib, uid) == []


def _raw_put(url: str, path: str, headers: dict[str, str], body: bytes, *, close_after: bool):
    """Send a PUT by hand; with ``close_after`` the connection is cut once ``body`` is sent."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    sock.sendall(head.encode() + b"\r\n" + body)
    if close_after:
        return sock
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1])


def _basic(email: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{email}:{secret}".encode()).decode()


def test_a_cut_connection_mid_file_leaves_no_asset_and_no_stray_file(
    server, make_user, tmp_path: Path
) -> None:
    uid, email, _, key = make_user()
    photo = make_jpeg(tmp_path / "big.jpg", size=(1600, 1200), seed=3, quality=100)
    data = photo.read_bytes()
    headers = {"Authorization": _basic(email, key), "Content-Length": str(len(data))}
    sock = _raw_put(server.url, "/dav/cut.jpg", headers, data[: len(data) // 2], close_after=True)
    _wait_for(lambda: _leftovers(server.lib, uid) != [])  # half the file is being received
    sock.close()
    # The daemon notices the lost connection and removes the partial file.
    _wait_for(lambda: not _leftovers(server.lib, uid) and not server.lib.uploads.quota.held())
    assert _count(server.lib, Asset, owner_id=uid) == 0
    assert _count(server.lib, DavEntry, owner_id=uid) == 0
    r = requests.request(
        "PROPFIND", f"{server.url}/dav/cut.jpg", auth=(email, key), headers={"Depth": "0"}
    )
    assert r.status_code == 404
    # The whole file afterwards is imported once.
    r = requests.put(f"{server.url}/dav/cut.jpg", data=data, auth=(email, key))
    assert r.status_code == 201, r.text
    assert _count(server.lib, Asset, owner_id=uid) == 1


def test_sign_in_app_password_account_password_and_limits(start_server, tmp_path: Path) -> None:
    server = start_server(login_attempts=3)
    accounts = server.lib.accounts
    uid = accounts.add_user("ann@example.org", "ann-password-1")
    key = accounts.create_api_key(uid, "phone")
    other = accounts.add_user("bob@example.org", "bob-password-1")
    bob_key = accounts.create_api_key(other, "phone")
    url = f"{server.url}/dav/"

    def propfind(auth):  # type: ignore[no-untyped-def]
        return requests.request("PROPFIND", url, auth=auth, headers={"Depth": "0"})

    assert propfind(None).status_code == 401
    assert propfind(None).headers["WWW-Authenticate"].startswith("Basic")
    # An app's first parallel requests (before any is verified) are not taken for guesses.
    with ThreadPoolExecutor(12) as pool:
        for auth in (("ann@example.org", key), ("ann@example.org", "ann-password-1")):
            statuses = [r.status_code for r in pool.map(propfind, [auth] * 12)]
            assert statuses == [207] * 12
    assert propfind(("ann@example.org", key)).status_code == 207
    assert propfind(("ANN@example.org", "ann-password-1")).status_code == 207
    assert propfind(("ann@example.org", bob_key)).status_code == 401  # another account's key
    assert propfind(("ann@example.org", "wrong-1")).status_code == 401
    assert propfind(("ann@example.org", "wrong-2")).status_code == 401  # the third failure
    # Limited now, even with a right password not seen before (seen ones are remembered a minute)
    limited = propfind(("ann@example.org", accounts.create_api_key(uid, "tablet")))
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    # Many successful requests do not use up the address's budget (Basic signs in every time).
    for _ in range(20):
        assert propfind(("bob@example.org", bob_key)).status_code == 207

    # With a second factor, only app passwords sign in here.
    secret = accounts.totp.begin(other).secret
    accounts.totp.confirm(other, code_at(secret, time.time()))
    fresh = start_server(lib=server.lib)
    r = requests.request(
        "PROPFIND", f"{fresh.url}/dav/", auth=("bob@example.org", "bob-password-1")
    )
    assert r.status_code == 401
    r = requests.request("PROPFIND", f"{fresh.url}/dav/", auth=("bob@example.org", bob_key))
    assert r.status_code == 207


def test_refusals_come_before_the_body_and_leave_nothing(server, make_user, tmp_path: Path) -> None:
    uid, email, _, key = make_user(quota_bytes=50_000)
    auth = {"Authorization": _basic(email, key)}
    # Over the quota: answered from the headers alone (no body was sent).
    status = _raw_put(
        server.url,
        "/dav/huge.mp4",
        {**auth, "Content-Length": "900000", "Expect": "100-continue"},
        b"",
        close_after=False,
    )
    assert status == 507
    # Not a photo or video, and too large for a plain file.
    server.lib.dav.max_plain_bytes = 1000
    status = _raw_put(
        server.url,
        "/dav/notes.zip",
        {**auth, "Content-Length": "4000", "Expect": "100-continue"},
        b"",
        close_after=False,
    )
    assert status == 415
    # No parent folder.
    r = requests.put(f"{server.url}/dav/nowhere/a.jpg", data=b"x", auth=(email, key))
    assert r.status_code == 409
    # Not a photo by its content: refused with the reason, never half imported.
    r = requests.put(f"{server.url}/dav/broken.jpg", data=b"not a photo really", auth=(email, key))
    assert r.status_code == 422 and "broken.jpg" in r.json()["message"]
    assert _count(server.lib, Asset, owner_id=uid) == 0
    assert _count(server.lib, DavEntry, owner_id=uid) == 0
    assert _leftovers(server.lib, uid) == []
    assert server.lib.uploads.quota.held() == 0


def test_delete_moves_to_the_trash_and_copies_share_the_asset(
    server, make_user, tmp_path: Path
) -> None:
    uid, email, _, key = make_user()
    photo = make_jpeg(tmp_path / "a.jpg", seed=7)
    auth = (email, key)
    assert requests.request("MKCOL", f"{server.url}/dav/Camera", auth=auth).status_code == 201
    r = requests.put(f"{server.url}/dav/Camera/a.jpg", data=photo.read_bytes(), auth=auth)
    assert r.status_code == 201
    again = requests.put(f"{server.url}/dav/Camera/a.jpg", data=photo.read_bytes(), auth=auth)
    assert again.status_code == 204  # an app's retry: success, no second asset
    dest = {"Destination": f"{server.url}/dav/Camera/copy.jpg"}
    assert (
        requests.request(
            "COPY", f"{server.url}/dav/Camera/a.jpg", auth=auth, headers=dest
        ).status_code
        == 201
    )
    assert _count(server.lib, Asset, owner_id=uid) == 1
    r = requests.request("PROPFIND", f"{server.url}/dav/Camera/", auth=auth, headers={"Depth": "1"})
    assert r.status_code == 207
    assert "/dav/Camera/a.jpg" in r.text and "/dav/Camera/copy.jpg" in r.text
    assert f"<D:getcontentlength>{photo.stat().st_size}</D:getcontentlength>" in r.text
    assert "getlastmodified" in r.text
    # One of two names gone: the asset stays; the last one gone: it goes to the trash.
    assert requests.delete(f"{server.url}/dav/Camera/copy.jpg", auth=auth).status_code == 204
    with server.lib.read() as s:
        assert s.scalar(select(Asset.trashed_at).where(Asset.owner_id == uid)) is None
    assert requests.delete(f"{server.url}/dav/Camera/", auth=auth).status_code == 204
    with server.lib.read() as s:
        trashed = s.scalar(select(Asset.trashed_at).where(Asset.owner_id == uid))
    assert trashed is not None and _count(server.lib, Asset, owner_id=uid) == 1


def test_expect_100_continue_comes_after_the_checks(server, make_user, tmp_path: Path) -> None:
    uid, email, _, key = make_user()
    data = make_jpeg(tmp_path / "e.jpg", seed=11).read_bytes()
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            (
                f"PUT /dav/e.jpg HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: {_basic(email, key)}\r\nContent-Length: {len(data)}\r\n"
                "Expect: 100-continue\r\n\r\n"
            ).encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(data)
        assert sock.recv(4096).split(b" ", 2)[1] == b"201"
    assert _count(server.lib, Asset, owner_id=uid) == 1


def test_finder_style_empty_put_then_content_and_overwrites(
    server, make_user, tmp_path: Path
) -> None:
    uid, email, _, key = make_user()
    auth = (email, key)
    first = make_jpeg(tmp_path / "1.jpg", seed=21).read_bytes()
    second = make_jpeg(tmp_path / "2.jpg", seed=22).read_bytes()
    # Finder and Explorer create the name with an empty PUT (under a lock), then send the bytes.
    r = requests.request("LOCK", f"{server.url}/dav/IMG_9.jpg", auth=auth, data=(
        '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
        "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
    ))  # fmt: skip
    assert r.status_code == 201
    token = r.headers["Lock-Token"]
    assert requests.put(f"{server.url}/dav/IMG_9.jpg", data=first, auth=auth).status_code == 423
    locked = {"If": f"({token})"}
    r = requests.put(f"{server.url}/dav/IMG_9.jpg", data=b"", auth=auth, headers=locked)
    assert r.status_code == 204 and _count(server.lib, Asset, owner_id=uid) == 0
    r = requests.put(f"{server.url}/dav/IMG_9.jpg", data=first, auth=auth, headers=locked)
    assert r.status_code == 204 and _count(server.lib, Asset, owner_id=uid) == 1
    unlock = {"Lock-Token": token}
    r = requests.request("UNLOCK", f"{server.url}/dav/IMG_9.jpg", auth=auth, headers=unlock)
    assert r.status_code == 204
    assert requests.get(f"{server.url}/dav/IMG_9.jpg", auth=auth).content == first
    # New content under the same name: a new asset; the photo it replaced goes to the trash.
    assert requests.put(f"{server.url}/dav/IMG_9.jpg", data=second, auth=auth).status_code == 204
    with server.lib.read() as s:
        found = s.execute(select(Asset.checksum, Asset.trashed_at).where(Asset.owner_id == uid))
        rows = {checksum: trashed for checksum, trashed in found}
    assert rows[hashlib.sha1(first).hexdigest()] is not None
    assert rows[hashlib.sha1(second).hexdigest()] is None
    assert requests.get(f"{server.url}/dav/IMG_9.jpg", auth=auth).content == second


def test_parallel_mkcol_of_one_folder(server, make_user) -> None:
    """rclone creates a parent folder from each of its parallel transfers."""
    _, email, _, key = make_user()
    for n in range(5):
        url = f"{server.url}/dav/P{n}"
        with ThreadPoolExecutor(8) as pool:
            codes = sorted(
                r.status_code
                for r in pool.map(
                    lambda u: requests.request("MKCOL", u, auth=(email, key)), [url] * 8
                )
            )
        assert codes == [201] + [405] * 7, codes


def test_quota_properties_show_what_is_used_and_left(server, make_user, tmp_path: Path) -> None:
    _, email, _, key = make_user(quota_bytes=100_000)
    photo = make_jpeg(tmp_path / "q.jpg", seed=31).read_bytes()
    assert requests.put(f"{server.url}/dav/q.jpg", data=photo, auth=(email, key)).status_code == 201
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/>'
        "<D:quota-available-bytes/></D:prop></D:propfind>"
    )
    r = requests.request(
        "PROPFIND", f"{server.url}/dav/", data=body, auth=(email, key), headers={"Depth": "0"}
    )
    assert r.status_code == 207
    assert f"<D:quota-used-bytes>{len(photo)}</D:quota-used-bytes>" in r.text
    assert f"<D:quota-available-bytes>{100_000 - len(photo)}</D:quota-available-bytes>" in r.text
