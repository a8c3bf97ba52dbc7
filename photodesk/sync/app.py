"""The aiohttp application: middlewares, shared state, the route modules, jobs in the background."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from photodesk import __version__
from photodesk.core import REMOTE_QUEUES, JobName, Library, LibraryError
from photodesk.sync import auth, decoding
from photodesk.sync.auth import auth_middleware, public
from photodesk.sync.config import ServerConfig
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.logs import quiet_bad_requests, request_id_middleware
from photodesk.sync.proxy import proxy_middleware
from photodesk.sync.views import error_middleware, error_response, json_response

log = logging.getLogger(__name__)
MiB = 1024 * 1024

# Each module has ``setup(app)`` that adds its routes; other features add theirs here.
ROUTE_MODULES: tuple[str, ...] = (
    "photodesk.sync.users",
    "photodesk.sync.assets",
    "photodesk.sync.immich",
    "photodesk.sync.tus",
    "photodesk.sync.webapp",
    "photodesk.sync.twofa",
    "photodesk.sync.oidc",
    "photodesk.sync.login",
    "photodesk.sync.shares",
    "photodesk.sync.gallery",
    "photodesk.sync.web_albums",
    "photodesk.sync.web_memories",
    "photodesk.sync.workers_api",
    "photodesk.sync.sync_api",
    "photodesk.sync.device_pairing",
    "photodesk.sync.dav",
)


@public
async def ping(request: web.Request) -> web.Response:
    """Immich's liveness check."""
    return json_response({"res": "pong"})


@public
async def health(request: web.Request) -> web.Response:
    """Is the catalog readable? 200 with a summary, else 503 (for Docker and monitoring)."""
    lib = request.app[LIBRARY]
    try:
        paused = await asyncio.to_thread(lib.jobs.paused)
    except Exception as exc:  # any failure to read the catalog makes the server unhealthy
        log.error("health check failed: %s", exc)
        return error_response(503, "the catalog cannot be read")
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "jobs": request.app[CONFIG].jobs,
            "paused_queues": sorted(paused),
        }
    )


async def _background(app: web.Application) -> AsyncIterator[None]:
    """The job engine and folder watcher live as long as the server; queued jobs persist."""
    lib, config = app[LIBRARY], app[CONFIG]
    await asyncio.to_thread(lib.accounts.purge_sessions)
    if config.jobs:
        await asyncio.to_thread(lib.start_background, watch=False)
        # every user's photos the models (here or the remote workers') have not seen yet
        if lib.ml.attached or lib.ml.remote:
            await asyncio.to_thread(lib.jobs.enqueue, JobName.ML_CATCH_UP)
        await asyncio.to_thread(lib.start_background, jobs=False)
    try:
        yield
    finally:
        if config.jobs:
            await asyncio.to_thread(lib.stop_background)


def make_app(library: Library, config: ServerConfig | None = None) -> web.Application:
    """The daemon's application over an open ``library`` (the caller closes the library)."""
    config = config or ServerConfig()
    if library.options.upload_storage_root != config.storage_root:
        raise LibraryError(
            "the library was not opened for this server's storage_root: open it with "
            "config.library_options()"
        )
    quiet_bad_requests()
    app = web.Application(
        middlewares=[request_id_middleware, proxy_middleware, error_middleware, auth_middleware],
        # Streamed uploads are limited per file by their handlers; this bounds what aiohttp
        # itself buffers (and it applies to multipart streams too).
        client_max_size=config.max_upload_bytes + MiB,
        handler_args={
            "max_field_size": config.max_header_bytes,
            "max_line_size": config.max_header_bytes,
        },
    )
    app[LIBRARY] = library
    app[CONFIG] = config
    if not config.local_ml:  # clip and faces jobs are queued for remote workers, run by none here
        library.ml.remote = REMOTE_QUEUES
        library.jobs.remote_queues = frozenset(REMOTE_QUEUES)
    auth.setup(app)
    decoding.setup(app, config.decode_workers, config.max_pixels)
    library.uploads.max_pixels = config.max_pixels
    app.router.add_get("/api/server/ping", ping)
    app.router.add_get("/api/health", health)
    for name in ROUTE_MODULES:
        importlib.import_module(name).setup(app)
    app.cleanup_ctx.append(_background)
    return app
