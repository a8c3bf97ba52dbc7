"""The subset of Immich's API that its official CLI uses: discovery, account, bulk check, albums."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from photodesk.core import (
    PHOTO_EXTENSIONS,
    RAW_EXTENSIONS,
    VIDEO_EXTENSIONS,
    AssetQuery,
    NotFound,
    normalize_sha1,
)
from photodesk.sync.auth import (
    AUTH_VIA,
    PERMISSIONS,
    AuthUser,
    current_user,
    has_permission,
    public,
)
from photodesk.sync.ids import parse_id
from photodesk.sync.immich_upload import upload_asset
from photodesk.sync.keys import LIBRARY
from photodesk.sync.views import http_error, json_object, json_response, read_json

log = logging.getLogger(__name__)

IMMICH_VERSION = {"major": 3, "minor": 2, "patch": 2, "prerelease": None}
MAX_BULK_CHECK = 10_000
MAX_ALBUM_IDS = 65_000
ALBUM_BATCH = 5_000  # ids per catalog statement (SQLite allows ~32k parameters)
_IMAGE = sorted(PHOTO_EXTENSIONS | RAW_EXTENSIONS)
_VIDEO = sorted(VIDEO_EXTENSIONS)


def require(request: web.Request, permission: str) -> AuthUser:
    """The caller, if its credentials grant ``permission`` (Immich's names); 403 otherwise."""
    user = current_user(request)
    if not has_permission(request, permission):
        raise http_error(403, f'Missing required permission: "{permission}"')
    return user


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# ----- discovery and server ----------------------------------------------------------------
@public
async def well_known(request: web.Request) -> web.Response:
    return json_response({"api": {"endpoint": "/api"}})


async def server_version(request: web.Request) -> web.Response:
    return json_response(IMMICH_VERSION)


async def media_types(request: web.Request) -> web.Response:
    return json_response({"image": _IMAGE, "video": _VIDEO, "sidecar": [".xmp"]})


async def server_features(request: web.Request) -> web.Response:
    on = (
        "smartSearch",
        "facialRecognition",
        "map",
        "reverseGeocoding",
        "trash",
        "search",
        "sidecar",
        "passwordLogin",
    )
    off = ("duplicateDetection", "importFaces", "oauth", "oauthAutoLaunch", "configFile", "email")
    return json_response(dict.fromkeys(on, True) | dict.fromkeys(off, False))  # fmt: skip


async def server_about(request: web.Request) -> web.Response:
    v = IMMICH_VERSION
    return json_response(
        {"version": f"v{v['major']}.{v['minor']}.{v['patch']}", "licensed": False, "build": None}
    )


# ----- account -----------------------------------------------------------------------------
async def users_me(request: web.Request) -> web.Response:
    user = require(request, "user.read")
    accounts = request.app[LIBRARY].accounts
    account = await asyncio.to_thread(accounts.get, user.id)
    used = await asyncio.to_thread(accounts.usage_bytes, user.id)
    return json_response(
        {
            "id": str(account.id),
            "email": account.email,
            "name": account.name or account.email.split("@", 1)[0],
            "isAdmin": account.is_admin,
            "storageLabel": account.storage_label,
            "quotaSizeInBytes": account.quota_bytes,
            "quotaUsageInBytes": used,
            "createdAt": _iso(account.created_at),
            "updatedAt": _iso(account.created_at),
            "profileImagePath": "",
            "profileChangedAt": _iso(account.created_at),
            "avatarColor": "primary",
            "shouldChangePassword": False,
            "status": "active",
            "deletedAt": None,
            "oauthId": "",
            "license": None,
        }
    )


async def api_key_me(request: web.Request) -> web.Response:
    current_user(request)
    perms = list(request.get(PERMISSIONS, ()))
    now = datetime.now().isoformat()
    return json_response(
        {"id": "", "name": request.get(AUTH_VIA, ""), "createdAt": now, "updatedAt": now,
         "permissions": perms}
    )  # fmt: skip


# ----- assets ------------------------------------------------------------------------------
async def bulk_upload_check(request: web.Request) -> web.Response:
    """``{"assets":[{"id","checksum"}]}`` -> accept, or reject as a duplicate with its asset id."""
    user = require(request, "asset.upload")
    body = json_object(await read_json(request))
    items = body.get("assets")
    if not isinstance(items, list):
        raise http_error(400, '"assets" must be a list of {"id", "checksum"}')
    if len(items) > MAX_BULK_CHECK:
        raise http_error(413, f"at most {MAX_BULK_CHECK} assets per check")
    wanted: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise http_error(400, 'each asset needs a string "id" and a "checksum"')
        checksum = normalize_sha1(item.get("checksum") if isinstance(item.get("checksum"), str)
                                  else None)  # fmt: skip
        if checksum is None:
            raise http_error(400, f"asset {item['id']!r}: the checksum is not a SHA-1")
        wanted.append((item["id"], checksum))
    uploads = request.app[LIBRARY].uploads
    found = await asyncio.to_thread(uploads.existing, user.id, [c for _, c in wanted])
    results: list[dict[str, Any]] = []
    for client_id, checksum in wanted:
        asset_id = found.get(checksum)
        if asset_id is None:
            results.append({"id": client_id, "action": "accept"})
        else:
            results.append(
                {"id": client_id, "action": "reject", "reason": "duplicate",
                 "assetId": str(asset_id), "isTrashed": False}
            )  # fmt: skip
    return json_response({"results": results})


async def asset_statistics(request: web.Request) -> web.Response:
    user = require(request, "asset.statistics")
    view = request.app[LIBRARY].for_user(user.id)
    stats = await asyncio.to_thread(view.assets.stats)
    images = stats.photos + stats.raws
    return json_response({"images": images, "videos": stats.videos, "total": stats.assets})


# ----- albums ------------------------------------------------------------------------------
def _album_json(album: Any, user: AuthUser) -> dict[str, Any]:
    return {
        "id": str(album.id),
        "albumName": album.name,
        "description": album.description,
        "assetCount": album.asset_count,
        "albumThumbnailAssetId": str(album.cover_asset_id) if album.cover_asset_id else None,
        "createdAt": _iso(album.created_at),
        "updatedAt": _iso(album.created_at),
        "ownerId": str(user.id),
        "owner": {"id": str(user.id), "email": user.email, "name": user.name},
        "shared": False,
        "hasSharedLink": False,
        "isActivityEnabled": False,
        "albumUsers": [],
        "assets": [],
    }


async def _owned_album(request: web.Request, user: AuthUser) -> Any:
    album_id = parse_id(request.match_info.get("id", ""))
    if album_id is None:
        raise http_error(404, "album not found")
    view = request.app[LIBRARY].for_user(user.id)
    albums = await asyncio.to_thread(view.albums.list)
    for album in albums:
        if album.id == album_id:
            return album
    raise http_error(404, "album not found")  # another user's album is not revealed either


async def list_albums(request: web.Request) -> web.Response:
    user = require(request, "album.read")
    view = request.app[LIBRARY].for_user(user.id)
    albums = await asyncio.to_thread(view.albums.list)
    return json_response([_album_json(a, user) for a in albums])


async def get_album(request: web.Request) -> web.Response:
    user = require(request, "album.read")
    return json_response(_album_json(await _owned_album(request, user), user))


async def create_album(request: web.Request) -> web.Response:
    user = require(request, "album.create")
    body = json_object(await read_json(request))
    name = body.get("albumName")
    if not isinstance(name, str) or not name.strip():
        raise http_error(400, '"albumName" must be a non-empty string')
    if len(name) > 200:
        raise http_error(400, "an album name has at most 200 characters")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise http_error(400, '"description" must be a string')
    ids = _ids(body.get("assetIds", []), "assetIds")
    view = request.app[LIBRARY].for_user(user.id)
    album_id = await asyncio.to_thread(view.albums.create, name, description)
    if ids:
        await asyncio.to_thread(_add_each, view, album_id, ids)
    albums = await asyncio.to_thread(view.albums.list)
    album = next(a for a in albums if a.id == album_id)
    return json_response(_album_json(album, user), status=201)


def _ids(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise http_error(400, f'"{field}" must be a list of asset ids (strings)')
    if len(value) > MAX_ALBUM_IDS:
        raise http_error(413, f"at most {MAX_ALBUM_IDS} ids per request")
    return value


def _add_each(view: Any, album_id: int, ids: list[str]) -> list[dict[str, Any]]:
    """Add the caller's assets; others' ids fail one by one without revealing they exist."""
    numeric = sorted({n for n in map(parse_id, ids) if n is not None})
    before = set(view.albums.assets(album_id))
    ok: set[int] = set()
    mine: set[int] | None = None
    for i in range(0, len(numeric), ALBUM_BATCH):
        batch = numeric[i : i + ALBUM_BATCH]
        try:
            view.albums.add(album_id, batch)
            ok.update(batch)
        except NotFound:  # some are not the caller's: add only the caller's
            if mine is None:
                mine = {
                    *view.assets.ids(AssetQuery(archived=None)),
                    *view.assets.ids(AssetQuery(archived=None, trashed=True)),
                }
            owned = [a for a in batch if a in mine]
            if owned:
                view.albums.add(album_id, owned)
                ok.update(owned)
    results = []
    for text in ids:
        asset_id = parse_id(text)
        if asset_id is None or asset_id not in ok:
            results.append({"id": text, "success": False, "error": "not_found"})
        elif asset_id in before:
            results.append({"id": text, "success": False, "error": "duplicate"})
        else:
            results.append({"id": text, "success": True})
    return results


async def add_album_assets(request: web.Request) -> web.Response:
    user = require(request, "album.update")
    album = await _owned_album(request, user)
    ids = _ids(json_object(await read_json(request)).get("ids"), "ids")
    view = request.app[LIBRARY].for_user(user.id)
    return json_response(await asyncio.to_thread(_add_each, view, album.id, ids))


STALE_UPLOAD_SECONDS = 600  # a staged upload untouched this long lost its client


async def _clear_stale_uploads(app: web.Application) -> None:
    removed = await asyncio.to_thread(app[LIBRARY].uploads.clear_stale, STALE_UPLOAD_SECONDS)
    if removed:
        log.info("removed %d unfinished uploads left by an earlier run", removed)


def setup(app: web.Application) -> None:
    app.on_startup.append(_clear_stale_uploads)
    app.router.add_get("/.well-known/immich", well_known)
    app.router.add_get("/api/server/version", server_version)
    app.router.add_get("/api/server/media-types", media_types)
    app.router.add_get("/api/server/features", server_features)
    app.router.add_get("/api/server/about", server_about)
    app.router.add_get("/api/users/me", users_me)
    app.router.add_get("/api/api-keys/me", api_key_me)
    app.router.add_post("/api/assets/bulk-upload-check", bulk_upload_check)
    app.router.add_post("/api/assets", upload_asset)
    app.router.add_get("/api/assets/statistics", asset_statistics)
    app.router.add_get("/api/albums", list_albums)
    app.router.add_post("/api/albums", create_album)
    app.router.add_get("/api/albums/{id}", get_album)
    app.router.add_put("/api/albums/{id}/assets", add_album_assets)
