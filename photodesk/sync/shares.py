"""Owner routes for sharing: albums shared with users, and public links (create, list, revoke)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web

from photodesk.core import AlbumGrant, InvalidInput, NotFound, SharedAlbum, ShareLink, parse_expiry
from photodesk.sync.auth import current_user
from photodesk.sync.ids import parse_id
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.views import http_error, json_object, json_response, path_id, read_json

ALBUMS = "/api/photodesk/albums"
LINKS = "/api/photodesk/shared-links"


def base_url(request: web.Request) -> str:
    """The configured public URL, else the address this request came in on."""
    public = request.app[CONFIG].public_url
    return public.rstrip("/") if public else f"{request.scheme}://{request.host}"


def link_json(link: ShareLink, base: str) -> dict[str, Any]:
    return {
        "id": link.id,
        "key": link.key,
        "slug": link.slug,
        "url": f"{base}/share/{link.key}",
        "slug_url": f"{base}/s/{link.slug}" if link.slug else None,
        "album_id": link.album_id,
        "album_name": link.album_name,
        "title": link.title,
        "has_password": link.has_password,
        "expires_at": link.expires_at,
        "allow_download": link.allow_download,
        "allow_upload": link.allow_upload,
        "show_metadata": link.show_metadata,
        "created_at": link.created_at,
        "revoked_at": link.revoked_at,
        "active": link.active(),
    }


def _album_json(a: SharedAlbum) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "owner_id": a.owner_id,
        "owner_email": a.owner_email,
        "role": a.role,
        "asset_count": a.asset_count,
        "cover_asset_id": a.cover_asset_id,
        "created_at": a.created_at,
    }


def _grant_json(g: AlbumGrant) -> dict[str, Any]:
    return {"user_id": g.user_id, "email": g.email, "role": g.role, "created_at": g.created_at}


def _ids(body: dict[str, Any], name: str = "ids") -> list[int]:
    value = body.get(name)
    if not isinstance(value, list) or not all(
        isinstance(i, int) and parse_id(i) is not None for i in value
    ):
        raise http_error(400, f'"{name}" must be a list of asset ids')
    if len(value) > 10_000:
        raise http_error(400, f'"{name}" may hold at most 10000 ids')
    return value


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise http_error(400, f'"{name}" must be true or false')
    return value


async def list_albums(request: web.Request) -> web.Response:
    """The caller's albums and those shared with them (``role`` says which)."""
    user = current_user(request)
    albums = await asyncio.to_thread(request.app[LIBRARY].shares.albums_for, user.id)
    return json_response([_album_json(a) for a in albums])


async def album_assets(request: web.Request) -> web.Response:
    """The asset ids of an album the caller owns or that is shared with them."""
    user = current_user(request)
    album_id = path_id(request)
    ids = await asyncio.to_thread(request.app[LIBRARY].shares.album_asset_ids, user.id, album_id)
    return json_response({"album_id": album_id, "asset_ids": ids})


async def add_assets(request: web.Request) -> web.Response:
    """Body: `{"ids": [...]}`; owners and editors add their own photos to the album."""
    user = current_user(request)
    album_id = path_id(request)
    ids = _ids(json_object(await read_json(request)))
    added = await asyncio.to_thread(
        request.app[LIBRARY].shares.add_to_album, user.id, album_id, ids
    )
    return json_response({"added": added})


async def remove_assets(request: web.Request) -> web.Response:
    """Body: `{"ids": [...]}`; owners and editors remove photos from the album."""
    user = current_user(request)
    album_id = path_id(request)
    ids = _ids(json_object(await read_json(request)))
    removed = await asyncio.to_thread(
        request.app[LIBRARY].shares.remove_from_album, user.id, album_id, ids
    )
    return json_response({"removed": removed})


async def list_grants(request: web.Request) -> web.Response:
    """Who the caller's album is shared with, and as what."""
    user = current_user(request)
    grants = await asyncio.to_thread(
        request.app[LIBRARY].shares.album_grants, user.id, path_id(request)
    )
    return json_response([_grant_json(g) for g in grants])


def _grant(lib: Any, owner_id: int, album_id: int, who: Any, role: str) -> AlbumGrant:
    if isinstance(who, int) and not isinstance(who, bool):
        user_id = parse_id(who)
        if user_id is None:
            raise NotFound(f"no user {who}")
    elif isinstance(who, str):
        try:
            user_id = lib.accounts.by_email(who).id
        except NotFound:
            raise NotFound(f"no user {who}") from None
    else:
        raise InvalidInput('give "email" or "user_id" of the user to share with')
    return lib.shares.share_album(owner_id, album_id, user_id, role)  # type: ignore[no-any-return]


async def share_album(request: web.Request) -> web.Response:
    """Body: ``{"email": ..., "role": "viewer"|"editor"}`` (or ``user_id``); sets the role."""
    user = current_user(request)
    album_id = path_id(request)
    body = json_object(await read_json(request))
    role = body.get("role", "viewer")
    if not isinstance(role, str):
        raise http_error(400, '"role" is viewer or editor')
    who = body.get("user_id", body.get("email"))
    grant = await asyncio.to_thread(_grant, request.app[LIBRARY], user.id, album_id, who, role)
    return json_response(_grant_json(grant), status=201)


async def unshare_album(request: web.Request) -> web.Response:
    """Stop sharing the caller's album with that user."""
    user = current_user(request)
    await asyncio.to_thread(
        request.app[LIBRARY].shares.unshare_album,
        user.id,
        path_id(request),
        path_id(request, "user_id"),
    )
    return web.Response(status=204)


async def list_links(request: web.Request) -> web.Response:
    """The caller's public links (active, expired and revoked)."""
    user = current_user(request)
    links = await asyncio.to_thread(request.app[LIBRARY].shares.list_links, user.id)
    base = base_url(request)
    return json_response([link_json(link, base) for link in links])


async def create_link(request: web.Request) -> web.Response:
    """Body: ``album_id`` or ``asset_ids``; optional ``password``, ``expires`` (``7d`` or ISO),
    ``slug``, ``title``, ``allow_download``, ``allow_upload``, ``show_metadata``."""
    user = current_user(request)
    body = json_object(await read_json(request))
    album_id = body.get("album_id")
    if album_id is not None and (not isinstance(album_id, int) or parse_id(album_id) is None):
        raise http_error(400, '"album_id" must be an album id')
    asset_ids = _ids(body, "asset_ids") if "asset_ids" in body else None
    for name in ("password", "expires", "slug", "title"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise http_error(400, f'"{name}" must be a string')
    expires: datetime | None = parse_expiry(body.get("expires"))
    link = await asyncio.to_thread(
        request.app[LIBRARY].shares.create_link,
        user.id,
        album_id=album_id,
        asset_ids=asset_ids,
        password=body.get("password") or None,
        expires_at=expires,
        slug=body.get("slug") or None,
        title=body.get("title") or "",
        allow_download=_bool(body, "allow_download", False),
        allow_upload=_bool(body, "allow_upload", False),
        show_metadata=_bool(body, "show_metadata", True),
    )
    return json_response(link_json(link, base_url(request)), status=201)


async def revoke_link(request: web.Request) -> web.Response:
    """Revoke one of the caller's public links (its URL answers 404 from then on)."""
    user = current_user(request)
    await asyncio.to_thread(
        request.app[LIBRARY].shares.revoke_link, path_id(request), owner_id=user.id
    )
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    app.router.add_get(ALBUMS, list_albums)
    app.router.add_get(ALBUMS + "/{id}/assets", album_assets)
    app.router.add_put(ALBUMS + "/{id}/assets", add_assets)
    app.router.add_delete(ALBUMS + "/{id}/assets", remove_assets)
    app.router.add_get(ALBUMS + "/{id}/shares", list_grants)
    app.router.add_post(ALBUMS + "/{id}/shares", share_album)
    app.router.add_delete(ALBUMS + "/{id}/shares/{user_id}", unshare_album)
    app.router.add_get(LINKS, list_links)
    app.router.add_post(LINKS, create_link)
    app.router.add_delete(LINKS + "/{id}", revoke_link)
