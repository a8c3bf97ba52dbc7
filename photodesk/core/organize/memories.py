"""Memories: "on this day" in past years and "this week N years ago" (pure reads).

Each past year contributes at most two memories: the photos of the same day, and those of the
rest of the week around it. Screenshots, near-duplicates (shots within a few seconds of a kept
one, and the hidden members of a stack), trashed and archived photos are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import memories as repo
from photodesk.core.catalog.db.memories import Candidate
from photodesk.core.catalog.types import AssetId

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

BURST_SECONDS = 3  # a shot this close to the last kept one is a near-duplicate
WEEK_BEFORE, WEEK_AFTER = 3, 3  # "this week": three days either side of the date
SCREENSHOT_NAME = re.compile(
    r"screen ?shot|bildschirmfoto|schermafbeelding|captura de pantalla|capture d.?[ée]cran"
)


@dataclass(frozen=True)
class Memory:
    """A set of photos from one past year, newest year first in a list of memories."""

    title: str  # "5 years ago today", "This week 5 years ago"
    kind: str  # "day" or "week"
    year: int
    day: date  # the anchor date in that year
    asset_ids: tuple[AssetId, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "kind": self.kind,
            "year": self.year,
            "date": self.day.isoformat(),
            "asset_ids": [int(i) for i in self.asset_ids],
        }


def is_screenshot(c: Candidate) -> bool:
    """A screen capture: named like one, or a PNG no camera made."""
    return bool(SCREENSHOT_NAME.search(c.name)) or (c.file_type == "png" and not c.make)


def keep(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Candidates (oldest first) less screenshots and near-duplicates."""
    kept: list[Candidate] = []
    stacks: set[int] = set()
    for c in candidates:
        if is_screenshot(c):
            continue
        if c.stack_id is not None:
            if c.stack_id in stacks:
                continue  # one photo of a stack: the rest are its versions
            stacks.add(c.stack_id)
        if kept and (c.taken_at - kept[-1].taken_at).total_seconds() < BURST_SECONDS:
            continue
        kept.append(c)
    return kept


def _same_day(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return date(year, 2, 28)


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def years_ago_text(n: int) -> str:
    return "1 year ago" if n == 1 else f"{n} years ago"


def memories_for(candidates: list[Candidate], day: date) -> list[Memory]:
    """Group ``candidates`` (every photo in the windows) into the memories of ``day``."""
    by_year: dict[int, list[Candidate]] = {}
    for c in keep(sorted(candidates, key=lambda c: (c.taken_at, c.id))):
        by_year.setdefault(c.taken_at.year, []).append(c)
    out: list[Memory] = []
    for year in sorted(by_year, reverse=True):
        anchor = _same_day(day, year)
        ago = years_ago_text(day.year - year)
        same = [c for c in by_year[year] if c.taken_at.date() == anchor]
        week = [c for c in by_year[year] if c.taken_at.date() != anchor]
        if same:
            ids = tuple(AssetId(c.id) for c in same)
            out.append(Memory(f"{ago} today", "day", year, anchor, ids))
        if week:
            ids = tuple(AssetId(c.id) for c in week)
            out.append(Memory(f"This week {ago}", "week", year, anchor, ids))
    return out


class MemoryService:
    """``memories(day)``: what the library remembers of ``day`` (default: today)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def windows(self, day: date, first_year: int) -> list[tuple[datetime, datetime]]:
        out = []
        for year in range(day.year - 1, first_year - 1, -1):
            anchor = _same_day(day, year)
            start = _start(anchor - timedelta(days=WEEK_BEFORE))
            out.append((start, _start(anchor + timedelta(days=WEEK_AFTER + 1))))
        return out

    def memories(self, day: date | None = None) -> list[Memory]:
        day = day or date.today()
        with self._store.read() as s:
            owner = self._store.owner_id
            first = repo.first_taken(s, owner)
            if first is None or first.year >= day.year:
                return []
            candidates = repo.in_windows(s, owner, self.windows(day, first.year))
        return memories_for(candidates, day)
