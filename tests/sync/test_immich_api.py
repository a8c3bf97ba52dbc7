"""The Immich-compatible API over a real loopback daemon: uploads, dedup, albums, bad requests."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.catalogs import sql
from tests.conftest import make_jpeg

BOUNDARY = "----photodeskTestBoundary"


def _api(server, key: str):
    s = requests.Session()
    s.headers["x-api-key"] = key
    s.headers["Accept"] = "application/json"

    def call(method: str, path: str, **kw):
        return s.request(method, server.url + path, timeout=60, **kw)

    return call


def _upload(call, data: bytes, filename: str, **extra):
    fields = {
        "fileCreatedAt": "2024-05-01T10:00:00.000Z",
        "fileModifiedAt": "2024-05-01T10:00:00.000Z",
        "fileSize": str(len(data)),
        "isFavorite": "false",
    }
    fields.update(extra.pop("fields", {}))
    return call(
        "POST",
        "/api/assets",
        data=fields,
        files={"assetData": (filename, data, "application/octet-stream")},
        **extra,
    )


def _count(server, statement: str, *args: object) -> int:
    return int(sql(server.lib, statement, *args)[0][0])


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _wait_until(check, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _raw(server, head: str, body: bytes, *, shut: bool = True) -> bytes:
    """Send bytes as they are (for requests a normal client would refuse to make)."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def _nothing_staged(server) -> bool:
    return _files(server.library_dir / "uploads") == []


@pytest.fixture
def alice(server, make_user):
    uid, email, _, key = make_user()
    return uid, email, _api(server, key)


@pytest.fixture
def bob(server, make_user):
    uid, email, _, key = make_user()
    return uid, email, _api(server, key)


def test_discovery_and_account(server, alice) -> None:
    uid, email, call = alice
    assert requests.get(server.url + "/.well-known/immich", timeout=30).json() == {
        "api": {"endpoint": "/api"}
    }
    me = call("GET", "/api/users/me")
    assert me.status_code == 200 and me.headers["Content-Type"].startswith("application/json")
    assert me.json()["email"] == email and me.json()["id"] == str(uid)
    assert "all" in call("GET", "/api/api-keys/me").json()["permissions"]
    types = call("GET", "/api/server/media-types").json()
    assert ".jpg" in types["image"] and ".mp4" in types["video"] and types["sidecar"] == [".xmp"]
    assert all(e.startswith(".") and e == e.lower() for e in types["image"] + types["video"])
    assert call("GET", "/api/server/version").json()["major"] == 3
    anon = requests.get(server.url + "/api/users/me", timeout=30)
    assert anon.status_code == 401 and anon.json()["statusCode"] == 401
    bad = requests.get(server.url + "/api/users/me", headers={"x-api-key": "nope"}, timeout=30)
    assert bad.status_code == 401


def test_upload_created_duplicate_and_per_owner_dedup(server, alice, bob, tmp_path) -> None:
    a_id, _, a = alice
    b_id, _, b = bob
    data = make_jpeg(tmp_path / "p.jpg", seed=5).read_bytes()
    sha1 = hashlib.sha1(data).hexdigest()
    check = {"assets": [{"id": "/home/a/p.jpg", "checksum": sha1}]}
    assert a("POST", "/api/assets/bulk-upload-check", json=check).json() == {
        "results": [{"id": "/home/a/p.jpg", "action": "accept"}]
    }
    first = _upload(a, data, "p.jpg")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "created"
    asset_id = first.json()["id"]
    again = _upload(a, data, "copy.jpg")
    assert (again.status_code, again.json()) == (200, {"id": asset_id, "status": "duplicate"})
    result = a("POST", "/api/assets/bulk-upload-check", json=check).json()["results"][0]
    assert (result["action"], result["reason"], result["assetId"]) == (
        "reject",
        "duplicate",
        asset_id,
    )
    # The checksum header answers before the body is read.
    head = a("POST", "/api/assets", headers={"x-immich-checksum": sha1}, data=b"")
    assert (head.status_code, head.json()["id"]) == (200, asset_id)
    # Bob has never uploaded it: for him it is new, and a different asset.
    assert (
        b("POST", "/api/assets/bulk-upload-check", json=check).json()["results"][0]["action"]
        == "accept"
    )
    theirs = _upload(b, data, "p.jpg")
    assert theirs.status_code == 201 and theirs.json()["id"] != asset_id
    assert _count(server, "select count(*) from assets where owner_id=?", a_id) == 1
    assert _count(server, "select count(*) from assets where owner_id=?", b_id) == 1
    stats = a("GET", "/api/assets/statistics").json()
    assert stats == {"images": 1, "videos": 0, "total": 1}
    server.analysed()
    assert _nothing_staged(server)


def test_an_upload_is_usable_before_its_analysis_ran(server, alice, tmp_path) -> None:
    """The request only admits the file: until its ``upload.analyse`` job runs the client can
    still put it in an album, read it, and get a thumbnail (rendered on demand, never a 500)."""
    uid, _, a = alice
    server.lib.jobs.pause("metadata")  # the upload's analysis waits
    try:
        data = make_jpeg(tmp_path / "p.jpg", seed=8).read_bytes()
        sha1 = hashlib.sha1(data).hexdigest()
        first = _upload(a, data, "p.jpg")
        assert first.status_code == 201, first.text
        asset_id = first.json()["id"]
        assert a("GET", f"/api/photodesk/assets/{asset_id}").status_code == 200
        album = a("POST", "/api/albums", json={"albumName": "Now"}).json()["id"]
        added = a("PUT", f"/api/albums/{album}/assets", json={"ids": [asset_id]}).json()
        assert added == [{"id": asset_id, "success": True}]
        thumb = a("GET", f"/api/photodesk/assets/{asset_id}/thumbnail")
        assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
        check = {"assets": [{"id": "p", "checksum": sha1}]}
        result = a("POST", "/api/assets/bulk-upload-check", json=check).json()["results"][0]
        assert (result["action"], result["assetId"]) == ("reject", asset_id)
        pending = server.lib.for_user(uid).assets.get(int(asset_id))
        assert pending.make is None and "pending" in pending.path
    finally:
        server.lib.jobs.resume("metadata")
    server.analysed()
    done = server.lib.for_user(uid).assets.get(int(asset_id))
    assert done.make == "Canon" and done.has_thumbnail and "pending" not in done.path
    assert a("GET", f"/api/albums/{album}").json()["assetCount"] == 1
    assert _nothing_staged(server)


def test_albums_and_other_users_ids(server, alice, bob, tmp_path) -> None:
    _, _, a = alice
    _, _, b = bob
    ids = []
    for seed in (1, 2):
        data = make_jpeg(tmp_path / f"{seed}.jpg", seed=seed).read_bytes()
        ids.append(_upload(a, data, f"{seed}.jpg").json()["id"])
    bobs = _upload(b, make_jpeg(tmp_path / "b.jpg", seed=7).read_bytes(), "b.jpg").json()["id"]
    assert a("GET", "/api/albums").json() == []
    made = a("POST", "/api/albums", json={"albumName": "Birthday"})
    assert made.status_code == 201 and made.json()["albumName"] == "Birthday"
    album = made.json()["id"]
    added = a("PUT", f"/api/albums/{album}/assets", json={"ids": [*ids, bobs, "junk"]})
    assert added.status_code == 200
    assert [r["success"] for r in added.json()] == [True, True, False, False]
    assert added.json()[2]["error"] == "not_found"  # bob's asset is not revealed
    again = a("PUT", f"/api/albums/{album}/assets", json={"ids": ids[:1]}).json()
    assert again == [{"id": ids[0], "success": False, "error": "duplicate"}]
    listed = a("GET", "/api/albums").json()
    assert [(x["id"], x["albumName"], x["assetCount"]) for x in listed] == [(album, "Birthday", 2)]
    # Bob can neither see nor fill alice's album, and sees only his own albums.
    assert b("GET", f"/api/albums/{album}").status_code == 404
    assert b("PUT", f"/api/albums/{album}/assets", json={"ids": [bobs]}).status_code == 404
    assert b("GET", "/api/albums").json() == []
    assert b("PUT", "/api/albums/abc/assets", json={"ids": []}).status_code == 404
    assert _count(server, "select count(*) from album_assets") == 2


def test_broken_files_get_a_clear_4xx_and_leave_nothing(server, alice, corpus) -> None:
    uid, _, a = alice
    # What the first bytes show is refused on the request path.
    for name in ("photoprism__empty.jpg", "filetype__fixture-json.webp"):
        r = _upload(a, (corpus / name).read_bytes(), name)
        assert r.status_code == 422, (name, r.status_code, r.text)
        body = r.json()
        assert body["statusCode"] == 422 and name in body["message"]
    r = _upload(a, b"just some text, not a photo", "notes.jpg")
    assert r.status_code == 422 and "not a photo" in r.json()["message"]
    assert _count(server, "select count(*) from assets") == 0
    assert _nothing_staged(server)
    # A JPEG by its header whose pixels cannot be decoded: admitted, then refused by its
    # analysis (as Immich does): it leaves the catalog, an import error says why.
    name = "pillow__truncated_jpeg.jpg"
    r = _upload(a, (corpus / name).read_bytes(), name)
    assert r.status_code == 201, r.text
    server.analysed()
    assert _count(server, "select count(*) from assets") == 0
    assert _count(server, "select count(*) from import_errors where owner_id=?", uid) == 1
    assert _files(server.library_dir / "originals") == []
    # as for a file refused on the request path, none of its bytes stay behind
    assert _files(server.library_dir / "uploads") == []


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.jpg", "C:\\x.jpg", "/etc/cron.d/x.jpg", "..\\..\\win.jpg", "....//.x.jpg"],
)
def test_path_traversal_names_stay_in_the_users_folder(server, alice, tmp_path, name) -> None:
    uid, _, a = alice
    r = _upload(a, make_jpeg(tmp_path / "t.jpg", seed=11).read_bytes(), name)
    assert r.status_code == 201, r.text
    server.analysed()
    stored = _files(server.library_dir / "originals")
    assert len(stored) == 1
    user_root = (server.library_dir / "originals" / f"user-{uid}").resolve()
    assert stored[0].resolve().is_relative_to(user_root)
    assert ".." not in stored[0].name and "\\" not in stored[0].name
    assert not (tmp_path / "etc").exists()


def test_invalid_json_and_bad_bulk_checks(server, alice) -> None:
    _, _, a = alice
    r = a("POST", "/api/assets/bulk-upload-check", data=b"{not json",
          headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.json()["statusCode"] == 400
    assert a("POST", "/api/assets/bulk-upload-check", json=[1]).status_code == 400
    assert a("POST", "/api/assets/bulk-upload-check", json={"assets": 3}).status_code == 400
    bad_sum = {"assets": [{"id": "x", "checksum": "zz"}]}
    assert a("POST", "/api/assets/bulk-upload-check", json=bad_sum).status_code == 400
    assert a("POST", "/api/albums", json={"albumName": ""}).status_code == 400
    assert a("POST", "/api/albums", json={"albumName": 5}).status_code == 400
    r = a("POST", "/api/albums", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_malformed_multipart_is_refused(server, alice, tmp_path) -> None:
    _, _, a = alice
    data = make_jpeg(tmp_path / "m.jpg", seed=21).read_bytes()
    ct = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    # Garbage where the parts should be.
    r = a("POST", "/api/assets", data=b"this is not multipart at all", headers=ct)
    assert 400 <= r.status_code < 500, r.text
    # A file part whose closing boundary never comes.
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="assetData"; '
        f'filename="m.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode() + data
    r = a("POST", "/api/assets", data=body, headers=ct)
    assert 400 <= r.status_code < 500, r.text
    # A part header with a NUL byte in the file name.
    nul = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="assetData"; '
            f'filename="\x00.jpg"\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    r = a("POST", "/api/assets", data=nul, headers=ct)
    assert r.status_code == 400, r.text
    # Fields only, no file.
    r = a("POST", "/api/assets", files={"fileSize": (None, "3")})
    assert r.status_code == 400 and "assetData" in r.json()["message"]
    # Not multipart at all.
    r = a("POST", "/api/assets", json={"assetData": "x"})
    assert r.status_code == 400
    # A size that does not match what arrived, and a date that is not a date.
    r = _upload(a, data, "m.jpg", fields={"fileSize": "12"})
    assert r.status_code == 400 and "fileSize" in r.json()["message"]
    r = _upload(a, data, "m.jpg", fields={"fileModifiedAt": "yesterday"})
    assert r.status_code == 400
    # A checksum header that does not match the bytes.
    r = _upload(a, data, "m.jpg", headers={"x-immich-checksum": "0" * 40})
    assert r.status_code == 400
    assert _count(server, "select count(*) from assets") == 0
    assert _files(server.library_dir / "originals") == []
    assert _wait_until(lambda: _nothing_staged(server))


def test_wrong_content_length_leaves_nothing(server, make_user, tmp_path) -> None:
    _, _, _, key = make_user()
    data = make_jpeg(tmp_path / "w.jpg", seed=31).read_bytes()
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="assetData"; '
            f'filename="w.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    host = urlsplit(server.url).netloc

    def head(length: int, connection: str = "close") -> str:
        return (
            f"POST /api/assets HTTP/1.1\r\nHost: {host}\r\nx-api-key: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {length}\r\nConnection: {connection}\r\n\r\n"
        )

    # Announces more than it sends, then hangs up: the partial file must go.
    _raw(server, head(len(body) + 50_000), body)
    # Announces less than it sends: the body ends before its closing boundary.
    # aiohttp answers the surplus bytes as a bad request (or just closes when it cannot).
    reply = _raw(server, head(len(body) - 200, "keep-alive"), body)
    assert reply == b"" or reply.split(b" ", 2)[1].startswith(b"4"), reply[:200]
    assert _wait_until(lambda: _nothing_staged(server))
    assert _count(server, "select count(*) from assets") == 0
    assert _files(server.library_dir / "originals") == []


def test_quota_is_checked_before_the_bytes(server, alice, tmp_path) -> None:
    uid, _, a = alice
    server_lib_quota = {"quota": 1000}
    sql(server.lib, "update users set quota_bytes=? where id=?", server_lib_quota["quota"], uid)
    data = make_jpeg(tmp_path / "q.jpg", size=(600, 400), seed=41).read_bytes()
    r = _upload(a, data, "q.jpg")
    assert r.status_code == 413 and "quota" in r.json()["message"]
    assert _nothing_staged(server)
    assert _count(server, "select count(*) from assets") == 0


def test_missing_permission_is_403(server, make_user, tmp_path) -> None:
    uid, _, _, key = make_user()
    sql(
        server.lib,
        "update api_keys set permissions=? where user_id=?",
        json.dumps(["user.read"]),
        uid,
    )
    call = _api(server, key)
    assert call("GET", "/api/users/me").status_code == 200
    r = _upload(call, make_jpeg(tmp_path / "x.jpg", seed=61).read_bytes(), "x.jpg")
    assert r.status_code == 403 and "asset.upload" in r.json()["message"]
    assert call("GET", "/api/albums").status_code == 403
    assert _count(server, "select count(*) from assets") == 0


def test_sidecar_travels_with_its_photo(server, alice, tmp_path) -> None:
    _, _, a = alice
    data = make_jpeg(tmp_path / "s.jpg", seed=51).read_bytes()
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    r = a(
        "POST",
        "/api/assets",
        data={"fileCreatedAt": "2024-01-01T00:00:00Z", "fileModifiedAt": "2024-01-01T00:00:00Z"},
        files={
            "assetData": ("s.jpg", data, "application/octet-stream"),
            "sidecarData": ("s.xmp", xmp, "application/octet-stream"),
        },
    )
    assert r.status_code == 201, r.text
    server.analysed()
    stored = [p.name for p in _files(server.library_dir / "originals")]
    assert sorted(stored) == ["s.jpg", "s.jpg.xmp"]
    assert _count(server, "select rating from assets where id=?", int(r.json()["id"])) == 4
    assert _nothing_staged(server)


def _multipart(data: bytes, filename: str) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="assetData"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def test_chunked_uploads_and_their_quota(server, make_user, tmp_path) -> None:
    uid, _, _, key = make_user(quota_bytes=20_000)
    call = _api(server, key)
    ct = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

    def chunked(body: bytes):
        for i in range(0, len(body), 1000):  # no Content-Length: Transfer-Encoding: chunked
            yield body[i : i + 1000]

    small = make_jpeg(tmp_path / "c.jpg", seed=71).read_bytes()
    r = call("POST", "/api/assets", data=chunked(_multipart(small, "c.jpg")), headers=ct)
    assert r.status_code == 201, r.text
    big = make_jpeg(tmp_path / "big.jpg", size=(1200, 900), seed=72, quality=100).read_bytes()
    assert len(big) > 20_000
    r = call("POST", "/api/assets", data=chunked(_multipart(big, "big.jpg")), headers=ct)
    assert r.status_code == 413 and "quota" in r.json()["message"]
    assert _count(server, "select count(*) from assets where owner_id=?", uid) == 1
    assert _wait_until(lambda: _nothing_staged(server))


def test_shutdown_discards_an_upload_in_flight(start_server, tmp_path) -> None:
    info = start_server(shutdown_timeout_s=1.0)
    uid = info.lib.accounts.add_user("late@example.org", None)
    key = info.lib.accounts.create_api_key(uid, "t")
    data = make_jpeg(tmp_path / "s.jpg", seed=81).read_bytes()
    body = _multipart(data, "s.jpg")
    parts = urlsplit(info.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    try:
        sock.sendall(
            (
                f"POST /api/assets HTTP/1.1\r\nHost: {parts.netloc}\r\nx-api-key: {key}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[: len(body) // 2]
        )
        staging = info.library_dir / "uploads" / str(uid)
        assert _wait_until(lambda: any(p.is_file() for p in staging.rglob("*")))
        info.running.stop()  # the client never sends the rest
    finally:
        sock.close()
    assert [p for p in staging.rglob("*") if p.is_file()] == []
    assert _files(info.library_dir / "originals") == []
    assert _count(info, "select count(*) from assets") == 0


def test_startup_removes_stale_staged_uploads(start_server, tmp_path) -> None:
    from photodesk.core import Library

    lib = Library.open(tmp_path / "stale")
    staging = lib.uploads.staging_dir(7)
    old = staging / ".stream-dead.part"
    old.write_bytes(b"half an upload")
    os.utime(old, (0, 0))
    fresh = staging / ".stream-live.part"
    fresh.write_bytes(b"in flight")
    info = start_server(lib=lib)
    try:
        assert not old.exists() and fresh.exists()
    finally:
        info.running.stop()
        lib.close()


def test_uploads_land_under_a_separate_storage_root(start_server, tmp_path) -> None:
    store = tmp_path / "nas-share"
    info = start_server(storage_root=store)
    uid = info.lib.accounts.add_user("nas@example.org", None, storage_label="nas")
    call = _api(info, info.lib.accounts.create_api_key(uid, "t"))
    r = _upload(call, make_jpeg(tmp_path / "n.jpg", seed=91).read_bytes(), "n.jpg")
    assert r.status_code == 201, r.text
    info.analysed()
    assert [p.relative_to(store).as_posix() for p in _files(store)] == ["nas/2023/07/n.jpg"]
    assert _files(info.library_dir / "originals") == []


def test_album_put_with_many_ids(server, alice, bob, tmp_path) -> None:
    _, _, a = alice
    _, _, b = bob
    mine = _upload(a, make_jpeg(tmp_path / "m.jpg", seed=101).read_bytes(), "m.jpg").json()["id"]
    theirs = _upload(b, make_jpeg(tmp_path / "t.jpg", seed=102).read_bytes(), "t.jpg").json()["id"]
    album = a("POST", "/api/albums", json={"albumName": "Big"}).json()["id"]
    ids = [str(i) for i in range(10_000_000, 10_040_000)] + [mine, theirs]  # > SQLite's limit
    r = a("PUT", f"/api/albums/{album}/assets", json={"ids": ids})
    assert r.status_code == 200, r.text
    ok = [x["id"] for x in r.json() if x["success"]]
    assert ok == [mine]
    assert _count(server, "select count(*) from album_assets") == 1


def test_a_thumbnail_moved_by_the_layout_job_mid_request_is_served(
    server, alice, tmp_path, monkeypatch
) -> None:
    """On a library from before the flat thumbnail layout, ``thumbnails.layout`` renames files
    while the server runs: a request that resolved the old place just before the rename must
    still get the thumbnail, not a 404."""
    from photodesk.core.media.thumbnails import nested_path

    uid, _, a = alice
    data = make_jpeg(tmp_path / "p.jpg", seed=9).read_bytes()
    asset_id = _upload(a, data, "p.jpg").json()["id"]
    server.analysed()
    store = server.lib.thumbnails
    checksum = server.lib.for_user(uid).assets.get(int(asset_id)).checksum
    flat = store.thumb_path(checksum)
    old = nested_path(store.thumbs_dir, checksum)
    old.parent.mkdir(parents=True, exist_ok=True)
    os.replace(flat, old)  # the file is still in the old layout
    monkeypatch.setattr(store, "legacy", True)
    real = store.thumb_path
    moved: list[Path] = []

    def resolved_just_before_the_rename(c: str) -> Path:
        path = real(c)
        if not moved and path == old:
            os.replace(old, flat)  # the layout job's rename
            moved.append(flat)
        return path

    monkeypatch.setattr(store, "thumb_path", resolved_just_before_the_rename)
    thumb = a("GET", f"/api/photodesk/assets/{asset_id}/thumbnail")
    assert moved and thumb.status_code == 200, thumb.text
    assert thumb.content == flat.read_bytes()
