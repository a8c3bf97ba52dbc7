"""QApplication set-up and the desktop entry point ``run(library)``."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from photodesk.core import JobName, Library, LibraryOptions
from photodesk.ui import ops, style
from photodesk.ui.identity import apply_identity
from photodesk.ui.main_window import MainWindow
from photodesk.ui.widgets.asset_grid import AssetGrid

ML_CATCH_UP_DELAY_MS = 5000
# Background work starts when the first screen is complete, or after this at the latest.
FIRST_SCREEN_LIMIT_MS = 2000
# How the desktop opens its library: import workers yield the CPU to the GUI thread, so
# scrolling stays smooth during an import.
LIBRARY_OPTIONS = LibraryOptions(import_worker_niceness=10)


def _ignore(_: object) -> None:
    pass


def keep_gui_responsive(library: Library) -> None:
    """Settings that keep the GUI thread free while background work runs."""
    # Start-up objects live as long as the app: keep them out of the collector's full passes,
    # which otherwise pause the GUI thread for tens of milliseconds while scrolling. The command
    # line starts with the collector off (photodesk.cli.main): it runs again from here on.
    QTimer.singleShot(0, _after_start)


def _after_start() -> None:
    gc.freeze()
    gc.enable()


def after_first_screen(
    window: QWidget, start: Callable[[], None], limit_ms: int = FIRST_SCREEN_LIMIT_MS
) -> None:
    """Call ``start`` once, when the window's first screen is up: the first paint of a photo
    grid with every thumbnail drawn, or after ``limit_ms`` (a view with no grid, a slow disk),
    whichever comes first. Background threads started before it compete with the GUI thread
    for the interpreter while that screen is built (a tenth of the launch at 100,000 photos)."""
    started = False
    grids = window.findChildren(AssetGrid)

    def go() -> None:
        nonlocal started
        if not started:
            started = True
            for grid in grids:  # scrolling paints no longer call back here
                with contextlib.suppress(RuntimeError):  # deleted or already disconnected
                    grid.painted.disconnect(painted)
            start()

    def painted(complete: bool) -> None:
        if complete:
            QTimer.singleShot(0, go)  # after the paint has returned

    for grid in grids:
        grid.painted.connect(painted)
    QTimer.singleShot(limit_ms, go)


def run(library: Library) -> int:
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv))
    apply_identity(app)
    style.apply(app)  # the saved appearance: light, dark or the system's
    style.FollowSystem(app)
    window = MainWindow(library)
    window.show()
    keep_gui_responsive(library)

    def start_background() -> None:
        # Background work and the watched folders run while the app is open, never on the GUI
        # thread; they start once the first screen is up.
        library.start_background(watch=False)
        if library.ml.attached:
            # Photos the models have not seen yet; it also loads the ML runtime and the search
            # index, so it waits a little longer (queued off the GUI thread).
            def catch_up() -> None:
                ops.query(window, lambda: library.jobs.enqueue(JobName.ML_CATCH_UP), _ignore)

            QTimer.singleShot(ML_CATCH_UP_DELAY_MS, catch_up)
        library.start_background(jobs=False)
        if library.sync.pairing() is not None:  # rounds with the paired server, as `sync` jobs
            library.sync.start_background()

    after_first_screen(window, start_background)
    try:
        return int(app.exec())
    finally:
        library.sync.stop_background()
        library.stop_background()
