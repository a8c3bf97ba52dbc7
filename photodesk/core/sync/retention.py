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

from photodesk.core.catalog.db import sync_retention as repo

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
    return repo.floor(s, user_id)


def acknowledged(s: Any, user_id: int, device: str) -> int | None:
    """The cursor ``device`` last read from, or None if it was seen over an hour ago (or never):
    either way the caller writes it again."""
    row = repo.device(s, user_id, device[:64])
    if row is None or (datetime.now() - row[1]).total_seconds() > STALE_ACK_S:
        return None
    return row[0]


def acknowledge(lib: Library, user_id: int, device: str, cursor: int) -> None:
    """``device`` has every change of the account up to ``cursor``."""
    with lib.write() as s:
        repo.save_device(s, user_id, device[:64], cursor, datetime.now())


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
        devices = repo.forget_devices(s, cutoff)
        mutations = repo.forget_mutations(s, cutoff)
        people = repo.compact_people(s, outbox_owner)
        newest = repo.newest(s)
        if newest is None:
            return TrimReport(0, devices, mutations, people)
        acks = repo.slowest_devices(s)
        for owner, top in repo.owners(s):
            if owner == outbox_owner:
                continue
            # read by every device (an account with none: nobody needs the rows)
            upto = min(int(acks.get(owner, top)), int(top))
            upto = max(upto, repo.newest_before(s, owner, cutoff_ms))
            # the newest row of the journal stays: SQLite would hand its seq out again
            upto = min(upto, int(newest) - 1) if upto >= newest else upto
            if upto <= floor(s, owner):
                continue
            rows += repo.drop_through(s, owner, upto)
            repo.set_floor(s, owner, upto)
    return TrimReport(rows, devices, mutations, people)
