"""Helpers for the hostile-client tests: generated photos, uploads into a user's library, bursts."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiohttp
from PIL import Image


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: str = "teal", **save: Any) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", **save)
    return buf.getvalue()


def add_photo(lib: Any, user_id: int, data: bytes, name: str = "photo.jpg") -> int:
    """Put ``data`` into ``user_id``'s library through the upload pipeline; its asset id."""
    staged = lib.uploads.stage(user_id)
    with staged:
        staged.write(data)
        staged.finish()
    outcome = lib.uploads.ingest(user_id, staged.path, name, hashlib.sha1(data).hexdigest())
    assert outcome.asset_id is not None, outcome
    wait_analysed(lib)  # the tests look at the analysed photo, as a visitor would a minute later
    return int(outcome.asset_id)


def wait_analysed(lib: Any, timeout: float = 120.0) -> None:
    """Wait until no ``upload.analyse`` job is queued or running in ``lib``: an upload is
    analysed by a job after the request that admitted it."""
    from sqlalchemy import select

    from photodesk.core.catalog.db.jobs import ACTIVE
    from photodesk.core.catalog.db.schema import Job

    deadline = time.monotonic() + timeout
    while True:
        with lib.read() as s:
            busy = s.scalar(
                select(Job.id).where(Job.kind == "upload.analyse", Job.state.in_(ACTIVE)).limit(1)
            )
        if busy is None:
            return
        assert time.monotonic() < deadline, "the server's jobs did not finish"
        time.sleep(0.05)


def album_with(lib: Any, user_id: int, name: str, asset_ids: Iterable[int] = ()) -> int:
    view = lib.for_user(user_id)
    album_id = int(view.albums.create(name))
    ids = list(asset_ids)
    if ids:
        view.albums.add(album_id, ids)
    return album_id


Call = Callable[[aiohttp.ClientSession], Awaitable[Any]]


def burst(calls: list[Call], *, limit: int = 300) -> list[Any]:
    """Run every call at once (asyncio.gather over one session) and return their results."""

    async def main() -> list[Any]:
        connector = aiohttp.TCPConnector(limit=limit, force_close=True)
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            return list(await asyncio.gather(*(call(session) for call in calls)))

    return asyncio.run(main())
