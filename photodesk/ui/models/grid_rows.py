"""The asset grid's rows without Qt: display order, day groups, month buckets, and the batches
the model builds off the GUI thread and splices in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from photodesk.core import Cursor, GridItem, MonthBucket

UNDATED = -1  # day ordinal of assets with no capture time
_EPOCH = datetime(1970, 1, 1)
SortKey = tuple[int, float, int]


@dataclass(slots=True)
class DayGroup:
    """A run of rows taken on one day (``day`` None: undated, or an ungrouped list)."""

    day: date | None
    first: int
    count: int


# A row is kept as a plain tuple of GridItem's fields: the GC untracks tuples of plain values, so
# 100,000 rows add nothing to its full collections (100,000 dataclasses would: tens of ms each).
Row = tuple[Any, ...]
as_row = attrgetter(*(f.name for f in fields(GridItem)))
ID, CHECKSUM = 0, 1


@dataclass
class Batch:
    """Rows with their sort keys and days; ``index``/``groups`` are filled in off the GUI
    thread when the batch replaces every row."""

    items: list[Row]
    keys: list[SortKey]
    days: list[int]
    next: Cursor | None = None
    index: dict[int, Any] | None = None
    groups: list[DayGroup] | None = None
    months: list[MonthBucket] | None = None


def sort_key(item: GridItem, newest_first: bool = True) -> SortKey:
    """Display order as a sortable key: dated by time then id, undated last (as the core pages)."""
    sign = -1 if newest_first else 1
    if item.taken_at is None:
        return (1, 0.0, sign * item.id)
    return (0, sign * (item.taken_at - _EPOCH).total_seconds(), sign * item.id)


def make_batch(items: Sequence[GridItem], newest: bool, nxt: Cursor | None = None) -> Batch:
    return Batch(
        [as_row(i) for i in items],
        [sort_key(i, newest) for i in items],
        [i.taken_at.toordinal() if i.taken_at else UNDATED for i in items],
        nxt,
    )


def indexed(batch: Batch, grouped: bool, newest: bool, *, months: bool = False) -> Batch:
    """Fill in the index, day groups (and months): O(rows), so run it off the GUI thread."""
    if grouped:  # sorted: an asset's key finds its row by bisection, and never changes
        batch.index = {t[ID]: k for t, k in zip(batch.items, batch.keys, strict=True)}
    else:
        batch.index = {t[ID]: r for r, t in enumerate(batch.items)}
    batch.groups = group_days(batch.days, grouped)
    if months:
        batch.months = months_of(batch.days, newest)
    return batch


def group_days(days: Sequence[int], grouped: bool = True, start: int = 0) -> list[DayGroup]:
    """Runs of equal day ordinals as DayGroups (one group for an ungrouped list)."""
    if not grouped:
        return [DayGroup(None, 0, len(days))] if days else []
    groups: list[DayGroup] = []
    for r in range(start, len(days)):
        d = days[r]
        if groups and days[groups[-1].first] == d:
            groups[-1].count += 1
        else:
            groups.append(DayGroup(date.fromordinal(d) if d != UNDATED else None, r, 1))
    return groups


def without(seq: list[Any], cut: list[int]) -> list[Any]:
    out: list[Any] = []
    prev = 0
    for r in cut:
        out += seq[prev:r]
        prev = r + 1
    out += seq[prev:]
    return out


def with_inserted(seq: list[Any], at: list[int], values: list[Any]) -> list[Any]:
    """``values`` inserted before positions ``at`` (sorted) of ``seq``."""
    out: list[Any] = []
    prev = 0
    for pos, value in zip(at, values, strict=True):
        out += seq[prev:pos]
        out.append(value)
        prev = pos
    out += seq[prev:]
    return out


def months_of(days: Sequence[int], newest_first: bool = True) -> list[MonthBucket]:
    """Month buckets counted from day ordinals (for lists that are not a core query)."""
    counts: Counter[int] = Counter(days)
    months: Counter[int] = Counter()
    for d, n in counts.items():
        if d == UNDATED:
            months[0] += n
        else:
            day = date.fromordinal(d)
            months[day.year * 100 + day.month] += n
    order = sorted((m for m in months if m), reverse=newest_first)
    return [MonthBucket(m, months[m]) for m in order + ([0] if months[0] else [])]
