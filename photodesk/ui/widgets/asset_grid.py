"""AssetGrid: the day-grouped, virtualised thumbnail canvas every photo grid is built on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QWidget,
)

from photodesk.core import GridItem
from photodesk.ui.models.asset_grid import AssetGridModel
from photodesk.ui.thumbs import ThumbnailCache
from photodesk.ui.widgets.grid_painting import (
    paint_band,
    paint_headers,
    paint_sticky,
    range_selected,
)
from photodesk.ui.widgets.scrubber import month_title
from photodesk.ui.widgets.thumb_delegate import (
    GAP,
    HEADER,
    PAD,
    GridLayout,
    ThumbDelegate,
)

MIN_TILE, MAX_TILE, DEFAULT_TILE = 64, 400, 150
AnyIndex = QModelIndex | QPersistentModelIndex


class AssetGrid(QAbstractItemView):
    """Virtualised tiles in day groups under month titles; paints only what is on screen.

    Selection: click, Shift-click (a range in time order), Ctrl-click, rubber band from empty
    space, a day header selects its day. Ctrl+wheel and Ctrl +/- zoom. ``key_handlers`` maps
    plain keys to callbacks (the view's bulk actions); ``painted(complete)`` follows each paint.
    """

    zoomed = Signal(int)
    position_changed = Signal(int, float)  # month (YYYYMM), fraction into it: for the scrubber
    painted = Signal(bool)  # True when every tile on screen had its thumbnail

    def __init__(self, thumbs: ThumbnailCache | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.delegate = ThumbDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setMouseTracking(True)
        self.setFrameShape(QAbstractItemView.Shape.NoFrame)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalScrollBar().setSingleStep(48)
        self.tile = DEFAULT_TILE
        self.empty_text = "No photos here yet"
        self.key_handlers: dict[int, Callable[[], None]] = {}
        self.layout_ = GridLayout([], 1, self.tile)
        self._hover_row: int | None = None
        self._hover_header: int | None = None
        self.event_titles: dict[date, str] | None = None  # set_event_titles
        self._band: QRect | None = None
        self._press: QPoint | None = None  # content coordinates of the last left press
        self._pending_jump: tuple[int, float] | None = None
        self._last_complete = False
        self._retained_at = (-1, -1)

    # ----- model and layout -----------------------------------------------------------------
    def grid_model(self) -> AssetGridModel | None:
        model = self.model()
        return model if isinstance(model, AssetGridModel) else None

    def setModel(self, model: AssetGridModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.groups_changed.connect(self.relayout)
        model.modelReset.connect(self.relayout)
        self.relayout()

    def set_tile(self, px: int) -> None:
        px = max(MIN_TILE, min(MAX_TILE, int(px)))
        if px != self.tile:
            self.tile = px
            self.relayout()
            self.zoomed.emit(px)

    def relayout(self) -> None:
        """Lay the groups out again, keeping the tile at the top of the screen where it was."""
        model = self.grid_model()
        anchor = self._top_anchor()
        groups = model.groups() if model else []
        headers = bool(model and model.grouped)
        self.layout_ = GridLayout(
            groups, self.viewport().width(), self.tile, headers=headers, titles=self.event_titles
        )
        if model is not None:
            dpr = self.devicePixelRatioF()
            model.thumb_px = max(16, round((self.layout_.pitch - GAP) * dpr))
        self.updateGeometries()
        if anchor is not None and model is not None:
            row = model.row_of(anchor[0])
            if row is not None:
                self.verticalScrollBar().setValue(self.layout_.rect_of(row).top() - anchor[1])
        if self._pending_jump is not None:
            self.jump_to(*self._pending_jump)
        self.viewport().update()
        self._emit_position()

    def set_event_titles(self, titles: dict[date, str] | None) -> None:
        """Big titles over these days (events) instead of over each month; None: months."""
        self.event_titles = titles
        self.relayout()

    def _title(self, gi: int) -> str:
        day = self.layout_.groups[gi].day
        if self.event_titles is not None and day is not None:
            return self.event_titles.get(day, "")
        return month_title(day.year * 100 + day.month if day else 0)

    def _top_anchor(self) -> tuple[int, int] | None:
        model, lay = self.grid_model(), self.layout_
        top = self.verticalScrollBar().value()
        if model is None or not lay.rows or top <= 0:
            return None
        row = lay.row_at(PAD, top, nearest=True)
        if row is None or row >= model.rowCount():
            return None
        return int(model.item(row).id), lay.rect_of(row).top() - top

    def updateGeometries(self) -> None:
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, self.layout_.height - self.viewport().height()))
        bar.setPageStep(max(1, self.viewport().height()))
        super().updateGeometries()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    # ----- QAbstractItemView -------------------------------------------------------------------
    def visualRect(self, index: AnyIndex) -> QRect:
        if not index.isValid() or index.row() >= self.layout_.rows:
            return QRect()
        return self.layout_.rect_of(index.row()).translated(0, -self.verticalOffset())

    def indexAt(self, point: QPoint) -> QModelIndex:
        model = self.model()
        row = self.layout_.row_at(point.x(), point.y() + self.verticalOffset())
        return model.index(row, 0) if model is not None and row is not None else QModelIndex()

    def scrollTo(
        self,
        index: AnyIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        if not index.isValid() or index.row() >= self.layout_.rows:
            return
        rect = self.layout_.rect_of(index.row())
        bar, height = self.verticalScrollBar(), self.viewport().height()
        if hint == QAbstractItemView.ScrollHint.PositionAtTop:
            bar.setValue(rect.top() - PAD)
        elif hint == QAbstractItemView.ScrollHint.PositionAtCenter:
            bar.setValue(rect.center().y() - height // 2)
        elif rect.top() < bar.value():
            gi = self.layout_.group_of(index.row())
            first_line = index.row() - self.layout_.firsts[gi] < self.layout_.cols
            bar.setValue(self.layout_.tops[gi] if first_line else rect.top())
        elif rect.bottom() > bar.value() + height:
            bar.setValue(rect.bottom() - height + 1)

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: AnyIndex) -> bool:
        return False

    def moveCursor(
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        model, lay = self.model(), self.layout_
        if model is None or not lay.rows:
            return QModelIndex()
        current = self.currentIndex()
        row = current.row() if current.isValid() else -1
        A = QAbstractItemView.CursorAction
        page = max(1, self.viewport().height() // lay.pitch)
        if row < 0:
            row = 0
        elif action in (A.MoveLeft, A.MovePrevious):
            row = max(0, row - 1)
        elif action in (A.MoveRight, A.MoveNext):
            row = min(lay.rows - 1, row + 1)
        elif action == A.MoveUp:
            row = lay.vertical(row, -1)
        elif action == A.MoveDown:
            row = lay.vertical(row, 1)
        elif action == A.MovePageUp:
            row = lay.vertical(row, -page)
        elif action == A.MovePageDown:
            row = lay.vertical(row, page)
        elif action == A.MoveHome:
            row = 0
        elif action == A.MoveEnd:
            row = lay.rows - 1
        return model.index(row, 0)

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        model, lay, sel = self.model(), self.layout_, self.selectionModel()
        if model is None or sel is None or not lay.rows:
            return
        offset = self.verticalOffset()
        if self.state() == QAbstractItemView.State.DragSelectingState and self._press is not None:
            runs = lay.rows_in_rect(rect.normalized().translated(0, offset))
        else:  # click, Shift-click, Shift+arrows: a range in time order, not a rectangle
            a = lay.row_at(rect.left(), rect.top() + offset, nearest=True) or 0
            b = lay.row_at(rect.right(), rect.bottom() + offset, nearest=True) or 0
            runs = [(min(a, b), max(a, b))]
        selection = QItemSelection()
        for first, last in runs:
            selection.select(model.index(first, 0), model.index(last, 0))
        sel.select(selection, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        return QRegion(self.viewport().rect())

    # ----- jumping ------------------------------------------------------------------------------
    def jump_to(self, month: int, fraction: float = 0.0) -> None:
        """Scroll to ``fraction`` of the way into ``month`` (YYYYMM), now or once it is loaded."""
        model, lay = self.grid_model(), self.layout_
        span = lay.months.get(month)
        if span is None:
            loading = model is not None and not model.is_complete()
            self._pending_jump = (month, fraction) if loading else None
            return
        self._pending_jump = None
        first, count = span
        row = first + min(count - 1, int(fraction * count))
        gi = lay.group_of(row)
        top = lay.tops[gi] if row - lay.firsts[gi] < lay.cols else lay.rect_of(row).top()
        bar, height = self.verticalScrollBar(), self.viewport().height()
        # The inverse of _reading_line (the row lands where the scrubber's marker says it is),
        # but with the row and its header on screen, not below the fold.
        share = height / bar.maximum() if bar.maximum() else 0.0
        value = round((top - (PAD if fraction == 0 else 0)) / (1 + share))
        block = lay.rect_of(row).bottom() - top + PAD
        bar.setValue(min(top, max(value, top + min(block, height) - height)))

    def _reading_line(self) -> int:
        """The content row the scrubber marks: the top of the screen when at the top, its
        bottom when at the end, so both ends of a short timeline can be reached."""
        bar = self.verticalScrollBar()
        value, most = bar.value(), bar.maximum()
        return value + (round(value / most * self.viewport().height()) if most else 0)

    def _emit_position(self) -> None:
        lay = self.layout_
        if not lay.rows:
            return
        row = lay.row_at(PAD, self._reading_line(), nearest=True) or 0
        gi = lay.group_of(row)
        day = lay.groups[gi].day
        month = day.year * 100 + day.month if day else 0
        first, count = lay.months.get(month, (row, 1))
        self.position_changed.emit(month, (row - first) / max(1, count))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # The pinned date was blitted along with the tiles: paint that strip afresh.
        self.viewport().update(QRect(0, 0, self.viewport().width(), HEADER + abs(dy) + 1))
        if self.thumbs is not None and abs(dy) > self.viewport().height() // 2:
            self.thumbs.pause(120)  # flying by: decode where the scroll comes to rest
        self._emit_position()

    # ----- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        model, lay = self.grid_model(), self.layout_
        painter = QPainter(self.viewport())
        palette = self.palette()
        if model is None or not lay.rows:
            if model is not None and model.is_complete():
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(
                    self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text
                )
            painter.end()
            return
        offset = self.verticalOffset()
        area = event.rect()
        y0, y1 = area.top() + offset, area.bottom() + offset
        region = event.region().translated(0, offset)  # repaint only the tiles that changed
        painter.translate(0, -offset)
        sel = self.selectionModel()
        current = self.currentIndex()
        self.delegate.selection_mode = sel is not None and sel.hasSelection()
        if lay.groups and model.grouped:
            selecting = self.delegate.selection_mode
            paint_headers(
                painter,
                lay,
                region,
                y0,
                y1,
                palette=palette,
                title=self._title,
                hover_header=self._hover_header,
                all_selected=lambda first, n: selecting and range_selected(sel, model, first, n),
            )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        hover, focus = self._hover_row, current.row() if self.hasFocus() else -1
        thumbs = self.thumbs
        for row in lay.visible_rows(y0, y1):
            tile = lay.rect_of(row)
            if not region.intersects(tile):
                continue
            item, pixmap = model.item(row), model.thumbnail(row)
            self.delegate.paint_tile(
                painter,
                tile,
                item,
                pixmap,
                palette,
                selected=sel is not None and sel.isSelected(model.index(row, 0)),
                hover=row == hover,
                focus=row == focus,
                missing=pixmap is None and thumbs is not None and thumbs.is_missing(item.checksum),
                flat=thumbs is not None and thumbs.is_flat(item.checksum),
            )
        painter.restore()
        if model.grouped:
            paint_sticky(painter, lay, offset, self.viewport().width(), palette)
        if self._band is not None:
            paint_band(painter, self._band.translated(0, offset), palette)
        painter.end()
        self._after_paint(model)

    def _after_paint(self, model: AssetGridModel) -> None:
        """Keep only on-screen loads queued; report whether the screen is complete."""
        offset, height = self.verticalOffset(), self.viewport().height()
        rows = self.layout_.visible_rows(offset, offset + height)
        items: list[GridItem] = [model.item(r) for r in rows if r < model.rowCount()]
        complete = True
        if self.thumbs is not None:
            if (offset, height) != self._retained_at:  # scrolled: forget loads left behind
                self._retained_at = (offset, height)
                self.thumbs.retain({int(i.id) for i in items})
            px = model.thumb_px
            complete = all(
                self.thumbs.cached(i.checksum, px) is not None or self.thumbs.is_missing(i.checksum)
                for i in items
            )
        self._last_complete = complete
        self.painted.emit(complete)

    # ----- input --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        offset = self.verticalOffset()
        self._press = QPoint(pos.x(), pos.y() + offset)
        model, sel = self.model(), self.selectionModel()
        gi = self.layout_.header_at(pos.x(), pos.y() + offset)
        if gi is not None and model is not None and sel is not None:
            if event.button() == Qt.MouseButton.LeftButton:
                self.select_day(
                    gi, toggle=bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                )
            return
        index = self.indexAt(pos)
        if (
            index.isValid()
            and sel is not None
            and event.button() == Qt.MouseButton.LeftButton
            and not event.modifiers()
            and sel.hasSelection()
            and self._on_check_circle(index, pos)
        ):
            sel.select(index, QItemSelectionModel.SelectionFlag.Toggle)
            sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            return
        super().mousePressEvent(event)

    def _on_check_circle(self, index: QModelIndex, pos: QPoint) -> bool:
        rect = self.visualRect(index)
        return QRect(rect.left(), rect.top(), 32, 32).contains(pos)

    def select_day(self, gi: int, *, toggle: bool = False) -> None:
        """Select every tile of day group ``gi`` (with ``toggle``: add it, or drop it if all in)."""
        model, sel = self.model(), self.selectionModel()
        g = self.layout_.groups[gi]
        whole = QItemSelection(model.index(g.first, 0), model.index(g.first + g.count - 1, 0))
        F = QItemSelectionModel.SelectionFlag
        if toggle:
            flag = F.Deselect if range_selected(sel, model, g.first, g.count) else F.Select
        else:
            flag = F.ClearAndSelect
        sel.select(whole, flag)
        sel.setCurrentIndex(model.index(g.first, 0), F.NoUpdate)
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        offset = self.verticalOffset()
        super().mouseMoveEvent(event)
        if self.state() == QAbstractItemView.State.DragSelectingState and self._press is not None:
            self._band = QRect(self._press - QPoint(0, offset), pos).normalized()
            self.viewport().update()
        index = self.indexAt(pos)
        row = index.row() if index.isValid() else None
        header = self.layout_.header_at(pos.x(), pos.y() + offset)
        if row != self._hover_row or header != self._hover_header:
            self._hover_row, self._hover_header = row, header
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self._band is not None:
            self._band = None
            self.viewport().update()

    def leaveEvent(self, event: object) -> None:
        self._hover_row = self._hover_header = None
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            self.set_tile(round(self.tile * (1.12**steps)))
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier and key in (
            Qt.Key.Key_Plus,
            Qt.Key.Key_Equal,
        ):
            self.set_tile(round(self.tile * 1.25))
        elif mods & Qt.KeyboardModifier.ControlModifier and key == Qt.Key.Key_Minus:
            self.set_tile(round(self.tile / 1.25))
        elif key in self.key_handlers and not mods & ~Qt.KeyboardModifier.KeypadModifier:
            self.key_handlers[key]()
        else:
            super().keyPressEvent(event)
            return
        event.accept()
