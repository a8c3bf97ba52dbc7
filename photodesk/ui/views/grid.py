"""AssetGridView: a photo grid of any query with bulk actions; Favourites, Archive and Trash."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QPoint,
    QSettings,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import TRASH_DAYS, AssetQuery, Changes, GridItem, Library
from photodesk.ui import ops, style
from photodesk.ui.bridge import Bridge
from photodesk.ui.thumbs import shared_cache
from photodesk.ui.views.base import View
from photodesk.ui.widgets.asset_grid import DEFAULT_TILE, MAX_TILE, MIN_TILE, AssetGrid
from photodesk.ui.widgets.photo_grid import DraggableModel
from photodesk.ui.widgets.scrubber import DateScrubber

__all__ = ["ArchiveView", "AssetGrid", "AssetGridView", "FavouritesView", "TrashView"]
log = logging.getLogger(__name__)


# ----- the view ----------------------------------------------------------------------------------
def ask_text(parent: QWidget, title: str, label: str, choices: list[str]) -> str | None:
    """A one-line question whose field completes from ``choices`` (tag paths, album names)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    edit = dialog.findChild(QLineEdit)
    if isinstance(edit, QLineEdit):
        completer = QCompleter(choices, dialog)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        edit.setCompleter(completer)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.textValue().strip() or None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


class AssetGridView(View):
    """A grid of any ``AssetQuery`` (or list of ids) with a scrubber, zoom and bulk actions.

    Other views embed one: ``AssetGridView(lib, bridge, parent, query=AssetQuery(album="Trip"))``,
    then ``set_query(q)`` or ``set_ids(ids)`` as their selection changes. Keys: 0-5 rate, F
    favourite, T tag, Delete trash (restore in the Trash), Enter opens the viewer.
    """

    title = "Photos"
    default_query = AssetQuery()
    empty_text = "No photos here yet"
    in_trash = False  # Delete restores, Restore and Empty Trash are offered

    def __init__(
        self,
        library: Library,
        bridge: Bridge,
        parent: QWidget | None = None,
        *,
        query: AssetQuery | None = None,
        title: str | None = None,
        empty_text: str | None = None,
    ) -> None:
        super().__init__(library, bridge, parent)
        self.title = title or self.title
        self.settings = QSettings("photodesk", "photodesk")
        self.thumbs = shared_cache(library, bridge)
        self.model = DraggableModel(  # tiles drag onto albums (sidebar, Albums view)
            library, self, query=query or self.default_query, thumbs=self.thumbs
        )
        self.grid = AssetGrid(self.thumbs, self)
        self.grid.setModel(self.model)
        self.grid.empty_text = empty_text or self.empty_text
        tile = self.settings.value("grid/tile", DEFAULT_TILE, type=int)
        self.grid.set_tile(tile if isinstance(tile, int) else DEFAULT_TILE)
        self.scrubber = DateScrubber(self)
        self.heading = QLabel(self.title)
        font = self.heading.font()
        font.setPixelSize(style.TITLE)
        font.setBold(True)
        self.heading.setFont(font)
        self.count = QLabel("")
        self.count.setObjectName("muted")
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(MIN_TILE, MAX_TILE)
        self.zoom.setValue(self.grid.tile)
        self.zoom.setFixedWidth(140)
        self.zoom.setToolTip("Thumbnail size (Ctrl+wheel)")
        self.toolbar = QHBoxLayout()
        self.toolbar.setContentsMargins(12, 8, 12, 4)
        self.toolbar.addWidget(self.heading)
        self.toolbar.addSpacing(10)
        self.toolbar.addWidget(self.count)
        self.toolbar.addStretch(1)
        self.toolbar.addWidget(self.zoom)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.grid, 1)
        body.addWidget(self.scrubber)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(self.toolbar)
        column.addLayout(body, 1)
        self._albums: list[str] = []
        self._loaded = False

        self.zoom.valueChanged.connect(self.grid.set_tile)
        self.grid.zoomed.connect(self._on_zoomed)
        self.scrubber.jump.connect(self.grid.jump_to)
        self.grid.position_changed.connect(self.scrubber.set_position)
        self.model.months_changed.connect(self._on_months)
        self.model.groups_changed.connect(self._update_count)
        self.grid.doubleClicked.connect(lambda index: self.open_at(index.row()))
        self.grid.customContextMenuRequested.connect(self._on_context_menu)
        self.bridge.changed.connect(self._on_changed)
        K = Qt.Key
        handlers: dict[Qt.Key, Callable[[], None]] = {
            K.Key_F: self.toggle_favourite,
            K.Key_T: self.tag,
            K.Key_Delete: self.restore if self.in_trash else self.trash,
            K.Key_Backspace: self.restore if self.in_trash else self.trash,
            K.Key_Return: self.open_current,
            K.Key_Enter: self.open_current,
        }
        for n, key in enumerate((K.Key_0, K.Key_1, K.Key_2, K.Key_3, K.Key_4, K.Key_5)):
            handlers[key] = partial(self.rate, n)
        self.grid.key_handlers = {int(k.value): fn for k, fn in handlers.items()}

    # ----- content ------------------------------------------------------------------------------
    def activate(self) -> None:
        super().activate()
        if not self._loaded:
            self.reload()
        self.grid.setFocus()

    def reload(self) -> None:
        self._loaded = True
        self.model.reload()
        self._fetch_albums()

    def set_query(self, query: AssetQuery) -> None:
        """Show another query (an album, a tag, a folder, search filters)."""
        if not self._loaded:
            self._loaded = True
            self._fetch_albums()
        self.model.set_query(query)

    def set_ids(self, ids: list[int], *, by_date: bool = True) -> None:
        """Show these assets (a map selection, search hits), by date or in the order given."""
        if not self._loaded:
            self._loaded = True
            self._fetch_albums()
        self.model.set_ids(ids, by_date=by_date)

    def selected_rows(self) -> list[int]:
        """Selected rows in grid order; the current one when nothing is selected."""
        sel = self.grid.selectionModel()
        # Ranges, not selectedIndexes(): a whole library selected is one range, not 100k indexes.
        ranges = sel.selection() if sel else QItemSelection()
        spans = [(ranges.at(i).top(), ranges.at(i).bottom()) for i in range(ranges.count())]
        rows = sorted({row for top, bottom in spans for row in range(top, bottom + 1)})
        if not rows and self.grid.currentIndex().isValid():
            rows = [self.grid.currentIndex().row()]
        return [r for r in rows if r < self.model.rowCount()]

    def selected_ids(self) -> list[int]:
        """Selected assets in grid order; the current one when nothing is selected."""
        ids = self.model.ids()
        return [ids[r] for r in self.selected_rows()]

    def select_ids(self, ids: list[int]) -> None:
        sel, F = self.grid.selectionModel(), QItemSelectionModel.SelectionFlag
        selection = QItemSelection()
        for asset_id in ids:
            row = self.model.row_of(asset_id)
            if row is not None:
                selection.select(self.model.index(row, 0), self.model.index(row, 0))
        sel.select(selection, F.ClearAndSelect)
        if not selection.isEmpty():
            sel.setCurrentIndex(selection.indexes()[0], F.NoUpdate)
            self.grid.scrollTo(selection.indexes()[0])

    def open_current(self) -> None:
        index = self.grid.currentIndex()
        rows = self.grid.selectionModel().selectedIndexes()
        row = index.row() if index.isValid() else (rows[0].row() if rows else -1)
        if row >= 0:
            self.open_at(row)

    def open_at(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.open_assets.emit(self.model.ids(), row)

    # ----- bulk actions (writes go through the core's services, off the GUI thread) -------------
    def _items(self) -> list[GridItem]:
        return [self.model.item(r) for r in self.selected_rows()]

    def _write(self, done: str, fn: Callable[[], object]) -> None:
        ops.query(self, fn, lambda _result: self._say(done), self._on_error)

    def toggle_favourite(self) -> None:
        items = self._items()
        if items:
            on = not all(i.favorite for i in items)
            ids = [int(i.id) for i in items]
            word = "Added to" if on else "Removed from"
            self._write(f"{word} favourites", lambda: self.library.assets.set_favorite(ids, on))

    def rate(self, stars: int) -> None:
        ids = self.selected_ids()
        if ids:
            self._write(f"Rated {stars}★", lambda: self.library.assets.set_rating(ids, stars))

    def tag(self) -> None:
        ids = self.selected_ids()
        if ids:
            tags = self.library.tags
            ops.query(self, lambda: [t.path for t in tags.tree()], partial(self._ask_tag, ids))

    def _ask_tag(self, ids: list[int], paths: list[str]) -> None:
        path = ask_text(self, "Tag", f"Tag {len(ids)} item(s) with (Places/France/Paris):", paths)
        if path:
            self._write(f"Tagged {path}", lambda: self.library.tags.add(ids, path))

    def add_to_album(self, name: str | None = None) -> None:
        ids = self.selected_ids()
        name = name or ask_text(
            self, "Add to album", "Album (a new name creates it):", self._albums
        )
        if ids and name:
            albums = self.library.albums
            self._write(f"Added to {name}", lambda: albums.add(albums.ensure(name), ids))

    def archive(self, on: bool = True) -> None:
        ids, tl = self.selected_ids(), self.model.timeline
        if ids:
            word = "Archived" if on else "Unarchived"
            self._write(word, lambda: self.library.assets.set_archived(tl.stack_members(ids), on))

    def trash(self) -> None:
        ids, tl = self.selected_ids(), self.model.timeline
        if ids:
            self._write(
                f"Moved {len(ids)} to the Trash",
                lambda: self.library.assets.trash(tl.stack_members(ids)),
            )

    def restore(self) -> None:
        ids, tl = self.selected_ids(), self.model.timeline
        if ids:
            self._write(
                f"Restored {len(ids)}", lambda: self.library.assets.restore(tl.stack_members(ids))
            )

    def open_stack(self) -> None:
        """Open the viewer on every photo of the selected stack (a tile shows only its top)."""
        ids, tl = self.selected_ids(), self.model.timeline
        if ids:
            ops.query(self, lambda: tl.stack_members(ids[:1]), self._on_stack, self._on_error)

    def _on_stack(self, members: list[int]) -> None:
        top = self.selected_ids()[:1]
        order = top + [int(m) for m in members if m not in top]
        self.open_assets.emit(order, 0)

    def show_in_folder(self) -> None:
        ids = self.selected_ids()
        if ids:
            get = self.library.assets.get
            ops.query(self, lambda: get(ids[0]).path, self._on_path, self._on_error)

    def _on_path(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))

    def build_menu(self) -> QMenu:
        """The context menu for the selection (also what tests drive)."""
        menu = QMenu(self)
        items = self._items()

        def add(target: QMenu, text: str, fn: Callable[[], None], key: str = "") -> QAction:
            action = target.addAction(text)
            action.triggered.connect(lambda _checked=False: fn())
            if key:
                action.setShortcut(QKeySequence(key))
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            return action

        add(menu, "Open", self.open_current, "Return")
        if len(items) == 1 and items[0].stack_size > 1:
            add(menu, f"Open the {items[0].stack_size} Photos of This Stack", self.open_stack)
        fav = bool(items) and all(i.favorite for i in items)
        add(menu, "Remove from Favourites" if fav else "Favourite", self.toggle_favourite, "F")
        stars = menu.addMenu("Rate")
        for n in range(6):
            add(stars, "No rating" if n == 0 else "★" * n, partial(self.rate, n), str(n))
        add(menu, "Tag…", self.tag, "T")
        album_menu = menu.addMenu("Add to Album")
        for name in self._albums[:20]:
            add(album_menu, name, partial(self.add_to_album, name))
        if self._albums:
            album_menu.addSeparator()
        add(album_menu, "New Album…", self.add_to_album)
        menu.addSeparator()
        archived = bool(items) and all(i.archived for i in items)
        add(menu, "Unarchive" if archived else "Archive", partial(self.archive, not archived))
        if self.in_trash:
            add(menu, "Restore", self.restore, "Del")
        else:
            add(menu, "Move to Trash", self.trash, "Del")
        add(menu, "Show in Folder", self.show_in_folder)
        similar = None
        if getattr(self.library.search, "semantic_available", False):
            similar = add(menu, "Find Similar Photos", self.find_similar)
        for action in menu.actions():
            action.setEnabled(bool(items) or action.menu() is not None)
        if similar is not None:
            similar.setEnabled(len(items) == 1)
        return menu

    def header_menu(self, gi: int) -> QMenu | None:
        """The menu of a right-click on group ``gi``'s header (None: the photos' menu);
        ``header_menu_for`` set by the owner (the timeline's events) makes one."""
        make = getattr(self, "header_menu_for", None)
        return make(gi) if make is not None else None

    def find_similar(self) -> None:
        """Smart search for photos that look like the selected one (in the Search view)."""
        ids = self.selected_ids()
        if len(ids) == 1:
            self.similar_wanted.emit(ids[0])

    def _on_context_menu(self, pos: QPoint) -> None:
        gi = self.grid.layout_.header_at(pos.x(), pos.y() + self.grid.verticalOffset())
        header_menu = self.header_menu(gi) if gi is not None else None
        menu = header_menu or self.build_menu()
        menu.exec(self.grid.viewport().mapToGlobal(pos))
        menu.deleteLater()

    # ----- events -------------------------------------------------------------------------------
    def _fetch_albums(self) -> None:
        albums = self.library.albums
        ops.query(self, lambda: [a.name for a in albums.list()], self._on_albums, self._on_error)

    def _on_albums(self, names: list[str]) -> None:
        self._albums = names

    def _on_changed(self, changes: Changes) -> None:
        if not self._loaded:
            return  # loads fresh when first shown
        self.model.on_changed(changes)
        if changes.albums:
            self._fetch_albums()

    def _on_months(self) -> None:
        self.scrubber.set_months(self.model.months())
        scrub = self.model.grouped and len(self.model.months()) > 1
        self.scrubber.setVisible(scrub)
        # The scrubber is the scroll bar of a date-sorted grid (as in Google Photos and Immich).
        self.grid.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if scrub else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        self._update_count()

    def _update_count(self) -> None:
        n = self.model.rowCount()
        if not self.model.is_complete():
            n = max(n, sum(m.count for m in self.model.months()))
        self.count.setText(f"{n:,} item{'s' if n != 1 else ''}" if n else "")

    def _on_zoomed(self, px: int) -> None:
        self.zoom.blockSignals(True)
        self.zoom.setValue(px)
        self.zoom.blockSignals(False)
        self.settings.setValue("grid/tile", px)

    def _say(self, text: str) -> None:
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 4000)

    def _on_error(self, exc: Exception) -> None:
        log.error("%s", exc)
        self._say(f"Error: {exc}")


class FavouritesView(AssetGridView):
    title = "Favourites"
    default_query = AssetQuery(favorite=True)
    empty_text = "No favourites yet: press F on a photo to add it"


class ArchiveView(AssetGridView):
    title = "Archive"
    default_query = AssetQuery(archived=True)
    empty_text = "Archived photos are kept here, out of the Timeline"


class TrashView(AssetGridView):
    title = "Trash"
    default_query = AssetQuery(trashed=True, archived=None)
    empty_text = "The Trash is empty"
    in_trash = True

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self.restore)
        self.empty_button = QPushButton("Empty Trash…")
        self.empty_button.clicked.connect(self.empty_trash)
        self.toolbar.insertWidget(3, self.restore_button)
        self.toolbar.insertWidget(4, self.empty_button)
        note = QLabel(f"Items are deleted for good after {TRASH_DAYS} days")
        note.setEnabled(False)
        note.setContentsMargins(0, 0, 12, 0)  # room before the buttons
        self.toolbar.insertWidget(3, note)
        self.toolbar.setSpacing(max(self.toolbar.spacing(), 6))

    def empty_trash(self) -> None:
        if confirm(self, "Empty Trash", "Delete everything in the Trash for good?"):
            purge = self.library.assets.purge_trash
            self._write("Trash emptied", lambda: purge(older_than_days=0))
