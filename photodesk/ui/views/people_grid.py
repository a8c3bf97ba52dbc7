"""Parts of the people grid: face pixmaps loaded off-thread, the model (drop to merge), tiles."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import (
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from photodesk.core import PersonSummary
from photodesk.ui import ops

log = logging.getLogger(__name__)

MIME = "application/x-photodesk-person"
FACE = 120  # logical px of the round face on a tile
TILE = QSize(156, FACE + 62)
CROP_PX = FACE * 2  # crops are made for 2x screens and scaled down on 1x
Index = QModelIndex | QPersistentModelIndex


def label_of(p: PersonSummary) -> str:
    return p.name or "Unnamed"


def round_image(data: bytes) -> QImage:
    """A JPEG face crop made round (worker thread: QImage only)."""
    src = QImage.fromData(data)
    out = QImage(src.size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addEllipse(0, 0, src.width(), src.height())
    painter.setClipPath(path)
    painter.drawImage(0, 0, src)
    painter.end()
    return out


class PixmapLoader(QObject):
    """Images made off the GUI thread, by key, in a bounded cache; ``loaded(key)`` when ready."""

    loaded = Signal(int)

    def __init__(self, load: Callable[[int], QImage | None], limit: int, parent: QObject) -> None:
        super().__init__(parent)
        self._load, self._limit = load, limit
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0  # bumped by clear(): late results of older requests are dropped

    def get(self, key: int) -> QPixmap | None:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key not in self._pending:
            self._pending.add(key)
            generation = self._generation
            ops.query(
                self,
                lambda: (generation, key, self._load(key)),
                self._on_loaded,
                lambda exc: log.info("no image for %s: %s", key, exc),
            )
        return None

    def clear(self) -> None:
        self._cache.clear()
        self._pending.clear()
        self._generation += 1

    def _on_loaded(self, result: tuple[int, int, QImage | None]) -> None:
        generation, key, image = result
        if generation != self._generation:
            return
        self._pending.discard(key)
        if image is None or image.isNull():
            return
        self._cache[key] = QPixmap.fromImage(image)
        while len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        self.loaded.emit(key)


class PeopleModel(QAbstractListModel):
    """People in grid order; edits and drops are requests to the view, which writes them."""

    SummaryRole = Qt.ItemDataRole.UserRole + 1
    rename_requested = Signal(int, str)
    merge_requested = Signal(int, int)  # source, into

    def __init__(self, faces: PixmapLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.people: list[PersonSummary] = []
        self.faces = faces
        faces.loaded.connect(self._on_face_loaded)

    def set_people(self, people: list[PersonSummary]) -> None:
        if [p.id for p in people] == [p.id for p in self.people]:
            self.people = people
            if people:
                self.dataChanged.emit(self.index(0), self.index(len(people) - 1))
            return
        self.beginResetModel()
        self.people = people
        self.endResetModel()

    def row_of(self, person_id: int) -> int:
        return next((i for i, p in enumerate(self.people) if p.id == person_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.people)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        p = self.people[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return p.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self.faces.get(p.cover_face_id) if p.cover_face_id is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{label_of(p)}: {p.photo_count} photos" + (" (hidden)" if p.hidden else "")
        if role == self.SummaryRole:
            return p
        return None

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        p, name = self.people[index.row()], str(value).strip()
        if name != p.name:
            self.people[index.row()] = replace(p, name=name)  # shown now; the write follows
            self.dataChanged.emit(index, index)
            self.rename_requested.emit(p.id, name)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        return (
            base
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsDropEnabled
        )

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        ids = [str(self.people[i.row()].id) for i in indexes if i.isValid()]
        data.setData(MIME, ",".join(ids).encode())
        return data

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(MIME) and parent.isValid()

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """A person dropped onto another: ask to merge the dragged one into the target."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        into = self.people[parent.row()].id
        raw = bytes(data.data(MIME).data()).decode()
        for source in (int(s) for s in raw.split(",") if s):
            if source != into:
                self.merge_requested.emit(source, into)
        return True

    def _on_face_loaded(self, face_id: int) -> None:
        for row, p in enumerate(self.people):
            if p.cover_face_id == face_id:
                self.dataChanged.emit(self.index(row), self.index(row))


class PersonDelegate(QStyledItemDelegate):
    """A round face, the name (or "Add a name"), the photo count; the name is edited in place."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return TILE

    def _rects(self, rect: QRect) -> tuple[QRect, QRect, QRect]:
        face = QRect(rect.x() + (rect.width() - FACE) // 2, rect.y() + 6, FACE, FACE)
        name = QRect(rect.x() + 4, face.bottom() + 6, rect.width() - 8, 22)
        count = QRect(rect.x() + 4, name.bottom() + 1, rect.width() - 8, 18)
        return face, name, count

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        p: PersonSummary = index.data(PeopleModel.SummaryRole)
        pal = option.palette  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if state & QStyle.StateFlag.State_Selected:
            tint = QColor(pal.color(QPalette.ColorRole.Highlight))
            tint.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(tint)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 10, 10)
        face_rect, name_rect, count_rect = self._rects(rect)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if p.hidden:
            painter.setOpacity(0.45)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            painter.drawPixmap(face_rect, pixmap)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Midlight))
            painter.drawEllipse(face_rect)
            painter.setBrush(pal.color(QPalette.ColorRole.Mid))
            head = face_rect.adjusted(FACE * 3 // 8, FACE // 5, -FACE * 3 // 8, -FACE // 2)
            painter.drawEllipse(head)
            painter.drawChord(
                face_rect.adjusted(FACE // 5, FACE * 11 // 20, -FACE // 5, FACE // 3), 0, 180 * 16
            )
        painter.setOpacity(1.0)
        font = QFont(option.font)  # type: ignore[attr-defined]
        font.setBold(bool(p.name))
        font.setItalic(not p.name)
        painter.setFont(font)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(pal.color(QPalette.ColorRole.Text) if p.name else muted)
        name = painter.fontMetrics().elidedText(
            p.name or "Add a name", Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter, name)
        font.setBold(False)
        font.setItalic(False)
        font.setPointSizeF(font.pointSizeF() * 0.9)
        painter.setFont(font)
        painter.setPen(muted)
        count = f"{p.photo_count} photo{'s' if p.photo_count != 1 else ''}"
        painter.drawText(
            count_rect, Qt.AlignmentFlag.AlignCenter, count + (" · hidden" if p.hidden else "")
        )
        painter.restore()

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setPlaceholderText("Add a name")
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return editor

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        _, name, _ = self._rects(option.rect)  # type: ignore[attr-defined]
        editor.setGeometry(name.adjusted(0, -2, 0, 2))
