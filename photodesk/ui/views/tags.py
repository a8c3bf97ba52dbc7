"""The tags view: the hierarchical tag tree with counts; drag to re-parent, rename, merge."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QAbstractItemView, QInputDialog, QLabel, QMenu, QMessageBox, QWidget

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import (
    CollectionModel,
    Index,
    KeyRole,
    Row,
    TreeGridView,
)
from photodesk.ui.widgets.photo_grid import ASSET_IDS_MIME

TAG_MIME = "application/x-photodesk-tag-path"


def parent_of(path: str) -> str | None:
    return path.rsplit("/", 1)[0] if "/" in path else None


class TagTreeModel(CollectionModel):
    """Tag items drag out as their path; a tag dropped on another (or on empty space) moves
    under it (or to the top): ``tag_dropped(path, new_parent)``. Photos dropped on a tag get it."""

    tag_dropped = Signal(str, object)

    def mimeTypes(self) -> list[str]:
        return [TAG_MIME, ASSET_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        keys = [self.index(i.row(), 0, i.parent()).data(KeyRole) for i in indexes if i.isValid()]
        if keys and keys[0]:
            data.setData(TAG_MIME, str(keys[0]).encode())
        return data

    def canDropMimeData(self, data: QMimeData, *rest: Any) -> bool:  # type: ignore[override]
        return data.hasFormat(TAG_MIME) or super().canDropMimeData(data, *rest)

    def dropMimeData(  # type: ignore[override]
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not data.hasFormat(TAG_MIME):
            return super().dropMimeData(data, action, row, column, parent)
        target = self.index(parent.row(), 0, parent.parent()).data(KeyRole)
        path = bytes(data.data(TAG_MIME).data()).decode()
        self.tag_dropped.emit(path, target if parent.isValid() else None)
        return True


class TagsView(TreeGridView):
    """Tags as a tree with the photos under each; selecting one shows them (below tags too)."""

    title = heading = "Tags"
    empty = "No photos with this tag"
    nothing = "No tags yet"
    model_class = TagTreeModel

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        model: TagTreeModel = self.tree_model  # type: ignore[assignment]
        model.tag_dropped.connect(self._on_tag_dropped)
        model.assets_dropped.connect(self.tag_assets)
        model.itemChanged.connect(self._on_item_changed)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDragEnabled(True)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        hint = QLabel(
            "Drag a tag onto another to move it there; F2 renames it. "
            "Drop photos on a tag to tag them."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray; padding: 4px;")
        self.side_layout.addWidget(hint)

    # ----- the tree --------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        totals = self.library.tags.totals()
        tags = sorted(self.library.tags.tree(), key=lambda t: t.path.casefold())
        return [Row(t.path, parent_of(t.path), t.name, totals.get(t.path, 0)) for t in tags]

    def query(self, key: str) -> AssetQuery:
        return AssetQuery(tag=key)

    def concerns(self, changes: Changes) -> bool:
        return changes.tags or super().concerns(changes)

    def describe(self, key: str) -> str:
        item = self.items.get(key)
        notes = [escape(key.replace("/", " › "))] if "/" in key else []
        if item is not None and item.hasChildren():
            notes.append("with the tags below it")
        note = f"<br><span style='color: gray'>{' · '.join(notes)}</span>" if notes else ""
        return super().describe(key) + note

    def menu(self, key: str, menu: QMenu) -> None:
        menu.addAction("Rename…").triggered.connect(lambda: self.tree.edit(self.items[key].index()))
        menu.addAction("Merge into…").triggered.connect(lambda: self._ask_merge(key))
        if parent_of(key) is not None:
            menu.addAction("Move to the top level").triggered.connect(
                lambda: self.move_tag(key, None)
            )
        menu.addSeparator()
        menu.addAction("Delete tag…").triggered.connect(lambda: self._ask_delete(key))

    # ----- edits (each one write off the GUI thread; the tree reloads on the change event) ----
    def rename_tag(self, path: str, name: str) -> None:
        self.write(lambda: self.library.tags.rename(path, name), lambda new: new)

    def move_tag(self, path: str, new_parent: str | None) -> None:
        self.write(lambda: self.library.tags.move(path, new_parent), lambda new: new)

    def merge_tag(self, source: str, into: str) -> None:
        self.write(lambda: self.library.tags.merge(source, into), lambda _: into)

    def delete_tag(self, path: str) -> None:
        self.write(lambda: self.library.tags.delete(path), lambda _: parent_of(path))

    def tag_assets(self, ids: list[int], path: str) -> None:
        self.write(lambda: self.library.tags.add(ids, path), lambda _: path)

    def _on_tag_dropped(self, path: str, new_parent: str | None) -> None:
        if new_parent == path or new_parent == parent_of(path):
            return
        self.move_tag(path, new_parent)

    def _on_item_changed(self, item: QStandardItem) -> None:
        key = item.data(KeyRole)
        if item.column() == 0 and key and item.text().strip() != key.rsplit("/", 1)[-1]:
            self.rename_tag(key, item.text())

    def _ask_merge(self, key: str) -> None:
        others = [k for k in self.items if k != key and not k.startswith(key + "/")]
        into, ok = QInputDialog.getItem(
            self, "Merge tag", f"Merge “{key}” and its photos into:", others, 0, False
        )
        if ok and into:
            self.merge_tag(key, into)

    def _ask_delete(self, key: str) -> None:
        answer = QMessageBox.question(
            self,
            "Delete tag",
            f"Delete the tag “{key}” and the tags below it? The photos stay in the library.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_tag(key)
