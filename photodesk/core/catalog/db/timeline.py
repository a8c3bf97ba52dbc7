"""Timeline rows for photo grids: month/day counts, keyset pages, stack members.

Every read takes the owner and an ``AssetQuery`` (its filters: ``assets.filtered``) and returns
plain rows whose columns are ``COLUMNS``' (``id``, ``checksum``... ``primary_asset_id``,
``on_server``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.assets import filtered
from photodesk.core.catalog.db.grants import album_grants_read
from photodesk.core.catalog.db.schema import Asset, AssetFile, Stack
from photodesk.core.catalog.types import AssetQuery

CHUNK = 900  # below SQLite's bound-parameter limit
# SQLite has no statistics on a fresh catalog and may scan a low-selectivity index (owner_id,
# trashed_at IS NULL) instead of the one that fits; these hints pin the plan (other dialects
# ignore them). NOT INDEXED still looks rows up by rowid.
_BY_TIME = "INDEXED BY ix_assets_owner_taken"
_BY_STACK = "INDEXED BY ix_assets_stack_id"
_BY_ID = "NOT INDEXED"

COLUMNS = (
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
    # offline with no file at all: a synced photo whose original is on the server (CASE: an
    # index probe for offline tiles only)
    case((Asset.offline, ~exists().where(AssetFile.asset_id == Asset.id)), else_=false()).label(
        "on_server"
    ),
)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _where(owner_id: int, q: AssetQuery) -> Select[Any]:
    """The query's filters (owner, trash, archive, tags...) with no order and no limit."""
    return filtered(owner_id, q).order_by(None)


def _in_month(base: Select[Any], month: int | None) -> Select[Any]:
    if month is None:
        return base
    return base.where(Asset.taken_month == month if month else Asset.taken_month.is_(None))


def _as_date(value: object) -> date | None:
    """A ``date()`` result: SQLite answers text, PostgreSQL a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def month_counts(s: Session, owner_id: int, q: AssetQuery) -> list[tuple[int, int]]:
    """(YYYYMM or 0 when undated, assets) for the assets ``q`` matches."""
    stmt = (
        _where(owner_id, q)
        .with_only_columns(Asset.taken_month, func.count())
        .group_by(Asset.taken_month)
    )
    return [(int(m or 0), int(n)) for m, n in s.execute(stmt.order_by(None))]


def day_counts(
    s: Session, owner_id: int, q: AssetQuery, month: int | None
) -> list[tuple[date | None, int]]:
    """(day or None when undated, assets) for the assets ``q`` matches (in one YYYYMM
    ``month``, 0: the undated ones, None: all)."""
    day = func.date(Asset.taken_at)
    base = _in_month(_where(owner_id, q), month)
    stmt = base.with_only_columns(day, func.count()).group_by(day).order_by(None)
    return [(_as_date(d), int(n)) for d, n in s.execute(stmt)]


def hidden_members(
    s: Session, owner_id: int, q: AssetQuery, *, month: int | None = None, by_day: bool = False
) -> list[tuple[int, Any]]:
    """Stack members ``q`` matches that fold into a primary it shows: (id, taken_month) rows,
    or (id, taken_at) ``by_day`` (in ``month`` as for ``day_counts``)."""
    base = _in_month(_where(owner_id, q), month)
    extra = Asset.taken_at if by_day else Asset.taken_month
    rows: list[Any] = list(
        s.connection().execute(
            base.with_only_columns(Asset.id, extra, Stack.primary_asset_id)
            .join(Stack, Stack.id == Asset.stack_id)
            .where(Asset.stack_id.is_not(None), Stack.primary_asset_id != Asset.id)
            .with_hint(Asset, _BY_STACK, "sqlite")
        )
    )
    shown = matching(s, owner_id, q, {r[2] for r in rows})
    return [(r[0], r[1]) for r in rows if r[2] in shown]


def matching(s: Session, owner_id: int, q: AssetQuery, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` the query matches."""
    out: set[int] = set()
    base = _where(owner_id, q)
    for chunk in _chunks(sorted(ids)):
        out.update(s.scalars(base.where(Asset.id.in_(chunk)).with_hint(Asset, _BY_ID, "sqlite")))
    return out


def _tiles(owner_id: int, q: AssetQuery, hint: str) -> Any:
    return (
        _where(owner_id, q)
        .with_only_columns(*COLUMNS)
        .outerjoin(Stack, Stack.id == Asset.stack_id)
        .with_hint(Asset, hint, "sqlite")
    )


def dated_page(
    s: Session, owner_id: int, q: AssetQuery, after: tuple[Any, int] | None, limit: int
) -> list[Any]:
    """Up to ``limit`` dated tiles after the (taken_at, id) keyset ``after``, in ``q``'s order."""
    newest = q.newest_first
    stmt = _tiles(owner_id, q, _BY_TIME).where(Asset.taken_at.is_not(None))
    if after is not None:
        key, at = tuple_(Asset.taken_at, Asset.id), tuple_(*after)
        stmt = stmt.where(key < at if newest else key > at)
    order = (Asset.taken_at, Asset.id)
    stmt = stmt.order_by(*(c.desc() if newest else c.asc() for c in order))
    return list(s.connection().execute(stmt.limit(limit)))


def undated_page(s: Session, owner_id: int, q: AssetQuery, after_id: int, limit: int) -> list[Any]:
    """Up to ``limit`` undated tiles after the id ``after_id``, in ``q``'s order."""
    newest = q.newest_first
    stmt = _tiles(owner_id, q, _BY_TIME).where(
        Asset.taken_at.is_(None), Asset.id < after_id if newest else Asset.id > after_id
    )
    order = Asset.id.desc() if newest else Asset.id.asc()
    return list(s.connection().execute(stmt.order_by(order).limit(limit)))


def tiles_of(s: Session, owner_id: int, ids: Sequence[int]) -> dict[int, Any]:
    """Id -> tile row of the owner's assets among ``ids``, whatever their state, and of those an
    album shared with the owner holds (the one read rule, ``album_grants_read``)."""
    found: dict[int, Any] = {}
    for chunk in _chunks(list(ids)):
        stmt = (
            select(*COLUMNS)
            .outerjoin(Stack, Stack.id == Asset.stack_id)
            .where(
                or_(Asset.owner_id == owner_id, album_grants_read(owner_id)), Asset.id.in_(chunk)
            )
            .with_hint(Asset, _BY_ID, "sqlite")
        )
        found.update((r.id, r) for r in s.connection().execute(stmt))
    return found


def matching_tiles(s: Session, owner_id: int, q: AssetQuery, ids: Sequence[int]) -> list[Any]:
    """Tile rows of those of ``ids`` the query matches."""
    cols = _tiles(owner_id, q, _BY_ID)
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += s.connection().execute(cols.where(Asset.id.in_(chunk)))
    return rows


def stacks_of(s: Session, owner_id: int, ids: Sequence[int]) -> set[int]:
    """The stacks the owner's assets among ``ids`` are in."""
    stacks: set[int] = set()
    for chunk in _chunks(ids):
        stacks.update(
            s.scalars(
                select(Asset.stack_id)
                .where(Asset.id.in_(chunk), Asset.stack_id.is_not(None), Asset.owner_id == owner_id)
                .with_hint(Asset, _BY_ID, "sqlite")
            )
        )
    return stacks


def members(s: Session, stacks: Sequence[int]) -> set[int]:
    """Every asset in these stacks."""
    out: set[int] = set()
    for chunk in _chunks(stacks):
        out.update(
            s.scalars(
                select(Asset.id)
                .where(Asset.stack_id.in_(chunk))
                .with_hint(Asset, _BY_STACK, "sqlite")
            )
        )
    return out


def member_states(s: Session, stacks: Sequence[int]) -> list[tuple[int, bool]]:
    """(stack id, in the trash) of every member of these stacks."""
    out: list[tuple[int, bool]] = []
    for chunk in _chunks(stacks):
        stmt = (
            select(Asset.stack_id, Asset.trashed_at)
            .where(Asset.stack_id.in_(chunk))
            .with_hint(Asset, _BY_STACK, "sqlite")
        )
        out += [(st, at is not None) for st, at in s.connection().execute(stmt) if st is not None]
    return out
