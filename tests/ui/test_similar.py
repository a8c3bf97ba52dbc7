""" "Find Similar Photos": the timeline's menu opens the Search view on smart-search neighbours."""

from __future__ import annotations

from pathlib import Path

import pytest

from photodesk.core import Library
from photodesk.core.inference.models import Models
from photodesk.ui.main_window import MainWindow
from tests.core.test_smart_search import COLOURS, FakeClip, photo


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def _import(lib: Library, src: Path) -> dict[str, int]:
    lib.jobs.run(lib.jobs.enqueue("import", None, {"paths": [str(src)]}))
    assert lib.jobs.run_until_idle(timeout=120)
    return {Path(lib.assets.get(i).path).name: int(i) for i in lib.assets.ids()}


def test_find_similar_shows_the_lookalikes_most_similar_first(
    qtbot, library: Library, tmp_path: Path
):
    src = tmp_path / "src"
    photo(src / "sand.jpg", COLOURS["beach"], "2021:07:01 10:00:00")
    photo(src / "dune.jpg", (215, 180, 80), "2018:07:01 10:00:00")
    photo(src / "sand-old.jpg", (190, 150, 110), "2019:07:01 10:00:00")
    photo(src / "trees.jpg", COLOURS["forest"], "2023:05:01 10:00:00")
    library.attach_ml(Models(image=FakeClip(), text=FakeClip()))
    names = _import(library, src)
    window = MainWindow(library, restore=False)
    qtbot.addWidget(window)
    window.show()
    window.show_section("Timeline")
    body = window.views["Timeline"].body
    qtbot.waitUntil(lambda: body.model.rowCount() == 4, timeout=20000)
    body.select_ids([names["sand.jpg"]])
    action = next(a for a in body.build_menu().actions() if a.text() == "Find Similar Photos")
    assert action.isEnabled()
    action.trigger()
    search = window.views["Search"]
    assert window.stack.currentWidget() is search
    qtbot.waitUntil(lambda: "look like this one" in search.status.text(), timeout=20000)
    # The grid fills in from its own thread-pool read: wait until it shows the results.
    qtbot.waitUntil(lambda: search.results and search.grid.ids() == search.results, timeout=20000)
    got = search.grid.ids()
    assert got[:2] == [names["dune.jpg"], names["sand-old.jpg"]]  # closest colour first
    assert names["sand.jpg"] not in got
    body.select_ids([names["sand.jpg"], names["trees.jpg"]])
    action = next(a for a in body.build_menu().actions() if a.text() == "Find Similar Photos")
    assert not action.isEnabled()  # one photo at a time


def test_without_smart_search_the_menu_has_no_find_similar(qtbot, library: Library, tmp_path: Path):
    photo(tmp_path / "src" / "sand.jpg", COLOURS["beach"], "2021:07:01 10:00:00")
    names = _import(library, tmp_path / "src")
    window = MainWindow(library, restore=False)
    qtbot.addWidget(window)
    window.show_section("Timeline")
    body = window.views["Timeline"].body
    qtbot.waitUntil(lambda: body.model.rowCount() == 1, timeout=20000)
    body.select_ids([names["sand.jpg"]])
    assert "Find Similar Photos" not in [a.text() for a in body.build_menu().actions()]
