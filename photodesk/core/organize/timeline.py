"""Timeline reads for photo grids: month/day buckets and keyset pages of grid items."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import timeline as repo
from photodesk.core.catalog.types import AssetId, AssetQuery

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store

__all__ = ["PAGE", "Cursor", "DayBucket", "GridItem", "MonthBucket", "Page", "TimelineService"]

PAGE = 500
_LAST_ID = 2**31 - 1  # keyset start of the undated section, newest first (PostgreSQL INTEGER max)


@dataclass(frozen=True, slots=True)
class GridItem:
    """What a grid tile shows of an asset; a stack is one tile (its primary) with a count."""

    id: AssetId
    checksum: str
    kind: str  # photo | raw | video
    taken_at: datetime | None  # local wall-clock time
    rating: int
    favorite: bool
    stack_id: int | None
    stack_size: int  # assets in the stack (1 when not stacked)
    width: int | None
    height: int | None
    orientation: int | None
    offline: bool
    archived: bool = False
    trashed: bool = False
    duration: float | None = None
    # the original is on the paired server only (fetched on demand): not missing, just not here
    on_server: bool = False


@dataclass(frozen=True)
class MonthBucket:
    """A calendar month and how many tiles it holds; ``month`` is YYYYMM, 0 when undated."""

    month: int
    count: int

    @property
    def year(self) -> int:
        return self.month // 100

    @property
    def month_number(self) -> int:
        return self.month % 100


@dataclass(frozen=True)
class DayBucket:
    day: date | None  # None: no capture date
    count: int


@dataclass(frozen=True)
class Cursor:
    """A keyset position: the last tile of a page (``taken_at`` None: the undated section)."""

    taken_at: datetime | None
    id: int


@dataclass(frozen=True)
class Page:
    items: tuple[GridItem, ...]
    next: Cursor | None  # None: this was the last page


@dataclass(frozen=True)
class Refresh:
    """Of ``considered`` assets, ``items`` are those the query shows now; the rest are gone."""

    items: tuple[GridItem, ...]
    considered: frozenset[AssetId]


class TimelineService:
    """``lib.timeline``: read-only views of any ``AssetQuery`` shaped for photo grids.

    Dated assets come first (newest or oldest first, by capture time then id), undated ones last.
    A stack shows once, as its primary asset, when that primary matches the query too.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    # ----- buckets ------------------------------------------------------------------------------
    def months(self, query: AssetQuery | None = None) -> list[MonthBucket]:
        """Tile counts per month, in display order, from the indexed ``taken_month`` column."""
        q = _unlimited(query)
        owner = self._store.owner_id
        with self._store.read() as s:
            counts: Counter[int] = Counter(dict(repo.month_counts(s, owner, q)))
            for _, month in repo.hidden_members(s, owner, q):
                counts[int(month or 0)] -= 1
        months = sorted((m for m in counts if m and counts[m] > 0), reverse=q.newest_first)
        if counts[0] > 0:
            months.append(0)
        return [MonthBucket(m, counts[m]) for m in months]

    def days(self, query: AssetQuery | None = None, month: int | None = None) -> list[DayBucket]:
        """Tile counts per day (of one YYYYMM ``month``, or all), in display order."""
        q = _unlimited(query)
        owner = self._store.owner_id
        with self._store.read() as s:
            counts: Counter[date | None] = Counter()
            for d, n in repo.day_counts(s, owner, q, month):
                counts[d] += n
            for _, taken in repo.hidden_members(s, owner, q, month=month, by_day=True):
                counts[taken.date() if taken else None] -= 1
        days = sorted((d for d in counts if d and counts[d] > 0), reverse=q.newest_first)
        out = [DayBucket(d, counts[d]) for d in days]
        if counts[None] > 0:
            out.append(DayBucket(None, counts[None]))
        return out

    # ----- pages --------------------------------------------------------------------------------
    def page(
        self, query: AssetQuery | None = None, after: Cursor | None = None, limit: int = PAGE
    ) -> Page:
        """The tiles after ``after`` (None: from the start), by keyset, never by OFFSET.

        A page may hold fewer than ``limit`` tiles (stack members fold into their primary) and
        still have a next one; ``query.limit`` is ignored here (callers stop where they like).
        """
        q = _unlimited(query)
        newest = q.newest_first
        owner = self._store.owner_id
        with self._store.read() as s:
            rows: list[Any] = []
            cursor = after
            if cursor is None or cursor.taken_at is not None:
                key = None if cursor is None else (cursor.taken_at, cursor.id)
                rows = repo.dated_page(s, owner, q, key, limit)
                if len(rows) == limit:
                    last = rows[-1]
                    return Page(self._fold(s, q, rows), Cursor(last.taken_at, last.id))
                cursor = Cursor(None, _LAST_ID if newest else 0)
            left = limit - len(rows)
            more = repo.undated_page(s, owner, q, cursor.id, left)
            rows += more
            nxt = Cursor(None, more[-1].id) if len(more) == left and more else None
            return Page(self._fold(s, q, rows), nxt)

    def items(self, ids: Sequence[int]) -> list[GridItem]:
        """Tiles for these assets (whatever their state), in the same order; unknown ids skipped.
        Photos of albums shared with the acting user are tiles too (untrashed)."""
        with self._store.read() as s:
            found = repo.tiles_of(s, self._store.owner_id, ids)
            rows = [found[i] for i in ids if i in found]
            sizes = _stack_sizes(s, {r.stack_id for r in rows if r.stack_id}, None)
        return [_item(r, sizes) for r in rows]

    def refresh(self, query: AssetQuery | None, ids: Iterable[int]) -> Refresh:
        """What ``query`` shows now of ``ids`` and their stack mates (for changed assets)."""
        q = _unlimited(query)
        wanted = set(self.stack_members(ids))
        with self._store.read() as s:
            rows = repo.matching_tiles(s, self._store.owner_id, q, sorted(wanted))
            items = self._fold(s, q, rows)
        return Refresh(tuple(items), frozenset(AssetId(i) for i in wanted))

    def stack_members(self, ids: Iterable[int]) -> list[AssetId]:
        """``ids`` and every asset stacked with one of them (trash a stack, not just its top)."""
        wanted = sorted({int(i) for i in ids})
        out = set(wanted)
        with self._store.read() as s:
            stacks = repo.stacks_of(s, self._store.owner_id, wanted)
            out.update(repo.members(s, sorted(stacks)))
        return [AssetId(i) for i in sorted(out)]

    # ----- helpers ------------------------------------------------------------------------------
    def _fold(self, s: Session, q: AssetQuery, rows: list[Any]) -> tuple[GridItem, ...]:
        members = {
            r.primary_asset_id
            for r in rows
            if r.stack_id is not None
            and r.primary_asset_id is not None
            and r.primary_asset_id != r.id
        }
        shown = repo.matching(s, self._store.owner_id, q, members) if members else set()
        keep = [
            r
            for r in rows
            if r.stack_id is None or r.primary_asset_id == r.id or r.primary_asset_id not in shown
        ]
        sizes = _stack_sizes(s, {r.stack_id for r in keep if r.stack_id}, q.trashed)
        return tuple(_item(r, sizes) for r in keep)


def _unlimited(query: AssetQuery | None) -> AssetQuery:
    q = query or AssetQuery()
    return dataclasses.replace(q, limit=None) if q.limit else q


def _stack_sizes(s: Session, stacks: set[int], trashed: bool | None) -> Counter[int]:
    """Members per stack; those in the trash count only in the trash (None: all)."""
    sizes: Counter[int] = Counter()
    for stack_id, in_trash in repo.member_states(s, sorted(stacks)):
        if trashed is None or trashed == in_trash:
            sizes[stack_id] += 1
    return sizes


def _item(r: Any, sizes: Counter[int]) -> GridItem:
    aid, checksum, kind, taken, rating, fav, stack, w, h, orient, off, arch, trash, dur, _, srv = r
    return GridItem(  # positional: a page builds thousands of these
        AssetId(aid),
        checksum,
        kind,
        taken,
        rating or 0,
        bool(fav),
        stack,
        sizes.get(stack, 1) or 1 if stack else 1,
        w,
        h,
        orient,
        bool(off),
        bool(arch),
        trash is not None,
        dur,
        bool(srv),
    )
