"""The Map view: offline basemap, clusters by zoom, selection, the list, tiles and refreshes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QPoint, QPointF, QRectF, QSettings, Qt, QThreadPool
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.map import MapView
from photodesk.ui.widgets import map_basemap, map_thumbs
from photodesk.ui.widgets.map_canvas import MapCanvas
from photodesk.ui.widgets.map_painting import LIGHT
from photodesk.ui.widgets.map_tiles import TileCache, TileLayer
from tests.conftest import make_jpeg

AREZZO = (43.467, 11.882)
PLACES = {
    "paris": (48.8566, 2.3522),
    "newyork": (40.7128, -74.006),
    "tokyo": (35.6762, 139.6503),
    "sydney": (-33.8688, 151.2093),
}


def _png(colour: str) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(data.data())


def _no_network(url: str) -> bytes:
    raise AssertionError(f"the tests must not fetch {url}")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


@pytest.fixture
def geolib(library: Library, tmp_path: Path) -> Library:
    """5 photos within ~200 m in Arezzo, one in each of PLACES, and one without GPS."""
    for i in range(5):
        gps = (AREZZO[0] + i * 0.0004, AREZZO[1] + i * 0.0003)
        make_jpeg(tmp_path / "in" / f"arezzo{i}.jpg", gps=gps, seed=i, size=(200, 150))
    for i, (name, gps) in enumerate(PLACES.items()):
        make_jpeg(tmp_path / "in" / f"{name}.jpg", gps=gps, seed=10 + i, size=(200, 150))
    make_jpeg(tmp_path / "in" / "nowhere.jpg", seed=20)
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert report.imported == 10, report.failed
    return library


def _open(qtbot, library: Library, *, fetch=_no_network, shared_grid=False) -> MapView:
    view = MapView(library, Bridge(library), fetch=fetch, shared_grid=shared_grid)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    view.activate()
    qtbot.waitUntil(
        lambda: view.canvas.basemap is not None and view.index is not None, timeout=15000
    )
    qtbot.waitUntil(lambda: bool(view.canvas.clusters), timeout=20000)
    return view


def _settle(qtbot) -> None:
    """Deliver the results of other views' background ops while their widgets still exist."""
    pool = QThreadPool.globalInstance()
    for _ in range(50):
        pool.waitForDone(5000)
        qtbot.wait(30)
        if pool.activeThreadCount() == 0:
            return


def _counts(view: MapView) -> list[int]:
    return sorted(c.count for c in view.canvas.clusters)


def _set_zoom(qtbot, view: MapView, zoom: int, lat: float, lon: float) -> None:
    view.canvas.set_view(zoom, lat, lon)
    qtbot.waitUntil(lambda: view.canvas.clusters_zoom == zoom, timeout=20000)


def _colour(image: QImage, p: QPointF) -> QColor:
    return image.pixelColor(p.toPoint())


def _near(a: QColor, b: str, tol: int = 12) -> bool:
    c = QColor(b)
    return max(abs(a.red() - c.red()), abs(a.green() - c.green()), abs(a.blue() - c.blue())) <= tol


def test_the_map_draws_sea_land_and_markers_offline(qtbot, geolib: Library, tmp_path: Path):
    view = _open(qtbot, geolib)
    assert view.summary.text() == "9 photos with a location"
    assert view.canvas.tiles is None  # the online layer is off by default
    _set_zoom(qtbot, view, 3, 20, 10)
    single = next(c for c in view.canvas.clusters if c.count == 1)
    qtbot.waitUntil(lambda: view.canvas.thumbs.get(single.checksum) is not None, timeout=20000)
    image = view.canvas.grab().toImage()
    assert image.save(str(tmp_path / "map.png"))
    canvas = view.canvas
    assert _near(_colour(image, canvas.screen_pos(0.0, -30.0)), LIGHT["sea"])  # Atlantic
    assert _near(_colour(image, canvas.screen_pos(23.0, 12.0)), LIGHT["land"])  # Sahara
    assert _near(_colour(image, canvas.screen_pos(-1.5, 32.8)), LIGHT["sea"])  # Lake Victoria
    # a single photo is a thumbnail marker; the Arezzo group is an orange cluster with "5"
    assert any(c.count == 5 for c in canvas.clusters)
    assert canvas.thumbs.get(next(c for c in canvas.clusters if c.count == 1).checksum)


def test_close_photos_cluster_at_low_zoom_and_separate_at_high_zoom(qtbot, geolib: Library):
    view = _open(qtbot, geolib)
    _set_zoom(qtbot, view, 4, *AREZZO)
    assert 5 in _counts(view)
    _set_zoom(qtbot, view, 9, *AREZZO)
    assert _counts(view) == [5]  # only what is near the view is clustered at high zoom
    _set_zoom(qtbot, view, 18, *AREZZO)
    assert len(view.canvas.clusters) == 5 and _counts(view) == [1, 1, 1, 1, 1]


def test_clicking_a_cluster_lists_its_photos_and_double_click_opens_them(qtbot, geolib: Library):
    view = _open(qtbot, geolib)
    _set_zoom(qtbot, view, 6, *AREZZO)
    cluster = next(c for c in view.canvas.clusters if c.count == 5)
    where = view.canvas.screen_pos(cluster.lat, cluster.lon).toPoint()
    with qtbot.waitSignal(view.canvas.selection_changed) as signal:
        QTest.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=where)
    assert sorted(signal.args[0]) == sorted(cluster.ids)
    assert view.model.rowCount() == 5 and view.list_title.text() == "5 photos"
    assert view.canvas.selected_ids() == set(cluster.ids)
    second = view.model.index(1)
    rect = view.list.visualRect(second)
    QTest.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(view.open_assets) as opened:
        QTest.mouseDClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [view.model.ids(), 1]
    view.list.setCurrentIndex(view.model.index(3))
    with qtbot.waitSignal(view.open_assets) as opened:
        QTest.keyClick(view.list, Qt.Key.Key_Return)
    assert opened.args == [view.model.ids(), 3]
    # a click on empty sea clears the selection
    sea = view.canvas.screen_pos(40.0, 5.0).toPoint()  # the Mediterranean, west of Sardinia
    QTest.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=sea)
    assert view.model.rowCount() == 0


def test_shift_drag_selects_the_photos_in_a_region(qtbot, geolib: Library):
    view = _open(qtbot, geolib)
    _set_zoom(qtbot, view, 3, 45, 0)
    canvas = view.canvas
    paris = canvas.screen_pos(*PLACES["paris"])
    arezzo = canvas.screen_pos(*AREZZO)
    top_left = QPoint(int(paris.x()) - 15, int(paris.y()) - 15)
    bottom_right = QPoint(int(arezzo.x()) + 15, int(arezzo.y()) + 15)
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, shift, top_left)
    QTest.mouseMove(canvas, bottom_right)
    with qtbot.waitSignal(canvas.selection_changed) as signal:
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, shift, bottom_right)
    assert len(signal.args[0]) == 6  # Paris and the five in Arezzo, not New York or Tokyo
    assert view.model.rowCount() == 6
    region = canvas.view_bounds(QRectF(QPointF(top_left), QPointF(bottom_right)))
    assert sorted(signal.args[0]) == sorted(view.geo.assets_in(region))


def test_wheel_zooms_around_the_cursor_drag_pans_and_double_click_zooms(qtbot, geolib: Library):
    view = _open(qtbot, geolib)
    canvas = view.canvas
    canvas.set_view(4, 45, 5)
    cursor = QPointF(200, 150)
    before = canvas.to_world(cursor)
    canvas.zoom_at(2, cursor)
    assert canvas.zoom == 6
    assert canvas.to_world(cursor) == pytest.approx(before, abs=1e-9)
    start = (canvas.cx, canvas.cy)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    QTest.mouseMove(canvas, QPoint(340, 320))
    QTest.mouseMove(canvas, QPoint(400, 350))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 350))
    w = canvas.world_px()
    assert (canvas.cx, canvas.cy) == pytest.approx((start[0] - 100 / w, start[1] - 50 / w))
    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(250, 250))
    assert canvas.zoom == 7
    QTest.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.zoom == 6
    bounds = view.index.bounds() if view.index is not None else None
    assert bounds is not None
    canvas.fit(bounds)
    assert canvas.zoom == canvas.min_zoom()  # the photos span the world


def test_a_new_geotagged_photo_appears_after_the_change_event(
    qtbot, geolib: Library, tmp_path: Path
):
    view = _open(qtbot, geolib)
    make_jpeg(tmp_path / "later" / "reykjavik.jpg", gps=(64.1466, -21.9426), seed=30)
    geolib.importer.import_paths([tmp_path / "later"], workers=1)
    qtbot.waitUntil(lambda: view.summary.text() == "10 photos with a location", timeout=20000)
    qtbot.waitUntil(lambda: sum(c.count for c in view.canvas.clusters) == 10, timeout=20000)
    # while the map is hidden, changes only mark it stale; it reloads when shown again
    view.hide()
    make_jpeg(tmp_path / "later2" / "oslo.jpg", gps=(59.91, 10.75), seed=31)
    geolib.importer.import_paths([tmp_path / "later2"], workers=1)
    qtbot.wait(600)
    assert view.summary.text() == "10 photos with a location"
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.summary.text() == "11 photos with a location", timeout=20000)


def test_no_file_is_read_on_the_gui_thread(qtbot, geolib: Library, monkeypatch):
    threads: list[str] = []
    gui = threading.current_thread()
    real_read, real_square = map_basemap._read, map_thumbs._square

    def read(path):
        threads.append("gui" if threading.current_thread() is gui else "worker")
        return real_read(path)

    def square(path, size):
        threads.append("gui" if threading.current_thread() is gui else "worker")
        return real_square(path, size)

    monkeypatch.setattr(map_basemap, "_shared", None)  # load it again, with the spy
    monkeypatch.setattr(map_basemap, "_read", read)
    monkeypatch.setattr(map_thumbs, "_square", square)
    view = _open(qtbot, geolib)
    qtbot.waitUntil(lambda: len(threads) >= 5, timeout=20000)
    assert threads and set(threads) == {"worker"}
    assert view.canvas.basemap is not None


def test_an_empty_library_says_so(qtbot, library: Library):
    view = MapView(library, Bridge(library), fetch=_no_network)
    qtbot.addWidget(view)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.index is not None, timeout=20000)
    assert view.summary.text() == "No photos with a location"
    assert view.canvas.grab().toImage().width() > 0


def test_tiles_are_fetched_off_thread_and_cached_on_disk(qtbot, tmp_path: Path):
    red = _png("red")
    fetched: list[tuple[str, bool]] = []
    gui = threading.current_thread()

    def fake_fetch(url: str) -> bytes:
        fetched.append((url, threading.current_thread() is gui))
        return red

    template = "https://tiles.example/{z}/{x}/{y}.png"
    layer = TileLayer(tmp_path / "tiles", template, fake_fetch)
    assert layer.tile(3, 4, 2) is None
    with qtbot.waitSignal(layer.changed, timeout=20000):
        pass
    image = layer.tile(3, 4, 2)
    assert image is not None and image.pixelColor(5, 5) == QColor("red")
    assert fetched == [("https://tiles.example/3/4/2.png", False)]
    cached = TileCache(tmp_path / "tiles", template).path(3, 4, 2)
    assert cached.is_file() and cached.is_relative_to(tmp_path / "tiles")
    # a fresh layer (a new session) reads the disk cache and never fetches
    again = TileLayer(tmp_path / "tiles", template, _no_network)
    again.tile(3, 4, 2)
    with qtbot.waitSignal(again.changed, timeout=20000):
        pass
    assert again.tile(3, 4, 2) is not None


def test_the_online_layer_is_a_setting_with_its_cache_in_the_library(
    qtbot, geolib: Library, tmp_path: Path
):
    urls: list[str] = []
    grey = _png("#808080")

    def fake_fetch(url: str) -> bytes:
        urls.append(url)
        return grey

    view = _open(qtbot, geolib, fetch=fake_fetch)
    assert not view.tiles_box.isChecked() and urls == []
    view.tiles_box.setChecked(True)
    assert isinstance(view.canvas.tiles, TileLayer)
    view.canvas.repaint()
    qtbot.waitUntil(lambda: len(urls) > 0, timeout=20000)
    view.canvas.tiles.wait()
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in urls)
    assert list((geolib.root / "tiles").rglob("*.tile"))
    assert QSettings("photodesk", "photodesk").value("map/tiles") in (True, "true")
    view.tiles_box.setChecked(False)
    assert view.canvas.tiles is None


def test_a_selection_shows_in_the_side_grid_whichever_it_is(qtbot, geolib: Library):
    view = _open(qtbot, geolib, shared_grid=True)  # the app's grid view when there is one
    _set_zoom(qtbot, view, 6, *AREZZO)
    cluster = next(c for c in view.canvas.clusters if c.count == 5)
    view.canvas.select_region(view.canvas.rect().toRectF())
    assert view.index is not None
    assert sorted(view.shown_ids()) == sorted(view.index.ids_in(view.canvas.view_bounds()))
    assert set(cluster.ids) <= set(view.shown_ids())
    assert view.list.isVisible()
    if view.grid is not None:  # the app's grid shows them and opens the viewer for the map
        shown = sorted(view.shown_ids())
        qtbot.waitUntil(lambda: sorted(view.grid.model.ids()) == shown, timeout=20000)
        with qtbot.waitSignal(view.open_assets) as opened:
            view.grid.open_assets.emit(shown, 2)
        assert opened.args == [shown, 2]
    _settle(qtbot)


def test_the_main_window_opens_the_map(qtbot, geolib: Library):
    from photodesk.ui.main_window import MainWindow

    window = MainWindow(geolib, restore=False)
    qtbot.addWidget(window)
    window.show()
    window.show_section("Map")
    assert isinstance(window.views["Map"], MapView)
    assert isinstance(window.views["Map"].canvas, MapCanvas)
    _settle(qtbot)
