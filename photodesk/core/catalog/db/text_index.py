"""Substring search over file paths, titles and descriptions: SQLite FTS5 trigram indexes, or
PostgreSQL ``pg_trgm`` GIN indexes that serve ``ILIKE '%word%'`` (the only text-search SQL), with
the portable ``LIKE`` scan as the fallback for short words on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile

# (FTS table, content table, indexed columns); kept in step by triggers made by ``create``.
TABLES = (
    ("fts_file_paths", "asset_files", ("path",)),
    ("fts_asset_text", "assets", ("title", "description")),
)
NAMES = frozenset(
    name
    for table, _, _ in TABLES
    for name in (table, *(f"{table}_{s}" for s in ("data", "idx", "content", "docsize", "config")))
)
TRIGRAM = 3  # the index answers words of at least this many characters


# PostgreSQL: one trigram index per column (the planner uses it for ILIKE with 3+ characters).
TRGM_INDEXES = tuple(
    (f"ix_trgm_{content}_{col}", content, col) for _, content, cols in TABLES for col in cols
)


def create(conn: Connection) -> None:
    """Make the indexes and their triggers and fill them from the catalog (a migration step)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, col in TRGM_INDEXES:
            conn.exec_driver_sql(f"CREATE INDEX {name} ON {table} USING gin ({col} gin_trgm_ops)")
        return
    if conn.dialect.name != "sqlite":
        return
    for table, content, cols in TABLES:
        names = ", ".join(cols)
        new = ", ".join(f"new.{c}" for c in cols)
        old = ", ".join(f"old.{c}" for c in cols)
        delete = f"INSERT INTO {table}({table}, rowid, {names}) VALUES ('delete', old.id, {old});"
        insert = f"INSERT INTO {table}(rowid, {names}) VALUES (new.id, {new});"
        statements = [
            f"CREATE VIRTUAL TABLE {table} USING fts5({names}, content='{content}', "
            "content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER {table}_ai AFTER INSERT ON {content} BEGIN {insert} END",
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON {content} BEGIN {delete} END",
            f"CREATE TRIGGER {table}_au AFTER UPDATE OF {names} ON {content} "
            f"BEGIN {delete} {insert} END",
            f"INSERT INTO {table}({table}) VALUES ('rebuild')",
        ]
        for statement in statements:
            conn.exec_driver_sql(statement)


def drop(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for name, _, _ in TRGM_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        return
    if conn.dialect.name != "sqlite":
        return
    for table, _, _ in TABLES:
        for suffix in ("ai", "ad", "au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def _indexed(s: Session, word: str) -> bool:
    return len(word) >= TRIGRAM and s.get_bind().dialect.name == "sqlite"


def _postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def file_matches(
    s: Session, word: str, roles: Sequence[str], where: Any = None
) -> list[tuple[int, str]]:
    """(asset id, path) of the files whose path contains ``word`` (any case), of the assets
    ``where`` (a WHERE clause on ``assets``: the search's owner and filters) lets through."""
    if _indexed(s, word):
        ids = (
            select(text("rowid"))
            .select_from(text("fts_file_paths"))
            .where(text("fts_file_paths MATCH :q"))
        )
        stmt = select(AssetFile.asset_id, AssetFile.path).where(
            AssetFile.id.in_(ids), AssetFile.role.in_(roles)
        )
        if where is not None:
            stmt = stmt.join(Asset, Asset.id == AssetFile.asset_id).where(where)
        return [(int(a), str(p)) for a, p in s.execute(stmt, {"q": _phrase(word)})]
    # SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE (served by the trigram index).
    has = AssetFile.path.icontains if _postgres(s) else AssetFile.path.contains
    stmt = select(AssetFile.asset_id, AssetFile.path).where(
        AssetFile.role.in_(roles), has(word, autoescape=True)
    )
    if where is not None:
        stmt = stmt.join(Asset, Asset.id == AssetFile.asset_id).where(where)
    return [(int(a), str(p)) for a, p in s.execute(stmt)]


def text_matches(
    s: Session, word: str, where: Any = None
) -> list[tuple[int, str | None, str | None]]:
    """(asset id, title, description) of the assets whose title or description contains it
    (among those ``where`` lets through)."""
    if _indexed(s, word):
        ids = (
            select(text("rowid"))
            .select_from(text("fts_asset_text"))
            .where(text("fts_asset_text MATCH :q"))
        )
        stmt = select(Asset.id, Asset.title, Asset.description).where(Asset.id.in_(ids))
        if where is not None:
            stmt = stmt.where(where)
        return [(int(a), t, d) for a, t, d in s.execute(stmt, {"q": _phrase(word)})]
    if _postgres(s):
        match = Asset.title.icontains(word, autoescape=True) | Asset.description.icontains(
            word, autoescape=True
        )
    else:
        match = Asset.title.contains(word, autoescape=True) | Asset.description.contains(
            word, autoescape=True
        )
    stmt = select(Asset.id, Asset.title, Asset.description).where(match)
    if where is not None:
        stmt = stmt.where(where)
    return [(int(a), t, d) for a, t, d in s.execute(stmt)]
