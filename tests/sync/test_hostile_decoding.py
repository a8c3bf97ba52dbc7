"""Decompression bombs and parallel downloads: a pixel cap, few decodes at once, each copy once."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from typing import Any

import aiohttp
import pytest
from PIL import Image

from photodesk.sync import gallery_files
from photodesk.sync.config import ServerConfig
from tests.sync.hostile import add_photo, album_with, burst
from tests.sync.test_hostile_quota import immich_upload


def png_declaring(width: int, height: int) -> bytes:
    """A valid grey PNG of ``width`` x ``height`` pixels, all black: tiny on disk, huge decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    z = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    parts = [z.compress(row) for _ in range(height)]
    idat = b"".join(parts) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_bytes(size: tuple[int, int], color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def _visitor_upload(url: str, data: bytes, name: str) -> Any:
    async def call(session: aiohttp.ClientSession) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="image/png")
        headers = {"X-Requested-With": "fetch"}
        async with session.post(url, data=form, headers=headers) as r:
            return r.status, await r.json()

    return call


def test_the_default_pixel_cap_refuses_the_probe_bomb() -> None:
    assert ServerConfig().max_pixels < 14000 * 14000


def test_uploads_over_the_pixel_cap_are_refused_with_a_reason(server, make_user) -> None:
    bomb = png_declaring(14000, 14000)
    assert len(bomb) < 1_000_000  # 196 megapixels in a few hundred KB
    uid, _email, _pw, key = make_user()
    album = album_with(server.lib, uid, "Drop box")
    link = server.lib.shares.create_link(
        uid, album_id=album, allow_upload=True, show_metadata=False
    )
    url = f"{server.url}/share/{link.key}/upload"
    [(status, body)] = burst([_visitor_upload(url, bomb, "bomb.png")])
    assert status == 422, body
    [result] = body["results"]
    assert result["status"] == "rejected" and "14000x14000" in result["error"], result
    assert "megapixels" in result["error"]
    # the same through the Immich API
    assert burst([immich_upload(server.url, key, bomb, "bomb.png")]) == [422]
    assert server.lib.for_user(uid).albums.assets(album) == []


@pytest.fixture
def reencodes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Counts the re-encodes of originals, and how many ran at once."""
    seen: dict[str, Any] = {"n": 0, "now": 0, "max": 0, "lock": threading.Lock()}
    real = gallery_files._reencode

    def counted(*args: Any) -> None:
        with seen["lock"]:
            seen["n"] += 1
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            time.sleep(0.1)  # widen the window in which parallel decodes overlap
            real(*args)
        finally:
            with seen["lock"]:
                seen["now"] -= 1

    monkeypatch.setattr(gallery_files, "_reencode", counted)
    return seen


def _get(url: str) -> Any:
    async def call(session: aiohttp.ClientSession) -> tuple[int, bytes]:
        async with session.get(url) as r:
            return r.status, await r.read()

    return call


def test_parallel_downloads_decode_once_and_few_at_a_time(server, make_user, reencodes) -> None:
    uid = make_user()[0]
    colors = ("red", "green", "blue", "white", "black", "yellow")
    ids = [add_photo(server.lib, uid, png_bytes((900, 700), c), f"{c}.png") for c in colors]
    album = album_with(server.lib, uid, "Colours", ids)
    link = server.lib.shares.create_link(
        uid, album_id=album, allow_download=True, show_metadata=False
    )
    base = f"{server.url}/share/{link.key}"
    # 12 visitors download the same original at once: one decode, one cached copy
    got = burst([_get(f"{base}/original/{ids[0]}") for _ in range(12)])
    assert {status for status, _ in got} == {200}
    assert len({body for _, body in got}) == 1
    assert reencodes["n"] == 1, reencodes
    # every other original at once (twice each): each decoded once, at most two at a time
    got = burst([_get(f"{base}/original/{i}") for i in ids[1:] * 2])
    assert {status for status, _ in got} == {200}
    assert reencodes["n"] == len(ids), reencodes
    assert reencodes["max"] <= ServerConfig().decode_workers, reencodes


def test_a_library_picture_over_the_cap_is_not_decoded_for_visitors(
    start_server, reencodes
) -> None:
    info = start_server(max_pixels=500_000)
    lib = info.lib
    uid = lib.accounts.add_user("big@example.org", "pw-big-12345")
    lib.uploads.max_pixels = None  # imported on the desktop, where the cap does not apply
    big = add_photo(lib, uid, png_bytes((1000, 800), "navy"), "big.png")
    lib.uploads.max_pixels = info.config.max_pixels
    album = album_with(lib, uid, "Big", [big])
    link = lib.shares.create_link(uid, album_id=album, allow_download=True, show_metadata=False)
    [(status, body)] = burst([_get(f"{info.url}/share/{link.key}/original/{big}")])
    assert status == 404 and b"not shared without its metadata" in body
    assert reencodes["n"] == 0
