"""The designed look: sidebar groups and counts, drops on albums, themes, tiles never blank,
the scrubber's year labels, the Memories strip and view, Events made into albums."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QColor, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from photodesk.core import AssetQuery, Library
from photodesk.ui import style
from photodesk.ui.bridge import Bridge
from photodesk.ui.main_window import SECTIONS, MainWindow
from photodesk.ui.thumbs import is_flat
from photodesk.ui.widgets.asset_grid import AssetGrid
from photodesk.ui.widgets.photo_grid import ids_mime
from photodesk.ui.widgets.scrubber import year_labels
from photodesk.ui.widgets.sidebar import CountRole, KindRole
from tests.conftest import make_jpeg


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PHOTODESK_TODAY", "2024-06-10")


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    src = tmp_path / "in"
    for i, when in enumerate(
        ["2024:06:01 10:00:00", "2024:06:01 11:00:00", "2020:06:10 09:00:00", "2019:06:09 12:00:00"]
    ):
        make_jpeg(src / f"p{i}.jpg", size=(200, 150), when=when, seed=i)
    Image.new("RGB", (64, 48), (0, 0, 0)).save(src / "black.jpg")  # a blank test image
    library.importer.import_paths([src], workers=1)
    library.albums.create("Trip")
    return library


def _window(qtbot, lib: Library, theme: str = "light") -> MainWindow:
    style.apply(QApplication.instance(), theme)  # type: ignore[arg-type]
    window = MainWindow(lib, restore=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


def test_the_largest_year_always_has_a_label():
    # 2099 (one photo) sits right above 2026 (sixty-six): 2026 is named, 2099 gives way.
    got = year_labels([(2099, 0.0, 1), (2026, 4.0, 66), (2022, 300.0, 1)], 14)
    assert got == [(2026, 4.0), (2022, 300.0)]


def test_one_colour_images_are_flat_and_photos_are_not():
    black = QImage(40, 40, QImage.Format.Format_RGB32)
    black.fill(QColor(0, 0, 0))
    assert is_flat(black)
    photo = QImage(40, 40, QImage.Format.Format_RGB32)
    photo.fill(QColor(0, 0, 0))
    for x in range(20):
        for y in range(40):
            photo.setPixelColor(x, y, QColor(200, 180, 40))
    assert not is_flat(photo)


def test_sidebar_groups_sections_shows_counts_and_takes_drops_on_albums(qtbot, lib: Library):
    window = _window(qtbot, lib)
    bar = window.sidebar
    headers = [
        bar.item(r).text() for r in range(bar.count()) if bar.item(r).data(KindRole) == "header"
    ]
    assert headers[:2] == ["Library", "Collections"]
    assert set(bar.sections) == set(SECTIONS)
    qtbot.waitUntil(lambda: "Trip" in bar.albums, timeout=20000)
    assert bar.sections["Timeline"].data(CountRole) == 5
    ids = [int(a.id) for a in lib.assets.list()][:2]
    target = bar.visualItemRect(bar.albums["Trip"]).center()
    data: QMimeData = ids_mime(ids)
    drop = QDropEvent(
        QPointF(target),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    bar.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: len(lib.albums.assets("Trip")) == 2, timeout=20000)


def test_the_theme_setting_switches_light_and_dark_and_is_kept(qtbot, lib: Library):
    window = _window(qtbot, lib)
    window.set_theme("dark")
    app = QApplication.instance()
    assert style.current() is style.DARK and style.saved_mode() == "dark"
    assert app.palette().color(app.palette().ColorRole.Base) == QColor(style.DARK.window)
    window.set_theme("light")
    assert style.current() is style.LIGHT and style.saved_mode() == "light"


def _tile_problems(grid: AssetGrid) -> list[str]:
    """Tiles on screen that are one flat black or white square."""
    image = grid.viewport().grab().toImage()
    model, lay, offset = grid.grid_model(), grid.layout_, grid.verticalOffset()
    problems = []
    for row in lay.visible_rows(offset, offset + grid.viewport().height()):
        rect = lay.rect_of(row).translated(0, -offset).adjusted(0, 0, -6, -6)
        if rect.height() < 8 or rect.bottom() > image.height():
            continue
        colours = {
            image.pixelColor(
                rect.left() + rect.width() * i // 8, rect.top() + rect.height() * j // 8
            ).name()
            for i in range(1, 8)
            for j in range(1, 8)
        }
        if colours <= {"#000000"} or colours <= {"#ffffff"}:
            problems.append(f"row {row} ({model.item(row).id}): {colours}")
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_view_renders_in_both_themes_with_no_blank_tiles(qtbot, lib: Library, theme: str):
    window = _window(qtbot, lib, theme)
    for section in SECTIONS:
        window.select_section(section)
        view = window.views[section]
        assert window.stack.currentWidget() is view
        for grid in view.findChildren(AssetGrid):
            if not grid.isVisible():
                continue
            model = grid.grid_model()
            qtbot.waitUntil(lambda m=model: m.is_complete(), timeout=20000)
            if model.rowCount():
                qtbot.waitUntil(lambda g=grid: g._last_complete, timeout=20000)
                assert _tile_problems(grid) == [], (section, theme)
    assert window.stack.palette().color(window.stack.palette().ColorRole.Window) == QColor(
        style.current().window
    )


def test_the_memories_strip_shows_today_in_past_years_and_opens_them(qtbot, lib: Library):
    window = _window(qtbot, lib)
    window.select_section("Timeline")
    strip = window.views["Timeline"].strip  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: len(strip.cards) == 2, timeout=20000)
    assert [c.text() for c in strip.cards] == ["4 years ago today", "This week 5 years ago"]
    with qtbot.waitSignal(window.views["Timeline"].open_assets, timeout=5000) as opened:
        strip.cards[0].click()
    (when,) = [a.taken_at for a in lib.assets.list(AssetQuery()) if int(a.id) in opened.args[0]]
    assert when.year == 2020


def test_an_event_becomes_an_album_in_one_action(qtbot, lib: Library):
    from photodesk.ui.views.moments import EventsView

    view = EventsView(lib, Bridge(lib))
    qtbot.addWidget(view)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: "Saturday, 1 June 2024" in view.labels.values(), timeout=20000)
    key = next(k for k, label in view.labels.items() if label == "Saturday, 1 June 2024")
    view.make_album(key, "First of June")
    made = lambda: [(a.name, a.asset_count) for a in lib.albums.list()]  # noqa: E731
    qtbot.waitUntil(lambda: ("First of June", 2) in made(), timeout=20000)
    # the event is renamed too: the list (and the timeline's event titles) show the new name
    view.reload()
    qtbot.waitUntil(lambda: view.labels.get(key) == "First of June", timeout=20000)


def test_the_toolbar_search_field_opens_the_search_view_on_its_text(qtbot, lib: Library):
    window = _window(qtbot, lib)
    window.search_field.setText("p1")
    window.search_field.returnPressed.emit()
    search = window.views["Search"]
    assert window.current_section() == "Search" and window.stack.currentWidget() is search
    assert search.field.text() == "p1"  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: search.grid.ids() != [], timeout=20000)  # type: ignore[attr-defined]


def test_the_duplicates_view_keeps_one_and_trashes_the_others(
    qtbot, library: Library, tmp_path: Path
):
    from photodesk.ui.views.moments import DuplicatesView
    from tests.core.test_duplicates import scene

    (tmp_path / "dup").mkdir()
    scene(1).save(tmp_path / "dup" / "a.jpg", quality=95)
    scene(1).resize((320, 240)).save(tmp_path / "dup" / "b.jpg", quality=50)
    scene(2).save(tmp_path / "dup" / "c.jpg", quality=95)
    library.importer.import_paths([tmp_path / "dup"], workers=1)
    ids = {Path(a.path).name: int(a.id) for a in library.assets.list()}
    view = DuplicatesView(library, Bridge(library))
    qtbot.addWidget(view)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: len(view.items) == 1, timeout=20000)
    qtbot.waitUntil(lambda: view.grid.ids() == [ids["a.jpg"], ids["b.jpg"]], timeout=20000)
    view.keep_selected()  # nothing selected: the first (the larger) is kept
    qtbot.waitUntil(
        lambda: {int(a.id) for a in library.assets.list()} == {ids["a.jpg"], ids["c.jpg"]},
        timeout=20000,
    )
    qtbot.waitUntil(lambda: len(view.items) == 0, timeout=20000)


def test_a_list_cover_is_never_a_bare_flat_square(qapp, library: Library, tmp_path: Path):
    from photodesk.ui.thumbs import COVER_PX, cover_of

    src = tmp_path / "covers"
    src.mkdir()
    Image.new("RGB", (300, 200), (0, 0, 0)).save(src / "black.jpg")
    make_jpeg(src / "photo.jpg", size=(300, 200), seed=5)
    library.importer.import_paths([src], workers=1)
    by_name = {Path(a.path).name: int(a.id) for a in library.assets.list()}
    black, photo = by_name["black.jpg"], by_name["photo.jpg"]
    assert not is_flat(cover_of(library, [black, photo]))  # the first real photo is the cover
    framed = cover_of(library, [black])
    assert not is_flat(framed)
    assert framed.pixelColor(2, 2) == QColor(style.current().placeholder)
    assert framed.pixelColor(COVER_PX // 2, COVER_PX // 2).lightness() < 10  # the colour, inset


def test_a_synced_photo_on_the_server_is_not_dimmed_like_a_missing_file(qapp):
    """A laptop keeping originals on demand shows its server-held photos as they are, with a
    cloud; only a file that is really missing (a drive unplugged) is dimmed and says Offline."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPainter, QPixmap

    from photodesk.core import GridItem
    from photodesk.ui.models.asset_grid import describe
    from photodesk.ui.widgets.thumb_delegate import GAP, ThumbDelegate

    delegate = ThumbDelegate()
    grey = QPixmap(160, 160)
    grey.fill(QColor(128, 128, 128))

    def tile(**state: bool) -> QImage:
        item = GridItem(1, "ab" * 20, "photo", None, 0, False, None, 1, 160, 160, None, **state)
        image = QImage(160 + GAP, 160 + GAP, QImage.Format.Format_RGB32)
        image.fill(QColor(255, 255, 255))
        painter = QPainter(image)
        delegate.paint_tile(painter, QRect(0, 0, 160 + GAP, 160 + GAP), item, grey, qapp.palette())
        painter.end()
        return image

    here, missing = tile(offline=False), tile(offline=True)
    on_server = tile(offline=True, on_server=True)
    centre = (80, 100)
    assert here.pixelColor(*centre) == QColor(128, 128, 128)
    assert missing.pixelColor(*centre).lightness() < 100  # dimmed
    assert on_server.pixelColor(*centre) == QColor(128, 128, 128)  # not dimmed

    def badge(image: QImage) -> list[QColor]:  # the top-right corner, where the pill goes
        return [image.pixelColor(x, y) for x in range(110, 150) for y in range(8, 22)]

    assert all(c == QColor(128, 128, 128) for c in badge(here))  # no badge
    assert any(c.lightness() > 200 for c in badge(on_server))  # the white cloud
    assert any(c.lightness() < 90 for c in badge(on_server))  # on its dark pill
    assert any(c.lightness() > 200 for c in badge(missing))  # "Offline", in white
    assert "original on the server" in describe(
        GridItem(1, "ab" * 20, "photo", None, 0, False, None, 1, 1, 1, None, True, on_server=True)
    )
