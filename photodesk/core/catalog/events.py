"""Change notices published after every write, and a tiny thread-safe event bus (no Qt)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """What a write changed, so views refresh only what overlaps what they show."""

    assets: frozenset[int] = frozenset()
    assets_added: bool = False
    assets_removed: bool = False
    albums: bool = False
    tags: bool = False
    people: bool = False
    jobs: bool = False


Listener = Callable[[object], None]


class EventBus:
    """Publish/subscribe for plain values; listeners run on the publisher's thread."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: object) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the writer
                log.exception("event listener failed on %r", event)
