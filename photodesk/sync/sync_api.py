"""``/api/photodesk/sync/...``: a paired desktop's device keys, change feed and pushes.

Every route acts for the signed-in account only: the feed carries that account's own assets,
and a push writes only to assets it owns (a viewer of a shared album cannot push into it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from photodesk.core import CorruptFile, UnsupportedFormat
from photodesk.core.sync import Mutation, PeopleItem, VectorItem
from photodesk.sync.auth import AUTH_VIA, current_user, has_permission
from photodesk.sync.keys import LIBRARY
from photodesk.sync.views import http_error, int_param, json_object, json_response, read_json

PREFIX = "/api/photodesk/sync"
MAX_BODY = 32 * 1024 * 1024
MAX_THUMBS = 500
MAX_WAIT_S = 60
POLL_S = 0.25
TRIM_FIRST_S = 60.0  # after start, then every TRIM_EVERY_S
TRIM_EVERY_S = 6 * 3600.0
log = logging.getLogger(__name__)


def _require_sync(request: web.Request) -> int:
    user = current_user(request)
    if not (has_permission(request, "sync") or has_permission(request, "all")):
        raise http_error(403, 'Missing required permission: "sync"')
    return user.id


async def account(request: web.Request) -> web.Response:
    """Who this key is, and the newest change of the account (for ``remote status``)."""
    user_id = _require_sync(request)
    user = current_user(request)
    head = await asyncio.to_thread(request.app[LIBRARY].sync.head, user_id)
    return json_response({"user_id": user.id, "email": user.email, "name": user.name, "head": head})


async def create_device(request: web.Request) -> web.Response:
    """A new API key for a device being paired (from a signed-in session or a full key)."""
    user = current_user(request)
    if request.get(AUTH_VIA) == "api_key" and not has_permission(request, "all"):
        raise http_error(403, "pairing a device needs a sign-in or a key with all permissions")
    body = json_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise http_error(400, "a device needs a name")
    accounts = request.app[LIBRARY].accounts
    key = await asyncio.to_thread(accounts.create_api_key, user.id, f"device: {name.strip()}")
    return json_response(
        {"key": key, "user_id": user.id, "email": user.email, "name": user.name}, status=201
    )


async def changes(request: web.Request) -> web.Response:
    """The account's change feed after `cursor`, or a snapshot (`cursor=0`, paged by `after`);
    `wait=S` long-polls until the account has a change after `cursor`, or (given `people=N`,
    `shared=V`) its people feed or shared albums moved past what the device has."""
    user_id = _require_sync(request)
    cursor = int_param(request.query.get("cursor"), "cursor", default=0, low=0, high=2**62)
    limit = int_param(request.query.get("limit"), "limit", default=500, low=1, high=2000)
    # wait=S: a long poll; answer as soon as the account has a change after the cursor
    wait = int_param(request.query.get("wait"), "wait", default=0, low=0, high=MAX_WAIT_S)
    after = request.query.get("after")
    snapshot_after = (
        None if after is None else int_param(after, "after", default=0, low=0, high=2**62)
    )
    device = request.query.get("device") or None
    if device is not None and (len(device) > 64 or not device.isprintable()):
        raise http_error(400, "device is a node id of at most 64 characters")
    # what the device has of the other feeds: the long poll answers when one of them moves too
    known = {
        k: int_param(request.query[k], k, default=0, low=0, high=2**62)
        for k in ("people", "shared")
        if k in request.query
    }
    sync = request.app[LIBRARY].sync
    if wait:
        deadline = asyncio.get_running_loop().time() + wait
        while not await asyncio.to_thread(sync.moved, user_id, cursor, known):
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(POLL_S)
    page = await asyncio.to_thread(
        functools.partial(sync.changes, after=snapshot_after, device=device),
        user_id,
        cursor,
        limit,
    )
    body = {
        "items": [item.as_json() for item in page.items],
        "cursor": page.cursor,
        "head": page.head,
        "more": page.more,
        "heads": page.heads,
    }
    if page.snapshot is not None:  # a snapshot page: pass `after` back with the cursor
        body.update(after=page.after, resync=page.resync, snapshot=list(page.snapshot))
    return json_response(body)


def _result(result: Any) -> web.Response:
    return json_response(
        {
            "applied": result.applied,
            "skipped": result.skipped,
            "conflicts": [c.as_json() for c in result.conflicts],
            "errors": list(result.errors),
        }
    )


async def people_changes(request: web.Request) -> web.Response:
    """The account's people feed after `cursor`: people and faces, each whole with field clocks."""
    user_id = _require_sync(request)
    cursor = int_param(request.query.get("cursor"), "cursor", default=0, low=0, high=2**62)
    limit = int_param(request.query.get("limit"), "limit", default=500, low=1, high=2000)
    sync = request.app[LIBRARY].sync
    page = await asyncio.to_thread(sync.people_changes, user_id, cursor, limit)
    return json_response(
        {
            "items": [item.as_json() for item in page.items],
            "cursor": page.cursor,
            "head": page.head,
            "more": page.more,
        }
    )


async def push_people(request: web.Request) -> web.Response:
    """A device's people and faces (names, hidden, merges, faces, "not this person")."""
    return await _apply_list(request, "items", PeopleItem.from_json, _sync(request).people_apply)


async def shared_albums(request: web.Request) -> web.Response:
    """Albums others shared with the account (viewer or editor), whole, with their photos."""
    user_id = _require_sync(request)
    albums, version = await asyncio.to_thread(request.app[LIBRARY].sync.shared, user_id)
    return json_response({"albums": [a.as_json() for a in albums], "version": version})


async def embeddings(request: web.Request) -> web.Response:
    """The account's CLIP embeddings written after row `after` (base64 float32 vectors)."""
    user_id = _require_sync(request)
    after = int_param(request.query.get("after"), "after", default=0, low=0, high=2**62)
    limit = int_param(request.query.get("limit"), "limit", default=250, low=1, high=1000)
    sync = request.app[LIBRARY].sync
    page = await asyncio.to_thread(sync.embeddings, user_id, after, limit)
    return json_response(
        {"items": [i.as_json() for i in page.items], "cursor": page.cursor, "more": page.more}
    )


async def push_embeddings(request: web.Request) -> web.Response:
    """A device's CLIP embeddings of the account's photos; the server keeps those it lacks."""
    return await _apply_list(
        request, "items", VectorItem.from_json, _sync(request).store_embeddings
    )


async def push(request: web.Request) -> web.Response:
    """A device's edits as mutations with ids and clocks; a replay is answered, not reapplied."""
    return await _apply_list(request, "mutations", Mutation.from_json, _sync(request).apply)


def _sync(request: web.Request) -> Any:
    return request.app[LIBRARY].sync


async def _apply_list(
    request: web.Request,
    key: str,
    parse: Callable[[Any], Any],
    apply: Callable[[int, list[Any]], Any],
) -> web.Response:
    """The pushes' common steps: the caller's account, the body's list ``key`` parsed item by
    item, then ``apply(user, items)`` off the event loop; bad input is a 400."""
    user_id = _require_sync(request)
    body = json_object(await read_json(request, max_bytes=MAX_BODY))
    raw = body.get(key)
    if not isinstance(raw, list):
        raise http_error(400, f"{key} must be a list")
    try:
        items = [parse(i) for i in raw]
        result = await asyncio.to_thread(apply, user_id, items)
    except ValueError as exc:
        raise http_error(400, str(exc)) from None
    return _result(result)


async def thumbnails(request: web.Request) -> web.StreamResponse:
    """Many thumbnails in one answer: frames of (asset id: u64, length: u32, JPEG bytes);
    length 0 when there is none (yet). Only the caller's own assets."""
    user_id = _require_sync(request)
    try:
        ids = [int(x) for x in request.query.get("ids", "").split(",") if x.strip()]
    except ValueError:
        raise http_error(400, "ids is a comma-separated list of asset ids") from None
    if not ids or len(ids) > MAX_THUMBS:
        raise http_error(400, f"ask for 1 to {MAX_THUMBS} thumbnails")
    lib = request.app[LIBRARY]
    sources = await asyncio.to_thread(lib.sync.thumbnail_sources, user_id, ids)
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    for k in range(0, len(sources), 50):  # read on a worker thread, 50 files at a time
        frames = await asyncio.to_thread(_frames, lib.thumbnails, sources[k : k + 50])
        await response.write(frames)
    await response.write_eof()
    return response


def _frames(store: Any, sources: list[tuple[int, str, str, str, str, int | None]]) -> bytes:
    out = bytearray()
    for asset_id, checksum, path, file_type, kind, orientation in sources:
        data = _thumb_bytes(store, checksum, path, file_type, kind, orientation)
        out += struct.pack(">QI", asset_id, len(data)) + data
    return bytes(out)


def _thumb_bytes(
    store: Any, checksum: str, path: str, file_type: str, kind: str, orientation: int | None
) -> bytes:
    try:
        with open(store.thumb_file(checksum), "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        pass
    except OSError:
        return b""
    if not path:
        return b""
    try:  # none yet: make it from the original
        store.render(Path(path), checksum, file_type, kind, orientation)
        with open(store.thumb_file(checksum), "rb") as fh:
            return fh.read()
    except (CorruptFile, UnsupportedFormat, OSError):
        return b""


async def _trim_journal(app: web.Application) -> AsyncIterator[None]:
    """Trim the change journal now and then while the server runs (see core/sync/retention)."""

    async def loop() -> None:
        await asyncio.sleep(TRIM_FIRST_S)
        while True:
            try:
                report = await asyncio.to_thread(app[LIBRARY].sync.trim)
                if report.rows:
                    log.info("sync journal: %d rows every device has read trimmed", report.rows)
            except Exception:
                log.exception("trimming the sync journal failed")
            await asyncio.sleep(TRIM_EVERY_S)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_trim_journal)
    app.router.add_get(PREFIX + "/thumbnails", thumbnails)
    app.router.add_get(PREFIX + "/account", account)
    app.router.add_post(PREFIX + "/devices", create_device)
    app.router.add_get(PREFIX + "/changes", changes)
    app.router.add_post(PREFIX + "/push", push)
    app.router.add_get(PREFIX + "/people", people_changes)
    app.router.add_post(PREFIX + "/people", push_people)
    app.router.add_get(PREFIX + "/shared", shared_albums)
    app.router.add_get(PREFIX + "/embeddings", embeddings)
    app.router.add_post(PREFIX + "/embeddings", push_embeddings)
