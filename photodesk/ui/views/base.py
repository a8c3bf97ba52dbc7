"""The contract every main-window view follows, and the tree-plus-grid base of the collections.

``View`` is what ``MainWindow`` knows of a view: ``activate()``, ``open_assets`` and the optional
requests below (``show_similar``). ``TreeGridView`` is the base of Albums, Tags and Folders.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any, NamedTuple

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
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

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.style import Theme
from photodesk.ui.widgets.photo_grid import ASSET_IDS_MIME, PhotoGrid, mime_ids

KeyRole = Qt.ItemDataRole.UserRole + 7
ExtraRole = Qt.ItemDataRole.UserRole + 8
Index = QModelIndex | QPersistentModelIndex


def count_label(count: int, noun: str = "photo") -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class View(QWidget):
    """A sidebar section. Build cheaply; load data in ``activate()`` (first shown) off-thread.

    ``open_assets(ids, index)`` asks the main window to open the viewer on ``ids[index]`` with
    ``ids`` as the sequence for left/right navigation.
    """

    open_assets = Signal(list, int)
    similar_wanted = Signal(int)  # "find photos like this one": the main window routes it
    title = "View"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.bridge = bridge
        self._activated = False

    def activate(self) -> None:
        """Called each time the view is shown; the first call should start loading."""
        self._activated = True

    def show_similar(self, asset_id: int) -> None:
        """Show the photos that look like ``asset_id`` (the Search view does; others ignore it)."""

    def search_for(self, text: str) -> None:
        """Show what matches ``text`` (the toolbar's search field; the Search view does)."""

    def show_collection(self, key: str) -> None:
        """Select collection ``key`` (an album's name, a tag path) in a tree-plus-grid view."""

    def theme_changed(self, theme: Theme) -> None:
        """The app's theme changed: redraw what is not drawn from the palette."""
        self.update()


class ErrorView(View):
    """Stands in for a view that failed to load, saying why."""

    def __init__(
        self, library: Library, bridge: Bridge, message: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(library, bridge, parent)
        label = QLabel(message)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        QVBoxLayout(self).addWidget(label)


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
    by_day = True  # the grid in day groups; else one plain block in the query's order

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
        self.notice.setObjectName("notice")
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
        self._block_gen = 0
        self._rebuilding = False
        self._block_ids: list[int] | None = None
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
        ops.query(self, self.rows, self._on_rows, self.show_error, latest="rows")

    def selected_key(self) -> str | None:
        index = self.tree.currentIndex().siblingAtColumn(0)
        return index.data(KeyRole) if index.isValid() else None

    def show_collection(self, key: str) -> None:
        if key in self.items:
            self.select_key(key)
        else:  # not loaded yet: select it once the tree is in
            self.want_key = key

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
        self._rebuilding = True  # the tree's passing selections must not reload the grid
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
        self._rebuilding = False
        self.show_selected()

    def show_selected(self) -> None:
        if self._rebuilding:
            return
        key = self.selected_key()
        self.grid.empty_text = self.empty if key is not None else self.nothing
        if key is None:
            self.header.setText("")
            self._block_ids = None
            self.grid.show_ids([])
            return
        self.header.setText(self.describe(key))
        if not self.by_day:  # read the ids (off the GUI thread), then show them as they come
            self._block_gen += 1
            gen, read = self._block_gen, self.ids_reader(key)

            def show(ids: list[int]) -> None:
                if gen == self._block_gen and ids != self._block_ids:
                    self._block_ids = ids  # unchanged: no reload (the selection stays)
                    self.grid.show_ids(ids, by_date=False)

            ops.query(self, read, show, self.show_error)
        elif (query := self.query(key)) != self.grid.grid.query:
            self.grid.show_query(query)

    def ids_reader(self, key: str) -> Callable[[], list[int]]:
        """What reads collection ``key``'s photo ids off the GUI thread (plain-block views)."""
        query, assets = self.query(key), self.library.assets
        return lambda: [int(i) for i in assets.ids(query)]

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
