"""The albums view: albums with cover and count; create, rename, delete, fill by drag and drop."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QColor, QImage, QStandardItem
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QWidget,
)

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.thumbs import decode_square
from photodesk.ui.views.base import ExtraRole, KeyRole, Row, TreeGridView, count_label

COVER_PX = 96  # decoded cover size; shown at 48 px (sharp on 2x screens)
SORTS = {"asc": "Oldest first", "desc": "Newest first"}


class AlbumsView(TreeGridView):
    """Albums on the left (cover, name, count); the selected album's photos on the right."""

    title = heading = "Albums"
    empty = "This album is empty: drop photos on it in the list on the left"
    nothing = "No albums yet: make one with “New album…”"
    key_tips = False
    by_day = False  # a few photos over many days: one block, not a day header over each

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.tree_model.assets_dropped.connect(self.add_to_album)  # type: ignore[attr-defined]
        self.tree_model.itemChanged.connect(self._on_item_changed)
        self.tree.setIconSize(QSize(48, 48))
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.new_button = QPushButton("New album…")
        self.new_button.clicked.connect(self._ask_create)
        hint = QLabel("Drop photos on an album to add them. F2 renames it.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray; padding: 4px;")
        self.side_layout.insertWidget(0, self.new_button)
        self.side_layout.addWidget(hint)
        self.sort_box = QComboBox()
        for order, label in SORTS.items():
            self.sort_box.addItem(label, order)
        self.sort_box.activated.connect(lambda _: self.set_sort(self.sort_box.currentData()))
        self.cover_button = QPushButton("Set as cover")
        self.cover_button.clicked.connect(self._cover_from_selection)
        self.remove_button = QPushButton("Remove from album")
        self.remove_button.clicked.connect(lambda: self.remove_from_album(self.grid.selected_ids()))
        self.share_button = QPushButton("Share…")  # with the paired server's accounts, links
        self.share_button.clicked.connect(lambda: self.share_album(self.selected_key()))
        for widget in (self.sort_box, self.cover_button, self.remove_button, self.share_button):
            self.header_row.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
        self.grid.key_handlers[Qt.Key.Key_Delete] = self._remove_selection
        self.grid.customContextMenuRequested.connect(self._on_grid_menu)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    # ----- the list --------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        lib, rows = self.library, []
        for album in lib.albums.list():
            cover = None
            # The cover, else the first photos that have a thumbnail (a RAW may have none).
            for asset_id in [album.cover_asset_id, *lib.albums.assets(int(album.id))[:12]]:
                path = lib.assets.thumbnail_path(asset_id) if asset_id is not None else None
                if path is not None and (cover := decode_square(path, COVER_PX)) is not None:
                    break
            if cover is None:  # empty, or a cover with no thumbnail (yet): a blank tile
                cover = QImage(COVER_PX, COVER_PX, QImage.Format.Format_ARGB32)
                cover.fill(QColor(128, 128, 128, 70))
            key = str(album.id)
            rows.append(
                Row(key, None, album.name, album.asset_count, cover, lib.albums.sort_order(key))
            )
        return sorted(rows, key=lambda r: r.label.casefold())

    def query(self, key: str) -> AssetQuery:
        desc = self.items[key].data(ExtraRole) == "desc"
        return AssetQuery(album=self.items[key].text(), archived=None, newest_first=desc)

    def concerns(self, changes: Changes) -> bool:
        return changes.albums or super().concerns(changes)

    def describe(self, key: str) -> str:
        return f"<b style='font-size: large'>{escape(self.items[key].text())}</b><br>" + (
            f"<span style='color: gray'>{count_label(self.counts[key])}</span>"
        )

    def show_selected(self) -> None:
        super().show_selected()
        key = self.selected_key()
        if key is not None:
            self.sort_box.setCurrentIndex(list(SORTS).index(self.sort_of(key)))
        self._update_buttons()

    def sort_of(self, key: str) -> str:
        return "desc" if self.items[key].data(ExtraRole) == "desc" else "asc"

    def menu(self, key: str, menu: QMenu) -> None:
        menu.addAction("Rename…").triggered.connect(lambda: self.tree.edit(self.items[key].index()))
        menu.addAction("Delete album…").triggered.connect(lambda: self._ask_delete(key))
        menu.addAction("Share…").triggered.connect(lambda: self.share_album(key))

    def _update_buttons(self) -> None:
        album, chosen = self.selected_key(), len(self.grid.selected_ids())
        self.sort_box.setEnabled(album is not None)
        self.share_button.setEnabled(album is not None)
        self.cover_button.setEnabled(album is not None and chosen == 1)
        self.remove_button.setEnabled(album is not None and chosen > 0)

    # ----- edits (each one write off the GUI thread; the list reloads on the change event) ----
    def create_album(self, name: str) -> None:
        self.write(lambda: self.library.albums.create(name), str)

    def rename_album(self, key: str, name: str) -> None:
        self.write(lambda: self.library.albums.rename(int(key), name), lambda _: key)

    def delete_album(self, key: str) -> None:
        self.write(lambda: self.library.albums.delete(int(key)), lambda _: None)

    def add_to_album(self, ids: list[int], key: str) -> None:
        self.write(lambda: self.library.albums.add(int(key), ids), lambda _: key)

    def remove_from_album(self, ids: list[int]) -> None:
        if (key := self.selected_key()) is not None and ids:
            self.write(lambda: self.library.albums.remove(int(key), ids), lambda _: key)

    def set_cover(self, asset_id: int) -> None:
        if (key := self.selected_key()) is not None:
            self.write(lambda: self.library.albums.set_cover(int(key), asset_id), lambda _: key)

    def set_sort(self, order: str) -> None:
        if (key := self.selected_key()) is not None:
            self.write(lambda: self.library.albums.set_sort(int(key), order), lambda _: key)

    def _remove_selection(self) -> None:
        self.remove_from_album(self.grid.selected_ids())

    def _cover_from_selection(self) -> None:
        if len(chosen := self.grid.selected_ids()) == 1:
            self.set_cover(chosen[0])

    def _on_item_changed(self, item: QStandardItem) -> None:
        key = item.data(KeyRole)
        name = item.text().strip()
        if item.column() == 0 and key and name and name != self.labels.get(key):
            self.rename_album(key, name)

    def _on_grid_menu(self, pos: QPoint) -> None:
        chosen = self.grid.selected_ids()
        if not chosen or self.selected_key() is None:
            return
        menu = QMenu(self)
        if len(chosen) == 1:
            menu.addAction("Set as album cover").triggered.connect(
                lambda: self.set_cover(chosen[0])
            )
        menu.addAction(f"Remove {count_label(len(chosen))} from album").triggered.connect(
            lambda: self.remove_from_album(chosen)
        )
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def share_album(self, key: str | None) -> None:
        if key is None or key not in self.items:
            return
        from photodesk.ui.dialogs.share_dialog import ShareDialog

        ShareDialog(self.library, self.items[key].text(), self).exec()

    def _ask_create(self) -> None:
        name, ok = QInputDialog.getText(self, "New album", "Name of the new album:")
        if ok and name.strip():
            self.create_album(name.strip())

    def _ask_delete(self, key: str) -> None:
        name = self.items[key].text()
        answer = QMessageBox.question(
            self, "Delete album", f"Delete the album “{name}”? Its photos stay in the library."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_album(key)
