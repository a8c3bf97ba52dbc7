"""Running the daemon: headless until SIGTERM/SIGINT (``photodesk serve``), or on a thread."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from photodesk.core import Library
from photodesk.sync.app import make_app
from photodesk.sync.config import ServerConfig
from photodesk.sync.connections import GuardedSite, connection_cap
from photodesk.sync.logs import ACCESS_LOGGER, AccessLogger

log = logging.getLogger(__name__)
Ready = Callable[[str], None]


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _serve(
    app: web.Application, config: ServerConfig, stop: asyncio.Event, on_ready: Ready
) -> None:
    """Serve until ``stop`` is set, then shut down gracefully.

    On shutdown the listener closes first, requests in flight get ``shutdown_timeout_s`` to
    finish (then are cancelled: upload handlers discard their partial files), and last the
    job engine stops with unfinished jobs left queued in the catalog.
    """
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log_class=AccessLogger,
        access_log=logging.getLogger(ACCESS_LOGGER) if config.access_log else None,
        shutdown_timeout=config.shutdown_timeout_s,
        # Closes a connection without a complete request head this long after it opened (or
        # after its last answer); stops once a head arrives, so slow uploads are not cut.
        keepalive_timeout=config.header_timeout_s,
    )
    await runner.setup()
    try:
        cap = connection_cap(config.max_connections)
        site = GuardedSite(runner, config.host, config.port, cap, reuse_address=True)
        await site.start()
        host, port = runner.addresses[0][:2]
        on_ready(_url(host, port))
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()


def serve(library: Library, config: ServerConfig, *, on_ready: Ready | None = None) -> None:
    """Serve ``library`` in this thread until SIGTERM or SIGINT (Ctrl-C)."""

    def ready(url: str) -> None:
        log.info("listening on %s", url)
        if not _loopback(config.host) and not (config.public_url or "").startswith("https:"):
            log.warning(
                "serving plain HTTP beyond this machine: put it behind an HTTPS reverse proxy "
                "(and set public_url and trusted_proxies)"
            )
        if on_ready is not None:
            on_ready(url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
                pass
        await _serve(make_app(library, config), config, stop, ready)

    asyncio.run(main())


def run(library: Library, config: ServerConfig, *, on_ready: Ready | None = None) -> int:
    """The ``photodesk serve`` entry point: serve the library the composition root opened
    (with ``config.library_options()``) until a signal; the caller closes it. Exit status."""
    log.info("library %s", library.root)
    serve(library, config, on_ready=on_ready)
    return 0


@dataclass
class RunningServer:
    """A server on its own thread and event loop (tests; the desktop app hosting the daemon)."""

    url: str
    thread: threading.Thread
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _stop: asyncio.Event = field(repr=False)
    app: web.Application = field(repr=False)

    def stop(self, timeout: float = 60.0) -> None:
        if self.thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self.thread.join(timeout)


def start_in_thread(
    library: Library, config: ServerConfig | None = None, *, timeout: float = 30.0
) -> RunningServer:
    """Start serving on a background thread; returns once it listens (port 0: any free one)."""
    config = config or ServerConfig(port=0)
    app = make_app(library, config)
    started = threading.Event()
    box: dict[str, object] = {}

    def target() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        box["loop"], box["stop"] = loop, stop

        def ready(url: str) -> None:
            box["url"] = url
            started.set()

        try:
            loop.run_until_complete(_serve(app, config, stop, ready))
        except BaseException as exc:  # reported to the starting thread
            box["error"] = exc
            started.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=target, name="photodesk-server", daemon=True)
    thread.start()
    if not started.wait(timeout):
        raise RuntimeError("the server did not start in time")
    error = box.get("error")
    if isinstance(error, BaseException):
        raise RuntimeError(f"the server could not start: {error}") from error
    return RunningServer(
        url=str(box["url"]),
        thread=thread,
        _loop=box["loop"],  # type: ignore[arg-type]
        _stop=box["stop"],  # type: ignore[arg-type]
        app=app,
    )
