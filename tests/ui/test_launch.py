"""Starting the desktop app: no display is said before Qt aborts, and no library is created
except by the first-run dialog, on the default location, when the user says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from photodesk import settings
from photodesk.bootstrap import open_library
from photodesk.cli.main import main
from photodesk.ui import launch


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "PHOTODESK_LIBRARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("argv", [[], ["gui"]])
def test_no_display_is_said_first_and_leaves_no_library(
    tmp_path: Path, capsys, monkeypatch, no_display, argv
) -> None:
    default = tmp_path / "default" / "Library"
    monkeypatch.setattr(settings, "default_library_dir", lambda: default)
    assert main(argv) == 1  # was: SIGABRT in Qt's xcb plugin, after creating the library
    err = capsys.readouterr().err
    assert err.startswith("photodesk: no display") and "QT_QPA_PLATFORM=offscreen" in err
    assert len(err.strip().splitlines()) == 1
    assert not default.exists()


def test_what_the_display_check_says() -> None:
    linux = "linux"
    assert launch.display_problem({}, linux) == launch.NO_DISPLAY
    assert launch.display_problem({"QT_QPA_PLATFORM": "offscreen"}, linux) is None
    assert launch.display_problem({}, "darwin") is None
    assert launch.display_problem({"WAYLAND_DISPLAY": "wayland-0"}, linux) is None


def test_missing_xcb_libraries_are_named(monkeypatch) -> None:
    real = launch.ctypes.util.find_library
    monkeypatch.setattr(
        launch.ctypes.util,
        "find_library",
        lambda name: None if name in ("xcb-cursor", "xcb-icccm") else (real(name) or "lib.so"),
    )
    said = launch.display_problem({"DISPLAY": ":0"}, "linux")
    assert said is not None and "libxcb-cursor0 libxcb-icccm4" in said
    assert "apt install" in said


def test_a_named_library_must_exist(tmp_path: Path, no_display) -> None:
    with pytest.raises(launch.LibraryError, match="no photodesk library at"):
        launch.library_to_open(str(tmp_path / "typo"), {})
    with pytest.raises(launch.LibraryError, match="photodesk init"):
        launch.library_to_open(None, {"PHOTODESK_LIBRARY": str(tmp_path / "typo")})
    assert not (tmp_path / "typo").exists()


def test_the_first_run_dialog_creates_the_default_library_only_when_asked(
    qtbot, tmp_path: Path, monkeypatch, no_display
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    default = tmp_path / "default" / "Library"
    monkeypatch.setattr(settings, "default_library_dir", lambda: default)
    assert launch.library_to_open(None, {}) == (default, True)

    monkeypatch.setattr(launch, "ask_to_create", lambda root: False)
    with pytest.raises(launch.LibraryError, match="no library created"):
        launch.launch(None, open_library)
    assert not default.exists()

    ran: list[object] = []
    monkeypatch.setattr(launch, "ask_to_create", lambda root: True)
    monkeypatch.setattr("photodesk.ui.app.run", lambda library: ran.append(library) or 0)
    assert launch.launch(None, open_library) == 0
    assert (default / "catalog.db").exists() and len(ran) == 1


def test_the_dialog_itself(qtbot, tmp_path: Path) -> None:
    said: list[str] = []

    def answer() -> None:
        # The dialog running now (not a message box another test left behind), once it is up.
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer)
            return
        said.append(box.informativeText())
        box.button(QMessageBox.StandardButton.Ok).click()

    QTimer.singleShot(0, answer)
    assert launch.ask_to_create(tmp_path) is True
    assert str(tmp_path) in said[0]


def test_the_readme_ci_and_the_check_list_the_same_debian_packages() -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| Debian, Ubuntu |"))
    documented = set(row.split("`")[1].split())
    ci = (ROOT / ".ci" / "run").read_text()
    listed = ci.split('QT_DEBIAN_PACKAGES="', 1)[1].split('"', 1)[0].replace("\\\n", " ")
    assert set(listed.split()) == documented
    assert set(launch.XCB_LIBRARIES.values()) <= documented
    assert {p for p in documented if "xcb" in p} <= set(launch.XCB_LIBRARIES.values())
