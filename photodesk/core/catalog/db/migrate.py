"""Schema upgrades with Alembic, after a backup of the user's catalog."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlean
from sqlalchemy import Engine, inspect, text

from photodesk.core.catalog.errors import LibraryError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
# Alembic 1.16+ logs each of its autogenerate plugins at INFO whenever it runs: noise in a
# server's log (the upgrades themselves, "Running upgrade 0018 -> 0019", stay).
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions (a test keeps it in step). Knowing it without
# loading Alembic keeps every start of the command line and the app fast.
HEAD = "0019"


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup(db_path: Path, label: str) -> Path:
    """Copy the catalog with SQLite's online backup API (consistent even with a WAL)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = db_path.with_name(f"{db_path.name}.{label}-{stamp}.bak")
    src = sqlean.connect(str(db_path))
    try:
        dst = sqlean.connect(str(dest))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return dest


def upgrade(engine: Engine, db_path: Path | None) -> Path | None:
    """Bring the catalog to the newest schema; returns the backup made first, if any (SQLite
    catalogs only: a PostgreSQL server is backed up by its own tools)."""
    current = current_revision(engine)
    if current == HEAD:
        return None
    from alembic import command
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current is not None and current not in known:
        raise LibraryError(
            f"this catalog was written by a newer photodesk (schema {current}); "
            "upgrade photodesk to open it"
        )
    made = None
    if current is not None and db_path is not None:
        made = backup(db_path, f"rev{current}")
        log.info("catalog backed up to %s before migrating %s -> %s", made, current, HEAD)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return made
