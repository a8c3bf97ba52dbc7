"""The People view: the catalog reaches the grid, actions write to it, change events refresh it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import QApplication

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.people import PeopleView
from tests.core.test_people import Built, build_people

WAIT = 20_000


@pytest.fixture
def built(library: Library, corpus: Path) -> Built:
    return build_people(library, corpus, name=("Barack Obama", "Kit Harington"))


@pytest.fixture
def view(qtbot, built: Built) -> Iterator[PeopleView]:
    bridge = Bridge(built.lib)
    widget = PeopleView(built.lib, bridge)
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    widget.activate()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3, timeout=WAIT)
    yield widget
    bridge.close()


def names(view: PeopleView) -> list[str]:
    return [p.name for p in view.model.people]


def row_of(view: PeopleView, person_id: int) -> QModelIndex:
    return view.model.index(view.model.row_of(person_id))


def faces_loaded(view: PeopleView) -> bool:
    decorations = [view.model.index(r).data(Qt.ItemDataRole.DecorationRole) for r in range(3)]
    return all(isinstance(d, QPixmap) and not d.isNull() for d in decorations)


def test_people_reach_the_grid_named_first_with_their_faces(qtbot, view: PeopleView, tmp_path):
    assert names(view) == ["Barack Obama", "Kit Harington", ""]
    assert [p.photo_count for p in view.model.people] == [4, 2, 3]
    assert view.summary.text() == "2 named · 1 to name"
    qtbot.waitUntil(lambda: faces_loaded(view), timeout=WAIT)
    view.grid.viewport().update()
    qtbot.wait(50)
    out = Path(os.environ.get("PHOTODESK_SCREENSHOTS", tmp_path)) / "people-view.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(out))
    assert out.stat().st_size > 10_000


def test_naming_in_place_writes_the_catalog_and_refreshes(qtbot, view: PeopleView, built: Built):
    biden = built.person["Joe Biden"]
    view.grid.setCurrentIndex(row_of(view, biden))
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_F2)
    editor = view.grid.indexWidget(row_of(view, biden)) or view.grid.focusWidget()
    assert editor is not None and editor is not view.grid
    qtbot.keyClicks(editor, "Joe Biden")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: names(view)[:2] == ["Barack Obama", "Joe Biden"], timeout=WAIT)
    assert built.people.find("Joe Biden") == biden


def test_a_taken_name_offers_a_merge(qtbot, view: PeopleView, built: Built, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(view, "ask", lambda question, _action: asked.append(question) or True)
    view.rename(built.person["Joe Biden"], "Kit Harington")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)
    assert "already someone" in asked[0]
    assert (view.model.people[0].name, view.model.people[0].photo_count) == ("Kit Harington", 5)


def test_dropping_a_person_onto_another_merges_them(qtbot, view: PeopleView, built: Built):
    kit, biden = built.person["Kit Harington"], built.person["Joe Biden"]
    data = view.model.mimeData([row_of(view, biden)])
    assert view.model.canDropMimeData(data, Qt.DropAction.MoveAction, -1, -1, row_of(view, kit))
    assert not view.model.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    view.model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, row_of(view, kit))
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)  # no question: unnamed
    assert [(p.name, p.photo_count) for p in view.model.people] == [
        ("Kit Harington", 5),
        ("Barack Obama", 4),
    ]


def test_a_real_drop_on_the_grid_merges(qtbot, view: PeopleView, built: Built):
    kit, biden = built.person["Kit Harington"], built.person["Joe Biden"]
    data = view.model.mimeData([row_of(view, biden)])
    target = view.grid.visualRect(row_of(view, kit)).center()
    assert view.grid.dragEnabled() and view.grid.viewport().acceptDrops()
    args = (Qt.DropAction.MoveAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    QApplication.sendEvent(view.grid.viewport(), QDragEnterEvent(target, *args))
    move = QDragMoveEvent(target, *args)
    QApplication.sendEvent(view.grid.viewport(), move)
    assert move.isAccepted()
    QApplication.sendEvent(view.grid.viewport(), QDropEvent(QPointF(target), *args))
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)
    assert built.people.list()[0].name == "Kit Harington"


def test_merging_two_named_people_asks_first(qtbot, view: PeopleView, built: Built, monkeypatch):
    obama, kit = built.person["Barack Obama"], built.person["Kit Harington"]
    monkeypatch.setattr(view, "ask", lambda _q, _a: False)
    view._on_merge_requested(kit, obama)
    qtbot.wait(300)
    assert view.model.rowCount() == 3
    monkeypatch.setattr(view, "ask", lambda _q, _a: True)
    monkeypatch.setattr(view, "choose", lambda _t, _p, items: items[0])  # Barack Obama
    view.merge_into_chosen(kit)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)
    assert len(built.people.photos(obama)) == 6


def test_hiding_a_person_and_showing_hidden_ones(qtbot, view: PeopleView, built: Built):
    kit = built.person["Kit Harington"]
    view.hide_person(kit)
    qtbot.waitUntil(lambda: names(view) == ["Barack Obama", ""], timeout=WAIT)
    view.show_hidden.setChecked(True)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=WAIT)
    assert view.model.people[view.model.row_of(kit)].hidden


def test_a_write_elsewhere_refreshes_the_grid(qtbot, view: PeopleView, built: Built):
    built.people.rename(built.person["Kit Harington"], "Jon Snow")  # e.g. from the CLI's job
    qtbot.waitUntil(lambda: "Jon Snow" in names(view), timeout=WAIT)


def test_a_person_opens_on_their_photos(qtbot, view: PeopleView, built: Built):
    obama = built.person["Barack Obama"]
    view.grid.setCurrentIndex(row_of(view, obama))
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_Return)
    page = view.person_page
    assert view.pages.currentWidget() is page
    qtbot.waitUntil(lambda: len(page.model.ids) == 4, timeout=WAIT)
    assert page.name.text() == "Barack Obama" and page.count.text() == "4 photos"
    assert page.model.ids == built.people.photos(obama)
    with qtbot.waitSignal(view.open_assets, timeout=WAIT) as opened:
        page.photos.activated.emit(page.model.index(1))
    assert opened.args == [page.model.ids, 1]
    qtbot.waitUntil(
        lambda: page.model.index(0).data(Qt.ItemDataRole.DecorationRole) is not None, timeout=WAIT
    )
    page.photos.setFocus()
    qtbot.keyClick(page.photos, Qt.Key.Key_Escape)
    assert view.pages.currentIndex() == 0


def test_this_is_not_him_takes_the_face_off_and_remembers(qtbot, view: PeopleView, built: Built):
    obama = built.person["Barack Obama"]
    view.open_person(obama)
    page = view.person_page
    qtbot.waitUntil(lambda: len(page.model.ids) == 4, timeout=WAIT)
    wrong = built.assets["facerec__obama2.jpg"]
    page.not_this_person([wrong])
    qtbot.waitUntil(lambda: len(page.model.ids) == 3, timeout=WAIT)
    assert wrong not in page.model.ids and page.count.text() == "3 photos"
    assert built.people.rejected(built.faces[("facerec__obama2.jpg", "Barack Obama")]) == {obama}
    qtbot.waitUntil(lambda: view.model.people[0].photo_count == 3, timeout=WAIT)


def test_the_cover_face_is_chosen_from_a_photo(qtbot, view: PeopleView, built: Built):
    obama = built.person["Barack Obama"]
    view.open_person(obama)
    page = view.person_page
    qtbot.waitUntil(lambda: len(page.model.ids) == 4, timeout=WAIT)
    page.use_as_cover(built.assets["facerec__two_people.jpg"])
    face = built.faces[("facerec__two_people.jpg", "Barack Obama")]
    qtbot.waitUntil(lambda: view.model.people[0].cover_face_id == face, timeout=WAIT)


def test_renaming_on_the_person_page(qtbot, view: PeopleView, built: Built):
    biden = built.person["Joe Biden"]
    view.open_person(biden)
    page = view.person_page
    qtbot.waitUntil(lambda: len(page.model.ids) == 3, timeout=WAIT)
    page.name.setFocus()
    qtbot.keyClicks(page.name, "Joe Biden")
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Joe Biden" in names(view), timeout=WAIT)


def test_an_empty_library_says_what_will_come(qtbot, library: Library):
    from tests.core.test_people import people_of

    people_of(library)
    bridge = Bridge(library)
    widget = PeopleView(library, bridge)
    qtbot.addWidget(widget)
    widget.show()
    widget.activate()
    qtbot.waitUntil(lambda: widget.empty.isVisible(), timeout=WAIT)
    assert not widget.grid.isVisible()
    bridge.close()
