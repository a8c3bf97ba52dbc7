"""Sync bookkeeping tables and the SQLite triggers that journal every synced catalog write.

Every write to a synced field (a rating, a tag on an asset, an album's members...) appends a row
to ``sync_changes`` in the same transaction, from a trigger, whoever made the write (the desktop,
the web app, the Immich API, a sync). The row's ``seq`` is the change feed's cursor on the server
and the outbox on the desktop; ``hlc`` is filled in later by ``photodesk.core.sync.clock``.
The trigger SQL is the only dialect-specific part (see docs/sync.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import (
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    insert,
    select,
    update,
)  # fmt: skip
from sqlalchemy.orm import Mapped, Session, mapped_column

from photodesk.core.catalog.db.schema import Base, BigInt


class SyncChange(Base):
    """One write to a synced field: the feed (server) and the outbox (desktop)."""

    __tablename__ = "sync_changes"
    __table_args__ = (Index("ix_sync_changes_owner_seq", "owner_id", "seq"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: outlives the asset
    field: Mapped[str] = mapped_column(Text)  # rating | tag:<path> | album:<name> | asset ...
    wall_ms: Mapped[int] = mapped_column(BigInt)  # the writer's wall clock, ms since 1970
    hlc: Mapped[str | None] = mapped_column(String(64), index=True)  # stamped after the write


class SyncClock(Base):
    """The hybrid logical clock of the last write to each synced field of an asset."""

    __tablename__ = "sync_clocks"
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    hlc: Mapped[str] = mapped_column(String(64))


class SyncRemote(Base):
    """Desktop side: which asset of the paired server an asset of this library is."""

    __tablename__ = "sync_remote"
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    remote_id: Mapped[int] = mapped_column(Integer, unique=True)
    filename: Mapped[str] = mapped_column(Text, default="")  # the original's name there


class SyncMutation(Base):
    """Server side: mutation ids already applied, so a replayed push changes nothing."""

    __tablename__ = "sync_mutations"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class SyncDevice(Base):
    """Server side: how far each paired device has read the feed (its acknowledged cursor), so
    journal rows every device has read can be trimmed."""

    __tablename__ = "sync_devices"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInt)
    seen_at: Mapped[datetime] = mapped_column(DateTime)


class SyncFloor(Base):
    """Server side: the account's journal is trimmed through ``seq`` (a device whose cursor is
    older must take a fresh snapshot)."""

    __tablename__ = "sync_floors"
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInt)


NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
NOW_MS_POSTGRES = "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)"


def now_ms(conn: Connection) -> str:
    """SQL for the wall clock in ms since 1970, in ``conn``'s dialect."""
    return NOW_MS_POSTGRES if conn.dialect.name == "postgresql" else NOW_MS


# Scalar fields of an asset: (field name in the protocol, columns that make it up).
SCALARS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("title", ("title",)),
    ("description", ("description",)),
    ("rating", ("rating",)),
    ("favorite", ("favorite",)),
    ("archived", ("archived",)),
    ("trashed", ("trashed_at",)),
    ("taken", ("taken_at", "taken_offset")),
    ("location", ("latitude", "longitude")),
)


def _log(owner: str, asset: str, field: str) -> str:
    return (
        "INSERT INTO sync_changes(owner_id, asset_id, field, wall_ms) "
        f"VALUES ({owner}, {asset}, {field}, {NOW_MS});"
    )


# Album membership is an element of the *photo owner's* album set: a photo of another account in
# an album (an editor of a shared album added it) is not journalled as either account's element;
# shared albums carry such members whole (docs/sync.md, "Shared albums").
_OWN_MEMBER = "m.asset_id IN (SELECT id FROM assets WHERE owner_id = {0}.owner_id)"


def _members_log(album: str, name: str) -> str:
    """Log ``album:<name>`` for every own member of an album (a rename or delete of it)."""
    return (
        "INSERT INTO sync_changes(owner_id, asset_id, field, wall_ms) "
        f"SELECT {album}.owner_id, m.asset_id, 'album:' || {name}, {NOW_MS} "
        f"FROM album_assets m WHERE m.album_id = {album}.id AND {_OWN_MEMBER.format(album)};"
    )


def _tag_members_log(tag: str, path: str) -> str:
    return (
        "INSERT INTO sync_changes(owner_id, asset_id, field, wall_ms) "
        f"SELECT {tag}.owner_id, m.asset_id, 'tag:' || {path}, {NOW_MS} "
        f"FROM asset_tags m WHERE m.tag_id = {tag}.id AND {_OWN_MEMBER.format(tag)};"
    )


def _triggers() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for field, cols in SCALARS:
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in cols)
        out.append(
            (
                f"sync_assets_{field}",
                f"AFTER UPDATE OF {', '.join(cols)} ON assets WHEN {changed} "
                f"BEGIN {_log('new.owner_id', 'new.id', repr(field))} END",
            )
        )
    new_asset = _log("new.owner_id", "new.id", "'asset'")
    out.append(("sync_assets_new", f"AFTER INSERT ON assets BEGIN {new_asset} END"))
    owner_of = "(SELECT owner_id FROM assets WHERE id = {0}.asset_id)"
    # NULL (nothing logged) when the tag or album is not the photo owner's
    same_owner = "owner_id = (SELECT owner_id FROM assets WHERE id = {0}.asset_id)"
    tag_of = "(SELECT path FROM tags WHERE id = {0}.tag_id AND " + same_owner + ")"
    album_of = "(SELECT name FROM albums WHERE id = {0}.album_id AND " + same_owner + ")"
    for row, when in (("new", "INSERT"), ("old", "DELETE")):
        # a cascade from a deleted asset is not an edit
        live = f"EXISTS (SELECT 1 FROM assets WHERE id = {row}.asset_id)"
        owner, asset = owner_of.format(row), f"{row}.asset_id"
        for table, kind, name in (
            ("asset_tags", "tag", tag_of.format(row)),
            ("album_assets", "album", album_of.format(row)),
        ):
            body = _log(owner, asset, f"'{kind}:' || {name}")
            out.append(
                (
                    f"sync_{table}_{when.lower()}",
                    f"AFTER {when} ON {table} WHEN {live} AND {name} IS NOT NULL BEGIN {body} END",
                )
            )
    out += [
        (
            "sync_albums_rename",
            "AFTER UPDATE OF name ON albums WHEN old.name IS NOT new.name BEGIN "
            f"{_members_log('new', 'old.name')} {_members_log('new', 'new.name')} END",
        ),
        (
            "sync_albums_delete",
            f"BEFORE DELETE ON albums BEGIN {_members_log('old', 'old.name')} END",
        ),
        (
            "sync_tags_repath",
            "AFTER UPDATE OF path ON tags WHEN old.path IS NOT new.path BEGIN "
            f"{_tag_members_log('new', 'old.path')} {_tag_members_log('new', 'new.path')} END",
        ),
        (
            "sync_tags_delete",
            f"BEFORE DELETE ON tags BEGIN {_tag_members_log('old', 'old.path')} END",
        ),
    ]
    return out


def _pg_members(table: str, kind: str, row: str, name: str) -> str:
    return (
        "INSERT INTO sync_changes(owner_id, asset_id, field, wall_ms) "
        f"SELECT {row}.owner_id, m.asset_id, '{kind}:' || {name}, {NOW_MS_POSTGRES} "
        f"FROM {table} m WHERE m.{kind}_id = {row}.id AND {_OWN_MEMBER.format(row)};"
    )


# A transaction that copies rows which are not edits (``db migrate-to``) turns the PostgreSQL
# triggers (this journal's and the people log's) off for itself:
# ``SELECT set_config('photodesk.sync_off', 'on', true)``.
PG_OFF = "photodesk.sync_off"
_PG_SKIP = f"IF current_setting('{PG_OFF}', true) = 'on' THEN RETURN {{0}}; END IF; "


def pg_suppress(conn: Connection) -> None:
    """Journal nothing for the rest of this transaction (PostgreSQL; a copy, not edits)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT set_config('{PG_OFF}', 'on', true)")


def _pg_functions() -> list[tuple[str, str, str]]:
    """PostgreSQL: (function, its body, the trigger that runs it) for the same writes as
    ``_triggers`` (one row-level trigger per table)."""
    log = (
        "INSERT INTO sync_changes(owner_id, asset_id, field, wall_ms) "
        f"VALUES ({{0}}, {{1}}, {{2}}, {NOW_MS_POSTGRES});"
    )
    scalars = " ".join(
        f"IF {' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in cols)} THEN "
        f"{log.format('NEW.owner_id', 'NEW.id', repr(field))} END IF;"
        for field, cols in SCALARS
    )
    assets = (
        "BEGIN " + _PG_SKIP.format("NULL") + "IF TG_OP = 'INSERT' THEN "
        f"{log.format('NEW.owner_id', 'NEW.id', repr('asset'))} RETURN NULL; END IF; "
        f"{scalars} RETURN NULL; END"
    )
    out = [
        (
            "sync_log_assets",
            assets,
            "AFTER INSERT OR UPDATE ON assets FOR EACH ROW",
        )
    ]
    for table, kind, parent, name in (
        ("asset_tags", "tag", "tags", "path"),
        ("album_assets", "album", "albums", "name"),
    ):
        body = (
            "DECLARE v_owner integer; v_element text; "
            "BEGIN " + _PG_SKIP.format("NULL") + "IF TG_OP = 'INSERT' THEN r := NEW; "
            "ELSE r := OLD; END IF; "
            # a cascade from a deleted asset (or tag, album) is not an edit of the asset
            "SELECT owner_id INTO v_owner FROM assets WHERE id = r.asset_id; "
            "IF NOT FOUND THEN RETURN NULL; END IF; "
            f"SELECT {name} INTO v_element FROM {parent} WHERE id = r.{kind}_id "
            "AND owner_id = v_owner; "  # another account's tag or album: not logged
            "IF v_element IS NULL THEN RETURN NULL; END IF; "
            + log.format("v_owner", "r.asset_id", f"'{kind}:' || v_element")
            + " RETURN NULL; END"
        ).replace("DECLARE ", f"DECLARE r {table}; ", 1)
        out.append((f"sync_log_{table}", body, f"AFTER INSERT OR DELETE ON {table} FOR EACH ROW"))
    for parent, table, kind, name in (
        ("albums", "album_assets", "album", "name"),
        ("tags", "asset_tags", "tag", "path"),
    ):
        body = (
            "BEGIN IF TG_OP = 'DELETE' THEN "
            + _PG_SKIP.format("OLD")
            + f"{_pg_members(table, kind, 'OLD', f'OLD.{name}')} RETURN OLD; END IF; "
            + _PG_SKIP.format("NEW")
            + f"IF OLD.{name} IS DISTINCT FROM NEW.{name} THEN "
            + f"{_pg_members(table, kind, 'NEW', f'OLD.{name}')} "
            + f"{_pg_members(table, kind, 'NEW', f'NEW.{name}')} END IF; RETURN NEW; END"
        )
        # before a delete: its members are still there to be logged
        out.append(
            (
                f"sync_log_{parent}",
                body,
                f"BEFORE UPDATE OF {name} OR DELETE ON {parent} FOR EACH ROW",
            )
        )
    return out


def create_triggers(conn: Connection) -> None:
    """Make the journal's triggers (a migration step), in ``conn``'s dialect."""
    install_triggers(conn, _triggers, lambda: [(n, b, [(n, w)]) for n, b, w in _pg_functions()])


def drop_triggers(conn: Connection) -> None:
    remove_triggers(conn, _triggers, lambda: [(n, b, [(n, w)]) for n, b, w in _pg_functions()])


# SQLite: (trigger name, "AFTER ... BEGIN ... END"); PostgreSQL: (function name, PL/pgSQL body,
# [(trigger name, "AFTER ... ON table FOR EACH ROW")]): each log's own lists, made on demand.
SqliteTriggers = Callable[[], Iterable[tuple[str, str]]]
PgFunctions = Callable[[], Iterable[tuple[str, str, Iterable[tuple[str, str]]]]]


def install_triggers(conn: Connection, sqlite: SqliteTriggers, pg: PgFunctions) -> None:
    """Create a log's triggers in ``conn``'s dialect (PostgreSQL: replaced if there, so a
    migration may run it on a catalog that has them)."""
    if conn.dialect.name == "postgresql":
        for name, body, triggers in pg():
            conn.exec_driver_sql(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$fn$ {body} $fn$"
            )
            for trigger, when in triggers:
                table = when.split(" ON ")[1].split()[0]
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
                conn.exec_driver_sql(f"CREATE TRIGGER {trigger} {when} EXECUTE FUNCTION {name}()")
    elif conn.dialect.name == "sqlite":
        for name, body in sqlite():
            conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")


def remove_triggers(conn: Connection, sqlite: SqliteTriggers, pg: PgFunctions) -> None:
    if conn.dialect.name == "postgresql":
        for name, _, _ in pg():
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
    elif conn.dialect.name == "sqlite":
        for name, _ in sqlite():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


# --- values read from a file (an upload's analysis) ----------------------------------------
INFO_FIELD = "info"  # journal row: what an asset is (size, camera, dimensions) changed
FILE_CLOCK = ""  # the clock of a value no one edited (photodesk.core.sync.clock.NEVER)
# the columns each scalar field's value decides, beyond those its trigger watches
_ALSO = {"taken": ("taken_month", "taken_at_source"), "location": ("altitude", "place_id")}


def journal_head(s: Session) -> int:
    """The journal's newest row (0 when empty)."""
    return int(s.scalar(select(func.max(SyncChange.seq))) or 0)


def edited_columns(s: Session, asset_id: int) -> set[str]:
    """The ``assets`` columns of the synced fields someone has written (their clock is set:
    an edit here, or one pushed by a device), which a re-read of the file must leave alone."""
    written = set(s.scalars(select(SyncClock.field).where(SyncClock.asset_id == asset_id)))
    return {
        col for field, cols in SCALARS if field in written for col in cols + _ALSO.get(field, ())
    }


def mark_file_values(s: Session, owner_id: int, asset_id: int, since: int) -> None:
    """The journal rows an asset got after ``since`` came from reading its file: they carry the
    clock of a value no one edited, so an edit made on any device, before or after, wins over
    them; an ``info`` row sends the asset's new description to paired devices."""
    s.flush()
    s.execute(
        update(SyncChange)
        .where(SyncChange.seq > since, SyncChange.asset_id == asset_id, SyncChange.hlc.is_(None))
        .values(hlc=FILE_CLOCK)
    )
    s.execute(
        insert(SyncChange).values(
            owner_id=owner_id, asset_id=asset_id, field=INFO_FIELD,
            wall_ms=int(time.time() * 1000), hlc=FILE_CLOCK,
        )
    )  # fmt: skip
