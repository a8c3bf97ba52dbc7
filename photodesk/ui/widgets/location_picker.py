"""Pick a photo's place on the map: a click drops a pin, OK saves it (from the info panel)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import unproject
from photodesk.ui.widgets.map_basemap import Basemap
from photodesk.ui.widgets.map_canvas import MapCanvas
from photodesk.ui.widgets.map_thumbs import MapThumbs, query_for

PLACED_ZOOM = 9  # where the picker opens on a photo that has a place (the basemap's detail)
PIN_RADIUS = 7.0


class PinCanvas(MapCanvas):
    """The map without markers: pan and zoom as usual, a click (not a drag) drops the pin."""

    picked = Signal(float, float)  # latitude, longitude

    def __init__(self, thumbs: MapThumbs, parent: QWidget | None = None) -> None:
        super().__init__(thumbs, parent)
        self.pin: tuple[float, float] | None = None

    def place_pin(self, lat: float, lon: float) -> None:
        self.pin = (max(-85.0, min(85.0, lat)), (lon + 180.0) % 360.0 - 180.0)
        self.picked.emit(*self.pin)
        self.update()

    def pick_at(self, pos: QPointF) -> None:
        x, y = self.to_world(pos)
        lat, lon = unproject(x % 1.0, min(max(y, 0.0), 1.0))
        self.place_pin(lat, lon)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        self._band = None  # no rubber band: there are no markers to select

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        dragging = self._dragging
        self._press, self._band, self._dragging = None, None, False
        self.unsetCursor()
        if not dragging:
            self.pick_at(event.position())

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.pin is None:
            return
        p = self.screen_pos(*self.pin)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().highlight().color()
        painter.setPen(QPen(QColor("white"), 2.5))
        painter.setBrush(accent)
        painter.drawLine(p, p - QPointF(0, 3 * PIN_RADIUS))
        painter.drawEllipse(QRectF(-PIN_RADIUS, -PIN_RADIUS, 2 * PIN_RADIUS, 2 * PIN_RADIUS)
                            .translated(p - QPointF(0, 3 * PIN_RADIUS)))  # fmt: skip
        painter.end()


class LocationPicker(QDialog):
    """``exec()`` then ``location``: the (latitude, longitude) the user clicked, or None."""

    def __init__(
        self,
        thumbs: MapThumbs,
        start: tuple[float, float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pick a place")
        self.resize(760, 520)
        col = QVBoxLayout(self)
        self.hint = QLabel("Click the map where the photo was taken (drag to pan, wheel to zoom)")
        self.hint.setObjectName("muted")
        self.canvas = PinCanvas(thumbs, self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Set place")
        self.ok.setEnabled(False)
        col.addWidget(self.hint)
        col.addWidget(self.canvas, 1)
        col.addWidget(self.buttons)
        self.canvas.picked.connect(self._on_picked)
        self._start = start
        if start is not None:
            self.canvas.pin = start
        query_for(self, Basemap.shared, self.canvas.set_basemap)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if self._start is not None:  # centred once the canvas has its size
            self.canvas.set_view(PLACED_ZOOM, *self._start)
            self._start = None
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def location(self) -> tuple[float, float] | None:
        return self.canvas.pin

    def _on_picked(self, lat: float, lon: float) -> None:
        self.ok.setEnabled(True)
        self.hint.setText(f"{lat:.5f}, {lon:.5f}: Set place to save it, or click elsewhere")
