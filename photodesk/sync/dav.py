"""WebDAV at ``/dav/`` (RFC 4918 classes 1 and 2) for phone backup apps and desktop mounts.

Each account sees its own space (``lib.dav``); a photo or video PUT is imported for it like an
Immich upload. Requests pass the daemon's middlewares (request ids, logs, trusted proxies);
sign-in is HTTP Basic (``dav_auth``), properties and locks are in ``dav_xml``/``dav_locks``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from photodesk.core import (
    DavItem,
    DavSpace,
    Exists,
    InvalidInput,
    Library,
    MissingParent,
    PhotodeskError,
    PreconditionFailed,
    QuotaExceeded,
    StagedFile,
    norm_path,
)
from photodesk.sync import dav_auth
from photodesk.sync.auth import origins, public
from photodesk.sync.dav_locks import LockedError, check_write, lock, space_path, unlock
from photodesk.sync.dav_xml import (
    LIVE_NAMES,
    PREFIX,
    QUOTA,
    add_response,
    content_type,
    d,
    error_response,
    href,
    http_date,
    parse_propfind,
    parse_proppatch,
    proppatch_response,
    read_xml,
    xml_response,
)
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.views import ApiError, http_error

log = logging.getLogger(__name__)

CHUNK = 1 << 20
METHODS = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
COMMON_HEADERS = {"DAV": "1, 2", "MS-Author-Via": "DAV"}


@dataclass(frozen=True)
class Call:
    request: web.Request
    lib: Library
    space: DavSpace
    uid: int
    path: str


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


# ----- reading --------------------------------------------------------------------------------
async def _stat(call: Call, path: str | None = None) -> DavItem | None:
    return await asyncio.to_thread(call.space.stat, call.uid, call.path if path is None else path)


async def _need(call: Call) -> DavItem:
    item = await _stat(call)
    if item is None:
        raise http_error(404, f"/{call.path} does not exist")
    return item


async def propfind(call: Call) -> web.StreamResponse:
    depth = call.request.headers.get("Depth", "1").strip().lower()
    if depth not in ("0", "1"):
        return error_response(403, "propfind-finite-depth", "Depth must be 0 or 1")
    query = parse_propfind(await read_xml(call.request))
    item = await _need(call)
    items = [item]
    if depth == "1" and item.is_dir:
        items += await asyncio.to_thread(call.space.children, call.uid, call.path)
    quota: dict[str, str] = {}
    if any(name in QUOTA for name in query.names):  # only when asked: it costs a catalog sum
        used, available = await asyncio.to_thread(call.space.quota, call.uid)
        quota = {QUOTA[0]: str(used), QUOTA[1]: str(available)}
    root = ET.Element(d("multistatus"))
    for it in items:
        locks = partial(call.space.locks.affecting, call.uid, it.path)
        add_response(root, it, query, locks, quota)
    return xml_response(root)


async def get(call: Call) -> web.StreamResponse:
    item = await _need(call)
    request = call.request
    if item.is_dir:
        children = await asyncio.to_thread(call.space.children, call.uid, call.path)
        rows = "".join(
            f'<li><a href="{html.escape(href(c.path, c.is_dir))}">'
            f"{html.escape(c.name)}{'/' if c.is_dir else ''}</a></li>"
            for c in children
        )
        body = f"<!doctype html><title>/{html.escape(item.path)}</title><ul>{rows}</ul>"
        return web.Response(text=body, content_type="text/html")
    path = await asyncio.to_thread(call.space.file_path, call.uid, item)
    headers = {
        "ETag": item.etag,
        "Last-Modified": http_date(item.modified_at),
        "Content-Type": content_type(item),
        "Accept-Ranges": "bytes",
    }
    start, end = 0, item.size
    status = 200
    ranges = request.http_range if request.method == "GET" else slice(None)
    if ranges.start is not None or ranges.stop is not None:
        first, last = ranges.indices(item.size)[:2]
        if first >= last:
            raise http_error(
                416, "the range is outside the file", **{"Content-Range": f"*/{item.size}"}
            )
        start, end, status = first, last, 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{item.size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    with await asyncio.to_thread(open, path, "rb") as fh:
        await asyncio.to_thread(fh.seek, start)
        left = end - start
        while left > 0:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, left))
            if not chunk:
                break
            await response.write(chunk)
            left -= len(chunk)
    await response.write_eof()
    return response


# ----- writing --------------------------------------------------------------------------------
def _length(request: web.Request) -> int | None:
    if request.content_length is not None:
        return request.content_length
    hint = request.headers.get("X-Expected-Entity-Length", "")  # macOS Finder, chunked
    return int(hint) if hint.isdigit() else None


def _mtime(request: web.Request) -> datetime | None:
    text = request.headers.get("X-OC-Mtime", "").strip()  # rclone, Nextcloud-style clients
    try:
        return datetime.fromtimestamp(int(text.split(".")[0])) if text else None
    except (ValueError, OverflowError, OSError):
        return None


async def _stream(request: web.Request, staged: StagedFile) -> None:
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    async for chunk in request.content.iter_chunked(CHUNK):
        if pending is not None:
            await pending
        pending = loop.run_in_executor(None, staged.write, chunk)
    if pending is not None:
        await pending


async def put(call: Call) -> web.StreamResponse:
    request, uploads = call.request, call.lib.uploads
    await check_write(request, call.space, call.uid, call.path)
    limit = request.app[CONFIG].max_upload_bytes
    length = _length(request)
    if length is not None and length > limit:
        raise http_error(413, f"a file may have at most {limit} bytes")
    await asyncio.to_thread(call.space.check_put, call.uid, call.path, length)
    reservation = await asyncio.to_thread(uploads.reserve, call.uid, length or 0)
    if request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # checks passed: send it
    staged: StagedFile | None = None
    handed_over = False
    try:
        staging = await asyncio.to_thread(uploads.staging_dir, call.uid)
        staged = await asyncio.to_thread(StagedFile, staging, max_bytes=limit)
        try:
            await _stream(request, staged)
        except (HttpProcessingError, ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("WebDAV upload of /%s by user %s cut short: %s", call.path, call.uid, exc)
            raise http_error(400, "the upload was cut short") from None
        if request.content_length is not None and staged.size != request.content_length:
            raise http_error(400, "the upload was cut short")
        await asyncio.to_thread(staged.finish)
        handed_over = True  # from here the core consumes (moves or removes) the file
        created = await asyncio.shield(
            asyncio.to_thread(
                call.space.receive, call.uid, call.path, staged, modified_at=_mtime(request)
            )
        )
    finally:
        if staged is not None and not handed_over:
            await asyncio.to_thread(staged.discard)
        reservation.release()
    item = await _stat(call)
    headers = {"ETag": item.etag} if item is not None else {}
    return web.Response(status=201 if created else 204, headers=headers)


async def mkcol(call: Call) -> web.StreamResponse:
    if call.request.body_exists:
        await call.request.read()
        raise http_error(415, "MKCOL takes no body")
    await check_write(call.request, call.space, call.uid, call.path)
    await asyncio.to_thread(call.space.mkcol, call.uid, call.path)
    return web.Response(status=201)


async def delete(call: Call) -> web.StreamResponse:
    await _need(call)
    await check_write(call.request, call.space, call.uid, call.path, deep=True)
    await asyncio.to_thread(call.space.delete, call.uid, call.path)
    return web.Response(status=204)


def _destination(request: web.Request) -> str:
    text = request.headers.get("Destination", "").strip()
    if not text:
        raise http_error(400, "a Destination header is needed")
    parts = urlsplit(text)
    if parts.netloc:
        here = {o.split("://", 1)[-1] for o in origins(request)}
        if parts.netloc.lower() not in here:
            raise http_error(502, "the Destination is on another server")
    dest = space_path(text)
    if dest is None:
        raise http_error(502, f"the Destination is outside {PREFIX}/")
    return dest


async def transfer(call: Call) -> web.StreamResponse:
    move = call.request.method == "MOVE"
    dest = _destination(call.request)
    overwrite = call.request.headers.get("Overwrite", "T").strip().upper() != "F"
    depth = call.request.headers.get("Depth", "infinity").strip().lower()
    if depth not in ("0", "infinity") or (move and depth != "infinity"):
        raise http_error(400, "Depth must be infinity (or 0 for COPY)")
    await _need(call)
    if move:
        await check_write(call.request, call.space, call.uid, call.path, deep=True, others=(dest,))
    else:
        await check_write(call.request, call.space, call.uid, dest, deep=True)
    created = await asyncio.to_thread(
        call.space.transfer, call.uid, call.path, dest, move=move, deep=depth != "0",
        overwrite=overwrite,
    )  # fmt: skip
    return web.Response(status=201 if created else 204)


async def proppatch(call: Call) -> web.StreamResponse:
    await check_write(call.request, call.space, call.uid, call.path)
    changes = parse_proppatch(await read_xml(call.request))
    item = await _need(call)
    protected = {name for name, _ in changes if name in LIVE_NAMES}
    if protected or item.path == "":
        results = [(n, 403 if n in protected or item.path == "" else 424) for n, _ in changes]
        return proppatch_response(item, results)
    stored = [
        (name, None if elem is None else ET.tostring(elem, encoding="unicode"))
        for name, elem in changes
    ]
    await asyncio.to_thread(call.space.set_props, call.uid, call.path, stored)
    return proppatch_response(item, [(name, 200) for name, _ in changes])


async def lock_handler(call: Call) -> web.StreamResponse:
    return await lock(call.request, call.space, call.uid, call.path)


async def unlock_handler(call: Call) -> web.StreamResponse:
    await _need(call)
    return await unlock(call.request, call.space, call.uid, call.path)


HANDLERS: dict[str, Handler] = {
    "PROPFIND": propfind,
    "GET": get,
    "HEAD": get,
    "PUT": put,
    "MKCOL": mkcol,
    "DELETE": delete,
    "COPY": transfer,
    "MOVE": transfer,
    "PROPPATCH": proppatch,
    "LOCK": lock_handler,
    "UNLOCK": unlock_handler,
}

# Core errors with a WebDAV meaning; the rest go to the daemon's error middleware.
_DAV_STATUS: tuple[tuple[type[PhotodeskError], int], ...] = (
    (Exists, 405),
    (MissingParent, 409),
    (PreconditionFailed, 412),
    (QuotaExceeded, 507),  # RFC 4331: the quota is the storage the account has
)


@public  # signs in itself, with HTTP Basic (see dav_auth)
async def dav(request: web.Request) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(headers={**COMMON_HEADERS, "Allow": METHODS})
    handler = HANDLERS.get(request.method)
    if handler is None:
        raise http_error(405, f"{request.method} is not a WebDAV method here", Allow=METHODS)
    if request.rel_url.fragment:  # clients never send one; a literal '#' is a client bug
        raise http_error(400, "a request URI has no fragment")
    user = await dav_auth.dav_user(request)
    lib = request.app[LIBRARY]
    try:
        path = norm_path(request.match_info.get("path", ""))
    except InvalidInput as exc:
        raise http_error(400, str(exc)) from None
    call = Call(request, lib, lib.dav, user.id, path)
    try:
        response = await handler(call)
    except LockedError as exc:
        return error_response(423, "lock-token-submitted", f"/{exc.path} is locked")
    except PhotodeskError as exc:
        for cls, status in _DAV_STATUS:
            if isinstance(exc, cls):
                raise ApiError(status, str(exc)) from None
        raise
    if not response.prepared:
        for key, value in COMMON_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


async def expect(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue``: a PUT is told to go on only after its checks (sign-in, place,
    quota, disk), so a refused upload costs the phone no bytes; other methods at once."""
    if request.headers.get("Expect", "").lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {request.headers['Expect']}")
    if request.method != "PUT" and request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    return None


def setup(app: web.Application) -> None:
    dav_auth.setup(app)
    app.router.add_route("*", PREFIX, dav, expect_handler=expect)
    app.router.add_route("*", PREFIX + "/{path:.*}", dav, expect_handler=expect)
