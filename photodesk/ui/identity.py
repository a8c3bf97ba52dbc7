"""The app's identity on the desktop: its icon (package data), application id and about box."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QMessageBox, QWidget

from photodesk import __version__

APP_ID = "org.photodesk.Photodesk"  # the .desktop file's and the AppStream metainfo's id
ICONS = Path(__file__).resolve().parent / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ABOUT_ICON_SIZE = 96


def app_icon() -> QIcon:
    """The app icon in every rendered size (made by resources/make_icons.py from the SVG)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = ICONS / f"photodesk-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def apply_identity(app: QGuiApplication) -> None:
    """Name, icon and desktop id of the application (window managers and taskbars read these)."""
    app.setApplicationName("photodesk")
    app.setOrganizationName("photodesk")
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("photodesk")
    # Wayland compositors and the taskbar match the window to the installed .desktop file by it.
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())


def about_text() -> str:
    return (
        f"<h3>photodesk {__version__}</h3>"
        "<p>A fast, offline-first photo manager: a desktop app, a local catalog you can trust "
        "and an optional home server.</p>"
        f"<p>Python {platform.python_version()}, Qt for Python {pyside_version}</p>"
        "<p>Licensed under the GNU AGPL, version 3 or later.</p>"
    )


def show_about(parent: QWidget) -> QMessageBox:
    """The about box (Help > About photodesk), with the app icon; returned for tests."""
    box = QMessageBox(parent)
    box.setWindowTitle("About photodesk")
    box.setIconPixmap(app_icon().pixmap(ABOUT_ICON_SIZE, ABOUT_ICON_SIZE))
    box.setText(about_text())
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box
