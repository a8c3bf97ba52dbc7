"""Decoding pictures for visitors and clients: a few at a time, each one once, none too large.

A thumbnail rendered on demand or a metadata-free copy of an original needs the whole picture
in memory. So that parallel requests cannot multiply that memory:

- at most ``workers`` decodes run at once (on this gate's own threads, so waiting requests hold
  no thread of the default pool);
- requests for the same result share one decode (``key``: the file it makes), and what it makes
  is kept on disk by the caller, so it is made once;
- a picture with more than ``max_pixels`` pixels (read from its header) is not decoded at all.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from photodesk.core import CorruptFile, UnsupportedFormat, pixel_count
from photodesk.sync.keys import LIBRARY

T = TypeVar("T")


class TooManyPixels(Exception):
    """The picture is larger than this server decodes."""


class DecodeGate:
    def __init__(self, workers: int, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
        self._running: dict[str, Future[object]] = {}
        self._lock = threading.Lock()

    def check_pixels(self, src: Path, file_type: str, kind: str) -> None:
        """Raise TooManyPixels when the picture's header declares more than the limit."""
        if kind != "photo":
            return
        size = pixel_count(src, file_type)
        if size is not None and size[0] * size[1] > self.max_pixels:
            raise TooManyPixels(
                f"{size[0]}x{size[1]} pixels is over this server's limit of "
                f"{self.max_pixels / 1e6:g} megapixels"
            )

    def submit(self, key: str, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on a decode thread, or join the run already making ``key``."""
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running  # type: ignore[return-value]
            future: Future[T] = self._pool.submit(fn)
            self._running[key] = future  # type: ignore[assignment]

        def done(_f: Future[T]) -> None:
            with self._lock:
                if self._running.get(key) is future:
                    del self._running[key]

        future.add_done_callback(done)
        return future

    async def run(self, key: str, fn: Callable[[], T]) -> T:
        """``submit`` for the event loop: awaits the shared run (a cancelled request leaves it)."""
        return await asyncio.shield(asyncio.wrap_future(self.submit(key, fn)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


DECODER = web.AppKey("decoder", DecodeGate)


async def render_derivatives(app: web.Application, rec: Any) -> None:
    """Render a photo's missing thumbnail and preview through the gate (``rec``: an asset's file
    facts). Raises TooManyPixels, or the core's CorruptFile, UnsupportedFormat, OSError."""
    gate = app[DECODER]
    store = app[LIBRARY].thumbnails
    src = Path(rec.path)

    def make() -> None:
        gate.check_pixels(src, rec.file_type, rec.kind)
        store.render(src, rec.checksum, rec.file_type, rec.kind, rec.orientation)

    await gate.run(f"render:{rec.checksum}", make)


class NoDerivative(Exception):
    """No thumbnail or preview can be served for a photo (the message says why)."""


async def derivative_file(app: web.Application, rec: Any, *, preview: bool) -> Path:
    """The file of a photo's thumbnail (or preview), rendered first if missing.

    Raises NoDerivative when none can be made (a corrupt or unsupported original, too many
    pixels, an unreadable file).
    """
    store = app[LIBRARY].thumbnails

    def where() -> Path:
        return store.preview_path(rec.checksum) if preview else store.thumb_path(rec.checksum)

    # Looked up twice: on a library from before the flat layout, the thumbnails.layout job may
    # rename the file between a lookup (the old place) and its check.
    for _ in range(2):
        if (path := where()).is_file():
            return path
    try:
        await render_derivatives(app, rec)
    except (CorruptFile, UnsupportedFormat, OSError, TooManyPixels) as exc:
        raise NoDerivative(str(exc)) from exc
    if not (path := where()).is_file():
        raise NoDerivative("none was rendered")
    return path


async def _close(app: web.Application) -> None:
    await asyncio.to_thread(app[DECODER].close)


def setup(app: web.Application, workers: int, max_pixels: int) -> None:
    app[DECODER] = DecodeGate(workers, max_pixels)
    app.on_cleanup.append(_close)
