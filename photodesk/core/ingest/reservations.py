"""Space promised to uploads still arriving, so parallel uploads cannot overrun a quota or disk."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Check = Callable[[int, int, int], None]  # (owner, bytes for the owner, bytes for the disk)


class Reservations:
    """Bytes held per account for uploads in flight; ``hold`` checks and holds in one step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}

    def held(self, owner_id: int | None = None) -> int:
        with self._lock:
            if owner_id is None:
                return sum(self._held.values())
            return self._held.get(int(owner_id), 0)

    def check(self, owner_id: int, size: int, check: Check) -> None:
        """Run ``check`` with what is already held added (no new hold)."""
        with self._lock:
            check(owner_id, size + self._held.get(owner_id, 0), size + sum(self._held.values()))

    @contextmanager
    def hold(self, owner_id: int, size: int, check: Check) -> Iterator[None]:
        """Check ``size`` more bytes against what is held, and hold them until the block ends."""
        owner = int(owner_id)
        with self._lock:
            check(owner, size + self._held.get(owner, 0), size + sum(self._held.values()))
            self._held[owner] = self._held.get(owner, 0) + size
        try:
            yield
        finally:
            with self._lock:
                left = self._held.get(owner, 0) - size
                if left > 0:
                    self._held[owner] = left
                else:
                    self._held.pop(owner, None)
