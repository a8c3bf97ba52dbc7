"""The asset journal's rows (``sync_changes``), field clocks and applied mutation ids.

The SQL of ``photodesk.core.sync``'s journal, feed and outbox: stamping rows with clocks,
reading the feed, writing received changes, and the desktop's outbox (what a round pushes and
drops). The clock rules themselves stay in ``photodesk.core.sync`` (docs/sync.md).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile
from photodesk.core.catalog.db.sync_log import SyncChange, SyncClock, SyncMutation, SyncRemote

# -- the journal -------------------------------------------------------------------------------


def any_unstamped(s: Session) -> bool:
    """Whether a journal row waits for its clock."""
    return s.scalar(select(SyncChange.seq).where(SyncChange.hlc.is_(None)).limit(1)) is not None


def any_row(s: Session) -> bool:
    """Whether the journal (a desktop's outbox) has any row."""
    return s.scalar(select(SyncChange.seq).limit(1)) is not None


def newest(s: Session, owner: int | None = None) -> int:
    """The newest journal row (of ``owner``'s, or of all; 0: none)."""
    query = select(func.max(SyncChange.seq))
    if owner is not None:
        query = query.where(SyncChange.owner_id == owner)
    return int(s.scalar(query) or 0)


def unstamped(s: Session) -> list[Any]:
    """(seq, asset_id, field, wall_ms) of the rows without a clock, in write order."""
    return list(
        s.execute(
            select(SyncChange.seq, SyncChange.asset_id, SyncChange.field, SyncChange.wall_ms)
            .where(SyncChange.hlc.is_(None))
            .order_by(SyncChange.seq)
        ).all()
    )


def live_assets(s: Session, ids: Collection[int]) -> set[int]:
    """Which of these assets still exist."""
    return set(s.scalars(select(Asset.id).where(Asset.id.in_(set(ids)))))


def label(s: Session, stamps: Sequence[Mapping[str, object]]) -> None:
    """Give rows their clocks: ``{"seq": ..., "hlc": ...}`` each (one executemany)."""
    if stamps:
        s.execute(update(SyncChange), list(stamps))


def label_after(s: Session, seq: int, hlc: str) -> None:
    """Give the unstamped rows after ``seq`` the clock ``hlc``."""
    s.execute(
        update(SyncChange).where(SyncChange.seq > seq, SyncChange.hlc.is_(None)).values(hlc=hlc)
    )


def drop_after(s: Session, seq: int) -> None:
    """Drop the rows after ``seq``."""
    s.execute(delete(SyncChange).where(SyncChange.seq > seq))


def add(s: Session, owner: int, asset_id: int, field: str, wall_ms: int, hlc: str) -> None:
    """Journal one write (written with the session's next flush)."""
    s.add(SyncChange(owner_id=owner, asset_id=asset_id, field=field, wall_ms=wall_ms, hlc=hlc))


def after(s: Session, owner: int, cursor: int, limit: int) -> list[Any]:
    """(seq, asset_id) of ``owner``'s rows after ``cursor``, oldest first, at most ``limit``."""
    return list(
        s.execute(
            select(SyncChange.seq, SyncChange.asset_id)
            .where(SyncChange.owner_id == owner, SyncChange.seq > cursor)
            .order_by(SyncChange.seq)
            .limit(limit)
        ).all()
    )


def newest_of_assets(s: Session, ids: Sequence[int]) -> int:
    """The newest row naming any of these assets (0: none)."""
    newest_seq = 0
    for k in range(0, len(ids), 900):
        got = s.scalar(
            select(func.max(SyncChange.seq)).where(SyncChange.asset_id.in_(ids[k : k + 900]))
        )
        newest_seq = max(newest_seq, int(got or 0))
    return newest_seq


def log_every_asset(s: Session, owner: int) -> None:
    """An "asset" row for every asset of ``owner`` (pairing: each is new to the server)."""
    s.execute(
        insert(SyncChange).from_select(
            ["owner_id", "asset_id", "field", "wall_ms", "hlc"],
            select(Asset.owner_id, Asset.id, literal("asset"), literal(0), literal("-")).where(
                Asset.owner_id == owner
            ),
        )
    )


# -- field clocks ------------------------------------------------------------------------------


def set_clock(s: Session, asset_id: int, field: str, hlc: str, *, new: bool = False) -> None:
    """Record the clock of a field's last write (``new``: the asset has no clocks yet)."""
    row = None if new else s.get(SyncClock, (asset_id, field))
    if row is None:
        s.add(SyncClock(asset_id=asset_id, field=field, hlc=hlc))
    else:
        row.hlc = hlc


# -- applied mutations (server) ----------------------------------------------------------------


def applied(s: Session, mutation_id: str) -> bool:
    return s.get(SyncMutation, mutation_id) is not None


def note_applied(s: Session, mutation_id: str, user_id: int) -> None:
    s.add(SyncMutation(id=mutation_id, user_id=user_id, applied_at=datetime.now()))


# -- the desktop's outbox ----------------------------------------------------------------------


def outbox(s: Session, owner: int, top: int) -> list[Any]:
    """(asset_id, field, checksum) written here up to ``top``, of assets the server has."""
    return list(
        s.execute(
            select(SyncChange.asset_id, SyncChange.field, Asset.checksum)
            .join(Asset, Asset.id == SyncChange.asset_id)
            .join(SyncRemote, SyncRemote.asset_id == Asset.id)
            .where(SyncChange.owner_id == owner, SyncChange.seq <= top)
            .group_by(SyncChange.asset_id, SyncChange.field, Asset.checksum)
            .order_by(SyncChange.asset_id)
        ).all()
    )


def drop_sent(s: Session, sent: Iterable[tuple[int, str]], top: int) -> None:
    """Rows up to ``top`` of the (asset, field) pairs the server has now."""
    for asset_id, field in sent:
        s.execute(
            delete(SyncChange).where(
                SyncChange.asset_id == asset_id, SyncChange.field == field, SyncChange.seq <= top
            )
        )


def drop_settled(s: Session, top: int) -> None:
    """Rows up to ``top`` that need nothing sent: upload markers of linked assets, rows of
    deleted assets."""
    s.execute(
        delete(SyncChange).where(
            SyncChange.seq <= top,
            SyncChange.field == "asset",
            SyncChange.asset_id.in_(select(SyncRemote.asset_id)),
        )
    )
    s.execute(
        delete(SyncChange).where(
            SyncChange.seq <= top, SyncChange.asset_id.not_in(select(Asset.id))
        )
    )


def of_others(s: Session, owner: int) -> list[Any]:
    """(asset_id, field, checksum) of outbox rows of photos ``owner`` does not own."""
    return list(
        s.execute(
            select(SyncChange.asset_id, SyncChange.field, Asset.checksum)
            .join(Asset, Asset.id == SyncChange.asset_id)
            .where(Asset.owner_id != owner, SyncChange.field != "asset")
            .distinct()
        ).all()
    )


def drop_assets(s: Session, asset_ids: Collection[int]) -> None:
    """Every row of these assets."""
    s.execute(delete(SyncChange).where(SyncChange.asset_id.in_(set(asset_ids))))


def drop_fields(s: Session, asset_ids: Collection[int], *, prefix: str) -> None:
    """The rows of these assets whose field starts with ``prefix``."""
    s.execute(
        delete(SyncChange).where(
            SyncChange.asset_id.in_(set(asset_ids)), SyncChange.field.startswith(prefix)
        )
    )


def to_upload(s: Session, owner: int) -> list[tuple[int, str, str]]:
    """(id, checksum, original path) of ``owner``'s assets new here (the journal's "asset"
    row; pairing writes one for every asset) that the server has not got."""
    return [
        (int(r[0]), r[1], r[2])
        for r in s.execute(
            select(Asset.id, Asset.checksum, func.min(AssetFile.path))
            .join(AssetFile, and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original"))
            .where(
                Asset.owner_id == owner,
                Asset.id.in_(select(SyncChange.asset_id).where(SyncChange.field == "asset")),
                ~exists().where(SyncRemote.asset_id == Asset.id),
                ~AssetFile.missing,
            )
            .group_by(Asset.id)
            .order_by(Asset.id)
        ).all()
    ]


def pending_writes(s: Session, owner: int) -> int:
    """(asset, field) pairs written here and not sent yet, and assets not uploaded yet."""
    outbox_rows = (
        select(SyncChange.asset_id, SyncChange.field)
        .where(SyncChange.owner_id == owner, SyncChange.field != "asset")
        .distinct()
        .subquery()
    )
    writes = s.scalar(select(func.count()).select_from(outbox_rows))
    unsent = s.scalar(
        select(func.count())
        .select_from(Asset)
        .where(Asset.owner_id == owner, Asset.id.not_in(select(SyncRemote.asset_id)))
    )
    return int(writes or 0) + int(unsent or 0)
