"""Catalog self-checks: SQLite's ``integrity_check`` and ``foreign_key_check`` PRAGMAs.

A PostgreSQL server checks its pages itself and enforces every foreign key as rows are
written, so both report nothing wrong there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session


def damage(s: Session) -> list[str]:
    """What the database finds damaged (empty: sound). May raise ``DatabaseError``."""
    if s.get_bind().dialect.name != "sqlite":
        return []
    found = [str(r) for r in s.execute(text("PRAGMA integrity_check")).scalars()]
    return [] if found == ["ok"] else found


def dangling_keys(s: Session) -> list[str]:
    """Rows that point at a missing parent (``table row N -> parent``)."""
    if s.get_bind().dialect.name != "sqlite":
        return []
    return [
        f"{table} row {rowid} -> {parent}"
        for table, rowid, parent, _ in s.execute(text("PRAGMA foreign_key_check"))
    ]


def unreadable_or_damaged(s: Session) -> list[str]:
    """``damage``, or the one error that stops the database from checking itself at all."""
    try:
        return damage(s)
    except DatabaseError as exc:  # damaged so badly that the check itself cannot run
        return [f"the catalog cannot be read: {getattr(exc, 'orig', None) or exc}"]
