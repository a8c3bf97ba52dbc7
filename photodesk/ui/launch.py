"""Opening the desktop app from the command line: is there a display, and is there a library?

Both are decided before a QApplication exists: without a display Qt's xcb plugin aborts the
process (SIGABRT, after a misleading "xcb-cursor0 is needed"), and a library must not be created
behind the user's back (a mistyped --library would leave an empty one).
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from photodesk.core import Library, LibraryError

# What Qt 6's xcb platform plugin loads (Debian/Ubuntu package names); README.md lists the same
# per distribution family and .ci/run installs this list.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-image": "libxcb-image0",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-randr": "libxcb-randr0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xinerama": "libxcb-xinerama0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}

NO_DISPLAY = (
    "no display to open the desktop app on (DISPLAY and WAYLAND_DISPLAY are not set): run it in a "
    "desktop session (or over ssh -X), use the command line (photodesk --help), or render a "
    "screenshot without a display: QT_QPA_PLATFORM=offscreen photodesk gui --screenshot out.png"
)


def display_problem(env: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why Qt could not open a window here (None: it can), said before Qt aborts on it."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0]
    if chosen and chosen not in ("xcb", "wayland", "wayland-egl"):
        return None  # offscreen, vnc, eglfs...: the user picked one that needs no X server
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return NO_DISPLAY
    if chosen == "xcb" or not env.get("WAYLAND_DISPLAY"):
        missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if not ctypes.util.find_library(lib)]
        if missing:
            return (
                "Qt's X11 (xcb) plugin needs system libraries that are missing: "
                f"{' '.join(missing)} (Debian/Ubuntu: sudo apt install {' '.join(missing)}; "
                "README.md lists them for other distributions)"
            )
    return None


def library_to_open(arg: str | None, env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """The library folder and whether the first-run dialog may offer to create it there.

    A library named by --library or $PHOTODESK_LIBRARY must exist (a typo is an error, not a
    new library); only the default location is offered for creation, on the first run."""
    from photodesk.settings import ENV_LIBRARY, resolve_library_dir

    env = dict(os.environ) if env is None else env
    root = resolve_library_dir(arg).expanduser().resolve()
    if (root / "catalog.db").exists():
        return root, False
    if arg or env.get(ENV_LIBRARY):
        raise LibraryError(f"no photodesk library at {root} (create one with: photodesk init)")
    return root, True


def ask_to_create(root: Path) -> bool:
    """The first-run dialog: create the library at ``root``? (Needs a QApplication.)"""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox()
    box.setWindowTitle("Welcome to photodesk")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText("photodesk keeps its catalog, thumbnails and copied photos in a library folder.")
    box.setInformativeText(f"Create your library at\n{root}?")
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Ok).setText("Create library")
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    return box.exec() == QMessageBox.StandardButton.Ok


def launch(arg: str | None, open_library: Callable[..., Library]) -> int:
    """``photodesk [gui]``: check the display, find (or, on the first run, create) the library,
    then run the app. Nothing is created when it cannot start. ``open_library`` is the
    composition root's (``photodesk.bootstrap.open_library``): the app is handed its library."""
    problem = display_problem()
    if problem:
        raise LibraryError(problem)
    root, first_run = library_to_open(arg)
    from PySide6.QtWidgets import QApplication

    from photodesk.ui.identity import apply_identity

    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    apply_identity(app)
    if first_run and not ask_to_create(root):
        raise LibraryError(f"no library created at {root} (the first-run dialog was cancelled)")
    from photodesk.ui import app as desktop

    library = open_library(root, create=first_run, options=desktop.LIBRARY_OPTIONS)
    try:
        return desktop.run(library)
    finally:
        library.close()
