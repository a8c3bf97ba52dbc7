"""The app's icons: Phosphor (MIT licence) through qtawesome, drawn in the theme's colours.

Code asks for what an icon means (``icon("albums")``), never for a font glyph. Without qtawesome
(a minimal install) every icon is empty and the app still works, text only.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QIcon

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
}

_cache: dict[tuple[str, str, str], QIcon] = {}
_failed = False


def icon(name: str, color: str | None = None, active: str | None = None) -> QIcon:
    """The icon for ``name`` in ``color`` (default: the theme's text), ``active`` when selected."""
    global _failed
    theme = style.current()
    color = color or theme.muted
    active = active or theme.accent
    key = (name, color, active)
    if key in _cache:
        return _cache[key]
    result = QIcon()
    if not _failed and name in GLYPHS:
        try:
            import qtawesome

            result = qtawesome.icon(
                GLYPHS[name],
                color=QColor(color),
                color_active=QColor(active),
                color_selected=QColor(active),
            )
        except Exception as exc:  # not installed, or no font database yet
            _failed = True
            log.info("icons unavailable (%s): text only", exc)
    _cache[key] = result
    return result


def clear() -> None:
    """Forget made icons (the theme changed: they are drawn again in its colours)."""
    _cache.clear()
