"""The app's identity: the icon ships as package data and shows in the window and the about box."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from photodesk import __version__
from photodesk.core import Library
from photodesk.ui.identity import APP_ID, ICON_SIZES, ICONS, app_icon, apply_identity
from photodesk.ui.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def test_the_icon_has_every_size_from_the_package_data(qapp):
    icon = app_icon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert sizes == {(n, n) for n in ICON_SIZES}
    assert ICONS.is_relative_to(Path(__import__("photodesk").__file__).parent)
    # Opaque somewhere in the middle: a drawn icon, not an empty image.
    image = icon.pixmap(64, 64).toImage()
    assert image.pixelColor(32, 32).alpha() == 255


def test_the_application_carries_the_desktop_id_and_icon(qapp):
    apply_identity(qapp)
    assert qapp.desktopFileName() == APP_ID
    assert qapp.applicationVersion() == __version__
    assert not QApplication.windowIcon().isNull()
    # The .desktop file and the metainfo in resources/ use the same id.
    assert (REPO / "resources" / f"{APP_ID}.desktop").is_file()
    assert (REPO / "resources" / f"{APP_ID}.metainfo.xml").is_file()


def test_window_and_about_box_show_the_icon(qtbot, library: Library):
    window = MainWindow(library)
    qtbot.addWidget(window)
    assert not window.windowIcon().isNull()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if "About" in a.text())
    about.trigger()
    boxes = window.findChildren(QMessageBox)
    assert len(boxes) == 1
    assert __version__ in boxes[0].text()
    pixmap = boxes[0].iconPixmap()
    assert not pixmap.isNull()
    assert pixmap.width() == 96
    boxes[0].close()
