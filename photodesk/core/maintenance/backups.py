"""Catalog backups: SQLite online backups into backups/, verified, written atomically, rotated."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlean

from photodesk.core.catalog.errors import InvalidInput, LibraryError

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
DEFAULT_KEEP = 7
STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"catalog-(\d{8}-\d{6})\.db")
TEMP_PREFIX = ".catalog-"
TEMP_SUFFIX = ".tmp"


def backups_dir(store: Store) -> Path:
    return store.root / BACKUP_DIR


def list_backups(store: Store) -> list[Path]:
    """The library's catalog backups, oldest first (their names sort by time)."""
    folder = backups_dir(store)
    try:
        names = [e.name for e in os.scandir(folder) if _NAME.fullmatch(e.name) and e.is_file()]
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names)]


def backup_time(path: Path) -> datetime:
    """When a backup was started, from its name (``catalog-YYYYmmdd-HHMMSS.db``)."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        raise InvalidInput(f"not a catalog backup: {path.name}")
    return datetime.strptime(match.group(1), STAMP)


def backup_catalog(store: Store, keep: int = DEFAULT_KEEP) -> Path:
    """Back the catalog up now and keep only the newest ``keep`` backups.

    The copy is made with SQLite's online backup API (a consistent snapshot, even while the
    library is written to), converted to a single self-contained file (no WAL), checked with
    ``PRAGMA integrity_check``, then renamed into place: a crash never leaves a partial
    ``catalog-*.db``. Older backups are removed only once the new one is known to be good.

    Raises:
        LibraryError: the copy failed its integrity check (the catalog itself is probably
            damaged; older backups are kept) or could not be written.
    """
    if keep < 1:
        raise InvalidInput("keep at least one backup")
    if store.database is not None:
        raise LibraryError(
            "the catalog is in PostgreSQL: back it up with the server's tools (pg_dump)"
        )
    folder = backups_dir(store)
    started = datetime.now()
    dest = folder / f"catalog-{started.strftime(STAMP)}.db"
    tmp = folder / f"{TEMP_PREFIX}{started.strftime(STAMP)}.{os.getpid()}.db{TEMP_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _snapshot(store.db_path, tmp)
        problems = integrity_problems(tmp)
        if problems:
            raise LibraryError(
                "the catalog backup failed its integrity check, so the catalog itself is "
                f"probably damaged (older backups were kept): {'; '.join(problems[:5])}"
            )
        _fsync(tmp)
        os.replace(tmp, dest)  # a backup made in the same second is replaced by this newer one
        _fsync(folder)
    except OSError as exc:
        raise LibraryError(f"cannot back up the catalog into {folder}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    for old in list_backups(store)[:-keep]:
        old.unlink(missing_ok=True)
    log.info("catalog backed up to %s", dest)
    return dest


def backup_if_due(
    store: Store, every: timedelta = timedelta(days=1), keep: int = DEFAULT_KEEP
) -> Path | None:
    """Back up when the newest backup is older than ``every`` and the catalog changed since.

    Cheap when not due: it lists ``backups/`` and stats the catalog, without opening it. Not
    copying an unchanged catalog also keeps older, different backups from being rotated away.
    """
    if store.database is not None:  # PostgreSQL: the server's own backups (pg_dump, WAL)
        return None
    existing = list_backups(store)
    if existing:
        newest = backup_time(existing[-1])
        if datetime.now() - newest < every or not _changed_since(store, newest):
            return None
    return backup_catalog(store, keep=keep)


def integrity_problems(db_path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with a catalog file (empty: it is sound)."""
    if not db_path.is_file():
        return [f"no such file: {db_path}"]
    conn = _connect(db_path)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlean.DatabaseError as exc:  # not a database at all, or its header is damaged
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def _snapshot(src_path: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    src = _connect(src_path)
    try:
        dst = _connect(dest)
        try:
            src.backup(dst)  # pages=-1: the whole catalog in one step, one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()


def _connect(path: Path) -> Any:
    conn = sqlean.connect(str(path), timeout=30)
    try:
        # Virtual tables (sqlite-vec) need their module loaded for a full integrity check.
        import sqlite_vec

        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
    except Exception:  # checking plain tables is still worth it without the extension
        log.debug("sqlite-vec not loaded for %s", path, exc_info=True)
    return conn


def _changed_since(store: Store, when: datetime) -> bool:
    # Names carry whole seconds: a write in the same second as the backup counts as a change.
    limit = when.timestamp()
    for path in (store.db_path, store.db_path.with_name(store.db_path.name + "-wal")):
        try:
            if path.stat().st_mtime >= limit:
                return True
        except FileNotFoundError:
            continue
    return False


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # directories cannot be opened on Windows; the rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
