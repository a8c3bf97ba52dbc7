"""Albums, tags and folders views: the catalog reaches the views, edits reach the catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt, QThreadPool

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.albums import AlbumsView
from photodesk.ui.views.folders import FoldersView
from photodesk.ui.views.tags import TAG_MIME, TagsView
from photodesk.ui.widgets.photo_grid import ASSET_IDS_MIME, ids_mime, mime_ids
from tests.conftest import make_jpeg


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    src = tmp_path / "in"
    make_jpeg(src / "a.jpg", seed=1, when="2021:01:01 10:00:00")
    make_jpeg(src / "trip" / "b.jpg", seed=2, when="2022:01:01 10:00:00")
    make_jpeg(src / "trip" / "c.jpg", seed=3, when="2023:01:01 10:00:00")
    make_jpeg(src / "trip" / "day2" / "d.jpg", seed=4, when="2023:01:02 10:00:00")
    library.importer.import_paths([src], workers=1)
    return library


@pytest.fixture
def bridge(lib: Library) -> Iterator[Bridge]:
    bridge = Bridge(lib)
    yield bridge
    bridge.close()
    QThreadPool.globalInstance().waitForDone(5000)


def shown(qtbot, view, cls=None):  # type: ignore[no-untyped-def]
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.tree_model.rowCount() > 0, timeout=20000)
    return view


def names(lib: Library) -> dict[str, int]:
    return {Path(a.path).name: int(a.id) for a in lib.assets.list()}


def grid_is(qtbot, view, ids) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: sorted(view.grid.ids()) == sorted(ids), timeout=20000)


def test_asset_ids_travel_as_json():
    data = ids_mime([3, 1, 2])
    assert data.hasFormat(ASSET_IDS_MIME)
    assert mime_ids(data) == [3, 1, 2]
    assert mime_ids(QMimeData()) == []


# ----- folders -----------------------------------------------------------------------------
def test_folders_tree_with_counts_and_each_folder_a_view(qtbot, lib, bridge, tmp_path: Path):
    view = shown(qtbot, FoldersView(lib, bridge))
    n = names(lib)
    top = str(tmp_path / "in")
    assert view.selected_key() == top
    assert view.counts == {top: 4, f"{top}/trip": 3, f"{top}/trip/day2": 1}
    assert view.tree.isExpanded(view.items[top].index())
    grid_is(qtbot, view, n.values())
    view.select_key(f"{top}/trip/day2")
    grid_is(qtbot, view, [n["d.jpg"]])
    assert "day2" in view.header.text() and "1 photo" in view.header.text()
    # An import elsewhere appears without a restart.
    make_jpeg(tmp_path / "in" / "new" / "e.jpg", seed=9)
    lib.importer.import_paths([tmp_path / "in"], workers=1)
    qtbot.waitUntil(lambda: f"{top}/new" in view.items, timeout=20000)
    assert view.selected_key() == f"{top}/trip/day2"  # the selection stays put


def test_grid_tiles_drag_out_as_asset_ids(qtbot, lib, bridge):
    view = shown(qtbot, FoldersView(lib, bridge))
    grid_is(qtbot, view, names(lib).values())
    model = view.grid.model()
    data = model.mimeData([model.index(0, 0), model.index(2, 0)])
    assert mime_ids(data) == [view.grid.ids()[0], view.grid.ids()[2]]
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled


# ----- tags --------------------------------------------------------------------------------
def drop_tag(view: TagsView, path: str, onto: str | None) -> bool:
    data = QMimeData()
    data.setData(TAG_MIME, path.encode())
    target = view.items[onto].index() if onto else view.tree_model.index(-1, -1)
    return view.tree_model.dropMimeData(data, Qt.DropAction.CopyAction, -1, -1, target)


def test_tags_tree_counts_and_photos_below(qtbot, lib, bridge):
    n = names(lib)
    lib.tags.add([n["a.jpg"], n["b.jpg"]], "Pets")
    lib.tags.add([n["b.jpg"], n["c.jpg"]], "Pets/Dog")
    view = shown(qtbot, TagsView(lib, bridge))
    assert view.counts == {"Pets": 3, "Pets/Dog": 2}
    assert view.items["Pets/Dog"].parent() is view.items["Pets"]
    view.select_key("Pets")
    grid_is(qtbot, view, [n["a.jpg"], n["b.jpg"], n["c.jpg"]])  # the tag and below it
    view.select_key("Pets/Dog")
    grid_is(qtbot, view, [n["b.jpg"], n["c.jpg"]])
    # Tagging elsewhere refreshes the counts and the grid.
    lib.tags.add([n["d.jpg"]], "Pets/Dog")
    qtbot.waitUntil(lambda: view.counts.get("Pets/Dog") == 3, timeout=20000)
    grid_is(qtbot, view, [n["b.jpg"], n["c.jpg"], n["d.jpg"]])


def test_tags_rename_move_merge_delete_and_drop_photos(qtbot, lib, bridge):
    n = names(lib)
    lib.tags.add([n["a.jpg"]], "Pets/Dog")
    lib.tags.add([n["b.jpg"]], "Animals")
    view = shown(qtbot, TagsView(lib, bridge))
    # Rename in place (F2 / click on the selected item edits the item's text).
    view.items["Pets/Dog"].setText("Puppy")
    qtbot.waitUntil(lambda: "Pets/Puppy" in view.items, timeout=20000)
    assert view.selected_key() == "Pets/Puppy"
    assert lib.assets.get(n["a.jpg"]).tags == ("Pets/Puppy",)
    # Drag a tag onto another: it moves under it.
    assert drop_tag(view, "Pets/Puppy", "Animals")
    qtbot.waitUntil(lambda: "Animals/Puppy" in view.items, timeout=20000)
    assert view.items["Animals/Puppy"].parent() is view.items["Animals"]
    # ... and onto empty space: to the top level.
    assert drop_tag(view, "Animals/Puppy", None)
    qtbot.waitUntil(lambda: "Puppy" in view.items, timeout=20000)
    # Merge.
    view.merge_tag("Puppy", "Animals")
    qtbot.waitUntil(lambda: "Puppy" not in view.items, timeout=20000)
    assert view.counts["Animals"] == 2
    # Photos dropped on a tag get it.
    target = view.items["Pets"].index()
    assert view.tree_model.dropMimeData(
        ids_mime([n["c.jpg"]]), Qt.DropAction.CopyAction, -1, -1, target
    )
    qtbot.waitUntil(lambda: view.counts.get("Pets") == 1, timeout=20000)
    # A clash is reported, not raised; the tree stays as the catalog has it.
    lib.tags.add([n["d.jpg"]], "Pets/Animals")
    view.move_tag("Pets/Animals", None)
    qtbot.waitUntil(lambda: "exists already" in view.notice.text(), timeout=20000)
    qtbot.waitUntil(lambda: "Pets/Animals" in view.items, timeout=20000)
    view.items["Pets"].setText("Animals")  # a rename that clashes: the name goes back
    qtbot.waitUntil(lambda: view.items["Pets"].text() == "Pets", timeout=20000)
    view.delete_tag("Pets")
    qtbot.waitUntil(lambda: "Pets" not in view.items, timeout=20000)
    assert [t.path for t in lib.tags.tree()] == ["Animals"]


def test_tag_items_drag_out_as_their_path(qtbot, lib, bridge):
    lib.tags.add([names(lib)["a.jpg"]], "Places/Paris")
    view = shown(qtbot, TagsView(lib, bridge))
    data = view.tree_model.mimeData([view.items["Places/Paris"].index()])
    assert bytes(data.data(TAG_MIME).data()).decode() == "Places/Paris"


# ----- albums ------------------------------------------------------------------------------
def test_albums_create_fill_cover_sort_remove_rename_delete(qtbot, lib, bridge):
    n = names(lib)
    lib.albums.create("Seed")
    view = shown(qtbot, AlbumsView(lib, bridge))
    view.create_album("Trip")
    qtbot.waitUntil(lambda: "Trip" in view.labels.values(), timeout=20000)
    key = view.selected_key()
    assert key is not None and view.labels[key] == "Trip"  # the new album is selected
    # Drop photos onto the album in the list.
    index = view.items[key].index()
    ids = [n["a.jpg"], n["b.jpg"], n["c.jpg"]]
    assert view.tree_model.dropMimeData(ids_mime(ids), Qt.DropAction.CopyAction, -1, -1, index)
    qtbot.waitUntil(lambda: view.counts.get(key) == 3, timeout=20000)
    grid_is(qtbot, view, ids)
    assert view.grid.ids() == [n["a.jpg"], n["b.jpg"], n["c.jpg"]]  # oldest first
    # Photos of different days in one plain block: no day header over each photo.
    assert not view.grid.grid.grouped and len(view.grid.grid.groups()) == 1
    assert view.items[key].icon() is not None
    # Sort newest first from the header.
    view.sort_box.setCurrentIndex(view.sort_box.findData("desc"))
    view.sort_box.activated.emit(view.sort_box.currentIndex())
    qtbot.waitUntil(lambda: view.grid.ids() == [n["c.jpg"], n["b.jpg"], n["a.jpg"]], timeout=20000)
    assert lib.albums.sort_order(int(key)) == "desc"
    # Cover from the selection.
    view.grid.selectionModel().select(
        view.grid.model().index(1, 0), view.grid.selectionModel().SelectionFlag.ClearAndSelect
    )
    assert view.cover_button.isEnabled() and view.remove_button.isEnabled()
    view.cover_button.click()  # the album's photos are the same: the grid stays as it is
    qtbot.waitUntil(lambda: lib.albums.list()[1].cover_asset_id == n["b.jpg"], timeout=20000)
    # Delete removes the selected photos from the album (they stay in the library).
    view.grid.selectionModel().select(
        view.grid.model().index(1, 0), view.grid.selectionModel().SelectionFlag.ClearAndSelect
    )
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: view.counts.get(key) == 2, timeout=20000)
    grid_is(qtbot, view, [n["a.jpg"], n["c.jpg"]])
    assert len(lib.assets.ids()) == 4
    # Rename in place, then delete.
    view.items[key].setText("Trip 2023")
    qtbot.waitUntil(lambda: view.labels.get(key) == "Trip 2023", timeout=20000)
    view.delete_album(key)
    qtbot.waitUntil(lambda: key not in view.items, timeout=20000)
    assert [a.name for a in lib.albums.list()] == ["Seed"]


def test_album_names_clash_politely(qtbot, lib, bridge):
    lib.albums.create("Trip")
    view = shown(qtbot, AlbumsView(lib, bridge))
    view.create_album("Trip")
    qtbot.waitUntil(lambda: "exists already" in view.notice.text(), timeout=20000)
    assert len(view.items) == 1
