"""A public link's files: thumbnails, previews, originals, videos, metadata, the list and the zip.

Every route opens the link first (active, unlocked: ``gallery.open_link``) and serves only what
it promises: originals and the zip when downloads are on, metadata-free copies when metadata is
off (see ``gallery_files``), metadata only when it is on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from photodesk.core import ShareLink
from photodesk.sync.auth import public
from photodesk.sync.decoding import NoDerivative, derivative_file
from photodesk.sync.gallery import (
    ASSET_CACHE,
    STATE,
    open_link,
    public_name,
    shares_of,
    visible_items,
)
from photodesk.sync.gallery_files import NotStrippable, stream_zip, unique_names
from photodesk.sync.keys import LIBRARY
from photodesk.sync.views import http_error, json_response, path_id


async def _asset(request: web.Request, *, full: bool = False) -> tuple[ShareLink, Any]:
    """The link and one of its photos (file facts, or the full record for ``full``)."""
    link = await open_link(request)
    shares = shares_of(request)
    fetch = shares.link_asset if full else shares.link_file
    return link, await asyncio.to_thread(fetch, link, path_id(request))


async def _image(request: web.Request, preview: bool) -> web.StreamResponse:
    _link, rec = await _asset(request)
    try:
        path = await derivative_file(request.app, rec, preview=preview)
    except NoDerivative as exc:
        raise http_error(404, "no thumbnail") from exc
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


async def _served(request: web.Request, link: ShareLink, rec: Any) -> tuple[Path, str]:
    """``_served_file`` for the event loop (a copy being made holds no thread meanwhile)."""
    path = Path(rec.path)
    if not rec.offline and not await asyncio.to_thread(path.is_file):
        # an upload's analysis moves its file from the staging folder to its storage path
        # between our read and now: the catalog already has the new path
        rec = await asyncio.to_thread(shares_of(request).link_file, link, rec.id)
        path = Path(rec.path)
    if rec.offline or not await asyncio.to_thread(path.is_file):
        raise http_error(404, "this file is offline")
    if link.show_metadata:
        return path, path.name
    try:
        copy, ext = await request.app[STATE].stripped.path_for_async(
            path, rec.checksum, rec.file_type, rec.kind, rec.orientation
        )
    except NotStrippable as exc:
        raise http_error(404, "this file is not shared without its metadata") from exc
    return copy, public_name(link, rec.id, rec.kind, path.name, ext)


def _served_file(request: web.Request, link: ShareLink, rec: Any) -> tuple[Path, str]:
    """The bytes to serve for an original: the file itself, or its metadata-free copy."""
    path = Path(rec.path)
    if not rec.offline and not path.is_file():  # moved on by its upload's analysis (_served)
        rec = shares_of(request).link_file(link, rec.id)
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


def _disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@public
async def original(request: web.Request) -> web.StreamResponse:
    link, rec = await _asset(request)
    if not link.allow_download:
        raise http_error(404, "not found")
    path, name = await _served(request, link, rec)
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
    path, name = await _served(request, link, rec)
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
    link = await open_link(request)
    found = visible_items(link, await asyncio.to_thread(shares_of(request).link_items, link))
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
    link = await open_link(request)
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


def add_routes(app: web.Application, base: str) -> None:
    """The file routes of the links under ``base`` (``/share/{key}`` or ``/s/{slug}``)."""
    app.router.add_get(base + "/items", items)
    app.router.add_get(base + "/thumb/{id}", thumb)
    app.router.add_get(base + "/preview/{id}", preview)
    app.router.add_get(base + "/original/{id}", original)
    app.router.add_get(base + "/video/{id}", video)
    app.router.add_get(base + "/meta/{id}", meta)
    app.router.add_get(base + "/zip", zip_all)
