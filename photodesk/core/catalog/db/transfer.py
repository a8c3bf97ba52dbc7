"""Copy a SQLite catalog into a PostgreSQL database: resumable, verified by counts and checksums.

Tables are copied parent first (the metadata's dependency order), in primary-key order, one
committed chunk at a time with ``ON CONFLICT DO NOTHING``: a run that stops part way is resumed
by running it again (a table with an integer ``id`` continues after the highest id copied).
The two foreign keys of a cycle (people.cover_face_id, stacks.primary_asset_id) are copied
empty and filled in at the end. Then the identity sequences are moved past the copied ids,
and every table is compared: same row count and the same SHA-256 over its rows in key order.
A marker in ``settings`` tells a resumed copy from a database that already holds a catalog.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Engine,
    Integer,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import migrate, sync_log, vector_search
from photodesk.core.catalog.db.engine import make_server_engine, redact
from photodesk.core.catalog.db.postgres import CYCLE_KEYS
from photodesk.core.catalog.db.schema import Base, Setting
from photodesk.core.catalog.errors import LibraryError

SETTINGS = cast(Table, Setting.__table__)
CHUNK = 2_000
MARKER = "transfer.source"  # settings key present while a copy is unfinished
Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in the table)


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def same(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)


@dataclass(frozen=True)
class TransferReport:
    resumed: bool
    copied: dict[str, int]  # rows inserted by this run, per table
    checks: tuple[TableCheck, ...]

    @property
    def verified(self) -> bool:
        return all(c.same for c in self.checks)


def tables() -> list[Table]:
    return [cast(Table, t) for t in Base.metadata.sorted_tables]


def _cycle_columns() -> dict[str, str]:
    return {table: column for table, _, column, _, _ in CYCLE_KEYS}


def _state(target: Engine, source_label: str) -> bool:
    """Prepare the target; True when it resumes an unfinished copy of the same source."""
    with target.connect() as conn:
        has_catalog = inspect(conn).has_table("users")
        if has_catalog:
            marker = conn.execute(select(SETTINGS.c.value).where(SETTINGS.c.key == MARKER)).scalar()
            users = conn.execute(text("SELECT count(*) FROM users")).scalar()
            if marker is None and users:
                raise LibraryError("the target database already holds a catalog; use an empty one")
            if marker is not None and marker != source_label:
                raise LibraryError(
                    f"the target database holds an unfinished copy of another catalog "
                    f"({marker}); use an empty one"
                )
    migrate.upgrade(target, None)
    with target.begin() as conn:
        resumed = conn.execute(select(SETTINGS.c.key).where(SETTINGS.c.key == MARKER)).scalar()
        if resumed is None:
            conn.execute(insert(SETTINGS).values(key=MARKER, value=source_label))
    return resumed is not None


def copy_into(
    s: Session, url: str, *, source_label: str, progress: Progress | None = None
) -> TransferReport:
    """Copy the catalog that session ``s`` reads into the PostgreSQL database at ``url``.

    A database that cannot be reached or used is one clear :class:`LibraryError`.
    """
    source = cast(Engine, s.get_bind())
    target = make_server_engine(url, writer=True)
    try:
        return copy_catalog(source, target, source_label=source_label, progress=progress)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise LibraryError(f"cannot use the database {redact(url)}: {reason}") from exc
    finally:
        target.dispose()


def copy_catalog(
    source: Engine, target: Engine, *, source_label: str, progress: Progress | None = None
) -> TransferReport:
    """Copy every catalog table of ``source`` (SQLite) into ``target`` (PostgreSQL)."""
    if target.dialect.name != "postgresql":
        raise LibraryError("the target of a catalog copy must be a PostgreSQL database")
    if migrate.current_revision(source) != migrate.HEAD:
        raise LibraryError("upgrade the source catalog first (open it with this photodesk)")
    resumed = _state(target, source_label)
    cycles = _cycle_columns()
    copied: dict[str, int] = {}
    for table in tables():
        copied[table.name] = _copy_table(source, target, table, cycles.get(table.name), progress)
    _fill_cycles(source, target, cycles)
    _move_sequences(target)
    with target.begin() as conn:
        if vector_search.native_conn(conn):  # the halfvec column (pgvector) of copied rows
            vector_search.fill(conn)
    with target.begin() as conn:
        conn.execute(delete(SETTINGS).where(SETTINGS.c.key == MARKER))
    return TransferReport(resumed, copied, verify(source, target))


def _copy_table(
    source: Engine, target: Engine, table: Table, hold: str | None, progress: Progress | None
) -> int:
    keys = list(table.primary_key.columns)
    single_id = len(keys) == 1 and keys[0].name == "id"
    after = None
    if single_id:
        with target.connect() as conn:
            after = conn.execute(select(func.max(keys[0]))).scalar()
    total = _count(source, table)
    before = _count(target, table)
    done = 0
    for rows in _chunks(source, table, after if single_id else None):
        if hold is not None:
            rows = [{**r, hold: None} for r in rows]
        if table.name == "settings":
            rows = [r for r in rows if r["key"] != MARKER]
        if rows:
            with target.begin() as conn:
                # copied rows are not edits: the journals (assets, people) are copied too
                sync_log.pg_suppress(conn)
                conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
        done += len(rows)
        if progress is not None:
            progress(table.name, done, total)
    if progress is not None and done == 0:
        progress(table.name, total, total)
    return _count(target, table) - before


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _key_order(engine: Engine, table: Table) -> list[Any]:
    """The primary key, text parts compared bytewise on both sides (PostgreSQL's default
    collation may sort otherwise, and the checksums hash rows in this order)."""
    postgres = engine.dialect.name == "postgresql"
    return [
        c.collate("C") if postgres and isinstance(c.type, String) else c
        for c in table.primary_key.columns
    ]


def _chunks(source: Engine, table: Table, after: Any) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``table`` in key order, CHUNK at a time (keyset, never OFFSET)."""
    keys = list(table.primary_key.columns)
    last: tuple[Any, ...] | None = (after,) if after is not None else None
    while True:
        stmt = select(table).order_by(*keys).limit(CHUNK)
        if last is not None:
            stmt = stmt.where(tuple_(*keys) > tuple_(*last))
        with source.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][k.name] for k in keys)


def _fill_cycles(source: Engine, target: Engine, cycles: dict[str, str]) -> None:
    for name, column in cycles.items():
        table = Base.metadata.tables[name]
        with source.connect() as conn:
            pairs = conn.execute(
                select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
            ).all()
        if not pairs:
            continue
        stmt = update(table).where(table.c.id == bindparam("rid")).values({column: bindparam("v")})
        with target.begin() as conn:
            sync_log.pg_suppress(conn)  # filling in a copied key is not an edit either
            conn.execute(stmt, [{"rid": row_id, "v": value} for row_id, value in pairs])


def _move_sequences(target: Engine) -> None:
    """Let new rows get keys after the copied ones (SERIAL sequences do not see explicit ids)."""
    with target.begin() as conn:
        for table in tables():
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, Integer):
                continue
            key = keys[0].name
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key}
            ).scalar()
            if seq is None:
                continue
            conn.execute(
                text(
                    f"SELECT setval(:s, coalesce((SELECT max({key}) FROM {table.name}), 0) + 1, "
                    "false)"
                ),
                {"s": seq},
            )


def verify(source: Engine, target: Engine) -> tuple[TableCheck, ...]:
    """Row counts and a SHA-256 of each table's rows in key order, on both sides."""
    out = []
    for table in tables():
        src_n, src_sha = _digest(source, table)
        dst_n, dst_sha = _digest(target, table)
        out.append(TableCheck(table.name, src_n, dst_n, src_sha, dst_sha))
    return tuple(out)


def _digest(engine: Engine, table: Table) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    stmt = select(table).order_by(*_key_order(engine, table))
    if table.name == "settings":
        stmt = stmt.where(table.c.key != MARKER)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=CHUNK).execute(stmt)
        for row in result:
            h.update(_canonical(tuple(row)).encode())
            h.update(b"\n")
            n += 1
    return n, h.hexdigest()


def _canonical(values: tuple[Any, ...]) -> str:
    def one(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, bytes | memoryview):
            return bytes(v).hex()
        if isinstance(v, float):
            return repr(v)
        return v

    return json.dumps([one(v) for v in values], sort_keys=True, default=str)
