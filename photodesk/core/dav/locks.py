"""WebDAV locks (RFC 4918 class 2): exclusive and shared write locks on an account's paths.

Locks live in memory: a restarted daemon forgets them, which clients cope with (they lock
again), as they do with any server that drops a lock at its timeout.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from photodesk.core.catalog.errors import Conflict, NotFound

DEFAULT_TIMEOUT_S = 3600
MAX_TIMEOUT_S = 7 * 24 * 3600
INFINITY = -1


class Locked(Conflict):
    """A lock held by someone else (a token not submitted) stands in the way (HTTP 423)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class DavLock:
    token: str  # "opaquelocktoken:<uuid>"
    path: str  # the locked root, as a space path ("" is the account's root)
    depth: int  # 0 or INFINITY
    exclusive: bool
    owner_xml: str  # the client's <D:owner> element, returned as given ("" if none)
    timeout_s: int
    expires: float  # time.monotonic()

    def covers(self, path: str) -> bool:
        """Whether this lock applies to ``path``: its root, or below it for a deep lock."""
        return path == self.path or (self.depth == INFINITY and is_below(path, self.path))

    @property
    def seconds_left(self) -> int:
        return max(0, int(self.expires - time.monotonic()))


def is_below(path: str, root: str) -> bool:
    """``a/b`` is below ``a`` and below the root ``""``; a path is not below itself."""
    return path != root and (root == "" or path.startswith(root + "/"))


def clamp_timeout(seconds: int | None) -> int:
    if seconds is None or seconds <= 0:
        return DEFAULT_TIMEOUT_S
    return min(seconds, MAX_TIMEOUT_S)


class LockManager:
    """Every account's locks; thread-safe (handlers run on the event loop, the core on threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[int, dict[str, DavLock]] = {}

    def _live(self, owner_id: int) -> dict[str, DavLock]:
        locks = self._by_owner.setdefault(int(owner_id), {})
        now = time.monotonic()
        for token in [t for t, lk in locks.items() if lk.expires <= now]:
            del locks[token]
        return locks

    def affecting(self, owner_id: int, path: str, *, deep: bool = False) -> list[DavLock]:
        """Locks covering ``path``, and with ``deep`` those on anything below it too."""
        with self._lock:
            return [
                lk
                for lk in self._live(owner_id).values()
                if lk.covers(path) or (deep and is_below(lk.path, path))
            ]

    def get(self, owner_id: int, token: str) -> DavLock | None:
        with self._lock:
            return self._live(owner_id).get(token)

    def check(self, owner_id: int, path: str, tokens: Iterable[str], *, deep: bool = False) -> None:
        """Raise Locked unless every lock on ``path`` (and below, with ``deep``) is submitted.

        A shared lock needs only one of its kind submitted: any holder may write.
        """
        held = set(tokens)
        for lk in self.affecting(owner_id, path, deep=deep):
            if lk.token not in held:
                raise Locked(f"/{lk.path} is locked", lk.path)

    def lock(
        self,
        owner_id: int,
        path: str,
        *,
        depth: int,
        exclusive: bool,
        owner_xml: str = "",
        timeout_s: int | None = None,
    ) -> DavLock:
        """A new lock, unless a conflicting one exists (an exclusive lock conflicts with all)."""
        seconds = clamp_timeout(timeout_s)
        with self._lock:
            locks = self._live(owner_id)
            for lk in locks.values():
                overlaps = lk.covers(path) or (depth == INFINITY and is_below(lk.path, path))
                if overlaps and (exclusive or lk.exclusive):
                    raise Locked(f"/{lk.path} is locked already", lk.path)
            new = DavLock(
                f"opaquelocktoken:{uuid.uuid4()}",
                path,
                depth,
                exclusive,
                owner_xml,
                seconds,
                time.monotonic() + seconds,
            )
            locks[new.token] = new
            return new

    def refresh(self, owner_id: int, path: str, token: str, timeout_s: int | None) -> DavLock:
        """Give a lock that covers ``path`` a new timeout."""
        seconds = clamp_timeout(timeout_s)
        with self._lock:
            locks = self._live(owner_id)
            lk = locks.get(token)
            if lk is None or not lk.covers(path):
                raise NotFound("no such lock on this resource")
            fresh = replace(lk, timeout_s=seconds, expires=time.monotonic() + seconds)
            locks[token] = fresh
            return fresh

    def unlock(self, owner_id: int, path: str, token: str) -> None:
        with self._lock:
            locks = self._live(owner_id)
            lk = locks.get(token)
            if lk is None or not lk.covers(path):
                raise NotFound("no such lock on this resource")
            del locks[token]

    def forget(self, owner_id: int, path: str) -> None:
        """Drop the locks on ``path`` and below (it was deleted or moved away)."""
        with self._lock:
            locks = self._live(owner_id)
            for token in [
                t for t, lk in locks.items() if lk.path == path or is_below(lk.path, path)
            ]:
                del locks[token]


__all__ = ["INFINITY", "DavLock", "LockManager", "Locked", "clamp_timeout", "is_below"]
