"""Square thumbnails by checksum for the map's markers and list, read off the GUI thread."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from photodesk.ui import ops

BATCH = 48


def query_for(
    owner: QObject,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """``ops.query`` whose result is dropped, not crashed on, when ``owner`` is gone by then."""

    def done(result: Any) -> None:
        if shiboken6.isValid(owner):
            on_done(result)

    def failed(exc: Exception) -> None:
        if on_error is not None and shiboken6.isValid(owner):
            on_error(exc)

    ops.query(QCoreApplication.instance() or owner, fn, done, failed)


def _square(path: Path, size: int) -> QImage | None:
    """Read and centre-crop one thumbnail (worker thread: QImage, never QPixmap)."""
    if not path.is_file():
        return None
    image = QImage(str(path))
    if image.isNull():
        return None
    image = image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    x, y = (image.width() - size) // 2, (image.height() - size) // 2
    return image.copy(QRect(x, y, size, size))


class MapThumbs(QObject):
    """A bounded pixmap cache: ``get`` returns a pixmap now, or None and ``changed`` later."""

    changed = Signal()

    def __init__(
        self,
        thumb_path: Callable[[str], Path],
        size: int = 96,
        limit: int = 800,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thumb_path = thumb_path
        self.size = size
        self._limit = limit
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._missing: set[str] = set()
        self._queued: dict[str, None] = {}
        self._in_flight: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._flush)

    def get(self, checksum: str) -> QPixmap | None:
        pixmap = self._pixmaps.get(checksum)
        if pixmap is not None:
            self._pixmaps.move_to_end(checksum)
            return pixmap
        if (
            checksum not in self._missing
            and checksum not in self._in_flight
            and checksum not in self._queued
        ):
            self._queued[checksum] = None
            self._timer.start()
        return None

    def is_missing(self, checksum: str) -> bool:
        """True when the thumbnail file does not exist (yet)."""
        return checksum in self._missing

    def forget_missing(self) -> None:
        """Look again for thumbnails that were missing (after an import, say)."""
        self._missing.clear()

    def _flush(self) -> None:
        batch = list(self._queued)[:BATCH]
        for checksum in batch:
            del self._queued[checksum]
        self._in_flight.update(batch)
        paths = [(c, self._thumb_path(c)) for c in batch]  # paths are computed, not read
        size = self.size
        query_for(
            self,
            lambda: {c: _square(p, size) for c, p in paths},
            self._on_loaded,
            lambda _exc: self._in_flight.difference_update(batch),
        )
        if self._queued:
            self._timer.start()

    def _on_loaded(self, images: dict[str, QImage | None]) -> None:
        for checksum, image in images.items():
            self._in_flight.discard(checksum)
            if image is None:
                self._missing.add(checksum)
            else:
                self._pixmaps[checksum] = QPixmap.fromImage(image)
        while len(self._pixmaps) > self._limit:
            self._pixmaps.popitem(last=False)
        self.changed.emit()
