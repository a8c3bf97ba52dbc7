"""Resumable uploads: the tus 1.0 protocol (core, creation, termination, checksum, expiration)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from aiohttp import web

from photodesk.core import PhotodeskError
from photodesk.sync.auth import current_user, has_permission, public
from photodesk.sync.ids import parse_count
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.tus_store import ChunkWriter, TusStore, UploadNotFound, UploadState
from photodesk.sync.views import ApiError, dumps, error_body, json_response, status_for

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = "sha1"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
PREFIX = "/api/tus"
READ_SIZE = 256 * 1024
FLUSH_SIZE = 1 << 20  # bytes gathered before one write+hash in a worker thread
SWEEP_EVERY_S = 3600.0
LOCK_WAIT_S = 30.0
MAX_METADATA_VALUE = 4096
# Result headers (the outcome of the import once the last byte has arrived).
H_STATUS = "Photodesk-Upload-Status"
H_ASSET = "Photodesk-Asset-Id"
H_ERROR = "Photodesk-Upload-Error"


@dataclass
class _Slot:
    """One upload's in-process guard: one PATCH at a time; a newer one interrupts a stuck one."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reader: asyncio.Task[Any] | None = None
    users: int = 0


class TusService:
    """The tus endpoints' shared state: the store and the per-upload guards."""

    def __init__(self, store: TusStore) -> None:
        self.store = store
        self._slots: dict[str, _Slot] = {}
        self.creating = threading.Lock()  # quota check + create: two at once cannot both fit

    @contextlib.asynccontextmanager
    async def exclusive(self, upload_id: str) -> AsyncIterator[_Slot]:
        slot = self._slots.setdefault(upload_id, _Slot())
        slot.users += 1
        try:
            if slot.lock.locked() and slot.reader is not None:
                slot.reader.cancel()  # the client gave up on that request and is resuming
            try:
                await asyncio.wait_for(slot.lock.acquire(), LOCK_WAIT_S)
            except TimeoutError:
                raise _tus_error(423, "the upload is busy with another request") from None
            try:
                yield slot
            finally:
                slot.reader = None
                slot.lock.release()
        finally:
            slot.users -= 1
            if slot.users == 0:
                self._slots.pop(upload_id, None)


TUS = web.AppKey("tus", TusService)


def _base_headers() -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}


def _tus_error(status: int, message: str, **extra: str) -> ApiError:
    return ApiError(status, message, {**_base_headers(), **extra})


def _check_version(request: web.Request) -> None:
    version = request.headers.get("Tus-Resumable")
    if version != TUS_VERSION:
        raise _tus_error(
            412,
            f"unsupported or missing Tus-Resumable header (this server speaks {TUS_VERSION})",
            **{"Tus-Version": TUS_VERSION},
        )


def _require_upload(request: web.Request) -> None:
    if not has_permission(request, "asset.upload"):
        raise _tus_error(403, 'Missing required permission: "asset.upload"')


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be absent)."""
    out: dict[str, str] = {}
    if not header:
        return out
    for item in header.split(","):
        parts = item.strip().split(" ")
        if not parts[0] or len(parts) > 2:
            raise _tus_error(400, f"malformed Upload-Metadata entry {item.strip()[:40]!r}")
        key = parts[0]
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise _tus_error(
                    400, f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text"
                ) from None
        if len(value) > MAX_METADATA_VALUE:
            raise _tus_error(400, f"Upload-Metadata value of {key!r} is too long")
        out[key] = value
    return out


def _encode_metadata(meta: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())


def _int_header(request: web.Request, name: str) -> int:
    number = parse_count(request.headers.get(name))
    if number is None:
        raise _tus_error(400, f"the {name} header must be a non-negative whole number")
    return number


def _result_headers(state: UploadState) -> dict[str, str]:
    headers = _base_headers()
    headers["Upload-Offset"] = str(state.offset)
    headers["Upload-Length"] = str(state.length)
    headers["Upload-Expires"] = formatdate(state.expires_at, usegmt=True)
    result = state.result
    if result is not None:
        headers[H_STATUS] = str(result["status"])
        if result.get("asset_id") is not None:
            headers[H_ASSET] = str(result["asset_id"])
        if result.get("error"):
            headers[H_ERROR] = quote(str(result["error"]), safe=" ,.:;()'/-_")
    return headers


async def _thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


async def _load(request: web.Request) -> UploadState:
    user = current_user(request)
    try:
        return await _thread(request.app[TUS].store.load, user.id, request.match_info["id"])
    except UploadNotFound:
        raise _tus_error(404, "no such upload (finished long ago, terminated or expired)") from None


# --- OPTIONS ---------------------------------------------------------------------------------


@public
async def options(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return web.Response(
        status=204,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(config.max_upload_bytes),
            "Tus-Checksum-Algorithm": CHECKSUM_ALGORITHMS,
        },
    )


# --- creation --------------------------------------------------------------------------------


async def create(request: web.Request) -> web.Response:
    _check_version(request)
    _require_upload(request)
    user = current_user(request)
    if "Upload-Defer-Length" in request.headers:
        raise _tus_error(400, "Upload-Defer-Length is not supported: send Upload-Length")
    length = _int_header(request, "Upload-Length")
    meta = parse_metadata(request.headers.get("Upload-Metadata"))
    limit = request.app[CONFIG].max_upload_bytes
    if length > limit:
        raise _tus_error(413, f"the file is {length} bytes; this server accepts up to {limit}")
    lib = request.app[LIBRARY]
    service = request.app[TUS]

    def make() -> UploadState:
        with service.creating:
            service.store.sweep([user.id])
            # unfinished tus uploads count through the quota book's source (see setup)
            return lib.uploads.quota.check_then(
                user.id, length, lambda: service.store.create(user.id, length, meta)
            )

    try:
        state = await _thread(make)
    except PhotodeskError as exc:
        raise _tus_error(status_for(exc), str(exc)) from None
    log.info("tus upload %s created by user %s: %d bytes", state.id, user.id, length)
    headers = _result_headers(state)
    headers["Location"] = f"{request.path.rstrip('/')}/{state.id}"
    if length == 0:
        async with service.exclusive(state.id):
            state = await _finish(request, state)
        headers.update(_result_headers(state))
    return web.Response(status=201, headers=headers)


# --- core: HEAD and PATCH --------------------------------------------------------------------


async def head(request: web.Request) -> web.Response:
    _check_version(request)
    await _load(request)
    # A client asks HEAD when it thinks its PATCH died: a PATCH still reading (a half-open
    # connection) is stopped and its bytes saved first, so the offset given here is final.
    async with request.app[TUS].exclusive(request.match_info["id"]):
        state = await _load(request)
    headers = _result_headers(state)
    if state.metadata:
        headers["Upload-Metadata"] = _encode_metadata(state.metadata)
    return web.Response(status=200, headers=headers)


async def status(request: web.Request) -> web.Response:
    """Not part of tus: the upload as JSON, with its import result once finished."""
    state = await _load(request)
    result = state.result or {}
    return json_response(
        {
            "id": state.id,
            "length": state.length,
            "offset": state.offset,
            "filename": state.metadata.get("filename"),
            "complete": state.complete,
            "status": result.get("status", "uploading"),
            "assetId": result.get("asset_id"),
            "error": result.get("error"),
            "expiresAt": datetime.fromtimestamp(state.expires_at, UTC).isoformat(),
        },
        headers=_base_headers(),
    )


def _parse_checksum(request: web.Request) -> bytes | None:
    header = request.headers.get("Upload-Checksum")
    if header is None:
        return None
    algo, _, value = header.strip().partition(" ")
    if algo.lower() != "sha1":
        raise _tus_error(400, f"checksum algorithm {algo!r} is not supported (use sha1)")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 20:
        raise _tus_error(400, "Upload-Checksum must be 'sha1 <base64 of the 20-byte digest>'")
    return digest


async def patch(request: web.Request) -> web.Response:
    _check_version(request)
    _require_upload(request)
    if request.content_type != OFFSET_CONTENT_TYPE:
        raise _tus_error(415, f"PATCH bodies must be {OFFSET_CONTENT_TYPE}")
    offset = _int_header(request, "Upload-Offset")
    expected = _parse_checksum(request)
    service = request.app[TUS]
    await _load(request)  # someone else's upload is not found (and cannot interrupt its PATCH)
    async with service.exclusive(request.match_info["id"]) as slot:
        state = await _load(request)
        if offset != state.offset:
            raise _tus_error(
                409,
                f"Upload-Offset {offset} does not match the server's {state.offset}: "
                "ask with HEAD and continue from there",
                **{"Upload-Offset": str(state.offset)},
            )
        remaining = state.length - state.offset
        if request.content_length is not None and request.content_length > remaining:
            raise _tus_error(
                413, f"the body ({request.content_length} bytes) runs past Upload-Length"
            )
        if not state.complete:
            slot.reader = asyncio.current_task()
            state = await _receive(request, service.store, state, expected, remaining)
            slot.reader = None
        if state.complete and state.result is None:
            state = await _finish(request, state)
    headers = _result_headers(state)
    if state.result is not None and state.result["status"] == "rejected":
        body = error_body(422, f"the file was not imported: {state.result.get('error')}")
        return web.Response(
            status=422, text=dumps(body), content_type="application/json", headers=headers
        )
    return web.Response(status=204, headers=headers)


async def _guarded(fut: Awaitable[Any]) -> Any:
    """Await work in a thread to its end even if the request is cancelled meanwhile."""
    task = asyncio.ensure_future(fut)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.wait([task])
        raise


async def _receive(
    request: web.Request,
    store: TusStore,
    state: UploadState,
    expected: bytes | None,
    remaining: int,
) -> UploadState:
    """Stream the body to disk; keep what arrived if the connection drops (unless checksummed)."""
    writer: ChunkWriter = await _thread(
        lambda: ChunkWriter(store, state, verify_chunk=expected is not None)
    )
    pending: list[bytes] = []
    pending_size = 0
    received = 0
    interrupted: BaseException | None = None
    try:
        while True:
            data = await request.content.read(READ_SIZE)
            if not data:
                break
            received += len(data)
            if received > remaining:
                await _guarded(_thread(writer.discard))
                raise _tus_error(413, "the body runs past Upload-Length")
            pending.append(data)
            pending_size += len(data)
            if pending_size >= FLUSH_SIZE:
                batch, pending, pending_size = pending, [], 0
                await _guarded(_thread(writer.write, batch))
    except ApiError:
        raise
    except (asyncio.CancelledError, Exception) as exc:  # dropped connection, shutdown, newer PATCH
        interrupted = exc
    if interrupted is not None:
        log.info("tus upload %s: request interrupted (%r)", state.id, interrupted)
        if expected is not None:  # a checksummed chunk cannot be verified in part
            await _guarded(_thread(writer.discard))
        else:
            await _guarded(_thread(writer.write, pending))
            await _guarded(_thread(writer.commit))
        if isinstance(interrupted, asyncio.CancelledError):
            raise interrupted
        if isinstance(interrupted, OSError) and not isinstance(interrupted, ConnectionError):
            log.error("tus upload %s: cannot write: %s", state.id, interrupted)
            raise _tus_error(507, f"the server cannot store the upload: {interrupted.strerror}")
        raise _tus_error(400, "the request body ended early; resume from the offset HEAD gives")
    await _guarded(_thread(writer.write, pending))
    if expected is not None and writer.chunk_digest() != expected:
        await _guarded(_thread(writer.discard))
        raise _tus_error(460, "checksum mismatch: the chunk was discarded, send it again")
    return await _guarded(_thread(writer.commit))  # type: ignore[no-any-return]


async def _finish(request: web.Request, state: UploadState) -> UploadState:
    """All bytes are here: import the file as an asset and remember the outcome."""
    store = request.app[TUS].store
    lib = request.app[LIBRARY]
    meta = state.metadata

    def run() -> UploadState:
        path = store.part_path(state)
        try:
            sha1 = store.hasher(state).hexdigest()
            outcome = lib.uploads.ingest(
                state.owner_id,
                path,
                meta.get("filename") or meta.get("name") or "upload",
                sha1,
                album=meta.get("album") or None,
                file_modified_at=_millis(meta.get("lastModified")),
                device_asset_id=meta.get("deviceAssetId") or None,
            )
            state.result = {
                "asset_id": outcome.asset_id,
                "status": outcome.status,
                "error": outcome.error,
            }
        except PhotodeskError as exc:
            state.result = {"asset_id": None, "status": "rejected", "error": str(exc)}
        except (UploadNotFound, FileNotFoundError):  # a crash during an earlier import
            log.warning("tus upload %s: the received file is gone", state.id)
            state.result = {
                "asset_id": None,
                "status": "rejected",
                "error": "the server lost the received file (a crash while importing?): "
                "upload it again",
            }
        except Exception as exc:
            log.exception("tus upload %s: import failed", state.id)
            state.result = {
                "asset_id": None,
                "status": "rejected",
                "error": f"the server could not store the file ({type(exc).__name__})",
            }
        store.drop_part(state)
        store.save(state)
        log.info("tus upload %s finished: %s", state.id, state.result)
        return state

    return await _guarded(_thread(run))  # type: ignore[no-any-return]


def _millis(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


# --- termination -----------------------------------------------------------------------------


async def delete(request: web.Request) -> web.Response:
    _check_version(request)
    service = request.app[TUS]
    await _load(request)
    async with service.exclusive(request.match_info["id"]):
        state = await _load(request)
        await _thread(service.store.remove, state)
    log.info("tus upload %s terminated", state.id)
    return web.Response(status=204, headers={"Tus-Resumable": TUS_VERSION})


# --- wiring ----------------------------------------------------------------------------------


def _sweep_all(app: web.Application) -> int:
    lib = app[LIBRARY]
    owners = [account.id for account in lib.accounts.list_users()]
    return app[TUS].store.sweep(owners)


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    """Expired and abandoned uploads go at startup, then every hour; while serving, the bytes
    promised to unfinished uploads count in every other upload's quota check."""
    quota, pending = app[LIBRARY].uploads.quota, app[TUS].store.pending_bytes
    quota.add_source(pending)

    async def loop() -> None:
        while True:
            try:
                await asyncio.to_thread(_sweep_all, app)
            except Exception:
                log.exception("sweeping expired uploads failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    task = asyncio.create_task(loop())
    yield
    quota.remove_source(pending)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup(app: web.Application) -> None:
    lib = app[LIBRARY]
    app[TUS] = TusService(TusStore(lib.uploads.staging_dir))
    app.cleanup_ctx.append(_sweeper)
    for path in (PREFIX, PREFIX + "/"):
        app.router.add_route("OPTIONS", path, options)
        app.router.add_post(path, create)
    item = PREFIX + "/{id}"
    app.router.add_route("OPTIONS", item, options)
    app.router.add_route("HEAD", item, head)
    app.router.add_get(item, status, allow_head=False)
    app.router.add_patch(item, patch)
    app.router.add_delete(item, delete)
