"""The phone upload page: ``/upload/`` and its static files (an installable PWA, no CDNs)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from aiohttp import web

from photodesk.sync.auth import current_user, public
from photodesk.sync.views import json_response

PAGE = "/upload/"
# Every file the page may load, and its type; nothing else under /upload/ exists.
FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "sha1.js": "text/javascript; charset=utf-8",
    "tus.js": "text/javascript; charset=utf-8",
    "hash-worker.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icons/icon-192.png": "image/png",
    "icons/icon-512.png": "image/png",
    "icons/icon-maskable-512.png": "image/png",
    "icons/apple-touch-icon.png": "image/png",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _read(name: str) -> bytes:
    return resources.files("photodesk.sync").joinpath("static", name).read_bytes()


def _file_response(name: str) -> web.Response:
    headers = {
        "Content-Type": FILES[name],
        "X-Content-Type-Options": "nosniff",
        # The service worker keeps its own copy; the browser asks again so updates show at once.
        "Cache-Control": "no-cache",
    }
    if name == "index.html":
        headers["Content-Security-Policy"] = CSP
        headers["Referrer-Policy"] = "same-origin"
    return web.Response(body=_read(name), headers=headers)


@public
async def page(request: web.Request) -> web.Response:
    return _file_response("index.html")


@public
async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(PAGE)


@public
async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in FILES or name == "index.html":
        raise web.HTTPNotFound()
    return _file_response(name)


async def me(request: web.Request) -> web.Response:
    """Who is signed in (401 otherwise): the page asks this to choose login form or uploader."""
    user = current_user(request)
    body: dict[str, Any] = {"id": user.id, "email": user.email, "name": user.name}
    return json_response(body, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_get("/upload", redirect)
    app.router.add_get(PAGE, page)
    app.router.add_get(PAGE + "{name:.+}", static_file)
    app.router.add_get("/api/webapp/me", me)
