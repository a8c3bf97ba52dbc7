"""Render the window offscreen to a PNG (``photodesk gui --screenshot``): README and tests."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photodesk.core import Library

VIEWS = (
    "timeline",
    "memories",
    "events",
    "viewer",
    "map",
    "people",
    "search",
    "albums",
    "tags",
    "folders",
    "duplicates",
    "favourites",
    "archive",
    "trash",
)


def _settle(app: object, *, minimum: float, maximum: float) -> None:
    """Let queued work (thread-pool reads, thumbnails) finish and repaint, within limits."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    def pools() -> list[QThreadPool]:
        # The global pool runs reads; thumbnail and map-tile caches own pools of their own.
        found = [QThreadPool.globalInstance()]
        for widget in QApplication.topLevelWidgets():
            found.extend(widget.findChildren(QThreadPool))
        return found

    start = time.monotonic()
    quiet_since: float | None = None
    while time.monotonic() - start < maximum:
        QApplication.processEvents()
        busy = any(pool.activeThreadCount() > 0 for pool in pools())
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - start >= minimum and now - quiet_since > 0.3:
            break
        time.sleep(0.01)


def screenshot(
    library: Library, out: Path, view: str, size: tuple[int, int], theme: str = "light"
) -> int:
    """Render ``view`` of the library (opened and closed by the composition root) to ``out``,
    in the ``theme`` (light, dark or the system's)."""
    from photodesk.core import InvalidInput, PhotodeskError

    if view not in VIEWS:
        raise InvalidInput(f"unknown view {view!r} (views: {', '.join(VIEWS)})")
    if theme not in ("light", "dark", "system"):
        raise InvalidInput(f"unknown theme {theme!r} (light, dark or system)")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from photodesk.ui import style
    from photodesk.ui.main_window import SECTIONS, MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    style.apply(app, theme)  # type: ignore[arg-type]
    window = MainWindow(library, restore=False)
    try:
        window.resize(*size)
        window.show()
        _settle(app, minimum=2.0, maximum=8)  # the timeline's Memories strip comes at 1.5 s
        if view == "viewer":
            # Open on the largest of the newest photos: an 8x8 test pixel shows nothing.
            from photodesk.core import AssetQuery

            # The timeline's own sequence, as a double-click opens it ("n of m" = its count).
            ids = window.view("Timeline").grid.grid_model().ids()  # type: ignore[attr-defined]
            photos = {int(a.id): a for a in library.assets.list(AssetQuery(kind="photo"))}
            if ids and photos:
                best = max(photos.values(), key=lambda a: (a.width or 0) * (a.height or 0))
                window.open_viewer(ids, ids.index(int(best.id)) if int(best.id) in ids else 0)
        else:
            window.select_section(next(s for s in SECTIONS if s.lower() == view))
        _settle(app, minimum=1.0, maximum=15)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise PhotodeskError(f"cannot write {out}")
    finally:
        window.close()
    return 0
