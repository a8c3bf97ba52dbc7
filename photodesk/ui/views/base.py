"""The contract every main-window view follows (constructor, activation, opening assets)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from photodesk.core import Library
from photodesk.ui.bridge import Bridge


class View(QWidget):
    """A sidebar section. Build cheaply; load data in ``activate()`` (first shown) off-thread.

    ``open_assets(ids, index)`` asks the main window to open the viewer on ``ids[index]`` with
    ``ids`` as the sequence for left/right navigation.
    """

    open_assets = Signal(list, int)
    title = "View"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.bridge = bridge
        self._activated = False

    def activate(self) -> None:
        """Called each time the view is shown; the first call should start loading."""
        self._activated = True
