"""The timeline: the model reaches the grid, keys and menus write the catalog, changes come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views import grid as grid_module
from photodesk.ui.views.timeline import TimelineView
from photodesk.ui.widgets.asset_grid import AssetGrid
from photodesk.ui.widgets.thumb_delegate import PAD
from tests.conftest import make_jpeg

DAYS = ["2024:05:02", "2024:05:01", "2024:03:10", "2023:12:24"]
PER_DAY = 4


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    seed = 0
    for day in DAYS:
        for hour in range(PER_DAY):
            make_jpeg(
                tmp_path / "in" / f"p{seed:02d}.jpg", when=f"{day} {10 + hour}:00:00", seed=seed
            )
            seed += 1
    library.importer.import_paths([tmp_path / "in"], workers=1)
    return library


@pytest.fixture
def view(lib: Library, qtbot) -> TimelineView:
    bridge = Bridge(lib)
    view = TimelineView(lib, bridge)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.model.is_complete(), timeout=20000)
    qtbot.waitUntil(lambda: view.grid._last_complete, timeout=20000)
    return view


def _tile_center(grid: AssetGrid, row: int) -> QPoint:
    return grid.visualRect(grid.model().index(row, 0)).center()


def _click(qtbot, grid: AssetGrid, row: int, mods=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, mods, _tile_center(grid, row))


def _double_click(qtbot, grid: AssetGrid, row: int) -> None:
    # QTest's mouseDClick sends no double-click event here: send the sequence a mouse would.
    pos = _tile_center(grid, row)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mousePress(grid.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    global_pos = QPointF(grid.viewport().mapToGlobal(pos))
    double = QMouseEvent(
        QEvent.Type.MouseButtonDblClick,
        QPointF(pos),
        global_pos,
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(grid.viewport(), double)
    qtbot.mouseRelease(grid.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_the_model_reaches_the_grid_grouped_by_day_under_months(
    view: TimelineView, lib: Library, tmp_path: Path
) -> None:
    model = view.model
    assert model.rowCount() == len(DAYS) * PER_DAY
    assert model.ids() == lib.assets.ids()  # newest first, as the core lists them
    assert [g.count for g in model.groups()] == [PER_DAY] * len(DAYS)
    lay = view.grid.layout_
    assert lay.month_starts == [True, False, True, True]  # May twice, then March, December
    assert [m.month for m in view.scrubber.months()] == [202405, 202403, 202312]
    assert view.body.count.text() == "16 items"
    out = tmp_path / "timeline.png"
    assert view.grab().save(str(out))
    assert out.stat().st_size > 5000


def test_rating_keys_favourite_and_the_change_event_refresh_the_tile(
    view: TimelineView, lib: Library, qtbot
) -> None:
    grid, model = view.grid, view.model
    _click(qtbot, grid, 2)
    asset = model.item(2).id
    qtbot.keyClick(grid, Qt.Key.Key_4)
    qtbot.waitUntil(lambda: model.item(2).rating == 4, timeout=20000)
    assert lib.assets.get(asset).rating == 4
    qtbot.keyClick(grid, Qt.Key.Key_0)
    qtbot.waitUntil(lambda: lib.assets.get(asset).rating == 0, timeout=20000)
    qtbot.keyClick(grid, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: model.item(2).favorite, timeout=20000)
    qtbot.keyClick(grid, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: not model.item(2).favorite, timeout=20000)
    assert not lib.assets.get(asset).favorite


def test_delete_trashes_and_the_tile_leaves_without_a_reset(
    view: TimelineView, lib: Library, qtbot
) -> None:
    grid, model = view.grid, view.model
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    _click(qtbot, grid, 0)
    _click(qtbot, grid, 5, Qt.KeyboardModifier.ControlModifier)
    doomed = view.body.selected_ids()
    assert len(doomed) == 2
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: model.rowCount() == len(DAYS) * PER_DAY - 2, timeout=20000)
    assert not set(doomed) & set(model.ids())
    assert all(lib.assets.get(i).trashed_at is not None for i in doomed)
    assert resets == []
    assert sum(g.count for g in model.groups()) == model.rowCount()


def test_enter_and_double_click_open_the_viewer_on_the_whole_sequence(
    view: TimelineView, qtbot
) -> None:
    grid = view.grid
    _click(qtbot, grid, 6)
    with qtbot.waitSignal(view.open_assets, timeout=20000) as opened:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert opened.args == [view.model.ids(), 6]
    with qtbot.waitSignal(view.open_assets, timeout=20000) as opened:
        _double_click(qtbot, grid, 3)
    assert opened.args[1] == 3


def test_selection_click_shift_ctrl_day_header_and_rubber_band(view: TimelineView, qtbot) -> None:
    grid, model = view.grid, view.model
    sel = grid.selectionModel()

    def rows() -> list[int]:
        return sorted(i.row() for i in sel.selectedIndexes())

    _click(qtbot, grid, 1)
    _click(qtbot, grid, 6, Qt.KeyboardModifier.ShiftModifier)
    assert rows() == [1, 2, 3, 4, 5, 6]  # a range in time order, across the day boundary
    _click(qtbot, grid, 3, Qt.KeyboardModifier.ControlModifier)
    assert rows() == [1, 2, 4, 5, 6]
    header = grid.layout_.header_rect(2).center() - QPoint(0, grid.verticalOffset())
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=header)
    assert rows() == list(range(8, 12))  # the whole third day
    # A rubber band from the empty space right of the first day's tiles over its tiles.
    lay = grid.layout_
    right = PAD + lay.cols * lay.pitch - 2
    start = QPoint(right, lay.bodies[0] + 2)
    end = _tile_center(grid, 2)
    qtbot.mousePress(grid.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(grid.viewport(), start + QPoint(-30, 10))
    qtbot.mouseMove(grid.viewport(), end)
    qtbot.mouseRelease(grid.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert rows() == [2, 3]
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(rows()) == model.rowCount()


def test_tag_dialog_album_menu_and_show_in_folder(
    view: TimelineView, lib: Library, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib.tags.add([lib.assets.ids()[-1]], "Places/France/Paris")
    offered: list[list[str]] = []

    def answer(parent: object, title: str, label: str, choices: list[str]) -> str:
        offered.append(choices)
        return "Places/France/Lyon" if title == "Tag" else "Holidays"

    monkeypatch.setattr(grid_module, "ask_text", answer)
    grid = view.grid
    _click(qtbot, grid, 0)
    _click(qtbot, grid, 1, Qt.KeyboardModifier.ShiftModifier)
    ids = view.body.selected_ids()
    qtbot.keyClick(grid, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: "Places/France/Lyon" in lib.assets.get(ids[1]).tags, timeout=20000)
    assert "Places/France/Paris" in offered[0]  # completion from the tag tree
    menu = view.body.build_menu()
    album_menu = next(a.menu() for a in menu.actions() if a.text() == "Add to Album")
    next(a for a in album_menu.actions() if a.text() == "New Album…").trigger()
    qtbot.waitUntil(lambda: lib.assets.get(ids[0]).albums == ("Holidays",), timeout=20000)
    opened: list[str] = []
    monkeypatch.setattr(grid_module.QDesktopServices, "openUrl", lambda url: opened.append(url))
    menu = view.body.build_menu()
    next(a for a in menu.actions() if a.text() == "Show in Folder").trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=20000)
    assert opened[0].toLocalFile() == str(Path(lib.assets.get(ids[0]).path).parent)


def test_ctrl_wheel_zooms_and_the_slider_follows(view: TimelineView, qtbot) -> None:
    grid = view.grid
    before, cols = grid.tile, grid.layout_.cols
    wheel = QWheelEvent(
        QPointF(100, 100),
        QPointF(grid.viewport().mapToGlobal(QPoint(100, 100))),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(grid.viewport(), wheel)
    assert grid.tile > before and view.body.zoom.value() == grid.tile
    assert grid.layout_.cols < cols
    view.body.zoom.setValue(80)
    assert grid.tile == 80 and grid.layout_.cols > cols


def test_scrubber_jumps_to_a_month(view: TimelineView, qtbot) -> None:
    view.resize(900, 300)
    grid = view.grid
    qtbot.waitUntil(lambda: grid.verticalScrollBar().maximum() > 0, timeout=3000)
    with qtbot.waitSignal(grid.position_changed, timeout=2000) as moved:
        qtbot.mouseClick(
            view.scrubber, Qt.MouseButton.LeftButton, pos=QPoint(30, view.scrubber.height() - 12)
        )
    assert moved.args[0] == 202312  # the marker follows to the month jumped to
    offset = grid.verticalOffset()
    shown = grid.layout_.visible_rows(offset, offset + grid.viewport().height())
    assert any(view.model.item(r).taken_at.year == 2023 for r in shown)
    assert grid.verticalScrollBar().value() > 0


def test_an_import_shows_up_in_place_keeping_the_selection(
    view: TimelineView, lib: Library, qtbot, tmp_path: Path
) -> None:
    grid, model = view.grid, view.model
    _click(qtbot, grid, 5)
    chosen = model.item(5).id
    make_jpeg(tmp_path / "more" / "new.jpg", when="2024:05:01 23:00:00", seed=99)
    make_jpeg(tmp_path / "more" / "newest.jpg", when="2025:01:01 09:00:00", seed=98)
    lib.importer.import_paths([tmp_path / "more"], workers=1)
    qtbot.waitUntil(lambda: model.rowCount() == len(DAYS) * PER_DAY + 2, timeout=20000)
    assert model.ids() == lib.assets.ids()
    assert view.body.selected_ids() == [chosen]
    qtbot.waitUntil(lambda: view.scrubber.months()[0].month == 202501, timeout=20000)


def test_a_missing_thumbnail_is_queued_once_and_appears_when_made(
    lib: Library, qtbot, tmp_path: Path
) -> None:
    record = lib.assets.get(lib.assets.ids()[0])
    lib.thumbnails.delete(record.checksum)
    view = TimelineView(lib, Bridge(lib))
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.grid.thumbs.is_missing(record.checksum), timeout=20000)
    qtbot.waitUntil(lambda: _queued(lib) == 1, timeout=20000)
    view.grid.viewport().repaint()
    assert _queued(lib) == 1
    lib.jobs.run_until_idle(timeout=30)
    px = view.model.thumb_px
    qtbot.waitUntil(lambda: view.grid.thumbs.cached(record.checksum, px) is not None, timeout=20000)


def _queued(lib: Library) -> int:
    return next(q.queued for q in lib.jobs.status() if q.name == "thumbnails")


def test_events_as_groups_name_the_titles_and_a_rename_makes_an_album(
    library: Library, qtbot, tmp_path: Path
) -> None:
    from photodesk.ui.event_names import events_setting

    berlin, rome = (52.52, 13.405), (41.9, 12.5)
    shots = [  # newest first: Rome on Saturday, Berlin on Thursday, an undated-place day
        ("2024:07:06 10:00:00", rome),
        ("2024:07:06 11:00:00", rome),
        ("2024:07:04 09:00:00", berlin),
        ("2024:07:04 12:00:00", berlin),
        ("2024:03:01 12:00:00", None),
    ]
    for i, (when, gps) in enumerate(shots):
        make_jpeg(tmp_path / "ev" / f"e{i}.jpg", when=when, gps=gps, seed=40 + i)
    library.importer.import_paths([tmp_path / "ev"], workers=1)
    view = TimelineView(library, Bridge(library))
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.model.is_complete(), timeout=20000)
    grid = view.grid
    months = [grid._title(gi) for gi, s in enumerate(grid.layout_.month_starts) if s]
    assert months == ["July 2024", "March 2024"]  # off by default: month titles

    view.set_events_grouping(True)
    assert events_setting()
    qtbot.waitUntil(lambda: grid.event_titles is not None, timeout=20000)
    lay = grid.layout_
    titles = [grid._title(gi) for gi, s in enumerate(lay.month_starts) if s]
    assert titles[0] == "Saturday in Rome" and titles[1].startswith("Thursday in "), titles
    assert titles[2] == "Friday, 1 March 2024"  # no place: the date
    assert len(titles) == 3 and all(lay.month_starts)  # each day starts its own event here

    # Right-click on Thursday's header: one action names the event and makes the album
    thursday = next(gi for gi, g in enumerate(lay.groups) if g.day and g.day.day == 4)
    menu = view.body.header_menu(thursday)
    assert menu is not None
    [action] = menu.actions()
    assert action.text() == f"Rename “{titles[1]}” and make album…"
    [event] = view.events_at(thursday)
    view.rename_event(event, "Conference in Berlin")

    def album() -> list[int]:
        if "Conference in Berlin" not in [a.name for a in library.albums.list()]:
            return []
        return sorted(int(i) for i in library.albums.assets("Conference in Berlin"))

    qtbot.waitUntil(lambda: len(album()) == 2, timeout=20000)
    assert album() == sorted(int(i) for i in event.asset_ids)
    assert grid._title(thursday) == "Conference in Berlin"
    # the name is kept: a new view of the same library shows it
    again = TimelineView(library, Bridge(library))
    qtbot.addWidget(again)
    again.activate()
    qtbot.waitUntil(lambda: again.grid.event_titles is not None, timeout=20000)
    assert "Conference in Berlin" in again.grid.event_titles.values()

    view.set_events_grouping(False)
    assert not events_setting() and grid.event_titles is None
    assert [grid._title(gi) for gi, s in enumerate(grid.layout_.month_starts) if s] == months
