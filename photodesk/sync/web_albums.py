"""Web pages for signed-in users: ``/albums`` (own and shared albums) and ``/albums/<id>``."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from photodesk.core import NotFound
from photodesk.sync.auth import (
    USER,
    AuthUser,
    clear_session_cookie,
    credential,
    public,
    request_cookie,
    same_origin,
)
from photodesk.sync.gallery import CSP, STATIC
from photodesk.sync.ids import parse_id
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.shares import ALBUMS as ALBUMS_API

PAGE = "/albums"
SIGN_OUT = "/logout"
ASSET = "/api/photodesk/assets/{id}"  # the authenticated asset routes: lib.accounts.can_read
HEADERS = {
    "Content-Security-Policy": CSP,
    # same-origin, not no-referrer: the page's own DELETE requests must carry their Origin.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "private, no-store",  # a revoked share must not linger in the cache
}


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("photodesk.sync", "templates"),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_page(name: str, status: int = 200, **ctx: Any) -> web.Response:
    html = _templates().get_template(name).render(static=STATIC, referrer="same-origin", **ctx)
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


def signed_in(request: web.Request) -> AuthUser:
    """The caller; a browser without a session goes to the sign-in page and comes back."""
    user = request.get(USER)
    if not isinstance(user, AuthUser):
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='/')}")
    return user


def _missing() -> web.Response:
    return html_page("album_missing.html", status=404)


@public  # answers signed-out browsers itself: a redirect to /login, not a JSON 401
async def albums_page(request: web.Request) -> web.Response:
    user = signed_in(request)
    albums = await asyncio.to_thread(request.app[LIBRARY].shares.albums_for, user.id)
    return html_page(
        "albums.html",
        user=user,
        own=[a for a in albums if a.role == "owner"],
        shared=[a for a in albums if a.role != "owner"],
        thumb=ASSET + "/thumbnail",
        sign_out=SIGN_OUT,
    )


def _album(lib: Any, user_id: int, album_id: int) -> tuple[Any, list[Any], list[Any]]:
    """The album as the user sees it, its photos, and (owners only) who it is shared with."""
    found = next((a for a in lib.shares.albums_for(user_id) if a.id == album_id), None)
    if found is None:
        raise NotFound(f"no album {album_id}")
    items = lib.shares.album_items(user_id, album_id)
    grants = lib.shares.album_grants(user_id, album_id) if found.role == "owner" else []
    return found, items, grants


@public
async def album_page(request: web.Request) -> web.Response:
    user = signed_in(request)
    album_id = parse_id(request.match_info["id"])
    if album_id is None:
        return _missing()
    try:
        album, items, grants = await asyncio.to_thread(
            _album, request.app[LIBRARY], user.id, album_id
        )
    except NotFound:  # someone else's album, not shared with the caller: as if there were none
        return _missing()
    can_edit = album.role in ("owner", "editor")
    data = {
        "base": ASSET.removesuffix("/{id}"),
        "urls": {
            "preview": ASSET + "/thumbnail?size=preview",
            "video": ASSET + "/original",
            "original": ASSET + "/original",
            "meta": ASSET,
        },
        "items": [
            {"id": i.id, "kind": i.kind, "w": i.width, "h": i.height, "name": i.filename}
            for i in items
        ],
        "download": True,
        "metadata": True,
        "remove": f"{ALBUMS_API}/{album.id}/assets" if can_edit else None,
    }
    return html_page(
        "album.html",
        user=user,
        album=album,
        items=items,
        grants=grants,
        can_edit=can_edit,
        thumb=ASSET + "/thumbnail",
        preview=ASSET + "/thumbnail?size=preview",
        data=data,
        sign_out=SIGN_OUT,
    )


@public
async def slash(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently(PAGE)


@public
async def sign_out(request: web.Request) -> web.Response:
    """The pages' "Sign out" form: ends this browser's session and shows the sign-in page."""
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site request refused")
    token = credential(request_cookie(request, request.app[CONFIG].cookie_name))
    if token:
        await asyncio.to_thread(request.app[LIBRARY].accounts.revoke_session, token)
    response = web.Response(status=303, headers={"Location": "/login", "Cache-Control": "no-store"})
    clear_session_cookie(response, request)
    return response


@public
async def home(request: web.Request) -> web.Response:
    """``/``: a small landing page (sign in; or albums, upload and sign out)."""
    user = request.get(USER)
    return html_page("home.html", user=user, sign_out=SIGN_OUT)


def setup(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get(PAGE, albums_page)
    app.router.add_get(PAGE + "/", slash)
    app.router.add_get(PAGE + "/{id}", album_page)
    app.router.add_post(SIGN_OUT, sign_out)
