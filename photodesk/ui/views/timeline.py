"""The timeline view: the whole library by day under month titles, with the date scrubber."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from photodesk.core import AssetQuery, Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import View
from photodesk.ui.views.grid import AssetGridView
from photodesk.ui.widgets.asset_grid import AssetGrid
from photodesk.ui.widgets.memories_strip import MemoriesStrip

__all__ = ["AssetGrid", "TimelineView"]


class TimelineView(View):
    """The whole library by day under month titles, newest first, with the date scrubber."""

    title = "Timeline"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.body = AssetGridView(
            library,
            bridge,
            self,
            query=AssetQuery(),
            title=self.title,
            empty_text="No photos yet: File > Import folder…, or drop a folder here",
        )
        self.grid, self.model, self.scrubber = self.body.grid, self.body.model, self.body.scrubber
        self.body.open_assets.connect(self.open_assets)
        self.body.similar_wanted.connect(self.similar_wanted)
        self.strip = MemoriesStrip(library, self)
        self.strip.open_assets.connect(self.open_assets)
        body = self.body.layout()
        assert isinstance(body, QVBoxLayout)
        body.insertWidget(1, self.strip)  # under the title, over the grid
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.body)

    def activate(self) -> None:
        super().activate()
        self.body.activate()
        self.strip.load_soon()
