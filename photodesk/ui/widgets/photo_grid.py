"""PhotoGrid: the thumbnail grid of a query or a list of ids, whose tiles drag out as asset ids."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.models.asset_grid import AssetGridModel
from photodesk.ui.thumbs import shared_cache
from photodesk.ui.widgets.asset_grid import AssetGrid

ASSET_IDS_MIME = "application/x-photodesk-asset-ids"
Index = QModelIndex | QPersistentModelIndex


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


class DraggableModel(AssetGridModel):
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
        self.grid = DraggableModel(library, self, thumbs=thumbs)
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
