"""Re-emits the core's Qt-free events as Qt signals on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from photodesk.core import Changes, Library


class Bridge(QObject):
    """``changed`` carries a ``Changes``; ``notice`` carries anything else (job progress...).

    Core events are published on whatever thread wrote; Qt queues the signal to the GUI thread.
    """

    changed = Signal(object)
    notice = Signal(object)  # not ``event``: that name is QObject's event handler

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = library.events.subscribe(self._on_core_event)

    def _on_core_event(self, event: object) -> None:
        if isinstance(event, Changes):
            self.changed.emit(event)
        else:
            self.notice.emit(event)

    def close(self) -> None:
        self._unsubscribe()
