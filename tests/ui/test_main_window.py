"""The main window: empty state, navigation, import by drag and drop, progress, restored state."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import SIGNAL, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from photodesk.core import Library
from photodesk.core.jobs.engine import JobProgress, QueueStatus
from photodesk.ui.main_window import SECTIONS, MainWindow
from photodesk.ui.widgets.jobs_status import summary
from tests.conftest import make_jpeg


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def test_empty_library_shows_a_friendly_empty_state(qtbot, library: Library, tmp_path: Path):
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.empty, timeout=20000)
    assert window.empty.import_button.isVisible()
    out = tmp_path / "empty-state.png"
    assert window.grab().save(str(out))
    assert out.stat().st_size > 1000


def test_dropping_a_folder_imports_it_in_the_background(qtbot, library: Library, tmp_path: Path):
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    window = MainWindow(library)
    qtbot.addWidget(window)
    library.jobs.start()
    try:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(tmp_path / "in"))])
        drop = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        window.dropEvent(drop)
        qtbot.waitUntil(lambda: len(library.assets.ids()) == 3, timeout=20000)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is not window.empty, timeout=20000)
    finally:
        library.jobs.stop()


def test_every_section_opens(qtbot, library: Library, tmp_path: Path):
    make_jpeg(tmp_path / "in" / "p.jpg")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    for section in SECTIONS:
        window.show_section(section)
        assert window.stack.currentWidget() is window.views[section]


def test_the_last_section_is_restored(qtbot, library: Library, tmp_path: Path):
    make_jpeg(tmp_path / "in" / "p.jpg")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    first = MainWindow(library)
    qtbot.addWidget(first)
    first.select_section("Albums")
    first.close()
    second = MainWindow(library)
    qtbot.addWidget(second)
    assert second.current_section() == "Albums"


def test_progress_summary_reads_like_a_sentence():
    q = QueueStatus("thumbnails", 2, False, 10, 2, 5, 0, 1.0, 10.0)
    assert summary(JobProgress((q,), 1, "import", 120, 500)) == "Importing 120 of 500"
    assert summary(JobProgress((q,))) == "Working: thumbnails 12 · 10 s left"
    idle = QueueStatus("thumbnails", 2, False, 0, 0, 5, 1, 0.0, None)
    assert summary(JobProgress((idle,))) == "1 failed"


def test_watched_folders_can_be_added_and_removed(qtbot, library: Library, tmp_path: Path):
    from photodesk.ui.dialogs.watch_dialog import WatchDialog

    (tmp_path / "inbox").mkdir()
    dialog = WatchDialog(library)
    qtbot.addWidget(dialog)
    dialog.add_folder(str(tmp_path / "inbox"), copy=False)
    qtbot.waitUntil(lambda: dialog.folders.count() == 1, timeout=20000)
    assert [f.path for f in library.files.watched()] == [str(tmp_path / "inbox")]
    dialog.add_folder(str(tmp_path / "nope"), copy=False)
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=20000)
    dialog.folders.setCurrentRow(0)
    dialog._on_remove()
    qtbot.waitUntil(lambda: dialog.folders.count() == 0, timeout=20000)


def test_background_work_starts_once_the_first_screen_is_complete(
    qtbot, library: Library, tmp_path: Path
):
    """Job threads started with the window compete with the GUI thread while it builds the
    first screen: the app starts them after the timeline's first complete paint, once."""
    from PySide6.QtWidgets import QWidget

    from photodesk.ui.app import after_first_screen

    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    library.importer.import_paths([tmp_path / "in"], workers=1)
    window = MainWindow(library, restore=False)
    qtbot.addWidget(window)
    grid = window.view("Timeline").grid
    paints: list[bool] = []
    grid.painted.connect(paints.append)
    started: list[bool] = []
    listeners = grid.receivers(SIGNAL("painted(bool)"))
    after_first_screen(window, lambda: started.append(any(paints)), limit_ms=60_000)
    assert started == []  # not with the window: after its first screen
    assert grid.receivers(SIGNAL("painted(bool)")) == listeners + 1
    window.show()
    qtbot.waitUntil(lambda: bool(started), timeout=20000)
    assert started == [True]  # a complete paint came first
    grid.viewport().update()
    qtbot.waitUntil(lambda: len(paints) > 1, timeout=20000)
    qtbot.wait(50)
    assert started == [True]  # once
    assert grid.receivers(SIGNAL("painted(bool)")) == listeners  # scrolling is not watched
    # a window with no photo grid (or one slow to fill) starts it after the limit
    bare = QWidget()
    qtbot.addWidget(bare)
    late: list[int] = []
    after_first_screen(bare, lambda: late.append(1), limit_ms=50)
    qtbot.waitUntil(lambda: late == [1], timeout=20000)
