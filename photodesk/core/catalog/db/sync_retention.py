"""The server's record of how far each device has read the feed, the account's trim floor, and
the deletes that trim the journal, applied-mutation ids and the people log.

Which rows may go is ``photodesk.core.sync.retention``'s rule; this is its SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.sync_log import SyncChange, SyncDevice, SyncFloor, SyncMutation
from photodesk.core.catalog.db.sync_people_log import SyncPeopleLog


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def floor(s: Session, user_id: int) -> int:
    """The account's journal is trimmed through this change (0: never trimmed)."""
    return int(s.scalar(select(SyncFloor.seq).where(SyncFloor.owner_id == user_id)) or 0)


def set_floor(s: Session, user_id: int, seq: int) -> None:
    s.merge(SyncFloor(owner_id=user_id, seq=seq))


def device(s: Session, user_id: int, device: str) -> tuple[int, datetime] | None:
    """(cursor, seen at) of a device of the account (None: never seen)."""
    row = s.get(SyncDevice, (user_id, device))
    return None if row is None else (int(row.cursor), row.seen_at)


def save_device(s: Session, user_id: int, device: str, cursor: int, seen_at: datetime) -> None:
    s.merge(SyncDevice(user_id=user_id, device=device, cursor=cursor, seen_at=seen_at))


def forget_devices(s: Session, before: datetime) -> int:
    """Forget devices not seen since ``before``: how many."""
    return _count(s.execute(delete(SyncDevice).where(SyncDevice.seen_at < before)))


def forget_mutations(s: Session, before: datetime) -> int:
    """Forget mutation ids applied before ``before``: how many."""
    return _count(s.execute(delete(SyncMutation).where(SyncMutation.applied_at < before)))


def newest(s: Session) -> int | None:
    """The journal's newest row (None: the journal is empty)."""
    top = s.scalar(select(func.max(SyncChange.seq)))
    return None if top is None else int(top)


def owners(s: Session) -> list[tuple[int, int]]:
    """(owner, newest row) of every account with journal rows."""
    return [
        (int(o), int(t))
        for o, t in s.execute(
            select(SyncChange.owner_id, func.max(SyncChange.seq)).group_by(SyncChange.owner_id)
        ).all()
    ]


def slowest_devices(s: Session) -> dict[int, int]:
    """Account -> the oldest cursor of its devices."""
    return {
        int(u): int(c)
        for u, c in s.execute(
            select(SyncDevice.user_id, func.min(SyncDevice.cursor)).group_by(SyncDevice.user_id)
        ).all()
    }


def newest_before(s: Session, owner: int, wall_ms: int) -> int:
    """The newest row of ``owner``'s written before ``wall_ms`` (0: none)."""
    old = s.scalar(
        select(func.max(SyncChange.seq)).where(
            SyncChange.owner_id == owner, SyncChange.wall_ms < wall_ms
        )
    )
    return int(old or 0)


def drop_through(s: Session, owner: int, seq: int) -> int:
    """Remove ``owner``'s rows through ``seq``: how many."""
    return _count(
        s.execute(delete(SyncChange).where(SyncChange.owner_id == owner, SyncChange.seq <= seq))
    )


def compact_people(s: Session, outbox_owner: int | None) -> int:
    """Remove people log rows a later row of the same person or face makes unneeded (not those
    of ``outbox_owner``). Rows not stamped yet (no uid) stay, and so does the log's newest row
    (SQLite would hand its seq out again)."""
    log = SyncPeopleLog
    newest_seq = s.scalar(select(func.max(log.seq)))
    if newest_seq is None:
        return 0
    latest = select(func.max(log.seq)).where(log.uid.is_not(None)).group_by(log.kind, log.uid)
    stmt = delete(log).where(
        log.uid.is_not(None), log.seq < newest_seq, log.seq.not_in(latest.scalar_subquery())
    )
    if outbox_owner is not None:
        stmt = stmt.where(log.owner_id != outbox_owner)
    return _count(s.execute(stmt.execution_options(synchronize_session=False)))
