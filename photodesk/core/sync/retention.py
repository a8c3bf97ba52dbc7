"""Server side: how far each paired device has read the feed, and trimming the journal.

The journal (``sync_changes``) would otherwise grow with every write forever. A device reading
the feed from cursor N has applied everything up to N (it asks with ``device=<its node id>``);
rows every device of the account has read are trimmed, and so are rows older than the retention
horizon, whoever has not read them. The account's *floor* records how far its journal was
trimmed: a device whose cursor is below it is told to take a fresh snapshot (docs/sync.md).

The people log (``sync_people_log``) is compacted instead: the feed sends each person and face
whole under its uid, so a row is never needed once a later row names the same person or face;
those rows go, and the newest row of each stays (it is how a device that pairs later, or one
reading from any cursor, still gets every person and face).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from photodesk.core.catalog.db.sync_log import SyncChange, SyncDevice, SyncFloor, SyncMutation
from photodesk.core.catalog.db.sync_people_log import SyncPeopleLog

if TYPE_CHECKING:
    from photodesk.core.library import Library

RETENTION_DAYS = 90
STALE_ACK_S = 3600  # a device's unchanged cursor is written again at most this often


@dataclass(frozen=True)
class TrimReport:
    rows: int  # journal rows removed
    devices: int  # devices forgotten (not seen within the horizon)
    mutations: int  # applied-mutation ids forgotten (older than the horizon)
    people_rows: int = 0  # people log rows removed (a later row names the same person or face)


def floor(s: Any, user_id: int) -> int:
    """The account's journal is trimmed through this change (0: never trimmed)."""
    return int(s.scalar(select(SyncFloor.seq).where(SyncFloor.owner_id == user_id)) or 0)


def acknowledged(s: Any, user_id: int, device: str) -> int | None:
    """The cursor ``device`` last read from, or None if it was seen over an hour ago (or never):
    either way the caller writes it again."""
    row = s.get(SyncDevice, (user_id, device[:64]))
    if row is None or (datetime.now() - row.seen_at).total_seconds() > STALE_ACK_S:
        return None
    return int(row.cursor)


def acknowledge(lib: Library, user_id: int, device: str, cursor: int) -> None:
    """``device`` has every change of the account up to ``cursor``."""
    with lib.write() as s:
        s.merge(
            SyncDevice(user_id=user_id, device=device[:64], cursor=cursor, seen_at=datetime.now())
        )


def trim(
    lib: Library, *, horizon_days: float = RETENTION_DAYS, now: datetime | None = None
) -> TrimReport:
    """Remove journal rows every device of their account has read, and rows older than the
    horizon; forget devices and applied-mutation ids older than it. A paired desktop's own
    journal is its outbox and is never trimmed here."""
    now = now or datetime.now()
    cutoff = now - timedelta(days=horizon_days)
    cutoff_ms = int(cutoff.timestamp() * 1000)
    pairing = lib.sync.pairing()
    outbox_owner = lib.owner_id if pairing is not None else None
    rows = devices = mutations = 0
    with lib.write() as s:
        devices = _count(s.execute(delete(SyncDevice).where(SyncDevice.seen_at < cutoff)))
        mutations = _count(s.execute(delete(SyncMutation).where(SyncMutation.applied_at < cutoff)))
        people = _trim_people(s, outbox_owner)
        newest = s.scalar(select(func.max(SyncChange.seq)))
        if newest is None:
            return TrimReport(0, devices, mutations, people)
        owners = s.execute(
            select(SyncChange.owner_id, func.max(SyncChange.seq)).group_by(SyncChange.owner_id)
        ).all()
        acks = dict(
            s.execute(
                select(SyncDevice.user_id, func.min(SyncDevice.cursor)).group_by(SyncDevice.user_id)
            ).all()
        )
        for owner, top in owners:
            if owner == outbox_owner:
                continue
            # read by every device (an account with none: nobody needs the rows)
            upto = min(int(acks.get(owner, top)), int(top))
            old = s.scalar(
                select(func.max(SyncChange.seq)).where(
                    SyncChange.owner_id == owner, SyncChange.wall_ms < cutoff_ms
                )
            )
            upto = max(upto, int(old or 0))
            # the newest row of the journal stays: SQLite would hand its seq out again
            upto = min(upto, int(newest) - 1) if upto >= newest else upto
            if upto <= floor(s, owner):
                continue
            rows += _count(
                s.execute(
                    delete(SyncChange).where(SyncChange.owner_id == owner, SyncChange.seq <= upto)
                )
            )
            s.merge(SyncFloor(owner_id=owner, seq=upto))
    return TrimReport(rows, devices, mutations, people)


def _trim_people(s: Any, outbox_owner: int | None) -> int:
    """Remove people log rows a later row of the same person or face makes unneeded. Rows not
    stamped yet (no uid) stay, and so does the log's newest row (SQLite would hand its seq out
    again)."""
    log = SyncPeopleLog
    newest = s.scalar(select(func.max(log.seq)))
    if newest is None:
        return 0
    latest = select(func.max(log.seq)).where(log.uid.is_not(None)).group_by(log.kind, log.uid)
    stmt = delete(log).where(
        log.uid.is_not(None), log.seq < newest, log.seq.not_in(latest.scalar_subquery())
    )
    if outbox_owner is not None:
        stmt = stmt.where(log.owner_id != outbox_owner)
    return _count(s.execute(stmt.execution_options(synchronize_session=False)))


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
