"""Run core calls off the GUI thread and deliver results back on it (Anki-style ops)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:
            self._emit(self._relay.failed, exc)
        else:
            self._emit(self._relay.done, result)

    @staticmethod
    def _emit(signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the widget that asked is gone; nobody wants the result
            pass


# Relays waiting for their worker: kept alive here (not by a widget), so a worker never emits on
# an object that the GUI thread is destroying; each removes itself once it has delivered.
_pending: set[_Relay] = set()


def query(
    parent: QObject,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Call ``fn`` on the thread pool; ``on_done(result)`` then runs on the GUI thread.

    If ``parent`` has been deleted by the time the result arrives, the result is dropped.
    """
    relay = _Relay()
    _pending.add(relay)

    def deliver(callback: Callable[[Any], None] | None, value: object) -> None:
        _pending.discard(relay)
        relay.deleteLater()
        if callback is not None and shiboken6.isValid(parent):
            callback(value)

    relay.done.connect(lambda value: deliver(on_done, value))
    relay.failed.connect(lambda exc: deliver(on_error, exc))
    QThreadPool.globalInstance().start(_Task(fn, relay))
