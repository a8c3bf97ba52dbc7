"""The folders view: the folders holding the library's files, each with its photos."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QWidget

from photodesk.core import AssetQuery, FolderService, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import Row, TreeGridView, count_label


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
