"""The viewer: preview then original, keys, zoom, info-panel edits reaching the catalog, videos."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt, QThreadPool, QUrl
from PySide6.QtGui import QImage

from photodesk.core import Library
from photodesk.core.media.thumbnails import PREVIEW_SIZE
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.viewer import ViewerView
from tests.conftest import make_jpeg, make_video

WAIT = 20_000


@pytest.fixture
def ids(library: Library, tmp_path: Path) -> list[int]:
    make_jpeg(tmp_path / "in" / "a.jpg", size=(2400, 1600), seed=1, when="2023:07:01 09:00:00")
    make_jpeg(tmp_path / "in" / "b.jpg", seed=2, when="2023:07:02 09:00:00", gps=(43.77, 11.25))
    make_jpeg(tmp_path / "in" / "c.jpg", seed=3, when="2023:07:03 09:00:00", orientation=6)
    make_jpeg(tmp_path / "in" / "d.jpg", seed=4, when="2023:07:04 09:00:00")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    return sorted(int(i) for i in library.assets.ids())


@pytest.fixture
def viewer(qtbot, library: Library) -> Iterator[ViewerView]:
    bridge = Bridge(library)
    view = ViewerView(library, bridge)
    view.resize(1200, 800)
    view.show()
    yield view
    bridge.close()
    view.close()
    view._original_timer.stop()
    pool = QThreadPool.globalInstance()
    for _ in range(100):  # nothing may outlive the library, nor call back into a deleted view
        pool.waitForDone(WAIT)
        qtbot.wait(20)  # delivers results, which may start more work
        if pool.activeThreadCount() == 0:
            break
    view.deleteLater()


def shown(view: ViewerView, aid: int) -> bool:
    rec = view.panel.record
    return (
        view.current_id() == aid and view.canvas.has_image() and rec is not None and rec.id == aid
    )


def open_on(qtbot, view: ViewerView, ids: list[int], index: int) -> None:
    view.show_assets(ids, index)
    qtbot.waitUntil(lambda: shown(view, ids[index]), timeout=WAIT)


def test_opening_shows_the_preview_then_the_original(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 0)
    preview = QImage(str(library.assets.thumbnail_path(ids[0], preview=True)))
    assert viewer.canvas.sharpest_width() == preview.width() == PREVIEW_SIZE
    assert viewer.position.text() == "1 of 4"
    assert viewer.name.text() == "a.jpg"
    assert viewer.canvas.is_fit()
    qtbot.keyClick(viewer, Qt.Key.Key_1)  # 1:1 needs the original, decoded off the GUI thread
    assert viewer.canvas.zoom() == pytest.approx(1.0)
    qtbot.waitUntil(lambda: viewer.canvas.sharpest_width() == 2400, timeout=WAIT)
    assert viewer.zoom_label.text() == "100%"
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.canvas.zoom() == pytest.approx(1.25)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert viewer.canvas.zoom() == pytest.approx(0.8)
    qtbot.keyClick(viewer, Qt.Key.Key_0)
    assert viewer.canvas.is_fit()
    assert viewer.canvas.zoom() == pytest.approx(viewer.canvas.fit_zoom())


def test_a_sideways_photo_is_shown_upright(qtbot, viewer: ViewerView, ids: list[int]) -> None:
    open_on(qtbot, viewer, ids, 2)
    rect = viewer.canvas.image_rect()
    assert rect.height() > rect.width()  # 120 x 80 stored, orientation 6


def test_arrow_home_and_end_keys_navigate_instantly(
    qtbot, viewer: ViewerView, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 1)
    # Neighbours and both ends are prefetched, so each key shows its photo at once.
    qtbot.waitUntil(lambda: set(ids) <= set(viewer.cache), timeout=WAIT)
    for key, index in [
        (Qt.Key.Key_Right, 2),
        (Qt.Key.Key_Right, 3),
        (Qt.Key.Key_Right, 3),  # stays on the last one
        (Qt.Key.Key_Left, 2),
        (Qt.Key.Key_Home, 0),
        (Qt.Key.Key_Left, 0),
        (Qt.Key.Key_End, 3),
    ]:
        qtbot.keyClick(viewer, key)
        assert viewer.index == index
        assert shown(viewer, ids[index])
        assert viewer.position.text() == f"{index + 1} of 4"


def test_escape_emits_closed(qtbot, viewer: ViewerView, ids: list[int]) -> None:
    open_on(qtbot, viewer, ids, 0)
    with qtbot.waitSignal(viewer.closed, timeout=1000):
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)


def test_rating_reaches_the_catalog_and_comes_back(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 0)
    qtbot.mouseClick(viewer.panel.stars[2], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).rating == 3, timeout=WAIT)
    qtbot.waitUntil(lambda: [s.text() for s in viewer.panel.stars] == list("★★★☆☆"), timeout=WAIT)
    # A write from elsewhere (the CLI, another view) reaches the panel through the change event.
    library.assets.set_rating([ids[0]], 5)
    qtbot.waitUntil(lambda: viewer.panel.stars[4].text() == "★", timeout=WAIT)
    library.assets.set_favorite([ids[0]])
    qtbot.waitUntil(viewer.panel.favorite.isChecked, timeout=WAIT)


def test_description_is_saved_with_ctrl_enter(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 1)
    box = viewer.panel.description
    box.setFocus()
    qtbot.keyClicks(box, "Lunch by the Arno")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: library.assets.get(ids[1]).description == "Lunch by the Arno", timeout=WAIT
    )
    qtbot.waitUntil(lambda: viewer.panel.record.description == "Lunch by the Arno", timeout=WAIT)
    assert box.toPlainText() == "Lunch by the Arno"
    viewer.panel.title.setText("Florence")
    viewer.panel.title.editingFinished.emit()
    qtbot.waitUntil(lambda: library.assets.get(ids[1]).title == "Florence", timeout=WAIT)


def test_tags_are_added_with_completion_and_removed(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    library.tags.add([ids[3]], "Places/Italy/Florence")
    open_on(qtbot, viewer, ids, 0)
    chips = viewer.panel.tags
    qtbot.waitUntil(lambda: "Places/Italy/Florence" in chips.model.stringList(), timeout=WAIT)
    chips.completer.setCompletionPrefix("flor")
    assert chips.completer.currentCompletion() == "Places/Italy/Florence"
    chips.edit.setText("Trips/Italy 2023")
    qtbot.keyClick(chips.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).tags == ("Trips/Italy 2023",), timeout=WAIT)
    qtbot.waitUntil(lambda: chips.items() == ["Trips/Italy 2023"], timeout=WAIT)
    qtbot.waitUntil(lambda: "Trips/Italy 2023" in chips.model.stringList(), timeout=WAIT)
    chips.removed.emit("Trips/Italy 2023")
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).tags == (), timeout=WAIT)
    qtbot.waitUntil(lambda: chips.items() == [], timeout=WAIT)


def test_albums_are_joined_from_the_panel(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 2)
    viewer.panel.albums.added.emit("Italy")
    qtbot.waitUntil(lambda: library.assets.get(ids[2]).albums == ("Italy",), timeout=WAIT)
    qtbot.waitUntil(lambda: viewer.panel.albums.items() == ["Italy"], timeout=WAIT)


def test_date_and_zone_correction(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 3)
    panel = viewer.panel
    qtbot.mouseClick(panel.edit_date, Qt.MouseButton.LeftButton)
    assert panel.date_editor.isVisible()
    panel.date_edit.setDateTime(QDateTime(2022, 12, 24, 18, 30, 0))
    panel.zone.setCurrentText("UTC-05:00")
    qtbot.mouseClick(panel.save_date, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: library.assets.get(ids[3]).taken_offset == -300, timeout=WAIT)
    rec = library.assets.get(ids[3])
    assert (rec.taken_at, rec.taken_at_source) == (datetime(2022, 12, 24, 18, 30), "user")
    qtbot.waitUntil(lambda: panel.date.text() == "Sat 24 Dec 2022, 18:30:00", timeout=WAIT)
    assert panel.date_source.text() == "UTC-05:00 · from user"


def test_location_by_coordinates_by_place_and_removed(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    open_on(qtbot, viewer, ids, 0)
    panel = viewer.panel
    assert panel.place.text() == "No place"
    panel.location.setText("48.8584, 2.2945")
    qtbot.keyClick(panel.location, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).latitude == 48.8584, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.coords.text() == "48.858400, 2.294500", timeout=WAIT)
    assert "France" in panel.place.text()
    panel.location.setText("95, 3")  # out of range: said, not written
    qtbot.keyClick(panel.location, Qt.Key.Key_Return)
    assert "latitude" in panel.error.text()
    panel.location.setText("Arezzo")
    qtbot.keyClick(panel.location, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).city == "Arezzo", timeout=WAIT)
    qtbot.waitUntil(lambda: panel.place.text().startswith("Arezzo"), timeout=WAIT)
    qtbot.mouseClick(panel.clear_location, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: library.assets.get(ids[0]).latitude is None, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.place.text() == "No place", timeout=WAIT)


def test_face_boxes_toggle_on_the_image(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    from photodesk.core.catalog.db.schema import Face, Person

    with library.write() as s:
        ada = Person(owner_id=library.owner_id, name="Ada", created_at=datetime.now())
        s.add(ada)
        s.flush()
        s.add(Face(asset_id=ids[1], person_id=ada.id, x1=0.2, y1=0.2, x2=0.5, y2=0.6))
    open_on(qtbot, viewer, ids, 1)
    panel = viewer.panel
    qtbot.waitUntil(panel.show_faces.isEnabled, timeout=WAIT)
    assert panel.people.text() == "Ada"
    assert not viewer.canvas.faces_visible()
    panel.show_faces.setChecked(True)
    assert viewer.canvas.faces_visible()
    assert [f.label for f in viewer.canvas._faces] == ["Ada"]
    assert not viewer.grab().isNull()


def test_a_video_shows_its_poster_and_plays_outside(
    qtbot, viewer: ViewerView, library: Library, tmp_path: Path
) -> None:
    clip = make_video(tmp_path / "v" / "clip.mp4", size=(160, 120), seconds=1.0)
    library.importer.import_paths([tmp_path / "v"], workers=1)
    (vid,) = (int(i) for i in library.assets.ids())
    opened: list[QUrl] = []
    viewer.open_external = opened.append
    open_on(qtbot, viewer, [vid], 0)
    assert viewer.canvas.play_badge
    assert viewer.play_button.isVisible()
    assert viewer.canvas.sharpest_width() == 160  # the poster frame
    qtbot.keyClick(viewer, Qt.Key.Key_Return)
    assert opened == [QUrl.fromLocalFile(str(clip))]
    qtbot.wait(400)  # no original is decoded for a video
    assert viewer._original is None


def test_an_asset_without_a_preview_is_decoded_for_display(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    library.thumbnails.delete(library.assets.get(ids[3]).checksum)
    open_on(qtbot, viewer, ids, 3)
    assert viewer.canvas.sharpest_width() == 120


def test_wheel_zooms_around_the_cursor_and_drag_pans(qtbot) -> None:
    from PySide6.QtCore import QPoint, QPointF, QSize
    from PySide6.QtGui import QColor

    from photodesk.ui.widgets.image_canvas import ImageCanvas

    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    image = QImage(800, 600, QImage.Format.Format_RGB888)
    image.fill(QColor(80, 120, 160))
    canvas.set_image(image, QSize(1600, 1200))  # a half-size preview of a 1600 x 1200 original
    assert canvas.zoom() == pytest.approx(0.25 * canvas.devicePixelRatioF())
    spot = QPointF(300, 100)
    before = canvas.to_image(spot)
    with qtbot.waitSignal(canvas.wants_original):
        canvas.set_zoom(1.0, spot)  # past what the preview holds
    assert canvas.to_image(spot).x() == pytest.approx(before.x())
    assert canvas.to_image(spot).y() == pytest.approx(before.y())
    center = canvas.to_image(QPointF(200, 150))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(150, 120))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 120))
    moved = canvas.to_image(QPointF(200, 150)) - center
    assert (moved.x(), moved.y()) == (pytest.approx(50), pytest.approx(30))
    canvas.set_zoom(1.0, QPointF(0, 0))
    canvas.set_zoom(1.0, QPointF(0, 0))  # panning stops at the picture's edge
    assert canvas.image_rect().left() <= 0
    assert canvas.image_rect().right() >= canvas.width()


def test_location_picked_on_the_map_is_saved(
    qtbot, viewer: ViewerView, library: Library, ids: list[int]
) -> None:
    from PySide6.QtCore import QPoint

    from photodesk.core import unproject

    open_on(qtbot, viewer, ids, 1)  # taken in Florence
    panel = viewer.panel
    qtbot.mouseClick(panel.pick_on_map, Qt.MouseButton.LeftButton)
    picker = panel.picker
    assert picker is not None
    qtbot.waitUntil(picker.isVisible, timeout=WAIT)
    canvas = picker.canvas
    assert canvas.pin == pytest.approx((43.77, 11.25))  # opens on its place
    assert not picker.ok.isEnabled()
    assert canvas.zoom >= 9
    qtbot.waitUntil(lambda: canvas.basemap is not None, timeout=WAIT)
    spot = QPoint(canvas.width() // 2 + 120, canvas.height() // 2 - 60)  # north-east of it
    x, y = canvas.to_world(spot.toPointF())
    want_lat, want_lon = unproject(x, y)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=spot)
    assert picker.ok.isEnabled() and canvas.pin is not None
    assert canvas.pin == pytest.approx((want_lat, want_lon))
    assert canvas.pin[0] > 43.77 and canvas.pin[1] > 11.25
    image = canvas.grab().toImage()  # the pin is drawn where the click was
    assert image.pixelColor(spot.x(), spot.y() - 21) == canvas.palette().highlight().color()
    qtbot.mouseClick(picker.ok, Qt.MouseButton.LeftButton)
    rec = lambda: library.assets.get(ids[1])  # noqa: E731
    qtbot.waitUntil(lambda: rec().latitude == pytest.approx(want_lat, abs=1e-6), timeout=WAIT)
    assert rec().longitude == pytest.approx(want_lon, abs=1e-6)
    qtbot.waitUntil(lambda: panel.coords.text().startswith(f"{want_lat:.6f}"), timeout=WAIT)

    # Cancel leaves the place as it is; a photo without a place opens on the world
    open_on(qtbot, viewer, ids, 0)
    qtbot.mouseClick(panel.pick_on_map, Qt.MouseButton.LeftButton)
    other = panel.picker
    assert other is not None and other is not picker and other.canvas.pin is None
    qtbot.waitUntil(other.isVisible, timeout=WAIT)
    qtbot.mouseClick(other.canvas, Qt.MouseButton.LeftButton)
    qtbot.keyClick(other, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not other.isVisible(), timeout=WAIT)
    assert library.assets.get(ids[0]).latitude is None
