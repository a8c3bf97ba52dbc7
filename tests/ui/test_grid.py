"""Grid views (Favourites, Archive, Trash, embedded grids), the grid model, layout and cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.models import asset_grid
from photodesk.ui.models.asset_grid import AssetGridModel
from photodesk.ui.models.grid_rows import DayGroup
from photodesk.ui.thumbs import ThumbnailCache
from photodesk.ui.views import grid as grid_module
from photodesk.ui.views.grid import ArchiveView, AssetGridView, FavouritesView, TrashView
from photodesk.ui.views.timeline import TimelineView
from photodesk.ui.widgets.thumb_delegate import GridLayout
from tests.conftest import make_jpeg


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    for i in range(9):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", when=f"2024:0{1 + i % 3}:1{i} 12:00:00", seed=i)
    library.importer.import_paths([tmp_path / "in"], workers=1)
    return library


def _show(qtbot, view: AssetGridView) -> AssetGridView:
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.model.is_complete(), timeout=20000)
    return view


def _select(view: AssetGridView, ids: list[int]) -> None:
    view.select_ids(ids)
    assert sorted(view.selected_ids()) == sorted(ids)


def test_favourites_follow_the_timeline(lib: Library, qtbot) -> None:
    bridge = Bridge(lib)
    whole = _show(qtbot, TimelineView(lib, bridge))  # type: ignore[arg-type]
    timeline = whole.body
    favourites = _show(qtbot, FavouritesView(lib, bridge))
    assert favourites.model.rowCount() == 0
    assert favourites.grid.empty_text.startswith("No favourites")
    chosen = lib.assets.ids()[1:3]
    _select(timeline, chosen)
    qtbot.keyClick(timeline.grid, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: sorted(favourites.model.ids()) == sorted(chosen), timeout=20000)
    _select(favourites, chosen[:1])
    qtbot.keyClick(favourites.grid, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: favourites.model.ids() == chosen[1:], timeout=20000)


def test_archive_moves_out_of_the_timeline_and_back(lib: Library, qtbot) -> None:
    bridge = Bridge(lib)
    whole = _show(qtbot, TimelineView(lib, bridge))  # type: ignore[arg-type]
    timeline = whole.body
    archive = _show(qtbot, ArchiveView(lib, bridge))
    chosen = lib.assets.ids()[:2]
    _select(timeline, chosen)
    menu = timeline.build_menu()
    next(a for a in menu.actions() if a.text() == "Archive").trigger()
    qtbot.waitUntil(lambda: sorted(archive.model.ids()) == sorted(chosen), timeout=20000)
    qtbot.waitUntil(lambda: not set(chosen) & set(timeline.model.ids()), timeout=20000)
    _select(archive, chosen)
    menu = archive.build_menu()
    next(a for a in menu.actions() if a.text() == "Unarchive").trigger()
    qtbot.waitUntil(lambda: archive.model.rowCount() == 0, timeout=20000)
    qtbot.waitUntil(lambda: timeline.model.ids() == lib.assets.ids(), timeout=20000)


def test_trash_restores_with_delete_and_empties(
    lib: Library, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge = Bridge(lib)
    trash = _show(qtbot, TrashView(lib, bridge))
    ids = lib.assets.ids()
    lib.assets.trash(ids[:3])
    qtbot.waitUntil(lambda: trash.model.rowCount() == 3, timeout=20000)
    assert all(trash.model.item(r).trashed for r in range(3))
    _select(trash, [ids[0]])
    qtbot.keyClick(trash.grid, Qt.Key.Key_Delete)  # in the Trash, Delete restores
    qtbot.waitUntil(lambda: trash.model.rowCount() == 2, timeout=20000)
    assert lib.assets.get(ids[0]).trashed_at is None
    _select(trash, [ids[1]])
    trash.restore_button.click()
    qtbot.waitUntil(lambda: trash.model.rowCount() == 1, timeout=20000)
    monkeypatch.setattr(grid_module, "confirm", lambda *args: True)
    trash.empty_button.click()
    qtbot.waitUntil(lambda: trash.model.rowCount() == 0, timeout=20000)
    assert ids[2] not in lib.assets.ids(AssetQuery(trashed=True, archived=None))
    assert len(lib.assets.ids()) == len(ids) - 1


def test_an_embedded_grid_shows_a_query_or_ids_in_the_order_given(lib: Library, qtbot) -> None:
    ids = lib.assets.ids()
    album = lib.albums.create("Trip")
    lib.albums.add(album, ids[:4])
    view = _show(
        qtbot, AssetGridView(lib, Bridge(lib), query=AssetQuery(album="Trip"), title="Trip")
    )
    assert view.model.ids() == ids[:4] and view.heading.text() == "Trip"
    lib.albums.add(album, [ids[6]])
    qtbot.waitUntil(lambda: ids[6] in view.model.ids(), timeout=20000)
    picked = [ids[5], ids[0], ids[3]]
    view.set_ids(picked, by_date=False)
    qtbot.waitUntil(lambda: view.model.ids() == picked, timeout=20000)
    assert not view.model.grouped and len(view.model.groups()) == 1
    assert not view.scrubber.isVisible()
    view.set_ids(picked)
    qtbot.waitUntil(lambda: view.model.ids() == sorted(picked, reverse=True), timeout=20000)
    lib.assets.trash([ids[0]])
    qtbot.waitUntil(lambda: ids[0] not in view.model.ids(), timeout=20000)


def test_the_model_pages_in_and_keeps_selection_through_changes(
    lib: Library, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(asset_grid, "FIRST_PAGE", 2)
    monkeypatch.setattr(asset_grid, "PAGE", 3)
    model = AssetGridModel(lib)
    model.reload()
    qtbot.waitUntil(model.is_complete, timeout=20000)
    assert model.ids() == lib.assets.ids()
    assert sum(g.count for g in model.groups()) == model.rowCount() == 9
    sel = QItemSelectionModel(model)
    keep = model.ids()[4]
    sel.select(model.index(4, 0), QItemSelectionModel.SelectionFlag.Select)
    make_jpeg(tmp_path / "more" / "a.jpg", when="2030:01:01 00:00:00", seed=50)
    make_jpeg(tmp_path / "more" / "b.jpg", when="2000:01:01 00:00:00", seed=51)
    report = lib.importer.import_paths([tmp_path / "more"], workers=1)
    model.on_changed(Changes(assets=frozenset(report.asset_ids), assets_added=True))
    qtbot.waitUntil(lambda: model.rowCount() == 11, timeout=20000)
    assert model.ids() == lib.assets.ids()
    assert [model.item(i.row()).id for i in sel.selectedIndexes()] == [keep]
    lib.assets.trash([model.ids()[0]])
    model.on_changed(Changes(assets=frozenset({model.ids()[0]})))
    qtbot.waitUntil(lambda: model.rowCount() == 10, timeout=20000)
    assert [model.item(i.row()).id for i in sel.selectedIndexes()] == [keep]


def test_a_stack_is_one_tile_with_a_badge(lib: Library, qtbot) -> None:
    from sqlalchemy import insert, update

    from photodesk.core.catalog.db.schema import Asset, Stack

    a, b = lib.assets.ids()[:2]
    with lib.write() as s:
        stack = s.execute(
            insert(Stack).values(owner_id=lib.owner_id, primary_asset_id=a).returning(Stack.id)
        ).scalar_one()
        s.execute(update(Asset).where(Asset.id.in_([a, b])).values(stack_id=stack))
    view = _show(qtbot, AssetGridView(lib, Bridge(lib)))
    assert view.model.rowCount() == 8 and b not in view.model.ids()
    assert view.model.item(view.model.row_of(a)).stack_size == 2
    _select(view, [a])
    menu = view.build_menu()
    with qtbot.waitSignal(view.open_assets, timeout=5000) as opened:
        next(act for act in menu.actions() if "of This Stack" in act.text()).trigger()
    assert opened.args == [[a, b], 0]  # the stack expands in the viewer, its top first
    qtbot.keyClick(view.grid, Qt.Key.Key_Delete)  # the whole stack goes to the Trash
    qtbot.waitUntil(lambda: lib.assets.get(b).trashed_at is not None, timeout=20000)


def test_grid_layout_places_headers_and_tiles() -> None:
    from datetime import date

    groups = [DayGroup(date(2024, 5, 2), 0, 5), DayGroup(date(2024, 5, 1), 5, 2)]
    groups.append(DayGroup(date(2024, 4, 30), 7, 3))
    lay = GridLayout(groups, width=424, target=100)
    assert lay.cols == 4 and lay.month_starts == [True, False, True]
    assert lay.months == {202405: (0, 7), 202404: (7, 3)}
    for row in range(10):
        rect = lay.rect_of(row)
        assert lay.row_at(rect.center().x(), rect.center().y()) == row
    assert lay.header_at(50, lay.tops[1] + 5) == 1
    assert lay.vertical(1, 1) == 4  # down to a shorter line: its last tile
    assert lay.vertical(4, 1) == 5 and lay.vertical(5, -1) == 4 and lay.vertical(6, 1) == 8
    assert lay.vertical(2, 3) == 9 and lay.vertical(9, -9) == 2
    band = QRect(
        QPoint(lay.rect_of(1).center().x(), lay.rect_of(1).center().y()),
        QPoint(lay.rect_of(2).center().x(), lay.rect_of(6).center().y()),
    )
    assert lay.rows_in_rect(band) == [(1, 2), (6, 6)]  # columns 1-2 of each line it crosses
    assert list(lay.visible_rows(0, lay.height)) == list(range(10))


def test_thumbnail_cache_is_bounded_and_loads_off_thread(library: Library, qtbot) -> None:
    checksums = [f"{i:040x}" for i in range(1, 6)]
    for c in checksums:
        path = library.thumbnails.thumb_path(c)
        path.parent.mkdir(parents=True, exist_ok=True)
        image = QImage(256, 170, QImage.Format.Format_RGB32)
        image.fill(QColor(200, 100, 50))
        assert image.save(str(path), "JPEG")
    cache = ThumbnailCache(library, budget_bytes=3 * 64 * 64 * 4)
    loaded: list[int] = []
    cache.ready.connect(loaded.extend)
    for i, c in enumerate(checksums):
        assert cache.get(i, c, 64) is None  # a placeholder first
    qtbot.waitUntil(lambda: len(loaded) == 5, timeout=20000)
    assert cache.size_bytes <= cache.budget_bytes
    kept = [c for c in checksums if cache.cached(c, 64) is not None]
    assert len(kept) == 3 and cache.cached(kept[0], 64).width() == 64
    assert cache.get(0, kept[0], 64) is not None  # a hit makes it the most recently used
    gone = next(c for c in checksums if c not in kept)
    cache.get(1, gone, 64)
    qtbot.waitUntil(lambda: cache.cached(gone, 64) is not None, timeout=20000)
    assert cache.cached(kept[0], 64) is not None
    assert sum(cache.cached(c, 64) is None for c in kept[1:]) == 1
    assert cache.get(9, "ab" * 20, 64) is None
    qtbot.waitUntil(lambda: cache.is_missing("ab" * 20), timeout=20000)


def test_a_change_while_switching_to_a_plain_list_refreshes_without_error(
    lib: Library, qtbot
) -> None:
    # Grouped rows are indexed by sort key, a plain list by row: a refresh landing between the
    # switch and the reload once compared the two ("'<' not supported: tuple and int").
    model = AssetGridModel(lib, None, query=AssetQuery())
    model.reload()
    qtbot.waitUntil(model.is_complete, timeout=20000)
    ids = model.ids()
    model.set_ids(list(reversed(ids)), by_date=False)
    model.on_changed(Changes(assets=frozenset(ids[:2])))
    model._on_debounce()  # the refresh, before the plain list arrives
    qtbot.waitUntil(lambda: model.ids() == list(reversed(ids)), timeout=20000)
    qtbot.wait(200)  # the refresh's read lands
    assert model.ids() == list(reversed(ids))
