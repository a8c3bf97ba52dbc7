"""Run core calls off the GUI thread and deliver results back on it (Anki-style ops)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

Callback = Callable[[Any], None]
_Slot = tuple[int, str]


class _Relay(QObject):
    """The one object workers emit their results on: ``(token, ok, value)``, queued to the GUI
    thread, which looks the token up and calls the asker back.

    One relay lives as long as the application and is never deleted while workers run. (A relay
    per call, deleted once it had delivered, could be destroyed while its worker was still
    returning from ``emit`` on it: a segmentation fault under load. Its slot is a method of this
    GUI-thread object, not a lambda, so Qt queues the call to the GUI thread itself.)
    """

    result = Signal(object)

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.waiting: dict[int, tuple[QObject, Callback, Callback | None, _Slot | None]] = {}
        # (asker, name) -> calls under that name not answered yet, and the newest token shown
        self.pending: dict[_Slot, int] = {}
        self.shown: dict[_Slot, int] = {}
        self.result.connect(self._deliver)

    @Slot(object)
    def _deliver(self, message: tuple[int, bool, object]) -> None:
        token, ok, value = message
        entry = self.waiting.pop(token, None)
        if entry is None:
            return
        parent, on_done, on_error, slot = entry
        if slot is not None and self._stale(slot, token):
            return  # a later call under the same name has answered: its answer stays
        callback = on_done if ok else on_error
        if callback is not None and shiboken6.isValid(parent):
            callback(value)

    def _stale(self, slot: _Slot, token: int) -> bool:
        stale = token < self.shown.get(slot, 0)
        if not stale:
            self.shown[slot] = token
        self.pending[slot] -= 1
        if not self.pending[slot]:  # nothing more under this name in flight: forget it
            del self.pending[slot]
            self.shown.pop(slot, None)
        return stale


_relay: _Relay | None = None
_tokens = itertools.count(1)


def _the_relay() -> _Relay:
    """The relay (made on first use, on the GUI thread, owned by the application)."""
    global _relay
    if _relay is None or not shiboken6.isValid(_relay):
        _relay = _Relay(QCoreApplication.instance())
    return _relay


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay, token: int) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self._token = token

    def run(self) -> None:
        try:
            message = (self._token, True, self._fn())
        except Exception as exc:
            message = (self._token, False, exc)
        try:
            self._relay.result.emit(message)
        except RuntimeError:  # the application is going away; nobody wants the result
            pass


def query(
    parent: QObject,
    fn: Callable[[], Any],
    on_done: Callback,
    on_error: Callback | None = None,
    *,
    latest: str | None = None,
) -> None:
    """Call ``fn`` on the thread pool; ``on_done(result)`` then runs on the GUI thread
    (``on_error(exception)`` if it raised).

    If ``parent`` has been deleted by the time the result arrives, the result is dropped.
    ``latest`` names a load whose newest answer must win (a list refreshed on every change):
    the pool runs calls in parallel, so a load started before a change can finish after one
    started since; its answer is dropped when a later call of ``parent`` under that name has
    already answered. (Answers are never held back waiting for newer ones: under a stream of
    changes the list still updates.)
    """
    relay = _the_relay()
    token = next(_tokens)
    slot = None if latest is None else (id(parent), latest)
    if slot is not None:
        relay.pending[slot] = relay.pending.get(slot, 0) + 1
    relay.waiting[token] = (parent, on_done, on_error, slot)
    QThreadPool.globalInstance().start(_Task(fn, relay, token))
