"""The map canvas: an offline Web-Mercator basemap with clustered photo markers, pan and zoom."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from photodesk.core import (
    TILE_SIZE,
    Cluster,
    GeoBounds,
    MarkerIndex,
    project,
    unproject,
)
from photodesk.ui.widgets.map_basemap import Basemap
from photodesk.ui.widgets.map_painting import (
    bold,
    colours,
    hits,
    paint_basemap,
    paint_marker,
    paint_message,
    paint_note,
    paint_tiles,
    world_copies,
)
from photodesk.ui.widgets.map_thumbs import MapThumbs, query_for
from photodesk.ui.widgets.map_tiles import TileLayer

MIN_ZOOM, MAX_ZOOM = 1, 18
CLUSTER_RADIUS = 40.0  # px: markers closer than this merge
WHOLE_WORLD_UP_TO = 5  # clusters are computed for the whole world up to this zoom
OFFLINE_DETAIL_UP_TO = 9  # past this zoom the offline basemap has nothing more to show


class MapCanvas(QWidget):
    """Draws the basemap and the markers; emits the ids a click or shift-drag selects.

    Nothing here reads files: the basemap, thumbnails, tiles and clusters arrive from workers.
    """

    selection_changed = Signal(list)  # asset ids, newest first ([] when cleared)

    def __init__(self, thumbs: MapThumbs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 180)
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.thumbs = thumbs
        thumbs.changed.connect(self.update)
        self.zoom = 2
        self.cx, self.cy = 0.5, 0.4  # view centre in world units (0..1)
        self.basemap: Basemap | None = None
        self.index: MarkerIndex | None = None
        self.tiles: TileLayer | None = None
        self.clusters: list[Cluster] = []
        self.clusters_zoom: int | None = None  # the zoom ``clusters`` were made for
        self._markers: list[tuple[float, float, Cluster, bool]] = []  # x, y (world), c, selected
        self._whole: dict[int, list[Cluster]] = {}
        self._covered: tuple[int, QRectF | None] | None = None
        self._generation = 0
        self._selected: set[int] = set()
        self._press: QPointF | None = None
        self._press_centre = (0.0, 0.0)
        self._dragging = False
        self._band: QRectF | None = None
        self._wheel = 0

    # ----- data ------------------------------------------------------------------------------
    def set_basemap(self, basemap: Basemap) -> None:
        self.basemap = basemap
        self.update()

    def set_index(self, index: MarkerIndex) -> None:
        """New markers (after a load or a catalog change); clusters are recomputed off-thread."""
        self.index = index
        self._whole.clear()
        self._covered = None
        ids = set(index.ids.tolist())
        self._selected &= ids
        self._request_clusters()
        self.update()

    def set_tile_layer(self, tiles: TileLayer | None) -> None:
        if self.tiles is not None:
            self.tiles.changed.disconnect(self.update)
        self.tiles = tiles
        if tiles is not None:
            tiles.changed.connect(self.update)
        self.update()

    def select_ids(self, ids: list[int]) -> None:
        """Highlight these assets' markers (does not emit ``selection_changed``)."""
        self._selected = set(ids)
        self._set_clusters(self.clusters, self.clusters_zoom)

    def selected_ids(self) -> set[int]:
        return set(self._selected)

    # ----- geometry --------------------------------------------------------------------------
    def world_px(self) -> float:
        return float(TILE_SIZE * 2**self.zoom)

    def origin(self) -> QPointF:
        """The widget's top-left corner in world pixels (x may be any real: the world wraps)."""
        w = self.world_px()
        return QPointF(self.cx * w - self.width() / 2, self.cy * w - self.height() / 2)

    def to_world(self, pos: QPointF) -> tuple[float, float]:
        o, w = self.origin(), self.world_px()
        return (o.x() + pos.x()) / w, (o.y() + pos.y()) / w

    def screen_pos(self, lat: float, lon: float) -> QPointF:
        """Where (lat, lon) is drawn, on the world copy nearest the view centre."""
        x, y = project(lat, lon)
        x += round(self.cx - x)
        o, w = self.origin(), self.world_px()
        return QPointF(x * w - o.x(), y * w - o.y())

    def view_bounds(self, rect: QRectF | None = None) -> GeoBounds:
        """The latitude/longitude box of a widget rectangle (default: the whole widget)."""
        r = rect or QRectF(self.rect())
        x0, y0 = self.to_world(r.topLeft())
        x1, y1 = self.to_world(r.bottomRight())
        north = unproject(0, max(0.0, y0))[0]
        south = unproject(0, min(1.0, y1))[0]
        if x1 - x0 >= 1.0:
            return GeoBounds(south, -180.0, north, 180.0)
        west, east = unproject(x0, 0)[1], unproject(x1, 0)[1]
        if x1 % 1.0 == 0 and x1 > x0:
            east = 180.0
        return GeoBounds(south, west, north, east)

    def min_zoom(self) -> int:
        """The lowest zoom whose world is as tall as the canvas (no empty band, few copies)."""
        need = math.ceil(math.log2(max(self.height(), 1) / TILE_SIZE))
        return max(MIN_ZOOM, min(MAX_ZOOM, need))

    def set_view(self, zoom: int, lat: float, lon: float) -> None:
        self.zoom = max(self.min_zoom(), min(MAX_ZOOM, int(zoom)))
        self.cx, self.cy = project(lat, lon)
        self._view_changed()

    def fit(self, bounds: GeoBounds, max_zoom: int = 14) -> None:
        """Centre on ``bounds`` at the closest zoom that shows all of it."""
        x0, y0 = project(bounds.north, bounds.west)
        x1, y1 = project(bounds.south, bounds.east)
        if x1 < x0:
            x1 += 1.0
        span_x, span_y = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        room_w, room_h = max(self.width() - 120, 100), max(self.height() - 120, 100)
        zoom = math.floor(math.log2(min(room_w / span_x, room_h / span_y) / TILE_SIZE))
        self.zoom = max(self.min_zoom(), min(max_zoom, zoom))
        self.cx, self.cy = ((x0 + x1) / 2) % 1.0, (y0 + y1) / 2
        self._view_changed()

    def zoom_at(self, steps: int, pos: QPointF | None = None) -> None:
        """Zoom in (steps > 0) or out keeping the point under ``pos`` where it is."""
        new = max(self.min_zoom(), min(MAX_ZOOM, self.zoom + steps))
        if new == self.zoom:
            return
        p = pos if pos is not None else QPointF(self.width() / 2, self.height() / 2)
        wx, wy = self.to_world(p)
        self.zoom = new
        w = self.world_px()
        self.cx = wx - (p.x() - self.width() / 2) / w
        self.cy = wy - (p.y() - self.height() / 2) / w
        if self.tiles is not None:
            self.tiles.cancel_pending()
        self._view_changed()

    def pan_by(self, dx: float, dy: float) -> None:
        w = self.world_px()
        self.cx -= dx / w
        self.cy -= dy / w
        self._view_changed()

    def _clamp(self) -> None:
        w = self.world_px()
        self.cx %= 1.0
        half = self.height() / 2 / w
        self.cy = 0.5 if half >= 0.5 else min(max(self.cy, half), 1.0 - half)

    def _view_changed(self) -> None:
        self._clamp()
        self._request_clusters()
        self.update()

    def resizeEvent(self, event: object) -> None:
        self.zoom = max(self.zoom, self.min_zoom())
        self._clamp()
        self._request_clusters()

    # ----- clusters --------------------------------------------------------------------------
    def _request_clusters(self) -> None:
        if self.index is None:
            return
        zoom, index = self.zoom, self.index
        if zoom <= WHOLE_WORLD_UP_TO:
            if zoom in self._whole:
                if self._covered != (zoom, None):
                    self._covered = (zoom, None)
                    self._set_clusters(self._whole[zoom], zoom)
                return
            area: QRectF | None = None
            bounds = None
        else:
            view = QRectF(self.rect())
            if self._covered is not None and self._covered[0] == zoom:
                done = self._covered[1]
                if done is None or done.contains(self._world_rect(view)):
                    return
            margin = view.adjusted(-view.width(), -view.height(), view.width(), view.height())
            area, bounds = self._world_rect(margin), self.view_bounds(margin)
        self._covered = (zoom, area)
        self._generation += 1
        generation = self._generation
        query_for(
            self,
            lambda: index.clusters(zoom, bounds, CLUSTER_RADIUS),
            lambda result: self._on_clusters(generation, zoom, area, result),
        )

    def _world_rect(self, r: QRectF) -> QRectF:
        x0, y0 = self.to_world(r.topLeft())
        x1, y1 = self.to_world(r.bottomRight())
        return QRectF(QPointF(x0, y0), QPointF(x1, y1))

    def _on_clusters(
        self, generation: int, zoom: int, area: QRectF | None, clusters: list[Cluster]
    ) -> None:
        if area is None:
            self._whole[zoom] = clusters
        if generation == self._generation:
            self._set_clusters(clusters, zoom)

    def _set_clusters(self, clusters: list[Cluster], zoom: int | None) -> None:
        self.clusters = clusters
        self.clusters_zoom = zoom
        sel = self._selected
        markers = []
        for c in clusters:
            x, y = project(c.lat, c.lon)
            markers.append((x, y, c, bool(sel) and not sel.isdisjoint(c.ids)))
        markers.sort(key=lambda m: m[1])  # southern markers drawn over northern ones
        self._markers = markers
        self.update()

    def _placed(self) -> list[tuple[QPointF, Cluster, bool]]:
        """Markers in widget coordinates, on every world copy that is visible."""
        o, w = self.origin(), self.world_px()
        shifts = world_copies(o, self.width(), w)
        box = QRectF(self.rect()).adjusted(-60, -60, 60, 60)
        out = []
        for x, y, c, sel in self._markers:
            for shift in shifts:
                p = QPointF(x * w + shift - o.x(), y * w - o.y())
                if box.contains(p):
                    out.append((p, c, sel))
        return out

    def cluster_at(self, pos: QPointF) -> Cluster | None:
        """The marker under ``pos`` (the topmost one)."""
        for p, c, _ in reversed(self._placed()):
            thumb = c.count == 1 and self.thumbs.get(c.checksum) is not None
            if hits(p, c, pos, thumb):
                return c
        return None

    # ----- painting --------------------------------------------------------------------------
    def is_dark(self) -> bool:
        return self.palette().window().color().lightness() < 128

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        col, origin, size = colours(self.is_dark()), self.origin(), QSizeF(self.size())
        painter.fillRect(self.rect(), col["sea"])
        if self.basemap is not None:
            paint_basemap(painter, self.basemap, self.zoom, origin, size, col)
        if self.tiles is not None:
            paint_tiles(painter, self.tiles, self.zoom, origin, size)
        highlight = self.palette().highlight().color()
        painter.setFont(bold(self.font()))
        for p, c, sel in self._placed():
            pixmap = self.thumbs.get(c.checksum) if c.count == 1 else None
            paint_marker(painter, p, c, sel, pixmap, highlight)
        if self._band is not None:
            painter.setPen(QPen(highlight, 1.5))
            fill = QColor(highlight)
            fill.setAlpha(50)
            painter.setBrush(fill)
            painter.drawRect(self._band.normalized())
        painter.setFont(self.font())
        note = self.tiles.attribution if self.tiles is not None else "Natural Earth"
        if self.tiles is None and self.zoom >= OFFLINE_DETAIL_UP_TO:
            note = "Natural Earth · offline map: turn on online tiles for streets"
        paint_note(painter, size, note, self.is_dark())
        if self.index is not None and len(self.index) == 0:
            paint_message(painter, size, "No photos with a location yet")
        painter.end()

    # ----- input -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._press = event.position()
        self._press_centre = (self.cx, self.cy)
        self._dragging = False
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._band = QRectF(self._press, self._press)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        delta = event.position() - self._press
        if self._band is not None:
            self._band = QRectF(self._press, event.position())
            self.update()
            return
        if self._dragging or delta.manhattanLength() > 4:
            self._dragging = True
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            w = self.world_px()
            self.cx = self._press_centre[0] - delta.x() / w
            self.cy = self._press_centre[1] - delta.y() / w
            self._view_changed()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        band, dragging = self._band, self._dragging
        self._press, self._band, self._dragging = None, None, False
        self.unsetCursor()
        if band is not None and band.normalized().width() > 3 and band.normalized().height() > 3:
            self.select_region(band.normalized())
        elif not dragging:
            hit = self.cluster_at(event.position())
            self._emit_selection(list(hit.ids) if hit is not None else [])
        self.update()

    def select_region(self, rect: QRectF) -> None:
        """Select the photos inside a widget rectangle."""
        ids = self.index.ids_in(self.view_bounds(rect)) if self.index is not None else []
        self._emit_selection(list(ids))

    def _emit_selection(self, ids: list[int]) -> None:
        self.select_ids(ids)
        self.selection_changed.emit(ids)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.zoom_at(-1 if shift else 1, event.position())

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._wheel += event.angleDelta().y()
        steps = int(self._wheel / 120)
        if steps:
            self._wheel -= steps * 120
            self.zoom_at(steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, step = event.key(), 80.0
        moves = {
            Qt.Key.Key_Left: (step, 0.0),
            Qt.Key.Key_Right: (-step, 0.0),
            Qt.Key.Key_Up: (0.0, step),
            Qt.Key.Key_Down: (0.0, -step),
        }
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_at(1)
        elif key == Qt.Key.Key_Minus:
            self.zoom_at(-1)
        elif key in moves:
            self.pan_by(*moves[Qt.Key(key)])
        elif key == Qt.Key.Key_Escape and self._selected:
            self._emit_selection([])
        else:
            super().keyPressEvent(event)
