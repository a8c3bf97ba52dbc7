"""The journal's clocks: stamp journalled writes with hybrid logical clocks, keep field clocks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, Setting
from photodesk.core.catalog.db.sync_log import SyncChange, SyncClock
from photodesk.core.sync import clock
from photodesk.core.sync.clock import Hlc
from photodesk.core.sync.fields import is_synced

CLOCK_KEY = "sync.clock"
NODE_KEY = "sync.node"


def node(s: Session) -> str:
    """This catalog's node name in clocks (made once, random)."""
    row = s.get(Setting, NODE_KEY)
    if row is not None and isinstance(row.value, str):
        return row.value
    import secrets

    name = secrets.token_hex(6)
    s.merge(Setting(key=NODE_KEY, value=name))
    return name


def last(s: Session) -> Hlc | None:
    row = s.get(Setting, CLOCK_KEY)
    if row is None or not isinstance(row.value, str) or not clock.valid(row.value):
        return None
    return Hlc.parse(row.value)


def save(s: Session, value: Hlc | None) -> None:
    if value is not None:
        s.merge(Setting(key=CLOCK_KEY, value=str(value)))


def observe(s: Session, seen: Iterable[str]) -> None:
    """Move this catalog's clock past clocks received from elsewhere."""
    current = last(s)
    moved = current
    for hlc in seen:
        moved = clock.observe(moved, hlc)
    if moved is not None and moved != current:
        save(s, Hlc(moved.wall_ms, moved.counter, node(s)))


def head(s: Session) -> int:
    return int(s.scalar(select(func.max(SyncChange.seq))) or 0)


def set_clock(s: Session, asset_id: int, field: str, hlc: str, *, new: bool = False) -> None:
    """Record the clock of a field's last write (``new``: the asset has no clocks yet)."""
    row = None if new else s.get(SyncClock, (asset_id, field))
    if row is None:
        s.add(SyncClock(asset_id=asset_id, field=field, hlc=hlc))
    else:
        row.hlc = hlc


def stamp(s: Session) -> int:
    """Give every unstamped journal row a clock of this node, in write order; returns how many.

    Run inside the writer before anything from another node is applied, so an edit made here
    before it was received sorts before what was received.
    """
    rows = s.execute(
        select(SyncChange.seq, SyncChange.asset_id, SyncChange.field, SyncChange.wall_ms)
        .where(SyncChange.hlc.is_(None))
        .order_by(SyncChange.seq)
    ).all()
    if not rows:
        return 0
    me, current = node(s), last(s)
    live = set(s.scalars(select(Asset.id).where(Asset.id.in_({r.asset_id for r in rows}))))
    stamps: list[dict[str, object]] = []
    fields: dict[tuple[int, str], str] = {}
    for row in rows:
        current = clock.tick(current, int(row.wall_ms), me)
        text = str(current)
        stamps.append({"seq": row.seq, "hlc": text})
        if row.asset_id in live and is_synced(row.field):
            fields[(row.asset_id, row.field)] = text
    s.execute(update(SyncChange), stamps)
    for (asset_id, field), text in fields.items():
        set_clock(s, asset_id, field, text)
    save(s, current)
    return len(rows)


def mark(s: Session) -> int:
    """The journal's newest row, before a write whose own rows ``forget_since`` then drops."""
    return head(s)


def forget_since(s: Session, seq: int) -> None:
    """Drop journal rows after ``seq``: writes received from the server are not local edits."""
    s.execute(delete(SyncChange).where(SyncChange.seq > seq))


def label_since(s: Session, seq: int, hlc: str) -> None:
    """Give the journal rows after ``seq`` the clock of the write received (server side)."""
    s.execute(
        update(SyncChange).where(SyncChange.seq > seq, SyncChange.hlc.is_(None)).values(hlc=hlc)
    )
