"""People sync bookkeeping: a log of people and face writes, global ids, and synced field state.

``sync_people_log`` gets a row from a trigger (SQLite's, or PL/pgSQL on PostgreSQL), in the
same transaction, for every write to a person (name, hidden, made, deleted), a face (made,
placed, deleted) or a "not this person" decision, whoever writes. On the server its ``seq`` is
the people feed's cursor; on the desktop it is the outbox. ``sync_people_ids`` gives people and
faces ids that mean the same thing on every side; ``sync_people_state`` keeps each synced
field's last value and clock (including tombstones of deleted and merged people). See
docs/sync.md ("People").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from photodesk.core.catalog.db.schema import Base, BigInt
from photodesk.core.catalog.db.sync_log import (
    NOW_MS,
    NOW_MS_POSTGRES,
    PG_OFF,
    install_triggers,
    remove_triggers,
)


class SyncPeopleLog(Base):
    """One write to a person or a face: the people feed (server) and outbox (desktop)."""

    __tablename__ = "sync_people_log"
    __table_args__ = (Index("ix_sync_people_log_owner_seq", "owner_id", "seq"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # person | face
    ref_id: Mapped[int] = mapped_column(Integer)  # people.id / faces.id (no FK: outlives it)
    wall_ms: Mapped[int] = mapped_column(BigInt)
    hlc: Mapped[str | None] = mapped_column(String(64), index=True)  # stamped after the write
    uid: Mapped[str | None] = mapped_column(String(80))  # the object's uid, set when stamped


class SyncPeopleId(Base):
    """The id a person or face has on every side (``uid``), and which local row it is.

    ``local_id`` is null once the row is gone (its tombstone stays in the state); a face found
    by two sides may have several uids (aliases): ``main`` marks the one this side sends.
    """

    __tablename__ = "sync_people_ids"
    __table_args__ = (Index("ix_sync_people_ids_local", "kind", "local_id"),)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    uid: Mapped[str] = mapped_column(String(80), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    local_id: Mapped[int | None] = mapped_column(Integer)
    main: Mapped[bool] = mapped_column(Boolean, default=True)


class SyncPeopleState(Base):
    """A synced field of a person or face (by main uid): its value and the clock that wrote it."""

    __tablename__ = "sync_people_state"
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    uid: Mapped[str] = mapped_column(String(80), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    hlc: Mapped[str] = mapped_column(String(64))


def _log(owner: str, kind: str, ref: str) -> str:
    return (
        "INSERT INTO sync_people_log(owner_id, kind, ref_id, wall_ms) "
        f"SELECT {owner}, '{kind}', {ref}, {NOW_MS} WHERE {owner} IS NOT NULL;"
    )


def _face_owner(row: str) -> str:
    return f"(SELECT owner_id FROM assets WHERE id = {row}.asset_id)"


def _face_of_rejection_owner(row: str) -> str:
    return (
        "(SELECT a.owner_id FROM faces f JOIN assets a ON a.id = f.asset_id "
        f"WHERE f.id = {row}.face_id)"
    )


def _triggers() -> list[tuple[str, str]]:
    person = {
        "insert": ("AFTER INSERT ON people", "new"),
        "update": ("AFTER UPDATE OF name, hidden ON people", "new"),
        "delete": ("AFTER DELETE ON people", "old"),
    }
    face = {
        "insert": ("AFTER INSERT ON faces", "new"),
        "update": ("AFTER UPDATE OF person_id, assigned_by_user, embedding ON faces", "new"),
        "delete": ("BEFORE DELETE ON faces", "old"),
    }
    out = [
        (f"sync_people_{op}", f"{when} BEGIN {_log(f'{row}.owner_id', 'person', f'{row}.id')} END")
        for op, (when, row) in person.items()
    ]
    out += [
        (
            f"sync_faces_{op}",
            f"{when} BEGIN {_log(_face_owner(row), 'face', f'{row}.id')} END",
        )
        for op, (when, row) in face.items()
    ]
    for op, row in (("insert", "new"), ("delete", "old")):
        body = _log(_face_of_rejection_owner(row), "face", f"{row}.face_id")
        when = "AFTER INSERT" if op == "insert" else "BEFORE DELETE"
        out.append((f"sync_face_rejections_{op}", f"{when} ON face_rejections BEGIN {body} END"))
    return out


def _pg_log(owner: str, kind: str, ref: str) -> str:
    return (
        f"SELECT {owner} INTO v_owner; IF v_owner IS NOT NULL THEN "
        "INSERT INTO sync_people_log(owner_id, kind, ref_id, wall_ms) "
        f"VALUES (v_owner, '{kind}', {ref}, {NOW_MS_POSTGRES}); END IF;"
    )


def _pg_functions() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """PostgreSQL: (function, its body, [(trigger, when)]) for the same writes as ``_triggers``.
    Rows are deleted BEFORE (a face's owner is found through its asset), the rest AFTER; a
    transaction that set ``photodesk.sync_off`` (a catalog copy) logs nothing."""
    skip = f"IF current_setting('{PG_OFF}', true) = 'on' THEN RETURN r; END IF; "
    tables = (
        ("people", "person", "r.owner_id", "r.id", "UPDATE OF name, hidden"),
        (
            "faces",
            "face",
            _face_owner("r"),
            "r.id",
            "UPDATE OF person_id, assigned_by_user, embedding",
        ),
        ("face_rejections", "face", _face_of_rejection_owner("r"), "r.face_id", None),
    )
    out = []
    for table, kind, owner, ref, update in tables:
        body = (
            f"DECLARE r {table}; v_owner integer; BEGIN "
            "IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF; "
            + skip
            + _pg_log(owner, kind, ref)
            + " RETURN r; END"
        )
        after = "INSERT" if update is None else f"INSERT OR {update}"
        triggers = [
            (f"sync_people_log_{table}", f"AFTER {after} ON {table} FOR EACH ROW"),
            (f"sync_people_log_{table}_delete", f"BEFORE DELETE ON {table} FOR EACH ROW"),
        ]
        out.append((f"sync_people_log_{table}", body, triggers))
    return out


def create_triggers(conn: Connection) -> None:
    """Make the people log's triggers (a migration step), in ``conn``'s dialect (PostgreSQL:
    idempotent, so 0016 can make them on catalogs that passed 0014 without them)."""
    install_triggers(conn, _triggers, _pg_functions)


def drop_triggers(conn: Connection) -> None:
    remove_triggers(conn, _triggers, _pg_functions)
