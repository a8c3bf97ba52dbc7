"""Hybrid logical clocks: wall time in ms, a counter, and the node that wrote (docs/sync.md).

A clock is written as ``WWWWWWWWWWWWW.CCCCCCCC.node`` so that comparing the strings compares the
clocks; ``""`` is the clock of a value no one has edited (older than every written clock).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

NEVER = ""
_FORMAT = re.compile(r"(\d{13})\.(\d{8})\.([A-Za-z0-9_-]{1,40})")


@dataclass(frozen=True, order=True)
class Hlc:
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}.{self.counter:08d}.{self.node}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        m = _FORMAT.fullmatch(text)
        if m is None:
            raise ValueError(f"not a hybrid logical clock: {text[:80]!r}")
        return cls(int(m.group(1)), int(m.group(2)), m.group(3))


def valid(text: str) -> bool:
    return _FORMAT.fullmatch(text) is not None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def tick(last: Hlc | None, wall_ms: int, node: str) -> Hlc:
    """The clock of a local event that happened at ``wall_ms`` after ``last`` was issued/seen."""
    if last is None or wall_ms > last.wall_ms:
        return Hlc(wall_ms, 0, node)
    return Hlc(last.wall_ms, last.counter + 1, node)


def observe(last: Hlc | None, seen: str) -> Hlc | None:
    """``last`` moved past a clock received from another node (so later local events sort after)."""
    if not seen or not valid(seen):
        return last
    other = Hlc.parse(seen)
    if last is None or (other.wall_ms, other.counter) > (last.wall_ms, last.counter):
        return Hlc(other.wall_ms, other.counter, last.node if last else other.node)
    return last
