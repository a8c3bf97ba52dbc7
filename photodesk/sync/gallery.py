"""The public gallery of a shared link: ``/share/<key>`` and ``/s/<slug>`` and their files."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from photodesk.core import Changes, CorruptFile, ShareLink, UnsupportedFormat
from photodesk.sync.auth import public
from photodesk.sync.gallery_files import NotStrippable, StrippedCache, stream_zip, unique_names
from photodesk.sync.gallery_upload import receive_upload
from photodesk.sync.keys import LIBRARY
from photodesk.sync.shares import base_url
from photodesk.sync.views import error_response, http_error, json_response, path_id

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
ATTEMPTS = 5  # wrong passwords per link and address ...
LINK_ATTEMPTS = 30  # ... and per link from anywhere ...
WINDOW_S = 900.0  # ... within this many seconds, then 429
ASSET_CACHE = "private, max-age=3600"
CACHE_S = 3.0  # how long links and pages are reused without asking the catalog again


@dataclass
class GalleryState:
    """Per-app state: templates, the page cache and the password-attempt counters."""

    env: Any
    stripped: StrippedCache
    generation: int = 0
    pages: dict[tuple[Any, ...], tuple[tuple[bytes, bytes], float]] = field(default_factory=dict)
    attempts: dict[Any, deque[float]] = field(default_factory=dict)
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
    token = request.cookies.get(_cookie_name(link))
    shares = request.app[LIBRARY].shares
    return bool(await asyncio.to_thread(shares.check_unlock_token, link, token))


async def _open(request: web.Request) -> ShareLink:
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
    items = _items(link, app[LIBRARY].shares.link_items(link))
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


def _too_many(state: GalleryState, link: ShareLink, address: str) -> bool:
    now = time.monotonic()
    with state.lock:
        for key, limit in (((link.id, address), ATTEMPTS), ((link.id, None), LINK_ATTEMPTS)):
            times = state.attempts.get(key)
            while times and now - times[0] > WINDOW_S:
                times.popleft()
            if times and len(times) >= limit:
                return True
    return False


def _failed(state: GalleryState, link: ShareLink, address: str) -> None:
    now = time.monotonic()
    with state.lock:
        if len(state.attempts) > 10_000:
            state.attempts.clear()
        for key in ((link.id, address), (link.id, None)):
            state.attempts.setdefault(key, deque()).append(now)


@public
async def unlock(request: web.Request) -> web.StreamResponse:
    """The password form's target: a right password sets a cookie for this link only."""
    link = await _resolve(request)
    if link is None:
        return _missing(request)
    base = _base(request)
    state = request.app[STATE]
    address = request.remote or "?"
    if _too_many(state, link, address):
        response = _render(
            request,
            "share_locked.html",
            status=429,
            link=link,
            base=base,
            error="Too many wrong passwords. Try again in a few minutes.",
        )
        response.headers["Retry-After"] = str(int(WINDOW_S))
        return response
    form = await request.post()
    password = form.get("password")
    shares = request.app[LIBRARY].shares
    if not isinstance(password, str) or not await asyncio.to_thread(
        shares.check_password, link, password
    ):
        _failed(state, link, address)
        return _render(
            request,
            "share_locked.html",
            status=401,
            link=link,
            base=base,
            error="That password is not right.",
        )
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


# ----- files -----------------------------------------------------------------------------------
async def _asset(request: web.Request, *, full: bool = False) -> tuple[ShareLink, Any]:
    """The link and one of its photos (file facts, or the full record for ``full``)."""
    link = await _open(request)
    shares = shares_of(request)
    fetch = shares.link_asset if full else shares.link_file
    return link, await asyncio.to_thread(fetch, link, path_id(request))


async def _image(request: web.Request, preview: bool) -> web.StreamResponse:
    _link, rec = await _asset(request)
    store = request.app[LIBRARY].thumbnails
    path = store.preview_path(rec.checksum) if preview else store.thumb_path(rec.checksum)
    if not path.is_file():
        try:
            await asyncio.to_thread(
                store.render, Path(rec.path), rec.checksum, rec.file_type, rec.kind, rec.orientation
            )
        except (CorruptFile, UnsupportedFormat, OSError) as exc:
            raise http_error(404, "no thumbnail") from exc
        if not path.is_file():
            raise http_error(404, "no thumbnail")
    # Thumbnails and previews are rendered without EXIF or XMP (see core.thumbnails_render).
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": ASSET_CACHE}
    )


@public
async def thumb(request: web.Request) -> web.StreamResponse:
    return await _image(request, preview=False)


@public
async def preview(request: web.Request) -> web.StreamResponse:
    return await _image(request, preview=True)


def _served_file(request: web.Request, link: ShareLink, rec: Any) -> tuple[Path, str]:
    """The bytes to serve for an original: the file itself, or its metadata-free copy."""
    path = Path(rec.path)
    if rec.offline or not path.is_file():
        raise http_error(404, "this file is offline")
    name = path.name
    if link.show_metadata:
        return path, name
    try:
        copy, ext = request.app[STATE].stripped.path_for(
            path, rec.checksum, rec.file_type, rec.kind, rec.orientation
        )
    except NotStrippable as exc:
        raise http_error(404, "this file is not shared without its metadata") from exc
    return copy, public_name(link, rec.id, rec.kind, name, ext)


def public_name(link: ShareLink, asset_id: int, kind: str, filename: str, ext: str) -> str:
    """The file name a visitor sees: the real one, or (metadata off) a neutral one, since names
    like PXL_20260612_... tell the date and the phone."""
    if link.show_metadata:
        return filename
    return f"{'video' if kind == 'video' else 'photo'}-{asset_id}{ext}"


def _items(link: ShareLink, found: list[Any]) -> list[Any]:
    if link.show_metadata:
        return found
    return [replace(i, filename=public_name(link, i.id, i.kind, i.filename, ".jpg")) for i in found]


def _disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@public
async def original(request: web.Request) -> web.StreamResponse:
    link, rec = await _asset(request)
    if not link.allow_download:
        raise http_error(404, "not found")
    path, name = await asyncio.to_thread(_served_file, request, link, rec)
    mime = rec.mime if link.show_metadata or rec.kind == "video" else "image/jpeg"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": mime or "application/octet-stream",
            "Content-Disposition": _disposition("attachment", name),
            "Cache-Control": ASSET_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )


@public
async def video(request: web.Request) -> web.StreamResponse:
    """A video to play in the lightbox (played, not offered as a download)."""
    link, rec = await _asset(request)
    if rec.kind != "video":
        raise http_error(404, "not found")
    path, name = await asyncio.to_thread(_served_file, request, link, rec)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": rec.mime or "video/mp4",
            "Content-Disposition": _disposition("inline", name),
            "Cache-Control": ASSET_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _meta_json(rec: Any) -> dict[str, Any]:
    return {
        "id": rec.id,
        "filename": Path(rec.path).name,
        "kind": rec.kind,
        "width": rec.width,
        "height": rec.height,
        "duration": rec.duration,
        "taken_at": rec.taken_at_iso(),
        "make": rec.make,
        "model": rec.model,
        "lens": rec.lens,
        "iso": rec.iso,
        "f_number": rec.f_number,
        "exposure_time": rec.exposure_time,
        "focal_length": rec.focal_length,
        "latitude": rec.latitude,
        "longitude": rec.longitude,
        "city": rec.city,
        "country": rec.country_name,
    }


@public
async def meta(request: web.Request) -> web.Response:
    link, rec = await _asset(request, full=True)
    if not link.show_metadata:
        raise http_error(404, "not found")
    return json_response(_meta_json(rec), headers={"Cache-Control": "private, no-cache"})


@public
async def items(request: web.Request) -> web.Response:
    """The link's photos as JSON (ids, kinds, sizes, file names): what the page shows."""
    link = await _open(request)
    found = _items(link, await asyncio.to_thread(shares_of(request).link_items, link))
    return json_response(
        {
            "title": link.title,
            "allow_download": link.allow_download,
            "allow_upload": link.allow_upload,
            "show_metadata": link.show_metadata,
            "items": [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "width": i.width,
                    "height": i.height,
                    "filename": i.filename,
                }
                for i in found
            ],
        },
        headers={"Cache-Control": "private, no-cache"},
    )


@public
async def zip_all(request: web.Request) -> web.StreamResponse:
    link = await _open(request)
    if not link.allow_download:
        raise http_error(404, "not found")
    records = await asyncio.to_thread(request.app[LIBRARY].shares.link_records, link)
    names = unique_names(
        [
            public_name(
                link,
                r.id,
                r.kind,
                Path(r.path).name,
                "." + r.file_type.lower() if r.kind == "video" else ".jpg",
            )
            for r in records
        ]
    )

    def resolver(rec: Any) -> Any:
        def resolve() -> Path | None:
            try:
                return _served_file(request, link, rec)[0]
            except Exception:  # offline or not strippable: left out of the zip
                return None

        return resolve

    entries = [
        (name, resolver(rec), rec.taken_at if link.show_metadata else None)
        for name, rec in zip(names, records, strict=True)
    ]
    title = "".join(c for c in (link.title or "photos") if c.isalnum() or c in " -_")[:80]
    return await stream_zip(request, (title.strip() or "photos") + ".zip", entries)


@public
async def upload(request: web.Request) -> web.StreamResponse:
    link = await _open(request)
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
    lib = app[LIBRARY]
    state = GalleryState(
        env=_env(),
        stripped=StrippedCache(lib.root / "shared-copies"),
    )
    state.unsubscribe = lib.events.subscribe(_on_change(state))
    app[STATE] = state
    app.on_cleanup.append(_cleanup)
    app.router.add_get(STATIC + "{name}", static_file)
    for base in ("/share/{key}", "/s/{slug}"):
        app.router.add_get(base, page)
        app.router.add_get(base + "/", slash)
        app.router.add_post(base + "/unlock", unlock)
        app.router.add_get(base + "/items", items)
        app.router.add_get(base + "/thumb/{id}", thumb)
        app.router.add_get(base + "/preview/{id}", preview)
        app.router.add_get(base + "/original/{id}", original)
        app.router.add_get(base + "/video/{id}", video)
        app.router.add_get(base + "/meta/{id}", meta)
        app.router.add_get(base + "/zip", zip_all)
        app.router.add_post(base + "/upload", upload)
