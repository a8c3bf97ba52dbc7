"""``POST /api/assets``: Immich's multipart upload, streamed to a staging file while hashed."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from photodesk.core import (
    PhotodeskError,
    Reservation,
    StagedFile,
    UploadOutcome,
    normalize_sha1,
)
from photodesk.sync.auth import current_user, has_permission
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.views import ApiError, http_error, json_response

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes read from the socket and written to disk at a time
MAX_FIELD_BYTES = 64 * 1024  # a form field (dates, flags, ids)
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and fields around the file
MIN_FILE_YEAR = 1900  # file dates outside MIN_FILE_YEAR..next year are a client's mistake
FIELDS = frozenset(
    {"fileCreatedAt", "fileModifiedAt", "fileSize", "isFavorite", "deviceAssetId", "deviceId",
     "duration", "filename", "livePhotoVideoId", "metadata", "visibility", "isVisible",
     "isArchived", "isOffline", "libraryId"}
)  # fmt: skip


def _date(fields: dict[str, str], name: str) -> datetime | None:
    text = fields.get(name)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        when.timestamp()  # a naive 9999-12-31 may overflow in local time
    except (ValueError, OverflowError):
        raise http_error(400, f"{name} is not an ISO 8601 date: {text[:40]!r}") from None
    if not MIN_FILE_YEAR <= when.year <= datetime.now().year + 1:
        raise http_error(400, f"{name} is out of range: {text[:40]!r}")
    return when


async def _field(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise http_error(413, f"the form field {part.name!r} is too large")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise http_error(400, f"the form field {part.name!r} is not UTF-8 text") from None


async def _stream(part: BodyPartReader, staged: StagedFile) -> None:
    """Copy a file part to disk: socket reads here, disk writes on a worker thread."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    while chunk := await part.read_chunk(CHUNK):
        if pending is not None:
            await pending
        pending = loop.run_in_executor(None, staged.write, chunk)
    if pending is not None:
        await pending


async def upload_asset(request: web.Request) -> web.Response:
    """Create an asset from ``assetData`` (+ ``sidecarData``): 201 created, 200 duplicate.

    The file is streamed to staging while hashed, checked for duplicates once (before the body
    when ``x-immich-checksum`` names it) and admitted; its metadata and thumbnails come from a
    job that runs after the answer (until then its thumbnail is rendered on demand)."""
    user = current_user(request)
    if not has_permission(request, "asset.upload"):
        raise http_error(403, 'Missing required permission: "asset.upload"')
    lib = request.app[LIBRARY]
    uploads = lib.uploads
    limit = request.app[CONFIG].max_upload_bytes
    claimed = normalize_sha1(request.headers.get("x-immich-checksum"))
    if request.headers.get("x-immich-checksum") and claimed is None:
        raise http_error(400, "x-immich-checksum is not a SHA-1 (hex or base64)")
    if claimed is not None:
        existing = await asyncio.to_thread(uploads.has_checksum, user.id, claimed)
        if existing is not None:  # answered before reading the body, like Immich
            return json_response({"id": str(existing), "status": "duplicate"})
    if request.content_type != "multipart/form-data":
        raise http_error(400, "expected a multipart/form-data body with an assetData file")
    length = request.content_length
    if length is not None and length > limit + MULTIPART_OVERHEAD + MAX_SIDECAR_BYTES:
        raise http_error(413, f"a file may have at most {limit} bytes")
    # Quota and disk are reserved before the first byte (parallel uploads cannot all pass the
    # same check) and released when this request ends; chunked bodies reserve once the size is
    # known.
    reservation = await asyncio.to_thread(uploads.reserve, user.id, length or 0)
    try:
        return await _receive(request, user.id, claimed, length, reservation)
    finally:
        reservation.release()


async def _receive(
    request: web.Request,
    user_id: int,
    claimed: str | None,
    length: int | None,
    reservation: Reservation,
) -> web.Response:
    uploads = request.app[LIBRARY].uploads
    limit = request.app[CONFIG].max_upload_bytes
    staging = await asyncio.to_thread(uploads.staging_dir, user_id)
    fields: dict[str, str] = {}
    asset: StagedFile | None = None
    sidecar: StagedFile | None = None
    filename = ""
    handed_over = False
    try:
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise http_error(400, "nested multipart bodies are not accepted")
                name = part.name or ""
                if name == "assetData":
                    if asset is not None:
                        raise http_error(400, "only one assetData file per request")
                    filename = part.filename or ""
                    asset = StagedFile(staging, max_bytes=limit)
                    await _stream(part, asset)
                elif name == "sidecarData":
                    if sidecar is not None:
                        raise http_error(400, "only one sidecarData file per request")
                    sidecar = StagedFile(staging, max_bytes=MAX_SIDECAR_BYTES)
                    await _stream(part, sidecar)
                elif name in FIELDS:
                    fields[name] = await _field(part)
                else:
                    await part.release()  # unknown fields are tolerated, as Immich does
        except (ValueError, AssertionError, RuntimeError, HttpProcessingError) as exc:
            # aiohttp's reader reports a malformed body or a short one this way
            raise http_error(400, f"malformed multipart body: {exc}") from None
        if asset is None:
            raise http_error(400, "the assetData file is missing")
        if "fileSize" in fields and fields["fileSize"] != str(asset.size):
            raise http_error(
                400, f"fileSize says {fields['fileSize'][:20]} bytes but {asset.size} arrived"
            )
        modified = _date(fields, "fileModifiedAt")
        created = _date(fields, "fileCreatedAt")
        if claimed is not None and claimed != asset.sha1:
            raise http_error(400, "x-immich-checksum does not match the file received")
        if length is None:
            await asyncio.to_thread(reservation.resize, asset.size)
        await asyncio.to_thread(asset.finish)
        if sidecar is not None:
            await asyncio.to_thread(sidecar.finish)
        handed_over = True  # from here on the core consumes (moves or removes) the files
        outcome: UploadOutcome = await asyncio.shield(
            asyncio.to_thread(
                uploads.ingest,
                user_id,
                asset.path,
                fields.get("filename") or filename,
                asset.sha1,
                file_created_at=created,
                file_modified_at=modified,
                device_asset_id=fields.get("deviceAssetId"),
                sidecar_path=sidecar.path if sidecar else None,
                checked=claimed is not None,  # the header's duplicate check ran: not twice
            )
        )
    except BaseException as exc:
        # A refused or dropped upload leaves nothing: both staged files go.
        for staged in (asset, sidecar):
            if staged is not None and not handed_over:
                await asyncio.to_thread(staged.discard)
        if isinstance(exc, (ApiError, PhotodeskError, asyncio.CancelledError)):
            raise
        if isinstance(exc, (ConnectionError, asyncio.IncompleteReadError)):
            log.info("upload from user %s dropped: %s", user_id, exc)
            raise http_error(400, "the upload was cut short") from None
        raise
    return _answer(outcome, filename)


def _answer(outcome: UploadOutcome, filename: str) -> web.Response:
    if outcome.status == "created":
        return json_response({"id": str(outcome.asset_id), "status": "created"}, status=201)
    if outcome.status == "duplicate":
        return json_response({"id": str(outcome.asset_id), "status": "duplicate"})
    name = Path(filename.replace("\\", "/")).name or "the file"
    body: dict[str, Any] = {
        "message": f"{name} cannot be imported: {outcome.error}",
        "error": "Unprocessable Entity",
        "statusCode": 422,
    }
    return json_response(body, status=422)
