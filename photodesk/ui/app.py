"""QApplication set-up and the desktop entry point ``run(library)``."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from photodesk.core import Library
from photodesk.ui.main_window import MainWindow


def run(library: Library) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("photodesk")
    app.setOrganizationName("photodesk")
    window = MainWindow(library)
    window.show()
    # Background work and the watched folders run while the app is open, never on the GUI thread.
    library.jobs.start()
    library.watch.start()
    try:
        return int(app.exec())
    finally:
        library.watch.stop()
        library.jobs.stop()
