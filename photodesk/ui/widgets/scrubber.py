"""DateScrubber: years and months down a grid's right edge, sized by photo count; click to jump."""

from __future__ import annotations

import bisect
from datetime import date

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QWidget

from photodesk.core import MonthBucket

MARGIN = 10  # pixels above the first and below the last month


def year_labels(years: list[tuple[int, float, int]], height: float) -> list[tuple[int, float]]:
    """Which years get a label (``(year, y)``): the biggest years first, then the others where
    they do not overlap a label already placed (the largest year is never left unnamed)."""
    placed: list[tuple[int, float]] = []
    for year, y, _count in sorted(years, key=lambda t: (-t[2], t[1])):
        if all(abs(y - other) >= height for _, other in placed):
            placed.append((year, y))
    return sorted(placed, key=lambda t: t[1])


def month_title(month: int) -> str:
    """``202307`` -> ``July 2023``; 0 -> ``No date``."""
    if not month:
        return "No date"
    return date(month // 100, month % 100, 1).strftime("%B %Y")


class DateScrubber(QWidget):
    """A vertical timeline of the grid's months, each as tall as its share of the photos.

    Pressing or dragging emits ``jump(month, fraction)`` (fraction: how far into the month), which
    the grid turns into a scroll position at once; ``set_position`` moves the marker back.
    """

    jump = Signal(int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFixedWidth(64)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Drag to jump through time")
        self._months: list[MonthBucket] = []
        self._starts: list[int] = []  # cumulative count before each month
        self._total = 0
        self._position: float | None = None  # in counts from the top
        self._bubble: QLabel | None = None
        self._index: dict[int, int] = {}
        self._background: QPixmap | None = None  # years and month dots, drawn once per size
        self._font = QFont()
        self._font.setPixelSize(11)

    def sizeHint(self) -> QSize:
        return QSize(64, 400)

    def months(self) -> list[MonthBucket]:
        return self._months

    def set_months(self, months: list[MonthBucket]) -> None:
        self._months = list(months)
        self._starts, total = [], 0
        for m in self._months:
            self._starts.append(total)
            total += m.count
        self._total = total
        self._index = {m.month: i for i, m in enumerate(self._months)}
        self._background = None
        self.update()

    def set_position(self, month: int, fraction: float) -> None:
        """Show where the grid is: ``fraction`` of the way into ``month``."""
        i = self._index_of(month)
        old = self._position
        if i is None:
            self._position = None
        else:
            self._position = self._starts[i] + max(0.0, min(1.0, fraction)) * self._months[i].count
        moved = (old is None) != (self._position is None) or (
            old is not None
            and self._position is not None
            and abs(self.y_of(old) - self.y_of(self._position)) >= 0.5
        )
        if moved:  # a scroll moves the marker by a pixel now and then: repaint only then
            self.update()

    # ----- geometry -----------------------------------------------------------------------------
    def _index_of(self, month: int) -> int | None:
        return self._index.get(month)

    def _span(self) -> float:
        return max(1.0, self.height() - 2 * MARGIN)

    def y_of(self, counted: float) -> float:
        return MARGIN + counted / max(1, self._total) * self._span()

    def at(self, y: float) -> tuple[int, float] | None:
        """The (month, fraction) drawn at ``y``."""
        if not self._months:
            return None
        counted = (min(max(y, MARGIN), MARGIN + self._span()) - MARGIN) / self._span() * self._total
        i = max(0, min(len(self._months) - 1, bisect.bisect_right(self._starts, counted) - 1))
        m = self._months[i]
        return m.month, min(0.999, max(0.0, (counted - self._starts[i]) / max(1, m.count)))

    # ----- events -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._emit(event.position().y())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        y = event.position().y()
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._emit(y)
        self._show_bubble(y)

    def leaveEvent(self, event: object) -> None:
        if self._bubble is not None:
            self._bubble.hide()

    def _show_bubble(self, y: float) -> None:
        """The month under the pointer, in a label left of the scrubber (over the grid)."""
        spot, parent = self.at(y), self.parentWidget()
        if spot is None or parent is None:
            return
        if self._bubble is None:
            self._bubble = QLabel(parent)
            self._bubble.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self._bubble.setStyleSheet(
                "QLabel { background: palette(highlight); color: palette(highlighted-text);"
                " border-radius: 4px; padding: 3px 8px; }"
            )
        self._bubble.setText(month_title(spot[0]))
        self._bubble.adjustSize()
        anchor = self.mapTo(parent, QPoint(0, int(y)))
        self._bubble.move(
            anchor.x() - self._bubble.width() - 4, anchor.y() - self._bubble.height() // 2
        )
        self._bubble.show()
        self._bubble.raise_()

    def _emit(self, y: float) -> None:
        spot = self.at(y)
        if spot is not None:
            self.jump.emit(*spot)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._background = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._background = None
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if (
            self._background is None
            or self._background.size() != self.size() * self.devicePixelRatioF()
        ):
            self._background = self._draw_background()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._background)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        if self._position is not None and self._total:
            y = self.y_of(self._position)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(highlight)
            p.drawRoundedRect(QRectF(self.width() - 30, y - 1.5, 26, 3), 1.5, 1.5)
        p.end()

    def _draw_background(self) -> QPixmap:
        dpr = self.devicePixelRatioF()
        pixmap = QPixmap(self.size() * dpr)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setFont(self._font)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        dim = QColor(text)
        dim.setAlpha(110)
        metrics = QFontMetrics(self._font)
        w = self.width()
        years: dict[int, tuple[float, int]] = {}  # year -> (y of its first month, photos)
        for i, m in enumerate(self._months):
            y0, n = years.get(m.year, (self.y_of(self._starts[i]), 0))
            years[m.year] = (y0, n + m.count)
        labels = year_labels([(year, y, n) for year, (y, n) in years.items()], metrics.height() + 2)
        p.setPen(text)
        for year, y in labels:
            rect = QRectF(0, y - 1, w - 8, metrics.height())
            p.drawText(rect, Qt.AlignmentFlag.AlignRight, str(year) if year else "—")
        label_ys = sorted(y for _, y in labels)
        for i, m in enumerate(self._months):
            y = self.y_of(self._starts[i])
            h = self.y_of(self._starts[i] + m.count) - y
            last_label = max((ly for ly in label_ys if ly <= y), default=-100.0)
            if h >= 3 and y - last_label >= metrics.height() + 1:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(dim)
                p.drawEllipse(QPointF(w - 12, y + min(h, 6) / 2), 1.5, 1.5)
        p.end()
        return pixmap
