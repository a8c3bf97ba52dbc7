"""The folders view, and what the collection views share: a photo grid and a tree-plus-grid base."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QDesktopServices,
    QIcon,
    QImage,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import AssetQuery, Changes, FolderService, Library
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.models.asset_grid import AssetGridModel
from photodesk.ui.thumbs import shared_cache
from photodesk.ui.views.base import View
from photodesk.ui.views.grid import AssetGrid

ASSET_IDS_MIME = "application/x-photodesk-asset-ids"
KeyRole = Qt.ItemDataRole.UserRole + 7
ExtraRole = Qt.ItemDataRole.UserRole + 8
Index = QModelIndex | QPersistentModelIndex


def count_label(count: int, noun: str = "photo") -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def ids_mime(ids: Iterable[int]) -> QMimeData:
    """Asset ids as a drag payload (``application/x-photodesk-asset-ids``: a JSON list)."""
    data = QMimeData()
    data.setData(ASSET_IDS_MIME, json.dumps([int(i) for i in ids]).encode())
    return data


def mime_ids(data: QMimeData | None) -> list[int]:
    """The asset ids a drag carries, or [] when it carries none."""
    if data is None or not data.hasFormat(ASSET_IDS_MIME):
        return []
    try:
        return [int(i) for i in json.loads(bytes(data.data(ASSET_IDS_MIME).data()).decode())]
    except (ValueError, TypeError):
        return []


class _DraggableModel(AssetGridModel):
    """The shared grid model, whose selected tiles drag out as asset ids."""

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [ASSET_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return ids_mime(int(self.item(r).id) for r in rows if r < self.rowCount())

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class PhotoGrid(AssetGrid):
    """The shared thumbnail grid over a query or a list of ids; Enter or double-click opens."""

    opened = Signal(list, int)

    def __init__(self, library: Library, bridge: Bridge, *, empty: str = "") -> None:
        thumbs = shared_cache(library, bridge)
        super().__init__(thumbs)
        self.grid = _DraggableModel(library, self, thumbs=thumbs)
        self.setModel(self.grid)
        self.empty_text = empty or self.empty_text
        self.doubleClicked.connect(lambda index: self._open(index.row()))
        self.key_handlers[Qt.Key.Key_Return] = self._open_current
        self.key_handlers[Qt.Key.Key_Enter] = self._open_current

    def show_query(self, query: AssetQuery) -> None:
        self.grid.set_query(query)

    def show_ids(self, ids: Iterable[int], *, by_date: bool = True) -> None:
        """These assets, grouped by day (``by_date``), or in the order given."""
        self.grid.set_ids(ids, by_date=by_date)

    def ids(self) -> list[int]:
        return self.grid.ids()

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [int(self.grid.item(r).id) for r in rows if r < self.grid.rowCount()]

    def on_changed(self, changes: Changes) -> None:
        self.grid.on_changed(changes)

    def _open_current(self) -> None:
        if self.currentIndex().isValid():
            self._open(self.currentIndex().row())

    def _open(self, row: int) -> None:
        if 0 <= row < self.grid.rowCount():
            self.opened.emit(self.grid.ids(), row)


class Row(NamedTuple):
    """One collection in a tree: its key, its parent's key, its label and photo count."""

    key: str
    parent: str | None
    label: str
    photos: int
    icon: QImage | None = None
    extra: object = None  # anything the subclass wants back: ``item.data(ExtraRole)``


class CollectionModel(QStandardItemModel):
    """Tree items that take asset ids dropped onto them (``assets_dropped(ids, key)``)."""

    assets_dropped = Signal(list, str)

    def mimeTypes(self) -> list[str]:
        return [ASSET_IDS_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def canDropMimeData(self, data: QMimeData, *_: object) -> bool:  # type: ignore[override]
        return bool(mime_ids(data))

    def dropMimeData(  # type: ignore[override]
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        key = (
            self.index(parent.row(), 0, parent.parent()).data(KeyRole) if parent.isValid() else None
        )
        if key is None or not (ids := mime_ids(data)):
            return False
        self.assets_dropped.emit(ids, key)
        return True


class TreeGridView(View):
    """Collections as a tree with counts on the left; the selected one's photos on the right.

    Subclasses give ``rows()`` (run off the GUI thread), ``query(key)`` for the grid, and say in
    ``concerns(changes)`` which writes change their tree.
    """

    heading = "Name"
    empty = ""  # what the grid says when the selected collection has no photos
    nothing = ""  # ... and when there is no collection at all
    model_class: type[QStandardItemModel] = CollectionModel
    key_tips = True  # the tooltip shows the key (a path); else the label

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.tree_model = self.model_class(0, 2, self)
        self.tree_model.setHorizontalHeaderLabels([self.heading, "Photos"])
        self.tree = QTreeView()
        self.tree.setModel(self.tree_model)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.tree.setDropIndicatorShown(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_menu)
        self.tree.selectionModel().currentChanged.connect(lambda *_: self.show_selected())
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice = QLabel()  # what went wrong with the last edit, for a while
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #c33;")
        self.notice.hide()
        self._notice_timer = QTimer(self, singleShot=True, interval=10_000)
        self._notice_timer.timeout.connect(self.notice.hide)
        self.header_row = QHBoxLayout()
        self.header_row.addWidget(self.header, 1)
        self.grid = PhotoGrid(library, bridge, empty=self.empty)
        self.grid.opened.connect(self.open_assets)
        side, right = QWidget(), QWidget()
        self.side_layout = QVBoxLayout(side)
        self.side_layout.setContentsMargins(0, 0, 0, 0)
        self.side_layout.addWidget(self.tree, 1)
        column = QVBoxLayout(right)
        column.setContentsMargins(8, 8, 0, 0)
        column.addLayout(self.header_row)
        column.addWidget(self.notice)
        column.addWidget(self.grid, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(side)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 900])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)
        self.items: dict[str, QStandardItem] = {}
        self.counts: dict[str, int] = {}
        self.labels: dict[str, str] = {}  # as loaded (an item's text changes while edited)
        self.want_key: str | None = None  # select this one after the next reload
        self._rows: list[Row] | None = None
        self._dirty = True
        self._refresh = QTimer(self, singleShot=True, interval=500)
        self._refresh.timeout.connect(self.reload)
        bridge.changed.connect(self._on_changed)

    # ----- hooks -----------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        raise NotImplementedError

    def query(self, key: str) -> AssetQuery:
        raise NotImplementedError

    def concerns(self, changes: Changes) -> bool:
        return bool(changes.assets or changes.assets_added or changes.assets_removed)

    def describe(self, key: str) -> str:
        return f"<b>{escape(self.items[key].text())}</b> — {count_label(self.counts[key])}"

    def menu(self, key: str, menu: QMenu) -> None:
        """Add the actions of collection ``key`` to its context menu."""

    # ----- loading ---------------------------------------------------------------------------
    def activate(self) -> None:
        super().activate()
        if self._dirty:
            self.reload()

    def reload(self) -> None:
        self._dirty = False
        ops.query(self, self.rows, self._on_rows, self.show_error)

    def selected_key(self) -> str | None:
        index = self.tree.currentIndex().siblingAtColumn(0)
        return index.data(KeyRole) if index.isValid() else None

    def select_key(self, key: str) -> None:
        if (item := self.items.get(key)) is not None:
            self.tree.setCurrentIndex(item.index())

    def _on_rows(self, rows: list[Row]) -> None:
        if rows == self._rows and self.want_key is None:
            return  # nothing to redraw: keep the tree's scroll, selection and editor
        self._rows = rows
        keep = self.want_key or self.selected_key()
        self.want_key = None
        expanded = {k for k, it in self.items.items() if self.tree.isExpanded(it.index())}
        self.tree_model.removeRows(0, self.tree_model.rowCount())
        self.items, self.counts, self.labels = {}, {}, {}
        for row in rows:
            name = QStandardItem(row.label)
            name.setData(row.key, KeyRole)
            name.setData(row.extra, ExtraRole)
            name.setToolTip(row.key if self.key_tips else row.label)
            if row.icon is not None:
                name.setIcon(QIcon(QPixmap.fromImage(row.icon)))
            number = QStandardItem(f"{row.photos:,}")
            number.setEditable(False)
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            holder = self.items.get(row.parent) if row.parent else None
            (holder or self.tree_model.invisibleRootItem()).appendRow([name, number])
            self.items[row.key], self.counts[row.key] = name, row.photos
            self.labels[row.key] = row.label
        for key, item in self.items.items():
            if key in expanded or item.parent() is None:
                self.tree.setExpanded(item.index(), True)
        self.tree.setRootIsDecorated(any(it.hasChildren() for it in self.items.values()))
        if keep in self.items or rows:
            self.select_key(keep if keep in self.items else rows[0].key)  # type: ignore[arg-type]
        self.show_selected()

    def show_selected(self) -> None:
        key = self.selected_key()
        self.grid.empty_text = self.empty if key is not None else self.nothing
        if key is None:
            self.header.setText("")
            self.grid.show_ids([])
            return
        self.header.setText(self.describe(key))
        query = self.query(key)
        if query != self.grid.grid.query:
            self.grid.show_query(query)

    def _on_menu(self, pos: QPoint) -> None:
        key = self.selected_key()
        if key is not None:
            menu = QMenu(self)
            self.menu(key, menu)
            if menu.actions():
                menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _on_changed(self, changes: Changes) -> None:
        self.grid.on_changed(changes)
        if self.concerns(changes):
            if self.isVisible():
                self._refresh.start()
            else:
                self._dirty = True

    def write(self, fn: Callable[[], Any], then: Callable[[Any], str | None]) -> None:
        """Run a catalog write off the GUI thread, then reload and select ``then(result)``."""

        def done(result: Any) -> None:
            self.notice.hide()
            self.want_key = then(result)
            self.reload()

        def failed(exc: Exception) -> None:
            self._rows = None  # redraw: back to what the catalog holds (an edited name, say)
            self.reload()
            self.show_error(exc)

        ops.query(self, fn, done, failed)

    def show_error(self, exc: Exception) -> None:
        self.notice.setText(str(exc))
        self.notice.show()
        self._notice_timer.start()


class FoldersView(TreeGridView):
    """The folders holding the library's files; a folder shows its photos and its subfolders'."""

    title = heading = "Folders"
    empty = "No photos in this folder"
    nothing = "No folders yet: import some photos"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.folders = library.folders

    def rows(self) -> list[Row]:
        return [Row(n.path, n.parent, n.name, n.total) for n in self.folders.tree()]

    def query(self, key: str) -> AssetQuery:
        return FolderService.query(key)

    def describe(self, key: str) -> str:
        below = " · with its subfolders" if self.items[key].hasChildren() else ""
        where = f"<br><span style='color: gray'>{escape(key)}{below}</span>"
        return f"<b>{escape(Path(key).name or key)}</b> — {count_label(self.counts[key])}{where}"

    def menu(self, key: str, menu: QMenu) -> None:
        menu.addAction("Show in file manager").triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(key))
        )
