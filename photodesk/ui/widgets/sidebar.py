"""The sidebar: grouped sections with icons and counts, and the albums as drop targets."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from photodesk.ui import icons, style
from photodesk.ui.widgets.photo_grid import mime_ids

# (group label or "", [sections]); a section's icon is ``icons.icon(section.lower())``.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Library", ("Timeline", "Memories", "Events", "Map", "People", "Search")),
    ("Collections", ("Albums", "Tags", "Folders", "Duplicates")),
    ("", ("Favourites", "Archive", "Trash")),
)
KindRole = Qt.ItemDataRole.UserRole + 20  # "header", "section", "album" or "shared"
CountRole = Qt.ItemDataRole.UserRole + 21
NameRole = Qt.ItemDataRole.UserRole + 22  # the section, the album's name, a shared album's key
ROW_HEIGHT = 30
ALBUMS_SHOWN = 8


class SidebarDelegate(QStyledItemDelegate):
    """Group labels in small muted capitals; rows with their count on the right."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        kind = index.data(KindRole)
        if kind == "header":
            return QSize(100, 30 if index.data(Qt.ItemDataRole.DisplayRole) else 12)
        return QSize(100, ROW_HEIGHT if kind == "section" else ROW_HEIGHT - 4)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        theme = style.current()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        if index.data(KindRole) == "header":
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "").upper()
            if text:
                painter.save()
                font = QFont(option.font)  # type: ignore[attr-defined]
                font.setPixelSize(style.CAPTION)
                font.setBold(True)
                font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
                painter.setFont(font)
                painter.setPen(QColor(theme.faint))
                text_rect = rect.adjusted(style.L, 0, -style.S, -style.XS)
                flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
                painter.drawText(text_rect, flags, text)
                painter.restore()
            return
        super().paint(painter, option, index)
        count = index.data(CountRole)
        if count is not None:
            painter.save()
            font = QFont(option.font)  # type: ignore[attr-defined]
            font.setPixelSize(style.CAPTION + 1)
            painter.setFont(font)
            painter.setPen(QColor(theme.muted))
            flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(rect.adjusted(0, 0, -style.M - style.XS, 0), flags, f"{count:,}")
            painter.restore()


class Sidebar(QListWidget):
    """``section_chosen(name)`` when a section is picked, ``album_chosen(name)`` for an album
    (a shared album's key for one shared with the account); ``assets_dropped(ids, kind, name)``
    when photos are dropped on an own album or on Favourites (shared albums take no drops)."""

    section_chosen = Signal(str)
    album_chosen = Signal(str)
    assets_dropped = Signal(list, str, str)

    def __init__(self, sections: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setFrameShape(QListWidget.Shape.NoFrame)
        self.setFixedWidth(style.SIDEBAR_WIDTH)
        self.setItemDelegate(SidebarDelegate(self))
        self.setIconSize(QSize(18, 18))
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections: dict[str, QListWidgetItem] = {}
        self.albums: dict[str, QListWidgetItem] = {}
        grouped = {n for _, names in GROUPS for n in names}
        groups = [*GROUPS, ("", tuple(n for n in sections if n not in grouped))]
        for label, names in groups:
            names = tuple(n for n in names if n in sections)
            if not names:
                continue
            self._header(label)
            for name in names:
                item = QListWidgetItem(name)
                item.setData(KindRole, "section")
                item.setData(NameRole, name)
                self.addItem(item)
                self.sections[name] = item
        self.refresh_icons()
        self.currentItemChanged.connect(self._on_current)

    def _header(self, label: str) -> None:
        item = QListWidgetItem(label)
        item.setData(KindRole, "header")
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.addItem(item)

    def refresh_icons(self) -> None:
        for name, item in self.sections.items():
            item.setIcon(icons.icon(name.lower()))
        for item in self.albums.values():
            item.setIcon(icons.icon("album"))

    # ----- state ------------------------------------------------------------------------------
    def select(self, section: str) -> None:
        if (item := self.sections.get(section)) is not None:
            self.setCurrentItem(item)

    def current(self) -> str:
        item = self.currentItem()
        if item is None:
            return "Timeline"
        return "Albums" if item.data(KindRole) in ("album", "shared") else str(item.data(NameRole))

    def set_counts(self, counts: dict[str, int | None]) -> None:
        for name, count in counts.items():
            if (item := self.sections.get(name)) is not None:
                item.setData(CountRole, count)

    def set_albums(
        self,
        albums: list[tuple[str, int]],
        shared: list[tuple[str, str, int, str]] | None = None,
    ) -> None:
        """The first albums (name, photos) under Albums, where photos can be dropped on them,
        then those shared with the account (key, label, photos, tooltip): no drops there."""
        shown = albums[:ALBUMS_SHOWN]
        others = (shared or [])[:ALBUMS_SHOWN]
        now = [(n, i.data(CountRole), i.toolTip()) for n, i in self.albums.items()]
        want = [(n, c, f"{n}: drop photos here to add them") for n, c in shown]
        if now == want + [(k, c, tip) for k, _, c, tip in others]:
            return
        keep = self.currentItem()
        keep_album = (
            keep.data(NameRole)
            if keep is not None and keep.data(KindRole) in ("album", "shared")
            else None
        )
        self.blockSignals(True)
        for item in self.albums.values():
            self.takeItem(self.row(item))
        self.albums = {}
        at = self.row(self.sections["Albums"]) + 1
        for offset, (name, count) in enumerate(shown):
            item = QListWidgetItem("    " + name)
            item.setData(KindRole, "album")
            item.setData(NameRole, name)
            item.setData(CountRole, count)
            item.setIcon(icons.icon("album"))
            item.setToolTip(f"{name}: drop photos here to add them")
            self.insertItem(at + offset, item)
            self.albums[name] = item
        at += len(shown)
        for offset, (key, label, count, tip) in enumerate(others):
            item = QListWidgetItem("    " + label)
            item.setData(KindRole, "shared")
            item.setData(NameRole, key)
            item.setData(CountRole, count)
            item.setIcon(icons.icon("album"))
            item.setToolTip(tip)
            self.insertItem(at + offset, item)
            self.albums[key] = item
        if keep_album in self.albums:
            self.setCurrentItem(self.albums[keep_album])
        self.blockSignals(False)

    def _on_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None:
            return
        if item.data(KindRole) in ("album", "shared"):
            self.album_chosen.emit(str(item.data(NameRole)))
        else:
            self.section_chosen.emit(str(item.data(NameRole)))

    # ----- drops ------------------------------------------------------------------------------
    def _target(self, event: QDropEvent | QDragMoveEvent) -> QListWidgetItem | None:
        item = self.itemAt(event.position().toPoint())
        if item is None:
            return None
        kind, name = item.data(KindRole), item.data(NameRole)
        if kind == "album" or (kind == "section" and name == "Favourites"):
            return item
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if mime_ids(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if mime_ids(event.mimeData()) and self._target(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        item = self._target(event)
        ids = mime_ids(event.mimeData())
        if item is None or not ids:
            event.ignore()
            return
        self.assets_dropped.emit(ids, str(item.data(KindRole)), str(item.data(NameRole)))
        event.acceptProposedAction()
