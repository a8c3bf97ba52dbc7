"""The paired server's state in the status bar: synced, syncing, offline or error."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from photodesk.core import Library
from photodesk.core.sync import SyncState
from photodesk.ui import ops

REFRESH_MS = 3000


class SyncStatus(QLabel):
    """Hidden while the library is not paired; read off the GUI thread every few seconds."""

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.library = library
        self.hide()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.refresh()

    def refresh(self) -> None:
        ops.query(self, self.library.sync.state, self.show_state, lambda _exc: None, latest="state")

    def show_state(self, state: SyncState | None) -> None:
        if state is None:
            self.hide()
            return
        self.setText(state.text())
        self.setToolTip(
            f"{state.account} on {state.server}\nlast sync: {state.last_sync or 'never'}"
            + (f"\n{state.error}" if state.error else "")
        )
        self.show()
