"""The search view: typing and chips narrow the grid, sort, change events, smart-search notice."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.search import FILTERS, SearchView
from tests.conftest import make_jpeg

PARIS = (48.8566, 2.3522)


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    src = tmp_path / "in"
    make_jpeg(src / "eiffel.jpg", gps=PARIS, seed=1, when="2023:07:04 10:00:00")
    make_jpeg(src / "street.jpg", seed=2, make="NIKON", model="D70", when="2021:01:01 10:00:00")
    make_jpeg(src / "beach.jpg", seed=3, when="2020:08:01 09:00:00")
    library.importer.import_paths([src], workers=1)
    return library


@pytest.fixture
def view(qtbot, lib: Library) -> Iterator[SearchView]:
    bridge = Bridge(lib)
    widget = SearchView(lib, bridge)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    widget.activate()
    yield widget
    widget.close()
    bridge.close()
    QThreadPool.globalInstance().waitForDone(5000)


def names(lib: Library) -> dict[str, int]:
    return {Path(a.path).name: int(a.id) for a in lib.assets.list()}


def until(qtbot, condition: Callable[[], object]) -> None:
    """Wait for ``condition`` however long a loaded machine takes: no clock of its own (a hang is
    ended by the suite's pytest timeout), so no test here depends on the machine's speed."""
    while not condition():
        qtbot.wait(10)


def settle(qtbot, view: SearchView, expected: Sequence[int]) -> None:
    until(qtbot, lambda: sorted(view.grid.ids()) == sorted(expected))


def test_everything_shows_until_something_is_typed(qtbot, view: SearchView, lib: Library):
    settle(qtbot, view, lib.assets.ids())
    assert "Everything" in view.status.text()
    assert not view.smart_note.isVisible()  # nothing typed: nothing to say yet


def test_typing_searches_and_says_smart_search_is_missing(qtbot, view, lib: Library):
    n = names(lib)
    settle(qtbot, view, lib.assets.ids())
    qtbot.keyClicks(view.field, "paris")
    settle(qtbot, view, [n["eiffel.jpg"]])
    assert view.status.text() == "1 photo"
    assert view.smart_note.isVisible()
    assert "Smart search needs the ML models" in view.smart_note.text()
    view.field.clear()
    settle(qtbot, view, lib.assets.ids())


def test_chips_filter_and_come_off(qtbot, view: SearchView, lib: Library):
    n = names(lib)
    settle(qtbot, view, lib.assets.ids())
    assert set(FILTERS) >= {"person", "place", "camera", "lens", "dates", "kind", "album"}
    view.add_filter("camera", "nikon")
    settle(qtbot, view, [n["street.jpg"]])
    view.remove_filter("camera")
    view.add_filter("dates", (date(2020, 1, 1), date(2021, 1, 1)))  # the last day counts
    settle(qtbot, view, [n["street.jpg"], n["beach.jpg"]])
    view.remove_filter("dates")
    view.add_filter("place", "France")
    settle(qtbot, view, [n["eiffel.jpg"]])
    view.remove_filter("place")
    lib.assets.set_favorite([n["beach.jpg"]])
    view.add_filter("favorite")
    settle(qtbot, view, [n["beach.jpg"]])
    view.add_filter("kind", "video")
    settle(qtbot, view, [])
    assert view.current_query().kind == "video"
    assert view.current_query().favorite is True
    view.remove_filter("kind")
    view.remove_filter("favorite")
    settle(qtbot, view, lib.assets.ids())
    view.add_filter("min_rating", 3)
    settle(qtbot, view, [])
    assert view.current_query().min_rating == 3


def test_completion_offers_what_the_library_has(qtbot, view: SearchView, lib: Library):
    lib.albums.create("Holidays")
    until(qtbot, lambda: "Holidays" in view.facets.albums)
    chip = view.add_filter("album")
    box = chip.editors[0]
    assert [box.itemText(i) for i in range(box.count())] == ["Holidays"]  # type: ignore[attr-defined]


def test_facets_asked_before_a_change_never_replace_newer_ones(
    qtbot, view: SearchView, lib: Library, monkeypatch: pytest.MonkeyPatch
):
    until(qtbot, lambda: QThreadPool.globalInstance().activeThreadCount() == 0)
    real = view.search.facets
    late = threading.Event()
    calls: list[int] = []

    def facets():  # the first load (before the album) answers last
        calls.append(1)
        first = len(calls) == 1
        found = real()
        if first:
            late.wait(20)
        return found

    monkeypatch.setattr(view.search, "facets", facets)
    view.load_facets()
    until(qtbot, lambda: calls)  # it has read the library: no album yet
    lib.albums.create("Holidays")  # the change loads the facets again
    until(qtbot, lambda: "Holidays" in view.facets.albums)
    late.set()
    QThreadPool.globalInstance().waitForDone(20000)
    qtbot.wait(50)  # the stale answer is delivered, and dropped
    assert "Holidays" in view.facets.albums


def test_relevance_keeps_the_ranked_order(qtbot, view: SearchView, lib: Library):
    n = names(lib)
    lib.tags.add([n["beach.jpg"]], "Trips/Paris")  # a whole tag name beats a city match
    view.field.setText("paris")
    settle(qtbot, view, [n["eiffel.jpg"], n["beach.jpg"]])
    assert view.grid.ids() == [n["eiffel.jpg"], n["beach.jpg"]]  # by date, newest first
    view.sort_box.setCurrentIndex(view.sort_box.findData("relevance"))
    until(qtbot, lambda: view.grid.ids() == [n["beach.jpg"], n["eiffel.jpg"]])


def test_a_write_refreshes_the_results(qtbot, view: SearchView, lib: Library):
    n = names(lib)
    view.field.setText("sunny")
    settle(qtbot, view, [])
    lib.tags.add([n["street.jpg"]], "Weather/Sunny")  # published as a change event
    settle(qtbot, view, [n["street.jpg"]])


def test_smart_search_notice_goes_when_the_models_are_there(qtbot, view, lib: Library):
    class Clip:
        def available(self) -> bool:
            return True

        def rank(self, text: str, *, candidates: Sequence[int]) -> list[tuple[int, float]]:
            return [(candidates[-1], 0.3)] if candidates else []

    view.search.attach_semantic(Clip())
    view.field.setText("a dog in the snow")
    view.run()
    until(qtbot, lambda: len(view.grid.ids()) == 1)
    assert not view.smart_note.isVisible()


def test_enter_opens_the_viewer_on_a_result(qtbot, view: SearchView, lib: Library):
    settle(qtbot, view, lib.assets.ids())
    view.grid.setFocus()
    view.grid.setCurrentIndex(view.grid.model().index(1, 0))
    with qtbot.waitSignal(view.open_assets, timeout=20000) as opened:
        qtbot.keyClick(view.grid, Qt.Key.Key_Return)
    ids, index = opened.args
    assert ids == view.grid.ids() and index == 1


def test_an_unrelated_write_keeps_the_grid_as_it_is(qtbot, view: SearchView, lib: Library):
    n = names(lib)
    view.field.setText("paris")
    settle(qtbot, view, [n["eiffel.jpg"]])
    resets: list[int] = []
    view.grid.model().modelReset.connect(lambda: resets.append(1))
    generation = view._generation
    lib.assets.set_rating([n["eiffel.jpg"]], 3)  # still matches: same results
    until(qtbot, lambda: view._generation > generation)
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(100)
    assert resets == []  # no reset: scroll position and selection survive
