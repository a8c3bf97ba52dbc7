"""Visitors' uploads through a public link: streamed to disk, imported for the link's owner."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from photodesk.core import (
    NotFound,
    PhotodeskError,
    Reservation,
    ShareLink,
    StagedFile,
    safe_filename,
)
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.views import http_error

log = logging.getLogger(__name__)
CHUNK = 256 * 1024
MAX_FILES = 200


async def _stream(part: BodyPartReader, staged: StagedFile) -> None:
    loop = asyncio.get_running_loop()
    while chunk := await part.read_chunk(CHUNK):
        await loop.run_in_executor(None, staged.write, chunk)


async def receive_upload(request: web.Request, link: ShareLink) -> list[dict[str, Any]]:
    """Import each ``file`` part of a multipart body into the link's album, as its owner's.

    Quota and free space are checked before any byte is read; every file goes through
    ``lib.uploads.ingest`` (admitted at once, analysed by a job after). One result per file.
    """
    lib = request.app[LIBRARY]
    uploads = lib.uploads
    owner = link.owner_id
    if request.content_type != "multipart/form-data":
        raise http_error(400, "expected a multipart/form-data body with file fields")
    # The body's size is reserved (quota, disk) before its first byte, released at the end.
    reservation = await asyncio.to_thread(uploads.reserve, owner, request.content_length or 0)
    try:
        return await _receive(request, link, reservation)
    finally:
        reservation.release()


async def _receive(
    request: web.Request, link: ShareLink, reservation: Reservation
) -> list[dict[str, Any]]:
    lib = request.app[LIBRARY]
    uploads = lib.uploads
    owner = link.owner_id
    staging = await asyncio.to_thread(uploads.staging_dir, owner)
    limit = request.app[CONFIG].max_upload_bytes
    results: list[dict[str, Any]] = []
    received = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise http_error(400, "nested multipart bodies are not accepted")
            if part.name != "file" or not part.filename:
                await part.release()
                continue
            if len(results) >= MAX_FILES:
                raise http_error(400, f"at most {MAX_FILES} files per request")
            name = safe_filename(part.filename)
            staged = StagedFile(staging, max_bytes=limit)
            handed_over = False
            try:
                await _stream(part, staged)
                received += staged.size
                if received > reservation.size:  # chunked, or more than announced
                    await asyncio.to_thread(reservation.resize, received)
                await asyncio.to_thread(staged.finish)
                handed_over = True
                outcome = await asyncio.shield(
                    asyncio.to_thread(uploads.ingest, owner, staged.path, name, staged.sha1)
                )
            finally:
                if not handed_over:
                    await asyncio.to_thread(staged.discard)
            if outcome.asset_id is not None:
                try:
                    await asyncio.to_thread(lib.shares.add_upload, link, outcome.asset_id)
                except NotFound:  # its analysis (a job) refused it already: gone
                    error = "the file could not be decoded"
                    results.append({"name": name, "status": "rejected", "error": error})
                    continue
                results.append({"name": name, "status": outcome.status, "id": outcome.asset_id})
            else:
                results.append({"name": name, "status": outcome.status, "error": outcome.error})
    except (ValueError, AssertionError, RuntimeError, HttpProcessingError) as exc:
        raise http_error(400, f"malformed multipart body: {exc}") from None
    except (ConnectionError, asyncio.IncompleteReadError):
        log.info("a visitor upload to link %s was cut short", link.id)
        raise http_error(400, "the upload was cut short") from None
    except PhotodeskError:
        raise
    log.info("link %s: %d visitor upload(s)", link.id, len(results))
    return results
