"""QApplication set-up and the desktop entry point ``run(library)``."""

from __future__ import annotations

import gc
import sys
from typing import cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from photodesk.core import JobName, Library, LibraryOptions
from photodesk.ui import ops, style
from photodesk.ui.identity import apply_identity
from photodesk.ui.main_window import MainWindow

ML_CATCH_UP_DELAY_MS = 5000
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


def run(library: Library) -> int:
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv))
    apply_identity(app)
    style.apply(app)  # the saved appearance: light, dark or the system's
    style.FollowSystem(app)
    window = MainWindow(library)
    window.show()
    keep_gui_responsive(library)
    # Background work and the watched folders run while the app is open, never on the GUI thread.
    library.start_background(watch=False)
    if library.ml.attached:
        # Photos the models have not seen yet; it also loads the ML runtime and the search index,
        # so it waits until the first screen is up (queued off the GUI thread).
        def catch_up() -> None:
            ops.query(window, lambda: library.jobs.enqueue(JobName.ML_CATCH_UP), _ignore)

        QTimer.singleShot(ML_CATCH_UP_DELAY_MS, catch_up)
    library.start_background(jobs=False)
    if library.sync.pairing() is not None:  # rounds with the paired server, as `sync` jobs
        library.sync.start_background()
    try:
        return int(app.exec())
    finally:
        library.sync.stop_background()
        library.stop_background()
