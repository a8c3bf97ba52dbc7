"""Migration 0016: a PostgreSQL catalog that passed 0014 without the people log's triggers gets
them, with every person and face it already has in the log; on SQLite it changes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, text

from photodesk.core.catalog.db import migrate, sync_people_log
from photodesk.core.catalog.db.engine import make_engine, make_server_engine


def _to(engine: Engine, revision: str) -> None:
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _log(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, ref_id FROM sync_people_log ORDER BY seq"))
        return [(r[0], r[1]) for r in rows]


def _person(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        owner = conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash, is_admin, created_at) "
                "VALUES (:e, '', '', false, :t) RETURNING id"
            ),
            {"e": f"{name}@example.org", "t": datetime.now()},
        ).scalar_one()
        return int(
            conn.execute(
                text(
                    "INSERT INTO people (owner_id, name, hidden, created_at) "
                    "VALUES (:o, :n, false, :t) RETURNING id"
                ),
                {"o": owner, "n": name, "t": datetime.now()},
            ).scalar_one()
        )


def test_a_postgres_catalog_from_before_0016_gets_the_people_triggers(postgres: Any) -> None:
    engine = make_server_engine(postgres.create_database(), writer=True)
    try:
        _to(engine, "0015")
        with engine.begin() as conn:  # as 0014 left PostgreSQL catalogs: no people triggers
            sync_people_log.drop_triggers(conn)
        before = _person(engine, "ann")
        assert _log(engine) == []  # written unlogged
        migrate.upgrade(engine, None)
        assert migrate.current_revision(engine) == migrate.HEAD
        assert _log(engine) == [("person", before)]  # what was missed is in the log now
        with engine.begin() as conn:
            conn.execute(text("UPDATE people SET name = 'Ann' WHERE id = :i"), {"i": before})
            cover = text("UPDATE people SET cover_face_id = NULL WHERE id = :i")
            conn.execute(cover, {"i": before})  # not a synced column
        after = _person(engine, "bo")
        assert _log(engine) == [("person", before), ("person", before), ("person", after)]
        with engine.begin() as conn:  # a copy's transaction logs nothing
            conn.execute(text("SELECT set_config('photodesk.sync_off', 'on', true)"))
            conn.execute(text("DELETE FROM people WHERE id = :i"), {"i": after})
        assert len(_log(engine)) == 3
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM people WHERE id = :i"), {"i": before})
        assert _log(engine)[-1] == ("person", before)
    finally:
        engine.dispose()


def test_sqlite_catalogs_keep_their_triggers(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "catalog.db", writer=True)
    try:
        _to(engine, "0015")
        migrate.upgrade(engine, None)
        person = _person(engine, "cy")
        assert _log(engine) == [("person", person)]  # logged once, by 0014's trigger
        with engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'sync_p%'"
                )
            ).scalars()
            assert set(names) == {"sync_people_insert", "sync_people_update", "sync_people_delete"}
    finally:
        engine.dispose()
