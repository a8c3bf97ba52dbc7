"""The journal's clocks: stamp journalled writes with hybrid logical clocks, keep field clocks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import settings
from photodesk.core.catalog.db import sync_journal as repo
from photodesk.core.sync import clock
from photodesk.core.sync.clock import Hlc
from photodesk.core.sync.fields import is_synced

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session

CLOCK_KEY = "sync.clock"
NODE_KEY = "sync.node"


def node(s: Session) -> str:
    """This catalog's node name in clocks (made once, random)."""
    value = settings.get(s, NODE_KEY)
    if isinstance(value, str):
        return value
    import secrets

    name = secrets.token_hex(6)
    settings.put(s, NODE_KEY, name)
    return name


def last(s: Session) -> Hlc | None:
    value = settings.get(s, CLOCK_KEY)
    if not isinstance(value, str) or not clock.valid(value):
        return None
    return Hlc.parse(value)


def save(s: Session, value: Hlc | None) -> None:
    if value is not None:
        settings.put(s, CLOCK_KEY, str(value))


def observe(s: Session, seen: Iterable[str]) -> None:
    """Move this catalog's clock past clocks received from elsewhere."""
    current = last(s)
    moved = current
    for hlc in seen:
        moved = clock.observe(moved, hlc)
    if moved is not None and moved != current:
        save(s, Hlc(moved.wall_ms, moved.counter, node(s)))


def head(s: Session) -> int:
    return repo.newest(s)


def set_clock(s: Session, asset_id: int, field: str, hlc: str, *, new: bool = False) -> None:
    """Record the clock of a field's last write (``new``: the asset has no clocks yet)."""
    repo.set_clock(s, asset_id, field, hlc, new=new)


def stamp(s: Session) -> int:
    """Give every unstamped journal row a clock of this node, in write order; returns how many.

    Run inside the writer before anything from another node is applied, so an edit made here
    before it was received sorts before what was received.
    """
    rows = repo.unstamped(s)
    if not rows:
        return 0
    me, current = node(s), last(s)
    live = repo.live_assets(s, {r.asset_id for r in rows})
    stamps: list[dict[str, object]] = []
    fields: dict[tuple[int, str], str] = {}
    for row in rows:
        current = clock.tick(current, int(row.wall_ms), me)
        text = str(current)
        stamps.append({"seq": row.seq, "hlc": text})
        if row.asset_id in live and is_synced(row.field):
            fields[(row.asset_id, row.field)] = text
    repo.label(s, stamps)
    for (asset_id, field), text in fields.items():
        set_clock(s, asset_id, field, text)
    save(s, current)
    return len(rows)


def mark(s: Session) -> int:
    """The journal's newest row, before a write whose own rows ``forget_since`` then drops."""
    return head(s)


def forget_since(s: Session, seq: int) -> None:
    """Drop journal rows after ``seq``: writes received from the server are not local edits."""
    repo.drop_after(s, seq)


def label_since(s: Session, seq: int, hlc: str) -> None:
    """Give the journal rows after ``seq`` the clock of the write received (server side)."""
    repo.label_after(s, seq, hlc)
