"""The catalog: folder layout, WAL, sqlite-vec on every connection, migrations and backups."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlean
from alembic import command
from sqlalchemy import text

from photodesk.core import Library, LibraryError
from photodesk.core.catalog.db import migrate
from photodesk.core.catalog.db.engine import make_engine


def test_open_creates_the_library_folder(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        for sub in ("thumbs", "previews", "originals", "models"):
            assert (lib.root / sub).is_dir()
        assert lib.db_path.exists()
        assert lib.owner_id > 0


def test_making_a_catalog_logs_its_upgrades_not_alembics_plugins(tmp_path: Path) -> None:
    # a server logs at INFO: its first start listed alembic's seven autogenerate plugins (logged
    # once per process, when alembic loads them: hence a process of its own)
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s')\n"
        "from photodesk.core import Library\n"
        "Library.open(sys.argv[1]).close()\n"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lib")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert run.returncode == 0, run.stderr
    assert "Running upgrade" in run.stderr
    assert "alembic.runtime.plugins" not in run.stderr


def test_catalog_is_in_wal_mode(library: Library) -> None:
    with library.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _reader_pragmas(lib: Library) -> tuple[int, int]:
    with lib.read() as s:
        cache = s.execute(text("PRAGMA cache_size")).scalar()
        mmap = s.execute(text("PRAGMA mmap_size")).scalar()
    return int(cache), int(mmap)


def test_bounded_readers_map_none_of_the_catalog(tmp_path: Path) -> None:
    """The server's readers (``bounded_readers``) keep a 16 MB cache and no memory map: each
    pooled connection's map of the file counts in the process's memory again; the desktop keeps
    its maps."""
    from photodesk.core import LibraryOptions
    from photodesk.sync.config import ServerConfig

    assert ServerConfig().library_options().bounded_readers
    with Library.open(tmp_path / "a", options=LibraryOptions(bounded_readers=True)) as lib:
        assert _reader_pragmas(lib) == (-16 * 1024, 0)
        with lib.write() as s:  # the single writer is not bounded
            assert int(s.execute(text("PRAGMA mmap_size")).scalar()) > 0
    with Library.open(tmp_path / "b") as lib:
        cache, mmap = _reader_pragmas(lib)
        assert cache == -65536 and mmap > 0


def test_readers_reuse_the_connection_used_last(library: Library) -> None:
    """One request after another stays on one warm connection (LIFO), instead of each of the
    pool's connections reading (and caching, or mapping) the catalog in turn."""
    held = [library.read() for _ in range(3)]  # three connections at once, then back
    opened = {id(cm.__enter__().connection().connection.dbapi_connection) for cm in held}
    for cm in held:
        cm.__exit__(None, None, None)
    assert len(opened) == 3
    seen = set()
    for _ in range(6):
        with library.read() as s:
            seen.add(id(s.connection().connection.dbapi_connection))
    assert len(seen) == 1


def test_sqlite_vec_is_loaded_on_every_connection(library: Library) -> None:
    versions: list[str] = []

    def probe() -> None:
        with library.read() as s:
            versions.append(s.execute(text("SELECT vec_version()")).scalar())

    threads = [threading.Thread(target=probe) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with library.write() as s:
        s.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS vec_probe USING vec0(v float[3])"))
        s.execute(text("INSERT INTO vec_probe(rowid, v) VALUES (1, '[1,0,0]'), (2, '[0,1,0]')"))
    with library.read() as s:
        nearest = s.execute(
            text("SELECT rowid FROM vec_probe WHERE v MATCH '[0.9,0.1,0]' AND k = 1")
        ).scalar()
    assert len(versions) == 4 and all(v.startswith("v") for v in versions)
    assert nearest == 1


def test_reopening_keeps_data_and_needs_no_migration(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        album = lib.albums.create("Summer")
    with Library.open(tmp_path / "lib") as lib:
        assert lib.backup_path is None
        assert [a.id for a in lib.albums.list()] == [album]


def test_a_catalog_from_the_first_release_upgrades_after_a_backup(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    # Build a catalog exactly as the first release (schema 0001) left it, with a user's album.
    engine = make_engine(root / "catalog.db", writer=True)
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, is_admin, created_at) "
                "VALUES (1, 'me@home', 'Me', 1, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO albums (owner_id, name, description, sort_order, "
                "created_at, updated_at) VALUES (1, 'Keep me', '', 'asc', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    with Library.open(root) as lib:
        assert lib.backup_path is not None
        assert [a.name for a in lib.albums.list()] == ["Keep me"]
        assert migrate.current_revision(lib.store.writer_engine) == migrate.head_revision()
        job = lib.jobs.enqueue("thumbnails.generate", 1)  # uses the columns 0002 added
        assert lib.jobs.get(job).state == "queued"
    con = sqlean.connect(str(lib.backup_path))
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert con.execute("SELECT name FROM albums").fetchall() == [("Keep me",)]
    finally:
        con.close()


def test_a_catalog_from_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib, lib.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LibraryError, match="newer photodesk"):
        Library.open(tmp_path / "lib")


def test_a_file_in_place_of_the_library_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "lib").write_text("not a folder")
    with pytest.raises(LibraryError):
        Library.open(tmp_path / "lib")


def test_the_known_head_is_the_newest_migration() -> None:
    assert migrate.head_revision() == migrate.HEAD


def test_the_migrations_build_exactly_the_schema_the_code_uses(library: Library) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from photodesk.core.catalog.db import text_index
    from photodesk.core.catalog.db.schema import Base

    def ours(name: str | None, type_: str, parent: object) -> bool:
        # The FTS5 indexes are SQLite-only and kept by triggers, outside the portable models.
        return not (type_ == "table" and name in text_index.NAMES)

    with library.store.writer_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
