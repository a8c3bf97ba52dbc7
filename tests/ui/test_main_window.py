"""The desktop window opens on a library, reads it off the GUI thread, and shows what is there."""

from __future__ import annotations

from pathlib import Path

from photodesk.core import Library
from photodesk.ui.main_window import MainWindow
from tests.conftest import make_jpeg


def test_empty_library_shows_a_friendly_empty_state(
    qtbot, library: Library, tmp_path: Path
) -> None:
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.headline.text() == "Your library is empty", timeout=5000)
    assert "import" in window.detail.text()
    out = tmp_path / "empty-state.png"
    assert window.grab().save(str(out))
    assert out.stat().st_size > 1000


def test_a_library_with_photos_shows_its_size(qtbot, library: Library, tmp_path: Path) -> None:
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i, when=f"2019:0{i + 1}:01 10:00:00")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    window = MainWindow(library)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.headline.text() == "3 photos and videos", timeout=5000)
    assert "2019" in window.detail.text()
