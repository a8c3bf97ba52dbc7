"""Run a test on each catalog dialect: SQLite (the library folder's catalog.db) and PostgreSQL.

``Catalogs.install`` makes every ``Library.open(folder)`` of the test use a PostgreSQL database
of its own per folder (made from the migrated template), and ``env_for(folder)`` gives a
subprocess the same database through ``PHOTODESK_DATABASE_URL``. ``PHOTODESK_TEST_CATALOGS``
(default ``sqlite,postgresql``) picks the dialects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import Library

DIALECTS = tuple(
    d.strip()
    for d in os.environ.get("PHOTODESK_TEST_CATALOGS", "sqlite,postgresql").split(",")
    if d.strip()
)


class Catalogs:
    def __init__(self, dialect: str, server: Any = None) -> None:
        self.dialect = dialect
        self.server = server
        self.urls: dict[Path, str] = {}

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    def url_for(self, folder: Path | str) -> str | None:
        if not self.postgres:
            return None
        key = Path(folder).expanduser().resolve()
        if key not in self.urls:
            self.urls[key] = self.server.create_database(self.server.template)
        return self.urls[key]

    def env_for(self, folder: Path | str) -> dict[str, str]:
        url = self.url_for(folder)
        return {"PHOTODESK_DATABASE_URL": url} if url else {}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        if not self.postgres:
            return
        original = Library.open.__func__  # type: ignore[attr-defined]
        catalogs = self

        def open_on_postgres(
            cls: type[Library], root: Path | str, *, database: str | None = None, **kw: Any
        ) -> Library:
            return original(cls, root, database=database or catalogs.url_for(root), **kw)

        monkeypatch.setattr(Library, "open", classmethod(open_on_postgres))


def sql(lib: Library, statement: str, *args: object) -> list[tuple[Any, ...]]:
    """Run raw SQL (``?`` placeholders) on a library's catalog, whichever the dialect; commits."""
    from sqlalchemy import text

    parts = statement.split("?")
    named = "".join(p + (f":p{i}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))
    with lib.write() as s:
        result = s.execute(text(named), {f"p{i}": a for i, a in enumerate(args)})
        return [tuple(r) for r in result] if result.returns_rows else []
