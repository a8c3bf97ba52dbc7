"""Timeline reads for photo grids: month/day buckets and keyset pages of grid items."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import assets as repo
from photodesk.core.catalog.db.schema import Asset, Stack
from photodesk.core.catalog.types import AssetId, AssetQuery

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

__all__ = ["PAGE", "Cursor", "DayBucket", "GridItem", "MonthBucket", "Page", "TimelineService"]

PAGE = 500
CHUNK = 900  # below SQLite's bound-parameter limit
_LAST_ID = 2**31 - 1  # keyset start of the undated section, newest first (PostgreSQL INTEGER max)
# SQLite has no statistics on a fresh catalog and may scan a low-selectivity index (owner_id,
# trashed_at IS NULL) instead of the one that fits; these hints pin the plan (other dialects
# ignore them). NOT INDEXED still looks rows up by rowid.
_BY_TIME = "INDEXED BY ix_assets_owner_taken"
_BY_STACK = "INDEXED BY ix_assets_stack_id"
_BY_ID = "NOT INDEXED"

_COLUMNS = (
    Asset.id,
    Asset.checksum,
    Asset.kind,
    Asset.taken_at,
    Asset.rating,
    Asset.favorite,
    Asset.stack_id,
    Asset.width,
    Asset.height,
    Asset.orientation,
    Asset.offline,
    Asset.archived,
    Asset.trashed_at,
    Asset.duration,
    Stack.primary_asset_id,
)


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
        with self._store.read() as s:
            base = self._where(q)
            stmt = base.with_only_columns(Asset.taken_month, func.count()).group_by(
                Asset.taken_month
            )
            counts: Counter[int] = Counter(
                {int(m or 0): int(n) for m, n in s.execute(stmt.order_by(None))}
            )
            for row in self._hidden_members(s, q, Asset.taken_month):
                counts[int(row[1] or 0)] -= 1
        months = sorted((m for m in counts if m and counts[m] > 0), reverse=q.newest_first)
        if counts[0] > 0:
            months.append(0)
        return [MonthBucket(m, counts[m]) for m in months]

    def days(self, query: AssetQuery | None = None, month: int | None = None) -> list[DayBucket]:
        """Tile counts per day (of one YYYYMM ``month``, or all), in display order."""
        q = _unlimited(query)
        with self._store.read() as s:
            base = self._where(q)
            if month is not None:
                base = base.where(
                    Asset.taken_month == month if month else Asset.taken_month.is_(None)
                )
            day = func.date(Asset.taken_at)
            stmt = base.with_only_columns(day, func.count()).group_by(day).order_by(None)
            counts: Counter[date | None] = Counter()
            for d, n in s.execute(stmt):
                counts[_as_date(d)] += int(n)
            hidden = self._hidden_members(s, q, Asset.taken_at, where=base)
            for row in hidden:
                counts[row[1].date() if row[1] else None] -= 1
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
        with self._store.read() as s:
            base = self._where(q)
            cols = (
                base.with_only_columns(*_COLUMNS)
                .outerjoin(Stack, Stack.id == Asset.stack_id)
                .with_hint(Asset, _BY_TIME, "sqlite")
            )
            conn = s.connection()
            rows: list[Any] = []
            cursor = after
            if cursor is None or cursor.taken_at is not None:
                stmt = cols.where(Asset.taken_at.is_not(None))
                if cursor is not None:
                    key, at = tuple_(Asset.taken_at, Asset.id), tuple_(cursor.taken_at, cursor.id)
                    stmt = stmt.where(key < at if newest else key > at)
                order = (Asset.taken_at, Asset.id)
                stmt = stmt.order_by(*(c.desc() if newest else c.asc() for c in order))
                rows = list(conn.execute(stmt.limit(limit)))
                if len(rows) == limit:
                    last = rows[-1]
                    return Page(self._fold(s, q, rows), Cursor(last.taken_at, last.id))
                cursor = Cursor(None, _LAST_ID if newest else 0)
            left = limit - len(rows)
            stmt = cols.where(
                Asset.taken_at.is_(None), Asset.id < cursor.id if newest else Asset.id > cursor.id
            )
            more = list(
                conn.execute(
                    stmt.order_by(Asset.id.desc() if newest else Asset.id.asc()).limit(left)
                )
            )
            rows += more
            nxt = Cursor(None, more[-1].id) if len(more) == left and more else None
            return Page(self._fold(s, q, rows), nxt)

    def items(self, ids: Sequence[int]) -> list[GridItem]:
        """Tiles for these assets (whatever their state), in the same order; unknown ids skipped."""
        found: dict[int, Any] = {}
        with self._store.read() as s:
            for chunk in _chunks(list(ids)):
                stmt = (
                    select(*_COLUMNS)
                    .outerjoin(Stack, Stack.id == Asset.stack_id)
                    .where(Asset.owner_id == self._store.owner_id, Asset.id.in_(chunk))
                    .with_hint(Asset, _BY_ID, "sqlite")
                )
                found.update((r.id, r) for r in s.connection().execute(stmt))
            rows = [found[i] for i in ids if i in found]
            sizes = _stack_sizes(s, {r.stack_id for r in rows if r.stack_id}, None)
        return [_item(r, sizes) for r in rows]

    def refresh(self, query: AssetQuery | None, ids: Iterable[int]) -> Refresh:
        """What ``query`` shows now of ``ids`` and their stack mates (for changed assets)."""
        q = _unlimited(query)
        wanted = set(self.stack_members(ids))
        with self._store.read() as s:
            base = self._where(q)
            cols = (
                base.with_only_columns(*_COLUMNS)
                .outerjoin(Stack, Stack.id == Asset.stack_id)
                .with_hint(Asset, _BY_ID, "sqlite")
            )
            rows: list[Any] = []
            for chunk in _chunks(sorted(wanted)):
                rows += s.connection().execute(cols.where(Asset.id.in_(chunk)))
            items = self._fold(s, q, rows)
        return Refresh(tuple(items), frozenset(AssetId(i) for i in wanted))

    def stack_members(self, ids: Iterable[int]) -> list[AssetId]:
        """``ids`` and every asset stacked with one of them (trash a stack, not just its top)."""
        wanted = sorted({int(i) for i in ids})
        out = set(wanted)
        with self._store.read() as s:
            stacks: set[int] = set()
            for chunk in _chunks(wanted):
                stacks.update(
                    s.scalars(
                        select(Asset.stack_id)
                        .where(
                            Asset.id.in_(chunk),
                            Asset.stack_id.is_not(None),
                            Asset.owner_id == self._store.owner_id,
                        )
                        .with_hint(Asset, _BY_ID, "sqlite")
                    )
                )
            for chunk in _chunks(sorted(stacks)):
                out.update(
                    s.scalars(
                        select(Asset.id)
                        .where(Asset.stack_id.in_(chunk))
                        .with_hint(Asset, _BY_STACK, "sqlite")
                    )
                )
        return [AssetId(i) for i in sorted(out)]

    # ----- helpers ------------------------------------------------------------------------------
    def _where(self, q: AssetQuery) -> Select[Any]:
        """The query's filters (owner, trash, archive, tags...) with no order and no limit."""
        return repo.filtered(self._store.owner_id, q).order_by(None)

    def _hidden_members(
        self, s: Session, q: AssetQuery, extra: Any, where: Select[Any] | None = None
    ) -> list[Any]:
        """Stack members folded into a primary that the query shows: (id, ``extra``) rows."""
        base = where if where is not None else self._where(q)
        rows = list(
            s.connection().execute(
                base.with_only_columns(Asset.id, extra, Stack.primary_asset_id)
                .join(Stack, Stack.id == Asset.stack_id)
                .where(Asset.stack_id.is_not(None), Stack.primary_asset_id != Asset.id)
                .with_hint(Asset, _BY_STACK, "sqlite")
            )
        )
        shown = self._shown(s, q, {r[2] for r in rows})
        return [r for r in rows if r[2] in shown]

    def _shown(self, s: Session, q: AssetQuery, ids: set[int]) -> set[int]:
        """Which of ``ids`` the query matches (primaries of stacks)."""
        out: set[int] = set()
        base = self._where(q)
        for chunk in _chunks(sorted(ids)):
            out.update(
                s.scalars(base.where(Asset.id.in_(chunk)).with_hint(Asset, _BY_ID, "sqlite"))
            )
        return out

    def _fold(self, s: Session, q: AssetQuery, rows: list[Any]) -> tuple[GridItem, ...]:
        members = {
            r.primary_asset_id
            for r in rows
            if r.stack_id is not None
            and r.primary_asset_id is not None
            and r.primary_asset_id != r.id
        }
        shown = self._shown(s, q, members) if members else set()
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


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _stack_sizes(s: Session, stacks: set[int], trashed: bool | None) -> Counter[int]:
    """Members per stack; those in the trash count only in the trash (None: all)."""
    sizes: Counter[int] = Counter()
    for chunk in _chunks(sorted(stacks)):
        stmt = (
            select(Asset.stack_id, Asset.trashed_at)
            .where(Asset.stack_id.in_(chunk))
            .with_hint(Asset, _BY_STACK, "sqlite")
        )
        for stack_id, trashed_at in s.connection().execute(stmt):
            if stack_id is not None and (trashed is None or trashed == (trashed_at is not None)):
                sizes[stack_id] += 1
    return sizes


def _item(r: Any, sizes: Counter[int]) -> GridItem:
    aid, checksum, kind, taken, rating, fav, stack, w, h, orient, off, arch, trash, dur, _ = r
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
    )
