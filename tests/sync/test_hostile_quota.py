"""Quota under parallel uploads: reserved atomically when an upload starts, released after."""

from __future__ import annotations

import io
import random
from typing import Any

import aiohttp
import requests
from PIL import Image

from tests.sync.hostile import burst


def noise_jpeg(seed: int, size: tuple[int, int] = (400, 300)) -> bytes:
    """A JPEG of random pixels (so it does not compress away), different for each seed."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def immich_upload(url: str, key: str, data: bytes, name: str) -> Any:
    async def call(session: aiohttp.ClientSession) -> int:
        form = aiohttp.FormData()
        form.add_field("deviceAssetId", name)
        form.add_field("deviceId", "tests")
        form.add_field("fileCreatedAt", "2026-01-01T00:00:00Z")
        form.add_field("fileModifiedAt", "2026-01-01T00:00:00Z")
        form.add_field("assetData", data, filename=name, content_type="image/jpeg")
        async with session.post(f"{url}/api/assets", data=form, headers={"x-api-key": key}) as r:
            await r.read()
            return r.status

    return call


def test_parallel_uploads_cannot_overrun_the_quota(server, make_user) -> None:
    files = [noise_jpeg(i) for i in range(6)]
    size = max(len(f) for f in files)
    uid, _email, _pw, key = make_user(quota_bytes=int(size * 2.5))
    codes = burst([immich_upload(server.url, key, f, f"p{i}.jpg") for i, f in enumerate(files)])
    assert sorted(codes) == [201, 201, 413, 413, 413, 413], codes
    assert server.lib.accounts.usage_bytes(uid) <= int(size * 2.5)
    assert server.lib.uploads.quota.held(uid) == 0  # every reservation was released


def test_a_failed_upload_releases_its_reservation(server, make_user) -> None:
    good = noise_jpeg(1)
    uid, _email, _pw, key = make_user(quota_bytes=int(len(good) * 1.5))
    broken = b"text, not a photo " * (len(good) // 18)  # refused during the request
    assert burst([immich_upload(server.url, key, broken, "broken.jpg")]) == [422]
    assert server.lib.uploads.quota.held(uid) == 0
    assert burst([immich_upload(server.url, key, good, "good.jpg")]) == [201]
    assert burst([immich_upload(server.url, key, noise_jpeg(2), "more.jpg")]) == [413]


def visitor_upload(url: str, data: bytes, name: str) -> Any:
    async def call(session: aiohttp.ClientSession) -> int:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="image/jpeg")
        async with session.post(url, data=form, headers={"X-Requested-With": "fetch"}) as r:
            await r.read()
            return r.status

    return call


def test_resumable_promises_and_visitor_uploads_share_one_quota(server, make_user) -> None:
    from tests.sync.hostile import album_with

    files = [noise_jpeg(20 + i) for i in range(6)]
    size = max(len(f) for f in files)
    uid, _email, _pw, key = make_user(quota_bytes=int(size * 2.5))
    # a resumable upload promised one file's bytes (none sent yet)
    r = requests.post(
        f"{server.url}/api/tus",
        headers={"x-api-key": key, "Tus-Resumable": "1.0.0", "Upload-Length": str(size)},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    album = album_with(server.lib, uid, "Drop box")
    link = server.lib.shares.create_link(uid, album_id=album, allow_upload=True)
    drop = f"{server.url}/share/{link.key}/upload"
    calls = [immich_upload(server.url, key, f, f"i{i}.jpg") for i, f in enumerate(files[:3])]
    calls += [visitor_upload(drop, f, f"v{i}.jpg") for i, f in enumerate(files[3:])]
    codes = burst(calls)
    created = codes[:3].count(201) + codes[3:].count(200)
    assert created == 1 and codes.count(413) == 5, codes
    assert server.lib.uploads.quota.held(uid) == 0
