"""tus 1.0 resumable uploads, driven by the real ``tuspy`` client against a loopback daemon."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

requests = pytest.importorskip("requests", reason="requests comes with tuspy (the dev extra)")
tusclient = pytest.importorskip("tusclient.client", reason="tuspy is in the dev extra")
from tusclient.exceptions import TusCommunicationError, TusUploadFailed  # noqa: E402

from photodesk.core import Library  # noqa: E402
from photodesk.sync.tus import TUS  # noqa: E402

GOOD = "mei__Canon_EOS_REBEL_T3i.jpg"  # a 225 KB camera JPEG
OTHER = "exiftool__Apple.jpg"
BROKEN = "filetype__fixture-json.webp"  # a .webp whose bytes are JSON: refused at once
TUS_HEADERS = {"Tus-Resumable": "1.0.0"}


def _endpoint(server) -> str:
    return server.url + "/api/tus/"


def _client(server, key: str):
    return tusclient.TusClient(_endpoint(server), headers={"x-api-key": key})


def _auth(key: str, **extra: str) -> dict[str, str]:
    return {"x-api-key": key, **TUS_HEADERS, **extra}


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _create(server, key: str, length: int, **meta: str) -> str:
    r = requests.post(
        _endpoint(server),
        headers=_auth(key, **{"Upload-Length": str(length), "Upload-Metadata": _meta(**meta)}),
    )
    assert r.status_code == 201, r.text
    assert r.headers["Tus-Resumable"] == "1.0.0"
    return server.url + r.headers["Location"]


def _patch(url: str, key: str, offset: int, body: bytes, **extra: str):
    headers = _auth(
        key,
        **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        **extra,
    )
    return requests.patch(url, data=body, headers=headers)


def _head(url: str, key: str):
    return requests.head(url, headers=_auth(key))


def _tus_files(server, uid: int) -> list[Path]:
    folder = server.lib.uploads.staging_dir(uid) / "tus"
    return sorted(folder.iterdir()) if folder.exists() else []


def _parts(server, uid: int) -> list[Path]:
    return [p for p in _tus_files(server, uid) if p.suffix == ".part"]


def _asset_ids(server, uid: int) -> list[int]:
    return [a.id for a in server.lib.accounts.readable_assets(uid)]


def _original(base: str, key: str, asset_id: int) -> bytes:
    """The stored original as a client downloads it.

    Upload analysis moves a new original out of staging whenever its job runs, so a path
    read from the catalog in a test can be stale a moment later; the server re-reads it.
    """
    r = requests.get(f"{base}/api/photodesk/assets/{asset_id}/original", headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.content


def _result(url: str, key: str) -> dict:
    r = requests.get(url, headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.json()


def test_options_lists_version_extensions_and_limits(server) -> None:
    r = requests.options(_endpoint(server))
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert r.headers["Tus-Resumable"] == "1.0.0"
    extensions = set(r.headers["Tus-Extension"].split(","))
    assert {"creation", "termination", "checksum", "expiration"} <= extensions
    assert r.headers["Tus-Checksum-Algorithm"] == "sha1"
    assert int(r.headers["Tus-Max-Size"]) == server.config.max_upload_bytes


def test_tuspy_upload_becomes_an_asset_in_the_album(server, make_user, corpus) -> None:
    uid, _, _, key = make_user()
    path = corpus / GOOD
    uploader = _client(server, key).uploader(
        str(path),
        chunk_size=64 * 1024,
        metadata={"filename": GOOD, "album": "Holidays"},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.offset == path.stat().st_size
    head = _head(uploader.url, key)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"]
    assert head.headers["Photodesk-Upload-Status"] == "created"
    asset_id = int(head.headers["Photodesk-Asset-Id"])
    assert _asset_ids(server, uid) == [asset_id]
    record = server.lib.accounts.readable_asset(uid, asset_id)
    assert record.checksum == hashlib.sha1(path.read_bytes()).hexdigest()
    # The original as a client downloads it (upload analysis may move the file out of
    # staging at any moment, so the path read above can be stale by now).
    assert _original(server.url, key, asset_id) == path.read_bytes()
    assert "Holidays" in record.albums
    body = _result(uploader.url, key)
    assert body["status"] == "created" and body["assetId"] == asset_id
    assert body["filename"] == GOOD
    assert _parts(server, uid) == []  # the partial file became the original

    # The same bytes again: the server answers with the asset it already has.
    again = _client(server, key).uploader(str(path), metadata={"filename": "copy.jpg"})
    again.upload()
    head = _head(again.url, key)
    assert head.headers["Photodesk-Upload-Status"] == "duplicate"
    assert int(head.headers["Photodesk-Asset-Id"]) == asset_id
    assert _asset_ids(server, uid) == [asset_id]


def _cut_patch(url: str, key: str, offset: int, body: bytes, sent: int) -> None:
    """A PATCH announcing all of ``body`` that sends only ``sent`` bytes and drops the socket."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = (
            f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"x-api-key: {key}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:sent])
        time.sleep(0.2)  # let the server read what was sent before the connection goes


def _wait_offset(url: str, key: str, above: int) -> int:
    """The saved offset once it passes ``above`` (GET, which never interrupts a PATCH)."""
    deadline = time.monotonic() + 30
    while True:
        offset = int(_result(url, key)["offset"])
        if offset > above or time.monotonic() > deadline:
            return offset
        time.sleep(0.05)


def test_cut_transfer_resumes_from_the_servers_offset(server, make_user, corpus) -> None:
    uid, _, _, key = make_user()
    path = corpus / GOOD
    data = path.read_bytes()
    url = _create(server, key, len(data), filename=GOOD)
    _cut_patch(url, key, 0, data, sent=100_000)
    offset = _wait_offset(url, key, 0)
    # What arrived before the cut is kept (fsynced), nothing past it; the offset says so.
    assert 0 < offset <= 100_000
    (part,) = _parts(server, uid)
    assert part.read_bytes() == data[:offset]
    assert _asset_ids(server, uid) == []

    # tuspy picks the upload up where the server is and sends the rest.
    uploader = _client(server, key).uploader(str(path), url=url, chunk_size=50_000)
    assert uploader.offset == offset
    uploader.upload()
    head = _head(url, key)
    assert head.headers["Photodesk-Upload-Status"] == "created"
    (asset_id,) = _asset_ids(server, uid)
    assert asset_id == int(head.headers["Photodesk-Asset-Id"])
    assert _original(server.url, key, asset_id) == data
    assert _parts(server, uid) == []


def test_upload_survives_a_daemon_restart(start_server, make_user, tmp_path, corpus) -> None:
    lib = Library.open(tmp_path / "shared-lib")
    try:
        first = start_server(lib=lib)
        uid = lib.accounts.add_user("carol@example.org", "a long password 1")
        key = lib.accounts.create_api_key(uid, "tests")
        path = corpus / GOOD
        size = path.stat().st_size
        client = tusclient.TusClient(_endpoint(first), headers={"x-api-key": key})
        uploader = client.uploader(str(path), chunk_size=40_000, metadata={"filename": GOOD})
        uploader.upload(stop_at=120_000)  # three chunks, then the client stops
        assert uploader.offset == 120_000
        upload_path = urlsplit(uploader.url).path
        first.running.stop()

        second = start_server(lib=lib)  # a new process would see the same: state is on disk
        url = second.url + upload_path
        head = requests.head(url, headers=_auth(key))
        assert head.status_code == 200 and head.headers["Upload-Offset"] == "120000"
        client = tusclient.TusClient(_endpoint(second), headers={"x-api-key": key})
        resumed = client.uploader(str(path), url=url, chunk_size=40_000, upload_checksum=True)
        assert resumed.offset == 120_000
        resumed.upload()
        assert resumed.offset == size
        # The SHA-1 was rebuilt from the partial file: the asset's checksum is the file's.
        (record,) = lib.accounts.readable_assets(uid)
        assert record.checksum == hashlib.sha1(path.read_bytes()).hexdigest()
        assert requests.head(url, headers=_auth(key)).headers["Photodesk-Upload-Status"] == (
            "created"
        )
    finally:
        lib.close()


def test_checksum_mismatch_is_refused_and_the_chunk_discarded(server, make_user, corpus) -> None:
    uid, _, _, key = make_user()
    data = (corpus / GOOD).read_bytes()
    url = _create(server, key, len(data), filename=GOOD)
    chunk = data[:30_000]
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    r = _patch(url, key, 0, chunk, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert r.status_code == 460
    assert "checksum" in r.json()["message"]
    assert _head(url, key).headers["Upload-Offset"] == "0"
    (part,) = _parts(server, uid)
    assert part.stat().st_size == 0

    r = _patch(url, key, 0, chunk, **{"Upload-Checksum": "md5 AAAA"})
    assert r.status_code == 400
    right = base64.b64encode(hashlib.sha1(chunk).digest()).decode()
    r = _patch(url, key, 0, chunk, **{"Upload-Checksum": f"sha1 {right}"})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "30000"

    # The rest through tuspy with checksums: the whole file is intact.
    uploader = _client(server, key).uploader(
        str(corpus / GOOD), url=url, chunk_size=100_000, upload_checksum=True
    )
    uploader.upload()
    (asset_id,) = _asset_ids(server, uid)
    assert _original(server.url, key, asset_id) == data


def test_protocol_errors(server, make_user) -> None:
    _, _, _, key = make_user()
    url = _create(server, key, 10, filename="x.jpg")
    r = requests.head(url, headers={"x-api-key": key})  # no Tus-Resumable
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = requests.patch(
        url, data=b"abc", headers=_auth(key, **{"Upload-Offset": "0", "Content-Type": "text/plain"})
    )
    assert r.status_code == 415
    r = _patch(url, key, 5, b"abc")
    assert r.status_code == 409 and r.headers["Upload-Offset"] == "0"
    r = _patch(url, key, 0, b"x" * 11)
    assert r.status_code == 413
    assert _head(url, key).headers["Upload-Offset"] == "0"
    r = requests.post(_endpoint(server), headers=_auth(key))
    assert r.status_code == 400 and "Upload-Length" in r.json()["message"]
    r = requests.post(
        _endpoint(server),
        headers=_auth(key, **{"Upload-Length": "3", "Upload-Metadata": "filename ***"}),
    )
    assert r.status_code == 400
    r = requests.post(_endpoint(server), headers={"Upload-Length": "3", **TUS_HEADERS})
    assert r.status_code == 401


def test_termination_removes_the_upload(server, make_user) -> None:
    uid, _, _, key = make_user()
    url = _create(server, key, 100, filename="x.jpg")
    assert _patch(url, key, 0, b"y" * 40).status_code == 204
    assert len(_tus_files(server, uid)) == 2
    r = requests.delete(url, headers=_auth(key))
    assert r.status_code == 204
    assert _head(url, key).status_code == 404
    assert _patch(url, key, 40, b"z").status_code == 404
    assert _tus_files(server, uid) == []


def test_another_user_cannot_touch_an_upload(server, make_user, corpus) -> None:
    uid, _, _, alice = make_user()
    _, _, _, bob = make_user()
    data = (corpus / GOOD).read_bytes()
    url = _create(server, alice, len(data), filename=GOOD)
    assert _patch(url, alice, 0, data[:1000]).status_code == 204

    assert _head(url, bob).status_code == 404
    assert requests.get(url, headers={"x-api-key": bob}).status_code == 404
    assert _patch(url, bob, 1000, data[1000:2000]).status_code == 404
    assert requests.delete(url, headers=_auth(bob)).status_code == 404

    # Alice's upload is untouched and finishes.
    assert _head(url, alice).headers["Upload-Offset"] == "1000"
    r = _patch(url, alice, 1000, data[1000:])
    assert r.status_code == 204, r.text
    assert r.headers["Photodesk-Upload-Status"] == "created"
    assert len(_asset_ids(server, uid)) == 1


def test_over_quota_or_too_large_is_refused_before_any_byte(
    start_server, make_user, server, corpus
) -> None:
    path = corpus / GOOD
    uid, _, _, key = make_user(quota_bytes=50_000)
    uploader = _client(server, key).uploader(str(path), metadata={"filename": GOOD})
    with pytest.raises(TusCommunicationError) as err:
        uploader.upload()
    assert err.value.status_code == 413
    assert "quota" in json.loads(err.value.response_content)["message"].lower()
    assert _tus_files(server, uid) == []

    small = start_server(max_upload_bytes=100_000)
    lib = small.lib
    uid2 = lib.accounts.add_user("dave@example.org", "a long password 2")
    key2 = lib.accounts.create_api_key(uid2, "tests")
    r = requests.post(
        _endpoint(small), headers=_auth(key2, **{"Upload-Length": str(path.stat().st_size)})
    )
    assert r.status_code == 413
    assert "100000" in r.json()["message"]
    assert not (lib.uploads.staging_dir(uid2) / "tus").exists() or not any(
        (lib.uploads.staging_dir(uid2) / "tus").iterdir()
    )


def test_pending_uploads_count_against_the_quota(server, make_user) -> None:
    _, _, _, key = make_user(quota_bytes=100_000)
    _create(server, key, 60_000, filename="a.jpg")
    r = requests.post(_endpoint(server), headers=_auth(key, **{"Upload-Length": "60000"}))
    assert r.status_code == 413


def test_broken_image_is_rejected_with_a_clear_error(server, make_user, corpus) -> None:
    uid, _, _, key = make_user()
    path = corpus / BROKEN
    uploader = _client(server, key).uploader(str(path), metadata={"filename": BROKEN})
    with pytest.raises(TusUploadFailed) as err:
        uploader.upload()
    assert err.value.status_code == 422
    message = json.loads(err.value.response_content)["message"]
    assert "not imported" in message
    head = _head(uploader.url, key)
    assert head.headers["Photodesk-Upload-Status"] == "rejected"
    assert head.headers["Photodesk-Upload-Error"]
    assert "Photodesk-Asset-Id" not in head.headers
    assert _result(uploader.url, key)["error"]
    assert _asset_ids(server, uid) == []
    assert _parts(server, uid) == []
    storage = server.lib.accounts.storage_dir(uid)
    assert not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))


def test_empty_file_is_finished_at_creation(server, make_user) -> None:
    uid, _, _, key = make_user()
    r = requests.post(
        _endpoint(server),
        headers=_auth(key, **{"Upload-Length": "0", "Upload-Metadata": _meta(filename="e.jpg")}),
    )
    assert r.status_code == 201
    assert r.headers["Photodesk-Upload-Status"] == "rejected"
    assert _parts(server, uid) == []


def test_expired_and_stray_uploads_are_swept(server, make_user) -> None:
    uid, _, _, key = make_user()
    url = _create(server, key, 100, filename="x.jpg")
    assert _patch(url, key, 0, b"a" * 10).status_code == 204
    keep = _create(server, key, 100, filename="y.jpg")
    store = server.app[TUS].store
    upload_id = url.rsplit("/", 1)[1]
    state_file = store.folder(uid) / f"{upload_id}.json"
    state = json.loads(state_file.read_text())
    state["updated_at"] -= store.expiry_s + 1  # untouched for longer than the expiry
    state_file.write_text(json.dumps(state))
    stray = store.folder(uid) / ("f" * 32 + ".part")
    stray.write_bytes(b"left by a crash")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    assert store.sweep([uid]) >= 2
    names = {p.name for p in _tus_files(server, uid)}
    kept_id = keep.rsplit("/", 1)[1]
    assert names == {f"{kept_id}.json", f"{kept_id}.part"}
    assert _head(url, key).status_code == 404
    assert _head(keep, key).status_code == 200


def _noise_jpeg(path: Path, side: int = 1200) -> Path:
    from PIL import Image

    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, quality=95)
    return path


def test_head_stops_a_stuck_patch_and_gives_the_saved_offset(server, make_user, tmp_path) -> None:
    uid, _, _, key = make_user()
    path = _noise_jpeg(tmp_path / "big.jpg")
    data = path.read_bytes()
    sent = 1_500_000
    assert len(data) > sent
    url = _create(server, key, len(data), filename="big.jpg")
    parts = urlsplit(url)
    (part,) = _parts(server, uid)
    # A PATCH whose connection hangs half-way (a phone that walked out of Wi-Fi range).
    with socket.create_connection((parts.hostname, parts.port)) as stuck:
        stuck.sendall(
            (
                f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nx-api-key: {key}\r\n"
                "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data[:sent]
        )
        deadline = time.monotonic() + 30
        while part.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the server has written its first megabyte
        assert _result(url, key)["offset"] == 0  # nothing acknowledged while it is stuck
        head = _head(url, key)
        offset = int(head.headers["Upload-Offset"])
        assert 1 << 20 <= offset <= sent
        assert part.read_bytes() == data[:offset]
        uploader = _client(server, key).uploader(str(path), url=url, chunk_size=1 << 20)
        assert uploader.offset == offset
        uploader.upload()
    (asset_id,) = _asset_ids(server, uid)
    assert _original(server.url, key, asset_id) == data


def test_shutdown_during_a_patch_keeps_what_arrived(start_server, tmp_path) -> None:
    lib = Library.open(tmp_path / "shared-lib")
    try:
        first = start_server(lib=lib, shutdown_timeout_s=1.0)
        uid = lib.accounts.add_user("erin@example.org", "a long password 3")
        key = lib.accounts.create_api_key(uid, "tests")
        path = _noise_jpeg(tmp_path / "big.jpg")
        data = path.read_bytes()
        url = _create(first, key, len(data), filename="big.jpg")
        (part,) = _parts(first, uid)
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as slow:
            slow.sendall(
                (
                    f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nx-api-key: {key}\r\n"
                    "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                    "Content-Type: application/offset+octet-stream\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                + data[:1_500_000]
            )
            deadline = time.monotonic() + 30
            while part.stat().st_size == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            first.running.stop()  # SIGTERM: the PATCH in flight is cut after the grace time
        second = start_server(lib=lib)
        url = second.url + parts.path
        offset = int(requests.head(url, headers=_auth(key)).headers["Upload-Offset"])
        assert 1 << 20 <= offset <= 1_500_000
        client = tusclient.TusClient(_endpoint(second), headers={"x-api-key": key})
        uploader = client.uploader(str(path), url=url, chunk_size=1 << 20)
        assert uploader.offset == offset
        uploader.upload()
        (record,) = lib.accounts.readable_assets(uid)
        assert _original(second.url, key, record.id) == data
    finally:
        lib.close()


def test_expired_uploads_go_when_the_daemon_starts(start_server, tmp_path) -> None:
    lib = Library.open(tmp_path / "shared-lib")
    try:
        first = start_server(lib=lib)
        uid = lib.accounts.add_user("fay@example.org", "a long password 4")
        key = lib.accounts.create_api_key(uid, "tests")
        url = _create(first, key, 100, filename="x.jpg")
        assert _patch(url, key, 0, b"a" * 10).status_code == 204
        first.running.stop()
        (state_file,) = [p for p in _tus_files(first, uid) if p.suffix == ".json"]
        state = json.loads(state_file.read_text())
        state["updated_at"] -= 25 * 3600  # abandoned a day ago
        state_file.write_text(json.dumps(state))

        second = start_server(lib=lib)
        deadline = time.monotonic() + 30
        while _tus_files(second, uid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _tus_files(second, uid) == []
    finally:
        lib.close()
