"""People sync's own tables: global ids of people and faces (``sync_people_ids``), their synced
field state (``sync_people_state``) and the people log (``sync_people_log``: the server's
people feed, the desktop's people outbox).

The rules (clocks, merges, which write wins) are ``photodesk.core.sync.people_state`` and
``people_sync``'s; this is their SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Text, cast, delete, func, insert, literal, select, tuple_, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, Face, Person
from photodesk.core.catalog.db.sync_people_log import SyncPeopleId, SyncPeopleLog, SyncPeopleState

# -- ids ---------------------------------------------------------------------------------------


def uid_of(s: Session, kind: str, local_id: int) -> str | None:
    """The main uid of a live local person or face (None: never stamped)."""
    return s.scalar(
        select(SyncPeopleId.uid).where(
            SyncPeopleId.kind == kind, SyncPeopleId.local_id == local_id, SyncPeopleId.main
        )
    )


def lookup(s: Session, kind: str, uid: str) -> SyncPeopleId | None:
    return s.get(SyncPeopleId, (kind, uid))


def add_id(
    s: Session, kind: str, uid: str, owner: int, local_id: int | None, *, main: bool = True
) -> None:
    """Record a uid (``main``: the one state is kept under; else an alias of a face)."""
    s.add(SyncPeopleId(kind=kind, uid=uid, owner_id=owner, local_id=local_id, main=main))
    s.flush()


def set_local(s: Session, kind: str, uid: str, local_id: int | None) -> None:
    """Point a uid at a local row (None: it has none now)."""
    row = s.get(SyncPeopleId, (kind, uid))
    if row is not None:
        row.local_id = local_id


def unlink_local(s: Session, kind: str, local_id: int) -> None:
    """Every uid of a local row that is gone (its main uid and its aliases) has no row now."""
    for row in s.scalars(
        select(SyncPeopleId).where(SyncPeopleId.kind == kind, SyncPeopleId.local_id == local_id)
    ):
        row.local_id = None


# -- field state -------------------------------------------------------------------------------


def state(s: Session, kind: str, uid: str) -> dict[str, tuple[Any, str]]:
    """field -> (value, clock) of a person or face."""
    return {
        r.field: (r.value, r.hlc)
        for r in s.scalars(
            select(SyncPeopleState).where(SyncPeopleState.kind == kind, SyncPeopleState.uid == uid)
        )
    }


def put(s: Session, kind: str, uid: str, field: str, value: Any, hlc: str) -> None:
    row = s.get(SyncPeopleState, (kind, uid, field))
    if row is None:
        s.add(SyncPeopleState(kind=kind, uid=uid, field=field, value=value, hlc=hlc))
    else:
        row.value, row.hlc = value, hlc
    s.flush()


def of_fields(s: Session, kind: str, names: Sequence[str]) -> list[tuple[str, str, Any]]:
    """(uid, field, value) of every ``kind`` whose state has one of these fields."""
    return [
        (r.uid, r.field, r.value)
        for r in s.scalars(
            select(SyncPeopleState).where(
                SyncPeopleState.kind == kind, SyncPeopleState.field.in_(list(names))
            )
        )
    ]


def with_value(s: Session, kind: str, field: str, value: str) -> list[str]:
    """Uids of ``kind`` whose ``field`` is the text ``value`` (compared as JSON text)."""
    return list(
        s.scalars(
            select(SyncPeopleState.uid).where(
                SyncPeopleState.kind == kind,
                SyncPeopleState.field == field,
                cast(SyncPeopleState.value, Text) == json.dumps(value),
            )
        )
    )


# -- the people log ----------------------------------------------------------------------------


def any_unstamped(s: Session) -> bool:
    return (
        s.scalar(select(SyncPeopleLog.seq).where(SyncPeopleLog.hlc.is_(None)).limit(1)) is not None
    )


def any_row(s: Session) -> bool:
    return s.scalar(select(SyncPeopleLog.seq).limit(1)) is not None


def newest(s: Session, owner: int | None = None) -> int:
    """The log's newest row (of ``owner``'s, or of all; 0: none)."""
    query = select(func.max(SyncPeopleLog.seq))
    if owner is not None:
        query = query.where(SyncPeopleLog.owner_id == owner)
    return int(s.scalar(query) or 0)


def unstamped(s: Session) -> list[Any]:
    """(seq, owner_id, kind, ref_id, wall_ms) of rows without a clock, in write order."""
    return list(
        s.execute(
            select(SyncPeopleLog.seq, SyncPeopleLog.owner_id, SyncPeopleLog.kind,
                   SyncPeopleLog.ref_id, SyncPeopleLog.wall_ms)
            .where(SyncPeopleLog.hlc.is_(None))
            .order_by(SyncPeopleLog.seq)
        ).all()
    )  # fmt: skip


def label(s: Session, stamps: Sequence[Mapping[str, object]]) -> None:
    """Give rows their clock and uid: ``{"seq", "hlc", "uid"}`` each (one executemany)."""
    if stamps:
        s.execute(update(SyncPeopleLog), list(stamps))


def after(s: Session, owner: int, cursor: int, limit: int) -> list[Any]:
    """(seq, kind, uid) of ``owner``'s rows after ``cursor``, oldest first, at most ``limit``."""
    return list(
        s.execute(
            select(SyncPeopleLog.seq, SyncPeopleLog.kind, SyncPeopleLog.uid)
            .where(SyncPeopleLog.owner_id == owner, SyncPeopleLog.seq > cursor)
            .order_by(SyncPeopleLog.seq)
            .limit(limit)
        ).all()
    )


def add_rows(s: Session, rows: Iterable[tuple[int, str, int, int, str, str]]) -> None:
    """Log (owner, kind, ref_id, wall_ms, hlc, uid) rows (written with the next flush)."""
    s.add_all(
        SyncPeopleLog(owner_id=o, kind=k, ref_id=r, wall_ms=w, hlc=h, uid=u)
        for o, k, r, w, h, u in rows
    )


def drop_after(s: Session, seq: int) -> None:
    s.execute(delete(SyncPeopleLog).where(SyncPeopleLog.seq > seq))


def outbox(s: Session, top: int) -> list[tuple[str, str]]:
    """(kind, uid) of the rows up to ``top`` that name one, oldest first."""
    return [
        (str(kind), str(uid))
        for kind, uid in s.execute(
            select(SyncPeopleLog.kind, SyncPeopleLog.uid)
            .where(SyncPeopleLog.seq <= top, SyncPeopleLog.uid != "")
            .group_by(SyncPeopleLog.kind, SyncPeopleLog.uid)
            .order_by(func.min(SyncPeopleLog.seq))
        )
    ]


def drop_sent(s: Session, keys: Sequence[tuple[str, str]], top: int) -> None:
    """Rows up to ``top`` of these (kind, uid)."""
    s.execute(
        delete(SyncPeopleLog).where(
            SyncPeopleLog.seq <= top, tuple_(SyncPeopleLog.kind, SyncPeopleLog.uid).in_(keys)
        )
    )


def drop_unnamed(s: Session, top: int) -> None:
    """Rows up to ``top`` of things made and deleted before anyone saw them (no uid)."""
    s.execute(delete(SyncPeopleLog).where(SyncPeopleLog.seq <= top, SyncPeopleLog.uid == ""))


def pending(s: Session, owner: int) -> int:
    """People and faces of ``owner`` written here and not sent yet."""
    return int(
        s.scalar(
            select(func.count()).select_from(
                select(SyncPeopleLog.kind, SyncPeopleLog.ref_id, SyncPeopleLog.uid)
                .where(SyncPeopleLog.owner_id == owner)
                .distinct()
                .subquery()
            )
        )
        or 0
    )


def log_all(s: Session, owner: int, person: str, face: str, wall_ms: int) -> None:
    """Log every person and face of ``owner`` (kinds named ``person`` and ``face``)."""
    s.execute(
        insert(SyncPeopleLog).from_select(
            ["owner_id", "kind", "ref_id", "wall_ms"],
            select(Person.owner_id, literal(person), Person.id, literal(wall_ms)).where(
                Person.owner_id == owner
            ),
        )
    )
    s.execute(
        insert(SyncPeopleLog).from_select(
            ["owner_id", "kind", "ref_id", "wall_ms"],
            select(Asset.owner_id, literal(face), Face.id, literal(wall_ms))
            .join(Asset, Asset.id == Face.asset_id)
            .where(Asset.owner_id == owner),
        )
    )
