"""The public gallery of a shared link: ``/share/<key>`` and ``/s/<slug>`` and their files."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from aiohttp import web

from photodesk.core import Changes, ShareLink
from photodesk.sync.auth import credential, public, request_cookie
from photodesk.sync.decoding import DECODER
from photodesk.sync.gallery_files import StrippedCache
from photodesk.sync.gallery_upload import receive_upload
from photodesk.sync.keys import LIBRARY
from photodesk.sync.password_work import password_work
from photodesk.sync.shares import base_url
from photodesk.sync.unlock_limiter import Refusal, UnlockLimiter
from photodesk.sync.views import error_response, http_error, json_response

STATIC = "/share-static/"
STATIC_FILES = {
    "gallery.css": "text/css; charset=utf-8",
    "gallery.js": "text/javascript; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",  # the key is in the URL: never send it elsewhere
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}
ASSET_CACHE = "private, max-age=3600"
MAX_FORM_BYTES = 16 * 1024  # the password form
CACHE_S = 3.0  # how long links and pages are reused without asking the catalog again


@dataclass
class GalleryState:
    """Per-app state: templates, the page cache and the password-guess limiter."""

    env: Any
    stripped: StrippedCache
    generation: int = 0
    pages: dict[tuple[Any, ...], tuple[tuple[bytes, bytes], float]] = field(default_factory=dict)
    limiter: UnlockLimiter = field(default_factory=UnlockLimiter)
    rendering: dict[tuple[Any, ...], asyncio.Future[tuple[bytes, bytes]]] = field(
        default_factory=dict
    )
    links: dict[tuple[str, str, int], tuple[ShareLink | None, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    unsubscribe: Any = None


STATE = web.AppKey("gallery", GalleryState)


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("photodesk.sync", "templates"),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def shares_of(request: web.Request) -> Any:
    return request.app[LIBRARY].shares


# ----- the link of a request -----------------------------------------------------------------
def _base(request: web.Request) -> str:
    info = request.match_info
    if "key" in info:
        return f"/share/{info['key']}"
    return f"/s/{info['slug']}"


async def _resolve(request: web.Request) -> ShareLink | None:
    """The active link of the URL. Answers are cached until the next catalog change in this
    process (revoking a link is one) and at most CACHE_S seconds (for changes made by other
    processes, such as ``photodesk share revoke``); expiry is checked on every use."""
    shares = shares_of(request)
    state = request.app[STATE]
    info = request.match_info
    by = ("key", info["key"]) if "key" in info else ("slug", info["slug"])
    cache_key = (*by, state.generation)
    now = time.monotonic()
    hit = state.links.get(cache_key)
    if hit is not None and now - hit[1] < CACHE_S:
        link = hit[0]
    else:
        link = await asyncio.to_thread(shares.resolve, **{by[0]: by[1]})
        with state.lock:
            if len(state.links) > 4096:
                state.links.clear()
            state.links[cache_key] = (link, now)
    return link if link is not None and link.active() else None


def _cookie_name(link: ShareLink) -> str:
    return f"pd_link_{link.id}"


async def _unlocked(request: web.Request, link: ShareLink) -> bool:
    if not link.has_password:
        return True
    token = credential(request_cookie(request, _cookie_name(link)))
    shares = request.app[LIBRARY].shares
    return bool(await asyncio.to_thread(shares.check_unlock_token, link, token))


async def open_link(request: web.Request) -> ShareLink:
    """The request's link, active and unlocked; else 404 (unknown) or 401 (password needed)."""
    link = await _resolve(request)
    if link is None:
        raise http_error(404, "not found")
    if not await _unlocked(request, link):
        raise http_error(401, "this link needs its password")
    return link


def _html(
    body: bytes, status: int = 200, gz: bytes | None = None, accept: str = ""
) -> web.Response:
    headers = {**PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8"}
    headers["Vary"] = "Accept-Encoding"
    if gz is not None and "gzip" in accept:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=gz, status=status, headers=headers)
    return web.Response(body=body, status=status, headers=headers)


def _render(request: web.Request, name: str, status: int = 200, **ctx: Any) -> web.Response:
    html = request.app[STATE].env.get_template(name).render(static=STATIC, **ctx)
    return _html(html.encode(), status)


def _missing(request: web.Request) -> web.Response:
    return _render(request, "share_missing.html", status=404)


# ----- pages -----------------------------------------------------------------------------------
@public
async def page(request: web.Request) -> web.Response:
    link = await _resolve(request)
    if link is None:
        return _missing(request)
    base = _base(request)
    if not await _unlocked(request, link):
        return _render(request, "share_locked.html", status=401, link=link, base=base, error=None)
    state = request.app[STATE]
    origin = base_url(request)
    cache_key = (link.id, base, origin, state.generation)
    now = time.monotonic()
    hit = state.pages.get(cache_key)
    if hit is not None and now - hit[1] < CACHE_S:
        cached = hit[0]
    else:
        # One render per page at a time, off the event loop; visitors arriving meanwhile wait
        # for it instead of rendering the same page again.
        pending = state.rendering.get(cache_key)
        if pending is None:
            pending = asyncio.ensure_future(
                asyncio.to_thread(_render_page, request.app, link, base, origin)
            )
            state.rendering[cache_key] = pending
            pending.add_done_callback(lambda _f: state.rendering.pop(cache_key, None))
        cached = await asyncio.shield(pending)
        with state.lock:
            if len(state.pages) > 256:
                state.pages.clear()
            state.pages[cache_key] = (cached, now)
    return _html(cached[0], gz=cached[1], accept=request.headers.get("Accept-Encoding", ""))


def _render_page(
    app: web.Application, link: ShareLink, base: str, origin: str
) -> tuple[bytes, bytes]:
    """The gallery page's HTML, plain and gzipped (runs on a worker thread)."""
    items = visible_items(link, app[LIBRARY].shares.link_items(link))
    html = (
        app[STATE]
        .env.get_template("share_gallery.html")
        .render(
            static=STATIC,
            link=link,
            base=base,
            items=items,
            origin=origin,
            cover=items[0] if items else None,
            data=[
                {"id": i.id, "kind": i.kind, "w": i.width, "h": i.height, "name": i.filename}
                for i in items
            ],
        )
    )
    body = html.encode()
    return body, gzip.compress(body, 6)


def _locked(
    request: web.Request, link: ShareLink, base: str, status: int, error: str
) -> web.Response:
    return _render(request, "share_locked.html", status=status, link=link, base=base, error=error)


@public
async def unlock(request: web.Request) -> web.StreamResponse:
    """The password form's target: a right password sets a cookie for this link only."""
    link = await _resolve(request)
    if link is None:
        return _missing(request)
    base = _base(request)
    state = request.app[STATE]
    length = request.content_length
    if length is None or length > MAX_FORM_BYTES:  # never buffer a large body for a password
        return _locked(request, link, base, 413, "That form is too large.")
    form = await request.post()
    password = form.get("password")
    if not isinstance(password, str) or not password:
        return _locked(request, link, base, 401, "Enter the password.")
    # Counted before the slow check (parallel guesses cannot overtake the limit), given back
    # when right; a link under attack is slowed, never closed (see unlock_limiter).
    ticket = state.limiter.reserve(link.id, request.remote)
    if isinstance(ticket, Refusal):
        response = _locked(
            request, link, base, 429, "Too many wrong passwords. Try again in a few minutes."
        )
        response.headers["Retry-After"] = str(int(ticket.retry_after_s) + 1)
        return response
    if ticket.delay_s:
        await asyncio.sleep(ticket.delay_s)
    shares = request.app[LIBRARY].shares
    async with state.limiter.hashing(link.id):
        right = await password_work(request).run(shares.check_password, link, password)
    if not right:
        return _locked(request, link, base, 401, "That password is not right.")
    state.limiter.succeeded(ticket)
    token = await asyncio.to_thread(shares.unlock_token, link)
    response = web.HTTPSeeOther(base)
    response.set_cookie(
        _cookie_name(link),
        token,
        max_age=7 * 86400,
        path=base,
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )
    raise response


# ----- file names a visitor sees ---------------------------------------------------------------
def public_name(link: ShareLink, asset_id: int, kind: str, filename: str, ext: str) -> str:
    """The file name a visitor sees: the real one, or (metadata off) a neutral one, since names
    like PXL_20260612_... tell the date and the phone."""
    if link.show_metadata:
        return filename
    return f"{'video' if kind == 'video' else 'photo'}-{asset_id}{ext}"


def visible_items(link: ShareLink, found: list[Any]) -> list[Any]:
    if link.show_metadata:
        return found
    return [replace(i, filename=public_name(link, i.id, i.kind, i.filename, ".jpg")) for i in found]


@public
async def upload(request: web.Request) -> web.StreamResponse:
    link = await open_link(request)
    if not link.allow_upload or link.album_id is None:
        raise http_error(404, "not found")
    origin = request.headers.get("Origin")
    if origin and origin.lower() not in {
        base_url(request).lower(),
        f"{request.scheme}://{request.host}".lower(),
    }:
        return error_response(403, "cross-site request refused")
    results = await receive_upload(request, link)
    if request.headers.get("X-Requested-With"):
        created = any(r["status"] in ("created", "duplicate") for r in results)
        return json_response({"results": results}, status=200 if created or not results else 422)
    raise web.HTTPSeeOther(_base(request))


@public
async def slash(request: web.Request) -> web.Response:
    """``/share/<key>/`` (as some chat apps rewrite links) goes to the gallery itself."""
    raise web.HTTPMovedPermanently(_base(request))


@public
async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise http_error(404, "not found")
    data = resources.files("photodesk.sync").joinpath("static", "gallery", name).read_bytes()
    return web.Response(
        body=data,
        headers={
            "Content-Type": STATIC_FILES[name],
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _on_change(state: GalleryState) -> Any:
    def listener(event: object) -> None:
        if isinstance(event, Changes) and (
            event.albums or event.assets or event.assets_added or event.assets_removed
        ):
            state.generation += 1

    return listener


async def _cleanup(app: web.Application) -> None:
    state = app[STATE]
    if state.unsubscribe is not None:
        state.unsubscribe()


def setup(app: web.Application) -> None:
    from photodesk.sync import gallery_assets  # it builds on this module's link handling

    lib = app[LIBRARY]
    state = GalleryState(
        env=_env(),
        stripped=StrippedCache(lib.root / "shared-copies", app[DECODER]),
    )
    state.unsubscribe = lib.events.subscribe(_on_change(state))
    app[STATE] = state
    app.on_cleanup.append(_cleanup)
    app.router.add_get(STATIC + "{name}", static_file)
    for base in ("/share/{key}", "/s/{slug}"):
        app.router.add_get(base, page)
        app.router.add_get(base + "/", slash)
        app.router.add_post(base + "/unlock", unlock)
        gallery_assets.add_routes(app, base)
        app.router.add_post(base + "/upload", upload)
