"""Thumbnail pixmaps for grids: decoded off the GUI thread, bounded LRU, missing ones queued."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRect, QRunnable, QSize, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap

from photodesk.core import Library
from photodesk.ui import ops, style

log = logging.getLogger(__name__)

BUDGET_BYTES = 192 * 1024 * 1024  # about 1,900 tiles of 160 px at 2x, or 7,000 at 1x
# Decoders share the CPU (and the GIL, between Qt calls) with the GUI thread: leave it a core.
THREADS = max(1, min(3, (os.cpu_count() or 2) - 1))
NOTIFY_MS = 30  # tiles that finish loading are announced together, one repaint per batch
STORE_EDGE = 256  # long edge of the on-disk thumbnails; larger tiles read the preview

Key = tuple[str, int]  # (checksum, device pixels of the square tile)


class _Relay(QObject):
    loaded = Signal(object, int, object)  # key, asset id, QImage or None (missing/unreadable)


def decode_square(path: Path, px: int) -> QImage | None:
    """The centre square of an image file, scaled to ``px`` pixels (DCT-scaled for JPEG)."""
    reader = QImageReader(str(path))
    size = reader.size()
    if not size.isValid() or size.isEmpty():
        return None
    side = min(size.width(), size.height())
    reader.setClipRect(QRect((size.width() - side) // 2, (size.height() - side) // 2, side, side))
    reader.setScaledSize(QSize(px, px))
    reader.setQuality(90)
    image = reader.read()
    return None if image.isNull() else image


def is_flat(image: QImage) -> bool:
    """Every pixel (near enough) one colour: sampled on a 6x6 reduction."""
    small = image.scaled(6, 6)
    first = QColor(small.pixel(0, 0))
    for y in range(6):
        for x in range(6):
            c = QColor(small.pixel(x, y))
            if (
                max(
                    abs(c.red() - first.red()),
                    abs(c.green() - first.green()),
                    abs(c.blue() - first.blue()),
                )
                > 3
            ):
                return False
    return True


class ThumbnailCache(QObject):
    """Square tile pixmaps by (checksum, size), loaded on a small private thread pool.

    ``get()`` returns the pixmap or None; None means "placeholder now": the load is queued and
    ``ready([asset_id, ...])`` follows once it is done (batched: one repaint per batch). Newest
    requests go first (what was just painted is on screen); ``retain()`` drops queued loads
    that scrolled away. A missing thumbnail queues the ``thumbnails.generate`` job once; when
    that asset changes, ``forget()`` lets the next paint try again.
    """

    ready = Signal(list)

    def __init__(
        self,
        library: Library,
        parent: QObject | None = None,
        *,
        budget_bytes: int = BUDGET_BYTES,
        threads: int = THREADS,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.budget_bytes = budget_bytes
        self._pixmaps: OrderedDict[Key, QPixmap] = OrderedDict()
        self._bytes = 0
        self._missing: set[str] = set()
        self._flat: set[str] = set()
        self._inflight: set[Key] = set()
        self._queue: OrderedDict[Key, int] = OrderedDict()  # key -> asset id
        self._lock = threading.Lock()
        self._draining = 0
        self._threads = threads
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._relay = _Relay(self)
        self._relay.loaded.connect(self._on_loaded)
        self._generate: set[int] = set()
        self._asked: set[int] = set()
        self._flush = QTimer(self, singleShot=True, interval=400)
        self._flush.timeout.connect(self._on_flush)
        self._done: list[int] = []
        self._paused = False
        self._resume = QTimer(self, singleShot=True)
        self._resume.timeout.connect(self._on_resume)
        self._notify = QTimer(self, singleShot=True, interval=NOTIFY_MS)
        self._notify.timeout.connect(self._on_notify)

    # ----- reading ----------------------------------------------------------------------------
    def get(self, asset_id: int, checksum: str, px: int) -> QPixmap | None:
        """The pixmap of the square tile of ``px`` device pixels, or None (then it is queued)."""
        key = (checksum, px)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if checksum in self._missing:
            return None
        with self._lock:
            if key in self._inflight:
                return None
            self._queue[key] = asset_id
            self._queue.move_to_end(key)
        self._drain()
        return None

    def pause(self, msecs: int = 100) -> None:
        """Hold queued loads for a moment (a fast scroll: tiles go by before they could load)."""
        self._paused = True
        self._resume.start(msecs)

    def _on_resume(self) -> None:
        self._paused = False
        self._drain()

    def _drain(self) -> None:
        if self._paused:
            return
        with self._lock:
            start = bool(self._queue) and self._draining < self._threads
            if start:
                self._draining += 1
        if start:
            self._pool.start(_Drain(self))

    def cached(self, checksum: str, px: int) -> QPixmap | None:
        """The pixmap if it is in memory; never queues a load."""
        return self._pixmaps.get((checksum, px))

    def is_missing(self, checksum: str) -> bool:
        return checksum in self._missing

    def is_flat(self, checksum: str) -> bool:
        """The thumbnail is one colour (a blank or tiny test image)."""
        return checksum in self._flat

    def retain(self, asset_ids: set[int]) -> None:
        """Drop queued loads of tiles other than these (they scrolled out of view)."""
        with self._lock:
            for key in [k for k, v in self._queue.items() if v not in asset_ids]:
                del self._queue[key]

    def forget(self, checksums: set[str]) -> None:
        """These may have new thumbnails now: the next paint loads them again."""
        self._missing -= checksums
        for key in [k for k in self._pixmaps if k[0] in checksums]:
            self._bytes -= _cost(self._pixmaps.pop(key))

    def clear(self) -> None:
        self._pixmaps.clear()
        self._bytes = 0
        self._missing.clear()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + len(self._inflight)

    # ----- worker side ------------------------------------------------------------------------
    def _take(self) -> tuple[Key, int] | None:
        with self._lock:
            if not self._queue or self._paused:
                self._draining -= 1
                return None
            key, asset_id = self._queue.popitem(last=True)
            self._inflight.add(key)
            return key, asset_id

    def _load(self, key: Key) -> QImage | None:
        checksum, px = key
        store = self.library.thumbnails
        try:
            thumb = store.thumb_path(checksum)
        except ValueError:  # not a checksum: nothing to show, ever
            return None
        # Tiles larger than the stored thumbnail read the preview, so they stay sharp.
        sources = (store.preview_path(checksum), thumb) if px > STORE_EDGE * 1.15 else (thumb,)
        for path in sources:
            if path.is_file():
                image = decode_square(path, px)
                if image is not None and is_flat(image):
                    image.setText("flat", "1")  # one colour: the tile says so, not a blank square
                return image
        return None

    # ----- GUI side -------------------------------------------------------------------------
    def _on_loaded(self, key: Key, asset_id: int, image: QImage | None) -> None:
        with self._lock:
            self._inflight.discard(key)
        if image is not None and image.text("flat"):
            self._flat.add(key[0])
        if image is None:
            self._missing.add(key[0])
            if asset_id not in self._asked:
                self._generate.add(asset_id)
                if not self._flush.isActive():
                    self._flush.start()
        else:
            pixmap = QPixmap.fromImage(image)
            old = self._pixmaps.pop(key, None)
            if old is not None:
                self._bytes -= _cost(old)
            self._pixmaps[key] = pixmap
            self._bytes += _cost(pixmap)
            while self._bytes > self.budget_bytes and len(self._pixmaps) > 1:
                _, evicted = self._pixmaps.popitem(last=False)
                self._bytes -= _cost(evicted)
        self._done.append(asset_id)
        if not self._notify.isActive():
            self._notify.start()

    def _on_notify(self) -> None:
        done, self._done = self._done, []
        self.ready.emit(done)

    def _on_flush(self) -> None:
        ids = sorted(self._generate)
        self._asked |= self._generate
        self._generate.clear()
        jobs = self.library.jobs
        ops.query(
            self,
            lambda: [jobs.enqueue("thumbnails.generate", str(i)) for i in ids],
            lambda _jobs: None,
            lambda exc: log.warning("could not queue thumbnails: %s", exc),
        )


class _Drain(QRunnable):
    """Loads queued tiles until the queue is empty (a few of these run at once)."""

    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self._cache = cache

    def run(self) -> None:
        cache = self._cache
        while (job := cache._take()) is not None:
            key, asset_id = job
            try:
                image = cache._load(key)
            except Exception:
                log.exception("thumbnail %s could not be read", key[0])
                image = None
            try:
                cache._relay.loaded.emit(key, asset_id, image)
            except RuntimeError:  # the cache went away with its window
                return
            time.sleep(0)  # hand the GIL to the GUI thread if it is waiting for it


def _cost(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


def shared_cache(library: Library, owner: QObject) -> ThumbnailCache:
    """One cache per ``owner`` (the window's bridge), shared by all its grids, gone with it."""
    cache = owner.findChild(ThumbnailCache)
    if not isinstance(cache, ThumbnailCache) or cache.library is not library:
        cache = ThumbnailCache(library, owner)
    return cache


COVER_PX = 96


def cover_of(library: Library, ids: tuple[int, ...] | list[int]) -> QImage:
    """The first of ``ids`` with a thumbnail that is not one flat colour, as a square; a flat
    one framed when that is all there is (never a bare black or white square); a themed blank
    when none has a thumbnail.

    Runs off the GUI thread (it reads files)."""
    flat: QImage | None = None
    for asset_id in list(ids)[:12]:
        path = library.assets.thumbnail_path(asset_id)
        if path is not None and (image := decode_square(path, COVER_PX)) is not None:
            if not is_flat(image):
                return image
            flat = flat or image
    framed = QImage(COVER_PX, COVER_PX, QImage.Format.Format_ARGB32)
    framed.fill(QColor(style.current().placeholder))
    if flat is not None:  # the colour inset in a frame, like the grid's "Blank image" tiles
        painter = QPainter(framed)
        inset = COVER_PX // 6
        painter.drawImage(QRect(inset, inset, COVER_PX - 2 * inset, COVER_PX - 2 * inset), flat)
        painter.end()
    return framed
