"""Quota and disk space held for uploads in progress, so parallel uploads cannot overrun them.

An upload *reserves* its size before its first byte is read: the check (quota, free disk) and
the reservation are one step under a lock, and every later check counts what is reserved.
The reservation is released when the upload ends, either way (by then an imported file counts
in the user's usage).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from photodesk.core.catalog.errors import InsufficientStorage, InvalidInput

T = TypeVar("T")
Pending = Callable[[int], int]  # bytes a user's other unfinished uploads hold (resumable ones)


class Reservation:
    """Bytes held for one upload; ``resize`` once its real size is known, ``release`` at the end."""

    def __init__(self, book: QuotaBook, owner_id: int, size: int) -> None:
        self._book = book
        self.owner_id = owner_id
        self.size = size
        self.released = False

    def resize(self, size: int) -> None:
        """Hold ``size`` bytes instead (checked again when it grows)."""
        self._book._resize(self, size)

    def release(self) -> None:
        self._book._release(self)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class QuotaBook:
    """What each user's uploads in progress hold (``lib.uploads`` keeps one)."""

    def __init__(
        self,
        check_quota: Callable[[int, int], None],
        disk_root: Callable[[], Path],
        fallback_root: Path,
        margin: Callable[[], int],
    ) -> None:
        self._check_quota = check_quota  # accounts.check_quota: raises QuotaExceeded
        self._disk_root = disk_root
        self._fallback_root = fallback_root
        self._margin = margin
        self._held: dict[int, int] = {}
        self._sources: list[Pending] = []
        self._lock = threading.Lock()

    def add_source(self, pending: Pending) -> None:
        """Count what another kind of upload holds (tus: the sizes of unfinished uploads)."""
        with self._lock:
            self._sources.append(pending)

    def remove_source(self, pending: Pending) -> None:
        with self._lock:
            if pending in self._sources:
                self._sources.remove(pending)

    def check_then(self, owner_id: int, size: int, action: Callable[[], T]) -> T:
        """Check ``size`` more bytes and run ``action`` (which records them elsewhere, as a new
        resumable upload does) in one step: no other upload is checked in between."""
        with self._lock:
            self._check(int(owner_id), size)
            return action()

    def held(self, owner_id: int | None = None) -> int:
        """Bytes reserved by one user's uploads in progress (all users': None)."""
        with self._lock:
            if owner_id is None:
                return sum(self._held.values())
            return self._held.get(int(owner_id), 0)

    def check(self, owner_id: int, size: int) -> None:
        """Refuse ``size`` more bytes (on top of what is reserved) for this user."""
        with self._lock:
            self._check(int(owner_id), size)

    def reserve(self, owner_id: int, size: int) -> Reservation:
        """Check and hold ``size`` bytes for an upload, in one step."""
        owner = int(owner_id)
        with self._lock:
            self._check(owner, size)
            self._held[owner] = self._held.get(owner, 0) + size
        return Reservation(self, owner, size)

    def _check(self, owner: int, size: int) -> None:
        if size < 0:
            raise InvalidInput("the upload size cannot be negative")
        others = sum(source(owner) for source in self._sources)
        self._check_quota(owner, size + self._held.get(owner, 0) + others)
        root = self._disk_root()
        free = shutil.disk_usage(root if root.exists() else self._fallback_root).free
        needed = size + sum(self._held.values()) + others
        if needed + self._margin() > free:
            raise InsufficientStorage(
                f"not enough free disk space for the upload ({_mb(size)}; {_mb(free)} free)"
            )

    def _resize(self, r: Reservation, size: int) -> None:
        with self._lock:
            if r.released:
                raise InvalidInput("this upload's reservation has ended")
            grow = size - r.size
            if grow > 0:
                self._check(r.owner_id, grow)
            self._held[r.owner_id] = self._held.get(r.owner_id, 0) + grow
            r.size = size

    def _release(self, r: Reservation) -> None:
        with self._lock:
            if r.released:
                return
            r.released = True
            left = self._held.get(r.owner_id, 0) - r.size
            if left > 0:
                self._held[r.owner_id] = left
            else:
                self._held.pop(r.owner_id, None)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
