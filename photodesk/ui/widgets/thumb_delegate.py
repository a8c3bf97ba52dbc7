"""ThumbDelegate: paints grid tiles (thumbnail, badges, offline mark, selection) and day headers."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import date

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photodesk.core import GridItem
from photodesk.ui import icons
from photodesk.ui.models.asset_grid import AssetGridModel, ItemRole, ThumbnailRole
from photodesk.ui.models.grid_rows import DayGroup

GAP = 4  # pixels between tiles
_WHITE = QColor(255, 255, 255)
_SHADOW = QColor(0, 0, 0, 150)


def placeholder_color(palette: QPalette) -> QColor:
    """A tile with nothing to show yet: a tint of the grid's background, never black or white."""
    base = palette.color(QPalette.ColorRole.Base)
    return base.darker(112) if base.lightness() > 128 else base.lighter(150)


def duration_text(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ThumbDelegate(QStyledItemDelegate):
    """Square tiles: the cached thumbnail or a placeholder, then badges and selection on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection_mode = False  # something is selected: every tile shows its check circle
        self._badge_font = QFont()
        self._badge_font.setPixelSize(11)
        self._badge_font.setBold(True)
        self._icon_font = QFont()
        self._icon_font.setPixelSize(14)
        self._badge_metrics = QFontMetrics(self._badge_font)
        self._placeholder_for: tuple[int, QColor] = (-1, QColor())

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(160, 160)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Qt's entry point (drag pixmaps, other views); grids call ``paint_tile`` directly."""
        model = index.model()
        if isinstance(model, AssetGridModel):  # straight to the model: no QVariant round trips
            item, pixmap = model.item(index.row()), model.thumbnail(index.row())
        else:
            item, pixmap = index.data(ItemRole), index.data(ThumbnailRole)
        if isinstance(item, GridItem):
            state = option.state  # type: ignore[attr-defined]
            S = QStyle.StateFlag
            self.paint_tile(
                painter,
                option.rect,  # type: ignore[attr-defined]
                item,
                pixmap,
                option.palette,  # type: ignore[attr-defined]
                selected=bool(state & S.State_Selected),
                hover=bool(state & S.State_MouseOver),
                focus=bool(state & S.State_HasFocus),
            )

    def paint_tile(
        self,
        painter: QPainter,
        cell: QRect,
        item: GridItem,
        pixmap: QPixmap | None,
        palette: QPalette,
        *,
        selected: bool = False,
        hover: bool = False,
        focus: bool = False,
        missing: bool = False,
        flat: bool = False,
    ) -> None:
        """One tile in ``cell`` (the tile and its gap); ``missing``: no thumbnail yet (one is
        being made). Leaves the painter's pen, brush and font changed: callers painting many
        tiles save and restore once around them all."""
        rect = cell.adjusted(0, 0, -GAP, -GAP)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            painter.drawPixmap(rect, pixmap)
            if flat:  # a one-colour image: framed and named, never a bare black/white square
                self._flat_mark(painter, rect, palette)
        else:
            painter.fillRect(rect, self._placeholder(palette))
            if missing:
                picture_glyph(painter, rect, palette)
                self._reason(painter, rect, item, palette)
        if item.offline and not item.on_server:  # its file is missing (a drive unplugged)
            painter.fillRect(rect, QColor(0, 0, 0, 110))
        if (
            item.favorite
            or item.rating
            or item.kind != "photo"
            or item.stack_size > 1
            or item.offline
        ):
            self._badges(painter, rect, item)
        if hover and not selected:
            painter.fillRect(rect, QColor(255, 255, 255, 28))
        if selected:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 3)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
        if selected or self.selection_mode or hover:
            check_circle(
                painter, QRectF(rect.left() + 6, rect.top() + 6, 20, 20), selected, palette
            )
        elif focus:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))

    def _flat_mark(self, painter: QPainter, rect: QRect, palette: QPalette) -> None:
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Dark), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        if rect.width() >= 90:
            painter.setFont(self._badge_font)
            pill = QRectF(rect.center().x() - 42, rect.center().y() - 10, 84, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 140))
            painter.drawRoundedRect(pill, 10, 10)
            painter.setPen(_WHITE)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, "Blank image")

    def _reason(self, painter: QPainter, rect: QRect, item: GridItem, palette: QPalette) -> None:
        """Under the glyph of a tile with no preview: what the file is, and why."""
        if rect.width() < 90:
            return
        kind = {"video": "Video", "raw": "RAW photo"}.get(item.kind, "Photo")
        why = (
            "on the server" if item.on_server else "file offline" if item.offline else "no preview"
        )
        painter.setFont(self._badge_font)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        line = QRect(rect.left() + 4, rect.bottom() - 26, rect.width() - 8, 18)
        painter.drawText(line, Qt.AlignmentFlag.AlignCenter, f"{kind} · {why}")

    def _placeholder(self, palette: QPalette) -> QColor:
        key = palette.cacheKey()
        if self._placeholder_for[0] != key:
            self._placeholder_for = (key, placeholder_color(palette))
        return self._placeholder_for[1]

    def _badges(self, painter: QPainter, rect: QRect, item: GridItem) -> None:
        small = rect.width() < 90
        bottom_left = ("♥ " if item.favorite else "") + ("★" * item.rating if not small else "")
        if small and item.rating:
            bottom_left += f"{item.rating}★"
        bottom_right = ""
        if item.kind == "video":
            bottom_right = "▶ " + (duration_text(item.duration) if item.duration else "")
        if bottom_left or bottom_right:
            shade = QLinearGradient(0, rect.bottom() - 30, 0, rect.bottom())
            shade.setColorAt(0, QColor(0, 0, 0, 0))
            shade.setColorAt(1, QColor(0, 0, 0, 120))
            painter.fillRect(QRect(rect.left(), rect.bottom() - 30, rect.width(), 31), shade)
            painter.setFont(self._icon_font if not small else self._badge_font)
            line = QRect(rect.left() + 6, rect.bottom() - 22, rect.width() - 12, 18)
            _shadowed(painter, line, Qt.AlignmentFlag.AlignLeft, bottom_left.strip())
            painter.setFont(self._badge_font)
            _shadowed(painter, line, Qt.AlignmentFlag.AlignRight, bottom_right.strip())
        label = ""
        if item.stack_size > 1:
            label = f"❐ {item.stack_size}"
        elif item.kind == "raw":
            label = "RAW"
        if item.offline and not item.on_server:
            label = "Offline" + (f"  {label}" if label else "")
        right = rect.right() - 5.0
        if label:
            painter.setFont(self._badge_font)
            w = self._badge_metrics.horizontalAdvance(label) + 12
            pill = QRectF(right - w, rect.top() + 6, w, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 140))
            painter.drawRoundedRect(pill, 9, 9)
            painter.setPen(_WHITE)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
            right = pill.left() - 4
        if item.on_server and not small:  # a cloud: the original is fetched when opened
            pill = QRectF(right - 26, rect.top() + 6, 26, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 140))
            painter.drawRoundedRect(pill, 9, 9)
            icons.icon("cloud", "#ffffff").paint(painter, pill.adjusted(6, 1, -6, -1).toRect())


def _shadowed(painter: QPainter, rect: QRect, align: Qt.AlignmentFlag, text: str) -> None:
    if not text:
        return
    flags = align | Qt.AlignmentFlag.AlignVCenter
    painter.setPen(_SHADOW)
    painter.drawText(rect.translated(1, 1), flags, text)
    painter.setPen(_WHITE)
    painter.drawText(rect, flags, text)


def picture_glyph(painter: QPainter, rect: QRect, palette: QPalette) -> None:
    """A muted "picture" outline (frame, sun, hill) in the middle of a tile with no thumbnail."""
    side = max(12.0, min(rect.width(), rect.height()) * 0.28)
    box = QRectF(0, 0, side, side * 0.78)
    box.moveCenter(QRectF(rect).center())
    color = palette.color(QPalette.ColorRole.PlaceholderText)
    painter.setPen(QPen(color, 1.5))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(box, 3, 3)
    painter.drawEllipse(QPointF(box.left() + side * 0.3, box.top() + side * 0.25), 2.5, 2.5)
    hill = QPainterPath(QPointF(box.left() + 2, box.bottom() - 2))
    hill.lineTo(box.left() + side * 0.45, box.top() + side * 0.4)
    hill.lineTo(box.right() - 2, box.bottom() - 2)
    painter.drawPath(hill)


def check_circle(painter: QPainter, box: QRectF, checked: bool, palette: QPalette) -> None:
    """The round selection mark: filled with a tick when checked, a white ring otherwise."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if checked:
        painter.setPen(QPen(_WHITE, 1.5))
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawEllipse(box)
        tick = QPainterPath(QPointF(box.left() + box.width() * 0.28, box.center().y()))
        tick.lineTo(box.left() + box.width() * 0.45, box.top() + box.height() * 0.68)
        tick.lineTo(box.left() + box.width() * 0.74, box.top() + box.height() * 0.34)
        painter.setPen(
            QPen(
                QBrush(_WHITE),
                2,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(tick)
    else:
        painter.setPen(QPen(_WHITE, 1.5))
        painter.setBrush(QBrush(QColor(0, 0, 0, 50)))
        painter.drawEllipse(box)
    painter.restore()


def paint_header(
    painter: QPainter,
    rect: QRect,
    *,
    month: str | None,
    day: str,
    count: int,
    palette: QPalette,
    hover: bool = False,
    all_selected: bool = False,
) -> None:
    """A day header (with the month's title above it when a month starts here)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    text = palette.color(QPalette.ColorRole.WindowText)
    dim = QColor(text)
    dim.setAlpha(150)
    top = rect.top()
    if month:
        font = QFont(painter.font())
        font.setPixelSize(22)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(text)
        painter.drawText(
            QRect(rect.left(), top + 14, rect.width(), 30),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            month,
        )
        top += 44
    line = QRect(rect.left(), top, rect.width(), rect.bottom() - top)
    x = rect.left()
    if hover or all_selected:
        check_circle(painter, QRectF(x, line.center().y() - 9, 18, 18), all_selected, palette)
        x += 26
    font = QFont(painter.font())
    font.setPixelSize(13)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(text)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(QRect(x, line.top(), rect.width(), line.height()), flags, day)
    width = QFontMetrics(font).horizontalAdvance(day)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(dim)
    painter.drawText(
        QRect(x + width + 8, line.top(), rect.width(), line.height()), flags, f"{count:,}"
    )
    painter.restore()


# ----- geometry ----------------------------------------------------------------------------------
PAD = 12  # left, right and top padding of the grid
HEADER = 34  # a day header
MONTH_HEADER = HEADER + 44  # a day header with its month's title above


class GridLayout:
    """Where day headers and square tiles sit in content coordinates: O(days), never O(photos).

    Rows are laid out in order, so the tiles on screen are always one contiguous range of rows.
    """

    def __init__(
        self,
        groups: Sequence[DayGroup],
        width: int,
        target: int,
        *,
        headers: bool = True,
        titles: Mapping[date, str] | None = None,
    ) -> None:
        """``titles``: a big title over these days instead of over each month (events)."""
        avail = max(1, width - 2 * PAD)
        self.cols = max(1, (avail + GAP) // max(16, target))
        self.pitch = max(16, (avail + GAP) // self.cols)  # tile plus gap: tiles fill the width
        self.groups = list(groups)
        self.firsts = [g.first for g in self.groups]
        self.tops: list[int] = []  # y of each group's header
        self.bodies: list[int] = []  # y of each group's first row of tiles
        self.month_starts: list[bool] = []  # a big title over the group (a month, an event)
        self.titles = titles
        self.months: dict[int, tuple[int, int]] = {}  # YYYYMM -> (first row, rows)
        y, prev = PAD, -1
        for g in self.groups:
            month = g.day.year * 100 + g.day.month if g.day else 0
            if titles is None:
                starts = headers and month != prev
            else:
                starts = headers and g.day is not None and g.day in titles
            self.tops.append(y)
            self.month_starts.append(starts)
            y += (MONTH_HEADER if starts else HEADER) if headers else 0
            self.bodies.append(y)
            y += -(-g.count // self.cols) * self.pitch
            first, n = self.months.get(month, (g.first, 0))
            self.months[month] = (first, n + g.count)
            prev = month
        self.height = y + PAD
        self.rows = self.firsts[-1] + self.groups[-1].count if self.groups else 0

    def group_of(self, row: int) -> int:
        return max(0, bisect.bisect_right(self.firsts, row) - 1)

    def rect_of(self, row: int) -> QRect:
        gi = self.group_of(row)
        r, c = divmod(row - self.firsts[gi], self.cols)
        return QRect(PAD + c * self.pitch, self.bodies[gi] + r * self.pitch, self.pitch, self.pitch)

    def group_at(self, y: int) -> int | None:
        gi = bisect.bisect_right(self.tops, y) - 1
        return gi if 0 <= gi < len(self.groups) else None

    def header_at(self, x: int, y: int) -> int | None:
        gi = self.group_at(y)
        if gi is None or not PAD <= x < PAD + self.cols * self.pitch:
            return None
        return gi if y < self.bodies[gi] else None

    def header_rect(self, gi: int) -> QRect:
        return QRect(PAD, self.tops[gi], self.cols * self.pitch, self.bodies[gi] - self.tops[gi])

    def row_at(self, x: int, y: int, *, nearest: bool = False) -> int | None:
        """The tile at a point; with ``nearest`` the closest tile in reading order instead."""
        gi = self.group_at(y)
        if gi is None:
            return 0 if nearest and self.rows else None
        g = self.groups[gi]
        c = (x - PAD) // self.pitch
        if y < self.bodies[gi] or not 0 <= c < self.cols:
            if not nearest:
                return None
            c = min(max(c, 0), self.cols - 1)
            if y < self.bodies[gi]:
                return g.first
        k = (y - self.bodies[gi]) // self.pitch * self.cols + c
        if k < g.count:
            return g.first + k
        return g.first + g.count - 1 if nearest else None

    def visible_rows(self, y0: int, y1: int) -> range:
        """Rows of the tiles intersecting content rows y0..y1 (a contiguous range)."""
        if not self.rows:
            return range(0)
        gi = self.group_at(y0)
        if gi is None:
            first = 0
        elif y0 < self.bodies[gi]:
            first = self.firsts[gi]
        else:
            g, k = self.groups[gi], (y0 - self.bodies[gi]) // self.pitch * self.cols
            first = g.first + k if k < g.count else g.first + g.count
        gi = self.group_at(y1)
        if gi is None:
            return range(0)
        if y1 < self.bodies[gi]:  # in a header: the day above ends the range
            last = self.firsts[gi] - 1
        else:
            g, k = self.groups[gi], (y1 - self.bodies[gi]) // self.pitch * self.cols
            last = g.first + min(g.count - 1, k + self.cols - 1)
        return range(first, last + 1)

    def rows_in_rect(self, rect: QRect) -> list[tuple[int, int]]:
        """(first, last) runs of rows whose tiles a rubber band touches."""
        c0 = max(0, (rect.left() - PAD) // self.pitch)
        c1 = min(self.cols - 1, (rect.right() - PAD) // self.pitch)
        if c1 < c0:
            return []
        runs: list[tuple[int, int]] = []
        gi = self.group_at(rect.top()) or 0
        while gi < len(self.groups) and self.tops[gi] <= rect.bottom():
            g, body = self.groups[gi], self.bodies[gi]
            r0 = max(0, (rect.top() - body) // self.pitch)
            r1 = (rect.bottom() - body) // self.pitch
            for r in range(r0, r1 + 1):
                a, b = (
                    g.first + r * self.cols + c0,
                    min(g.first + r * self.cols + c1, g.first + g.count - 1),
                )
                if a > b:
                    break
                if runs and runs[-1][1] + 1 == a:
                    runs[-1] = (runs[-1][0], b)
                else:
                    runs.append((a, b))
            gi += 1
        return runs

    def vertical(self, row: int, lines: int) -> int:
        """The row ``lines`` tile rows above (negative) or below, in the same column if it can."""
        gi = self.group_of(row)
        col = (row - self.firsts[gi]) % self.cols
        line = (row - self.firsts[gi]) // self.cols
        step = 1 if lines > 0 else -1
        for _ in range(abs(lines)):
            g = self.groups[gi]
            last_line = (g.count - 1) // self.cols
            if 0 <= line + step <= last_line:
                line += step
            elif 0 <= gi + step < len(self.groups):
                gi += step
                line = 0 if step > 0 else (self.groups[gi].count - 1) // self.cols
            else:
                break
        g = self.groups[gi]
        return g.first + min(line * self.cols + col, g.count - 1)
