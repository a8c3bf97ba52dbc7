"""Malformed input from hostile clients: every case a 4xx with a reason, never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.sync.hostile import add_photo, album_with, burst, jpeg_bytes
from tests.sync.test_hostile_quota import noise_jpeg

DEEP = ("[" * 100_000 + "]" * 100_000).encode()


async def _raw(url: str, head: bytes, body: bytes = b"") -> int:
    """Send a request written byte by byte; its status."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        line = await reader.readline()
        return int(line.split(b" ", 2)[1])
    finally:
        writer.close()


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.ERROR)
    return caplog


def _no_tracebacks(errors: Any) -> None:
    failed = [r for r in errors.records if r.levelno >= logging.ERROR or r.exc_info]
    assert failed == [], [r.getMessage() for r in failed]


def _json(method: str, url: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    async def call(session: aiohttp.ClientSession) -> tuple[str, int, str]:
        h = {"Content-Type": "application/json", **(headers or {})}
        async with session.request(method, url, data=body, headers=h) as r:
            return url, r.status, (await r.text())[:200]

    return call


def test_deep_json_surrogates_huge_ids_and_far_expiries_are_4xx(server, make_user, errors):
    uid, _email, _pw, key = make_user()
    aid = add_photo(server.lib, uid, jpeg_bytes())
    album = album_with(server.lib, uid, "Mine", [aid])
    u = server.url
    auth = {"x-api-key": key}
    calls = [
        _json("POST", f"{u}/api/auth/login", DEEP),
        _json("POST", f"{u}/api/albums", DEEP, auth),
        _json("POST", f"{u}/api/photodesk/shared-links", DEEP, auth),
        _json("POST", f"{u}/api/albums", b'{"albumName": "x\\ud800y"}', auth),
        _json("POST", f"{u}/api/auth/login", b'{"email": "\\udfff@x", "password": "p"}'),
        _json("POST", f"{u}/api/photodesk/albums/{album}/shares", b'{"user_id": %d}' % 2**70, auth),
        _json("PUT", f"{u}/api/photodesk/albums/{album}/assets", b'{"ids": [%d]}' % 2**70, auth),
        _json("POST", f"{u}/api/photodesk/shared-links", b'{"album_id": %d}' % 2**70, auth),
        _json(
            "POST",
            f"{u}/api/photodesk/shared-links",
            json.dumps({"album_id": album, "expires": "99999999999d"}).encode(),
            auth,
        ),
        _json(
            "POST",
            f"{u}/api/photodesk/shared-links",
            json.dumps({"album_id": album, "expires": "9999-12-31T23:59:59+14:00"}).encode(),
            auth,
        ),
        _json(
            "POST",
            f"{u}/api/photodesk/shared-links",
            json.dumps({"album_id": album, "expires": "\u0661\u0662d"}).encode(),  # Arabic 12
            auth,
        ),
    ]
    results = burst(calls)
    for url, status, text in results:
        assert 400 <= status < 500, (url, status, text)
    assert server.lib.shares.album_grants(uid, album) == []
    _no_tracebacks(errors)


def test_ids_in_non_ascii_digits_are_not_numbers(server, make_user, errors) -> None:
    uid, _email, _pw, key = make_user()
    aid = add_photo(server.lib, uid, jpeg_bytes())
    assert aid == 1
    album = album_with(server.lib, uid, "One", [aid])
    assert album == 1
    auth = {"x-api-key": key}
    u = server.url

    def get(path: str) -> Any:
        async def call(session: aiohttp.ClientSession) -> tuple[str, int]:
            async with session.get(u + path, headers=auth) as r:
                return path, r.status

        return call

    assert burst([get("/api/photodesk/assets/1")]) == [("/api/photodesk/assets/1", 200)]
    paths = [
        "/api/photodesk/assets/\u0661",  # ARABIC-INDIC DIGIT ONE
        "/api/photodesk/assets/\u00b9",  # SUPERSCRIPT ONE
        "/api/photodesk/assets/\uff11/thumbnail",  # FULLWIDTH DIGIT ONE
        "/api/photodesk/albums/\u0661/assets",
        "/api/albums/\u0661",
        "/albums/\u0661",
        f"/api/photodesk/assets/{2**70}",
    ]
    for path, status in burst([get(p) for p in paths]):
        assert status == 404, (path, status)
    _no_tracebacks(errors)


def test_bad_bytes_in_credentials_and_headers_are_4xx(server, make_user, errors) -> None:
    key = make_user()[3]
    u = server.url

    async def main() -> list[int]:
        base = b"GET /api/photodesk/me HTTP/1.1\r\nHost: x"
        tus = (
            b"POST /api/tus HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
            b"x-api-key: " + key.encode() + b"\r\nUpload-Length: \xc2\xb2"
        )
        return list(
            await asyncio.gather(
                _raw(u, base + b"\r\nx-api-key: \xff\xfe\x80abc"),
                _raw(u, base + b"\r\nAuthorization: Bearer \xff\xfe\x80abc"),
                _raw(u, base + b"\r\nCookie: photodesk_session=\xff\xfe\x80abc"),
                _raw(u, base + b"\r\nCookie: \xff\xfe=\x80"),
                _raw(u, tus),  # Upload-Length: SUPERSCRIPT TWO
                _raw(u, tus.replace(b"\xc2\xb2", "\u0661\u0662".encode())),
            )
        )

    codes = asyncio.run(main())
    assert codes[:4] == [401] * 4, codes
    assert codes[4:] == [400, 400], codes
    _no_tracebacks(errors)


def test_far_future_file_dates_are_refused(server, make_user, errors) -> None:
    key = make_user()[3]

    async def call(session: aiohttp.ClientSession) -> tuple[int, str]:
        form = aiohttp.FormData()
        form.add_field("deviceAssetId", "far")
        form.add_field("deviceId", "tests")
        form.add_field("fileCreatedAt", "9999-12-31T23:59:59.999Z")
        form.add_field("fileModifiedAt", "9999-12-31T23:59:59.999Z")
        form.add_field("assetData", noise_jpeg(7), filename="far.jpg", content_type="image/jpeg")
        headers = {"x-api-key": key}
        async with session.post(f"{server.url}/api/assets", data=form, headers=headers) as r:
            return r.status, await r.text()

    [(status, text)] = burst([call])
    assert status == 400 and "fileModifiedAt" in text, (status, text)
    _no_tracebacks(errors)


def test_password_forms_never_buffer_a_large_or_unsized_body(server, make_user, errors) -> None:
    uid = make_user()[0]
    album = album_with(server.lib, uid, "Locked", [add_photo(server.lib, uid, jpeg_bytes())])
    link = server.lib.shares.create_link(uid, album_id=album, password="right one")
    form = b"password=" + b"x" * 20_000
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)

    async def send(path: str, body: bytes, sized: bool) -> int:
        parts = urlsplit(server.url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        length = b"Content-Length: %d" % len(body) if sized else b"Transfer-Encoding: chunked"
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + parts.netloc.encode()
            + b"\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nOrigin: " + server.url.encode()
            + b"\r\n" + length + b"\r\n\r\n" + body
        )  # fmt: skip
        await writer.drain()
        line = await reader.readline()
        writer.close()
        return int(line.split(b" ", 2)[1])

    async def main() -> list[int]:
        unlock = f"/share/{link.key}/unlock"
        return list(
            await asyncio.gather(
                send(unlock, chunked, sized=False),
                send(unlock, form, sized=True),
                send("/login", chunked, sized=False),
                send("/login", form, sized=True),
            )
        )

    assert asyncio.run(main()) == [413, 413, 411, 413]
    _no_tracebacks(errors)
