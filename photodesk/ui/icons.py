"""The app's icons: Phosphor (MIT licence) through qtawesome, drawn in the theme's colours.

Code asks for what an icon means (``icon("albums")``), never for a font glyph. Without qtawesome
(a minimal install) every icon is empty and the app still works, text only.

qtawesome draws each icon once per colour, size and mode; the pixels are kept in the user's
cache folder (``~/.cache/photodesk/icons/``, per qtawesome build), so a later start shows its
icons without importing qtawesome at all: that import (qtpy star-imports all of QtCore, QtGui and
QtWidgets) and its loading of a dozen icon fonts cost a quarter of a second of every start.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, QStandardPaths, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPixmap

from photodesk.ui import style

log = logging.getLogger(__name__)

GLYPHS: dict[str, str] = {
    "timeline": "ph.image-square",
    "memories": "ph.clock-counter-clockwise",
    "map": "ph.map-trifold",
    "people": "ph.users-three",
    "search": "ph.magnifying-glass",
    "albums": "ph.books",
    "album": "ph.book-open",
    "tags": "ph.tag",
    "folders": "ph.folder",
    "favourites": "ph.heart",
    "archive": "ph.archive-box",
    "trash": "ph.trash",
    "events": "ph.calendar-blank",
    "duplicates": "ph.copy",
    "import": "ph.download-simple",
    "watch": "ph.eye",
    "theme": "ph.circle-half",
    "light": "ph.sun",
    "dark": "ph.moon",
    "play": "ph.play",
    "pause": "ph.pause",
    "back": "ph.caret-left",
    "info": "ph.info",
    "close": "ph.x",
    "image": "ph.image",
    "video": "ph.film-strip",
    "file": "ph.file",
    "warning": "ph.warning",
    "cloud": "ph.cloud-fill",
}

_cache: dict[tuple[str, str, str], QIcon] = {}
_failed = False
_drawn_by: str | None = None  # what identifies the installed qtawesome ("" when it is missing)


def icon(name: str, color: str | None = None, active: str | None = None) -> QIcon:
    """The icon for ``name`` in ``color`` (default: the theme's text), ``active`` when selected."""
    theme = style.current()
    color = color or theme.muted
    active = active or theme.accent
    key = (name, color, active)
    if key in _cache:
        return _cache[key]
    result = QIcon()
    if not _failed and name in GLYPHS and _qtawesome_build():
        result = QIcon(GlyphEngine(GLYPHS[name], color, active))
    _cache[key] = result
    return result


def clear() -> None:
    """Forget made icons (the theme changed: they are drawn again in its colours)."""
    _cache.clear()


class GlyphEngine(QIconEngine):
    """One glyph in one pair of colours, at whatever size and mode Qt asks for: from memory,
    else from the disk cache, else drawn by qtawesome (and then cached)."""

    def __init__(self, glyph: str, color: str, active: str) -> None:
        super().__init__()
        self.glyph, self.color, self.active = glyph, color, active
        self._pixmaps: dict[tuple[int, int, int], QPixmap] = {}

    def clone(self) -> QIconEngine:
        return GlyphEngine(self.glyph, self.color, self.active)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.pixels(size.width(), size.height(), mode)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        side = min(rect.width(), rect.height())  # square glyphs, centred in the rect
        target = QRect(0, 0, side, side)
        target.moveCenter(rect.center())
        pixels = self.pixels(round(side * ratio), round(side * ratio), mode)
        painter.drawPixmap(target, pixels)

    def pixels(self, width: int, height: int, mode: QIcon.Mode) -> QPixmap:
        """The glyph drawn into a ``width`` x ``height`` device-pixel pixmap for ``mode``."""
        key = (width, height, int(mode.value))
        if (made := self._pixmaps.get(key)) is not None:
            return made
        file = _cache_file(self.glyph, self.color, self.active, width, height, key[2])
        made = QPixmap(str(file)) if file is not None else QPixmap()  # null when missing
        if made.isNull() or made.size() != QSize(width, height):
            made = self._draw(width, height, mode)
            if file is not None and not made.isNull():
                _save(made, file)
        self._pixmaps[key] = made
        return made

    def _draw(self, width: int, height: int, mode: QIcon.Mode) -> QPixmap:
        global _failed
        made = QPixmap(width, height)
        made.fill(Qt.GlobalColor.transparent)
        try:
            import qtawesome

            source: Any = qtawesome.icon(
                self.glyph,
                color=QColor(self.color),
                color_active=QColor(self.active),
                color_selected=QColor(self.active),
            )
        except Exception as exc:  # not installed, or no font database yet
            _failed = True
            log.info("icons unavailable (%s): text only", exc)
            return QPixmap()
        painter = QPainter(made)
        source.paint(painter, QRect(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, mode)
        painter.end()
        return made


def _qtawesome_build() -> str:
    """What identifies the installed qtawesome (its package's file stamp), found without
    importing it; "" when it is not installed."""
    global _drawn_by
    if _drawn_by is None:
        spec = importlib.util.find_spec("qtawesome")
        try:
            stat = os.stat(spec.origin) if spec is not None and spec.origin else None
        except OSError:
            stat = None
        _drawn_by = f"{stat.st_size}-{stat.st_mtime_ns}" if stat is not None else ""
    return _drawn_by


def cache_dir() -> Path:
    """Where drawn icons are kept: one folder per qtawesome build."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    build = hashlib.sha1(_qtawesome_build().encode()).hexdigest()[:12]
    return Path(base or Path.home() / ".cache") / "photodesk" / "icons" / build


def _cache_file(
    glyph: str, color: str, active: str, width: int, height: int, mode: int
) -> Path | None:
    if not _qtawesome_build():
        return None
    name = f"{glyph}|{color}|{active}|{width}x{height}|{mode}"
    return cache_dir() / f"{hashlib.sha1(name.encode()).hexdigest()[:20]}.png"


def _save(pixels: QPixmap, file: Path) -> None:
    """Keep drawn pixels for the next start (written whole or not at all); a cache that cannot
    be written only costs the next start its speed."""
    folder = file.parent
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            for other in folder.parent.iterdir():  # the cache of an older qtawesome
                if other != folder and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)
        partial = file.with_suffix(f".{os.getpid()}.part")
        if pixels.save(str(partial), "PNG"):
            os.replace(partial, file)
        else:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("icon cache not written (%s)", exc)
