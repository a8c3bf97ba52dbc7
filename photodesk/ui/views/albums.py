"""The albums view: albums with cover and count; create, rename, delete, fill by drag and drop.

Albums other accounts shared with the paired account (synced from the server) come under
"Shared with you", with the sharer and the role. A viewer's are read-only here; an editor adds
their own photos (drop them on it) and removes photos, and the next sync takes that to the server
(docs/sync.md, "Shared albums").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

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
SHARED_GROUP = "shared"  # the "Shared with you" row; its albums' keys are "shared:<id>"


@dataclass(frozen=True)
class SharedInfo:
    """What the list knows of an album another account shared with this one."""

    album_id: int
    name: str
    owner: str  # the sharer's name, else e-mail
    owner_email: str
    role: str  # viewer | editor

    @property
    def editable(self) -> bool:
        """Whether photos may be added and removed here (an editor's album)."""
        return self.role == "editor"

    @property
    def why_read_only(self) -> str:
        """What of this album cannot be changed here, and why (a tooltip)."""
        if self.role == "viewer":
            return f"{self.owner} shared this album with you as a viewer: only they can change it"
        return (
            f"You are an editor of this album of {self.owner}: add your own photos (drop them"
            " on it) and remove photos; its name, cover and order are theirs"
        )


def shared_key(album_id: int) -> str:
    return f"shared:{album_id}"


def shared_albums(library: Library) -> list[tuple[str, str, int, str]]:
    """The albums shared with the acting user, for the sidebar: key, label, photos, tooltip."""
    out = []
    for a in library.shares.albums_for(library.owner_id):
        if a.role == "owner":
            continue
        owner = a.owner_name or a.owner_email
        what = "read-only here" if a.role == "viewer" else "you can add and remove photos"
        tip = f"{a.name}: shared by {owner} ({a.owner_email}) as {a.role}; {what}"
        out.append((shared_key(a.id), f"{a.name} · {owner}", a.asset_count, tip))
    return sorted(out, key=lambda t: t[1].casefold())


def blank_cover() -> QImage:
    cover = QImage(COVER_PX, COVER_PX, QImage.Format.Format_ARGB32)
    cover.fill(QColor(128, 128, 128, 70))
    return cover


def first_cover(ids: Sequence[int | None], thumb: Callable[[int], Path | None]) -> QImage:
    """The first of ``ids`` with a thumbnail (a RAW may have none), else a blank tile."""
    for asset_id in ids:
        path = thumb(asset_id) if asset_id is not None else None
        if path is not None and (cover := decode_square(path, COVER_PX)) is not None:
            return cover
    return blank_cover()


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
            # The cover, else the first photos that have a thumbnail (a RAW may have none).
            ids = [album.cover_asset_id, *lib.albums.assets(int(album.id))[:12]]
            cover = first_cover(ids, lib.assets.thumbnail_path)
            key = str(album.id)
            rows.append(
                Row(key, None, album.name, album.asset_count, cover, lib.albums.sort_order(key))
            )
        rows.sort(key=lambda r: r.label.casefold())
        me = lib.owner_id
        shared = [a for a in lib.shares.albums_for(me) if a.role != "owner"]
        if shared:
            total = sum(a.asset_count for a in shared)
            rows.append(Row(SHARED_GROUP, None, "Shared with you", total, None, None))
        for one in sorted(shared, key=lambda a: (a.name.casefold(), a.id)):
            members = [one.cover_asset_id, *lib.shares.album_asset_ids(me, one.id)[:12]]
            cover = first_cover(members, lambda i: lib.accounts.thumbnail_path(me, i))
            owner = one.owner_name or one.owner_email
            info = SharedInfo(one.id, one.name, owner, one.owner_email, one.role)
            label = f"{one.name} · {owner}, {one.role}"
            rows.append(Row(shared_key(one.id), SHARED_GROUP, label, one.asset_count, cover, info))
        return rows

    def shared_info(self, key: str | None) -> SharedInfo | None:
        """The sharer and role of a shared album's key (None: one's own album)."""
        item = self.items.get(key) if key is not None else None
        info = item.data(ExtraRole) if item is not None else None
        return info if isinstance(info, SharedInfo) else None

    def is_own(self, key: str | None) -> bool:
        return key is not None and key in self.items and key.isdigit()

    def can_fill(self, key: str | None) -> bool:
        """Whether photos may be added to and removed from this album here (own, or editor)."""
        info = self.shared_info(key)
        return self.is_own(key) or (info is not None and info.editable)

    def query(self, key: str) -> AssetQuery:
        desc = self.items[key].data(ExtraRole) == "desc"
        return AssetQuery(album=self.items[key].text(), archived=None, newest_first=desc)

    def ids_reader(self, key: str) -> Callable[[], list[int]]:
        if key == SHARED_GROUP:
            return list
        if (info := self.shared_info(key)) is not None:
            shares, me = self.library.shares, self.library.owner_id
            return lambda: [int(i) for i in shares.album_asset_ids(me, info.album_id)]
        return super().ids_reader(key)

    def _on_rows(self, rows: list[Row]) -> None:
        super()._on_rows(rows)
        for key, item in self.items.items():  # shared: no rename; drops for an editor only
            if key.isdigit():
                continue
            item.setEditable(False)
            info = self.shared_info(key)
            item.setDropEnabled(info is not None and info.editable)
            if info is not None:
                item.setToolTip(
                    f"{info.name}: shared by {info.owner} ({info.owner_email}) as {info.role}."
                    f"\n{info.why_read_only}"
                )
            else:
                item.setToolTip("Albums other accounts of the paired server shared with you")

    def show_collection(self, key: str) -> None:
        """Select an album by key, or an own album by name (the sidebar's albums)."""
        if key not in self.items:
            named = [k for k, label in self.labels.items() if k.isdigit() and label == key]
            key = named[0] if named else key
        super().show_collection(key)

    def concerns(self, changes: Changes) -> bool:
        return changes.albums or super().concerns(changes)

    def describe(self, key: str) -> str:
        if key == SHARED_GROUP:
            return (
                "<b style='font-size: large'>Shared with you</b><br><span style='color: gray'>"
                "Albums other accounts of the paired server shared with you: pick one on the"
                " left</span>"
            )
        info = self.shared_info(key)
        name = info.name if info is not None else self.items[key].text()
        line = count_label(self.counts[key])
        if info is not None:
            line += f" · shared by {escape(info.owner)} · you are {info.role}"
        return f"<b style='font-size: large'>{escape(name)}</b><br>" + (
            f"<span style='color: gray'>{line}</span>"
        )

    def show_selected(self) -> None:
        super().show_selected()
        key = self.selected_key()
        if key is not None and not self.is_own(key) and not self._rebuilding:
            self.grid.empty_text = (
                "Choose a shared album" if key == SHARED_GROUP else "This shared album is empty"
            )
        if key is not None:
            self.sort_box.setCurrentIndex(list(SORTS).index(self.sort_of(key)))
        self._update_buttons()

    def sort_of(self, key: str) -> str:
        return "desc" if self.items[key].data(ExtraRole) == "desc" else "asc"

    def menu(self, key: str, menu: QMenu) -> None:
        if not self.is_own(key):
            if (info := self.shared_info(key)) is not None:
                for text in ("Rename…", "Delete album…"):
                    action = menu.addAction(text)
                    action.setEnabled(False)
                    action.setToolTip(info.why_read_only)
                menu.setToolTipsVisible(True)
            return
        menu.addAction("Rename…").triggered.connect(lambda: self.tree.edit(self.items[key].index()))
        menu.addAction("Delete album…").triggered.connect(lambda: self._ask_delete(key))
        menu.addAction("Share…").triggered.connect(lambda: self.share_album(key))

    def _update_buttons(self) -> None:
        album, chosen = self.selected_key(), len(self.grid.selected_ids())
        own = self.is_own(album)
        self.sort_box.setEnabled(own)
        self.share_button.setEnabled(own)
        self.cover_button.setEnabled(own and chosen == 1)
        self.remove_button.setEnabled(self.can_fill(album) and chosen > 0)
        info = self.shared_info(album)
        why = info.why_read_only if info is not None else ""
        for button in (self.cover_button, self.remove_button, self.share_button):
            button.setToolTip("" if button is self.remove_button and self.can_fill(album) else why)

    # ----- edits (each one write off the GUI thread; the list reloads on the change event) ----
    def create_album(self, name: str) -> None:
        self.write(lambda: self.library.albums.create(name), str)

    def rename_album(self, key: str, name: str) -> None:
        if self._refused(key):
            return
        self.write(lambda: self.library.albums.rename(int(key), name), lambda _: key)

    def delete_album(self, key: str) -> None:
        self.write(lambda: self.library.albums.delete(int(key)), lambda _: None)

    def _refused(self, key: str | None) -> bool:
        """A shared album (or the group): say why it cannot change, and change nothing."""
        if key is None or self.is_own(key):
            return False
        info = self.shared_info(key)
        self.notice.setText(info.why_read_only if info is not None else "Choose an album")
        self.notice.show()
        return True

    def add_to_album(self, ids: list[int], key: str) -> None:
        info, lib = self.shared_info(key), self.library
        if info is not None and info.editable:  # the sharing rules: an editor adds own photos
            self.write(
                lambda: lib.shares.add_to_album(lib.owner_id, info.album_id, ids), lambda _: key
            )
        elif not self._refused(key):
            self.write(lambda: lib.albums.add(int(key), ids), lambda _: key)

    def remove_from_album(self, ids: list[int]) -> None:
        if (key := self.selected_key()) is None or not ids:
            return
        info, lib = self.shared_info(key), self.library
        if info is not None and info.editable:
            self.write(
                lambda: lib.shares.remove_from_album(lib.owner_id, info.album_id, ids),
                lambda _: key,
            )
        elif not self._refused(key):
            self.write(lambda: lib.albums.remove(int(key), ids), lambda _: key)

    def set_cover(self, asset_id: int) -> None:
        if (key := self.selected_key()) is not None and not self._refused(key):
            self.write(lambda: self.library.albums.set_cover(int(key), asset_id), lambda _: key)

    def set_sort(self, order: str) -> None:
        if (key := self.selected_key()) is not None and not self._refused(key):
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
        if not chosen or not self.can_fill(self.selected_key()):
            return
        menu = QMenu(self)
        if len(chosen) == 1 and self.is_own(self.selected_key()):
            menu.addAction("Set as album cover").triggered.connect(
                lambda: self.set_cover(chosen[0])
            )
        menu.addAction(f"Remove {count_label(len(chosen))} from album").triggered.connect(
            lambda: self.remove_from_album(chosen)
        )
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def share_album(self, key: str | None) -> None:
        if key is None or not self.is_own(key):
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
