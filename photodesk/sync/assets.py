"""Photodesk's own asset routes: listing, info, thumbnail and original, for readable assets only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from photodesk.core import AssetQuery, AssetRecord
from photodesk.sync.auth import current_user
from photodesk.sync.decoding import NoDerivative, derivative_file
from photodesk.sync.keys import LIBRARY
from photodesk.sync.views import http_error, int_param, json_response, path_id

PREFIX = "/api/photodesk/assets"
MAX_PAGE = 1000
_HIDDEN = ("path", "files")  # server paths are not the client's business
_BOOL = {"true": True, "1": True, "false": False, "0": False}


def asset_json(rec: AssetRecord, viewer: Viewer | None = None) -> dict[str, Any]:
    """An asset as JSON; for a ``viewer`` who does not own it, only what a share grants: the
    photo and its own metadata, the albums the viewer can see, none of the owner's tags, people,
    ratings or flags."""
    data = {k: v for k, v in vars(rec).items() if k not in _HIDDEN}
    data["filename"] = Path(rec.path).name
    data["taken_at"] = rec.taken_at_iso()
    if viewer is not None and rec.owner_id != viewer.user_id:
        data.update(_NOT_SHARED)
        data["albums"] = [name for name in rec.albums if name in viewer.album_names]
    return data


# What the owner keeps to themself: a shared album grants the photo, not the owner's catalog.
_NOT_SHARED: dict[str, Any] = {
    "tags": [],
    "people": [],
    "favorite": False,
    "rating": 0,
    "archived": False,
    "stack_id": None,
}


@dataclass(frozen=True)
class Viewer:
    """Who reads assets, and the names of the albums they may see (their own and shared)."""

    user_id: int
    album_names: frozenset[str]


async def _viewer(request: web.Request, user_id: int) -> Viewer:
    albums = await asyncio.to_thread(request.app[LIBRARY].shares.albums_for, user_id)
    return Viewer(user_id, frozenset(a.name for a in albums))


def _flag(request: web.Request, name: str) -> bool | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    if text.lower() not in _BOOL:
        raise http_error(400, f"{name} must be true or false")
    return _BOOL[text.lower()]


async def _readable(request: web.Request) -> AssetRecord:
    """The asset named in the URL if the caller may read it; 404 otherwise (never 403)."""
    user = current_user(request)
    asset_id = path_id(request)
    # lib.accounts.can_read is the one access rule (the sharing issue extends it there).
    return await asyncio.to_thread(request.app[LIBRARY].accounts.readable_asset, user.id, asset_id)


async def list_assets(request: web.Request) -> web.Response:
    """The caller's photos, newest first; `limit`, `offset`, `kind`, `favorite`, `archived`,
    `trashed`, `order=asc`, `include_shared=1`."""
    user = current_user(request)
    limit = int_param(request.query.get("limit"), "limit", default=250, low=1, high=MAX_PAGE)
    offset = int_param(request.query.get("offset"), "offset", default=0, low=0, high=10**9)
    kind = request.query.get("kind") or None
    if kind not in (None, "photo", "raw", "video"):
        raise http_error(400, "kind is photo, raw or video")
    archived = _flag(request, "archived")
    query = AssetQuery(
        kind=kind,
        favorite=_flag(request, "favorite"),
        archived=False if archived is None else archived,
        trashed=bool(_flag(request, "trashed")),
        newest_first=request.query.get("order", "desc") != "asc",
        limit=limit + 1,
    )
    lib = request.app[LIBRARY]
    shared = bool(_flag(request, "include_shared"))  # assets of albums shared with the caller
    rows = await asyncio.to_thread(
        lib.accounts.readable_assets, user.id, query, offset=offset, include_shared=shared
    )
    more = len(rows) > limit
    viewer = await _viewer(request, user.id) if shared else None
    items = [asset_json(r, viewer) for r in rows[:limit]]
    if shared:
        for item in items:
            item["shared"] = item["owner_id"] != user.id
    return json_response(
        {
            "items": items,
            "offset": offset,
            "limit": limit,
            "next_offset": offset + limit if more else None,
        }
    )


async def asset_info(request: web.Request) -> web.Response:
    """One asset's details (for photos of a shared album, only what the share grants)."""
    rec = await _readable(request)
    user = current_user(request)
    viewer = await _viewer(request, user.id) if rec.owner_id != user.id else None
    return json_response(asset_json(rec, viewer))


async def thumbnail(request: web.Request) -> web.StreamResponse:
    """A JPEG thumbnail (`size=thumbnail`, the default) or preview (`size=preview`)."""
    rec = await _readable(request)
    size = request.query.get("size", "thumbnail")
    if size not in ("thumbnail", "preview"):
        raise http_error(400, "size is thumbnail or preview")
    try:
        path = await derivative_file(request.app, rec, preview=size == "preview")
    except NoDerivative as exc:
        raise http_error(404, f"no thumbnail for asset {rec.id}: {exc}") from exc
    return web.FileResponse(
        path,
        headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=86400"},
    )


async def original(request: web.Request) -> web.StreamResponse:
    """The original file, as stored."""
    rec = await _readable(request)
    path = Path(rec.path)
    if not rec.offline and not path.is_file():
        # an upload's analysis moved its file from the staging folder meanwhile: read it again
        rec = await _readable(request)
        path = Path(rec.path)
    if rec.offline or not path.is_file():
        raise http_error(404, f"the original of asset {rec.id} is offline")
    name = path.name
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": rec.mime or "application/octet-stream",
            "Content-Disposition": disposition,
            "Cache-Control": "private, max-age=3600",
        },
    )


def setup(app: web.Application) -> None:
    app.router.add_get(PREFIX, list_assets)
    app.router.add_get(PREFIX + "/{id}", asset_info)
    app.router.add_get(PREFIX + "/{id}/thumbnail", thumbnail)
    app.router.add_get(PREFIX + "/{id}/original", original)
