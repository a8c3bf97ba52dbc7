"""The viewer's canvas: one picture with fit, zoom around the cursor, pan and face boxes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from photodesk.ui import style

MAX_ZOOM = 16.0  # device pixels per image pixel
ZOOM_STEP = 1.25


@dataclass(frozen=True)
class FaceMark:
    """A box relative to the upright image (0-1) and the name drawn under it."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str


def mip_levels(image: QImage, down_to: int) -> list[QImage]:
    """``image`` and its halvings down to about ``down_to`` px (so a paint never shrinks > 2x).

    Smooth scaling is done here, off the GUI thread, rather than on every paint.
    """
    levels = [image]
    while max(levels[-1].width(), levels[-1].height()) > 2 * down_to:
        last = levels[-1]
        levels.append(
            last.scaled(
                max(1, last.width() // 2),
                max(1, last.height() // 2),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return levels


class ImageCanvas(QWidget):
    """Shows a preview at once, then sharper levels of the original when they arrive.

    Geometry is in the original's (upright) pixels: ``zoom`` is device pixels per original pixel,
    so 1.0 is 1:1 on any screen, and swapping the preview for the original does not move anything.
    """

    zoom_changed = Signal()
    wants_original = Signal()  # zoomed in past what the preview can show sharply
    activated = Signal()  # double-click on a video's poster, or the play button

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setMouseTracking(False)
        self._levels: list[QImage] = []  # largest first
        self._full = QSize()  # the original's upright size
        self._fit = True
        self._zoom = 1.0
        self._center = QPointF()  # image point at the middle of the widget
        self._drag: QPointF | None = None
        self._faces: list[FaceMark] = []
        self._show_faces = False
        self._message = ""
        self.play_badge = False

    # ----- content ---------------------------------------------------------------------------
    def set_image(self, preview: QImage, full_size: QSize) -> None:
        """Show a new picture, fitted; ``full_size`` is the original's upright size."""
        self._levels = [preview] if not preview.isNull() else []
        self._full = QSize(full_size) if full_size.isValid() else preview.size()
        self._fit = True
        self._center = QPointF(self._full.width() / 2, self._full.height() / 2)
        self._faces = []
        self._message = ""
        self._update_zoom()

    def add_levels(self, levels: list[QImage]) -> None:
        """Sharper pixels of the same picture (the decoded original and its halvings)."""
        if not levels or levels[0].isNull():
            return
        size = levels[0].size()
        if size != self._full and not self._full.isEmpty():
            # The catalog's size was off (a RAW's sensor size...): the decoded pixels are right.
            fx, fy = size.width() / self._full.width(), size.height() / self._full.height()
            self._center = QPointF(self._center.x() * fx, self._center.y() * fy)
            self._zoom /= fx
            self._full = size
        self._levels = sorted([*levels, *self._levels], key=lambda im: -im.width())
        self._update_zoom()

    def clear(self, message: str = "") -> None:
        self._levels = []
        self._full = QSize()
        self._faces = []
        self._message = message
        self.update()

    def set_message(self, message: str) -> None:
        self._message = message
        self.update()

    def has_image(self) -> bool:
        return bool(self._levels)

    def sharpest_width(self) -> int:
        return self._levels[0].width() if self._levels else 0

    def set_faces(self, faces: list[FaceMark]) -> None:
        self._faces = list(faces)
        self.update()

    def set_faces_visible(self, visible: bool) -> None:
        self._show_faces = visible
        self.update()

    def faces_visible(self) -> bool:
        return self._show_faces

    # ----- zoom ------------------------------------------------------------------------------
    def is_fit(self) -> bool:
        return self._fit

    def zoom(self) -> float:
        """Device pixels per original pixel (1.0: 1:1)."""
        return self._zoom

    def fit_zoom(self) -> float:
        if self._full.isEmpty():
            return 1.0
        dpr = self.devicePixelRatioF()
        return min(
            self.width() * dpr / self._full.width(), self.height() * dpr / self._full.height()
        )

    def fit(self) -> None:
        self._fit = True
        self._center = QPointF(self._full.width() / 2, self._full.height() / 2)
        self._update_zoom()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom``, keeping the image point under ``anchor`` (widget coords) in place."""
        if self._full.isEmpty():
            return
        zoom = max(min(self.fit_zoom(), 1.0) * 0.5, min(MAX_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        before = self.to_image(anchor)
        self._fit = False
        self._zoom = zoom
        scale = self._scale()
        mid = QPointF(self.width() / 2, self.height() / 2)
        self._center = before - (anchor - mid) / scale
        self._clamp()
        self._update_zoom()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def actual_size(self, anchor: QPointF | None = None) -> None:
        self.set_zoom(1.0, anchor)

    def _scale(self) -> float:
        """Logical (widget) pixels per original pixel."""
        return self._zoom / self.devicePixelRatioF()

    def _update_zoom(self) -> None:
        if self._fit:
            self._zoom = self.fit_zoom()
        preview_ratio = self._levels[-1].width() / self._full.width() if self._levels else 1.0
        if self._levels and self._zoom > preview_ratio * 1.05:
            self.wants_original.emit()
        self.zoom_changed.emit()
        self.update()

    # ----- geometry --------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the whole picture lies, in widget coordinates."""
        scale = self._scale()
        w, h = self._full.width() * scale, self._full.height() * scale
        left = self.width() / 2 - self._center.x() * scale
        top = self.height() / 2 - self._center.y() * scale
        return QRectF(left, top, w, h)

    def to_image(self, point: QPointF) -> QPointF:
        """A widget point in original-pixel coordinates."""
        mid = QPointF(self.width() / 2, self.height() / 2)
        return self._center + (point - mid) / self._scale()

    def _clamp(self) -> None:
        """Keep the picture centred along an axis where it is smaller than the widget."""
        scale = self._scale()
        for axis in (0, 1):
            view = (self.width(), self.height())[axis] / scale
            full = (self._full.width(), self._full.height())[axis]
            value = (self._center.x(), self._center.y())[axis]
            value = full / 2 if full <= view else min(max(value, view / 2), full - view / 2)
            if axis == 0:
                self._center.setX(value)
            else:
                self._center.setY(value)

    # ----- painting --------------------------------------------------------------------------
    def _level_for(self, zoom: float) -> QImage:
        """The smallest level still at least as sharp as the screen needs."""
        chosen = self._levels[0]
        for level in self._levels:
            if level.width() / self._full.width() >= zoom * 0.95:
                chosen = level
        return chosen

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        theme = style.current()
        p.fillRect(self.rect(), QColor(theme.viewer))
        if not self._levels or self._full.isEmpty():
            if self._message:
                p.setPen(QColor(theme.muted))
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            p.end()
            return
        target = self.image_rect()
        visible = target.intersected(QRectF(self.rect()))
        level = self._level_for(self._zoom)
        ratio = level.width() / self._full.width()
        scale = self._scale()
        source = QRectF(
            (visible.left() - target.left()) / scale * ratio,
            (visible.top() - target.top()) / scale * ratio,
            visible.width() / scale * ratio,
            visible.height() / scale * ratio,
        )
        # Past 3 device pixels per source pixel, show the pixels as they are (pixel peeping).
        smooth = self._zoom / ratio < 3.0
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        p.drawImage(visible, level, source)
        if self._show_faces and self._faces:
            self._paint_faces(p, target)
        if self.play_badge:
            self._paint_play(p, target)
        if self._message:
            p.setPen(QColor(theme.viewer_text))
            p.drawText(
                self.rect().adjusted(8, 8, -8, -8),
                Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
                self._message,
            )
        p.end()

    def _paint_faces(self, p: QPainter, target: QRectF) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetrics(p.font())
        for face in self._faces:
            box = QRectF(
                target.left() + face.x1 * target.width(),
                target.top() + face.y1 * target.height(),
                (face.x2 - face.x1) * target.width(),
                (face.y2 - face.y1) * target.height(),
            )
            p.setPen(QPen(QColor(0, 0, 0, 160), 4))
            p.drawRoundedRect(box, 4, 4)
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.drawRoundedRect(box, 4, 4)
            if face.label:
                w = metrics.horizontalAdvance(face.label) + 10
                tag = QRectF(box.center().x() - w / 2, box.bottom() + 4, w, metrics.height() + 4)
                p.fillRect(tag, QColor(0, 0, 0, 170))
                p.setPen(QColor(255, 255, 255))
                p.drawText(tag, Qt.AlignmentFlag.AlignCenter, face.label)

    def _paint_play(self, p: QPainter, target: QRectF) -> None:
        """A round play button in the middle of a video's poster."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = max(24.0, min(48.0, min(target.width(), target.height()) / 6))
        c = target.center()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawEllipse(c, r, r)
        p.setBrush(QColor(255, 255, 255, 235))
        tri = [
            QPointF(c.x() - r * 0.35, c.y() - r * 0.5),
            QPointF(c.x() - r * 0.35, c.y() + r * 0.5),
            QPointF(c.x() + r * 0.55, c.y()),
        ]
        p.drawPolygon(tri)

    def play_button_rect(self) -> QRectF:
        target = self.image_rect()
        r = max(24.0, min(48.0, min(target.width(), target.height()) / 6))
        c = target.center()
        return QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)

    # ----- input -----------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(ZOOM_STEP ** (delta / 120), event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            if self.play_badge and self.play_button_rect().contains(event.position()):
                self.activated.emit()
                return
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and not self._fit:
            moved = event.position() - self._drag
            self._drag = event.position()
            self._center -= moved / self._scale()
            self._clamp()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.unsetCursor()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.play_badge:
            self.activated.emit()
        elif self._fit:
            self.actual_size(event.position())
        else:
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fit:
            self._update_zoom()
        else:
            self._clamp()
        super().resizeEvent(event)
