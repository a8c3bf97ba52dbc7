"""Catalog engines and sessions: bundled SQLite (WAL, PRAGMAs, sqlite-vec on every connection) or a
PostgreSQL server (psycopg 3) named by a ``postgresql://`` URL."""

from __future__ import annotations

import functools
import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import Any

import sqlean
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 30_000


@cache
def vec_extension_path() -> str:
    """The sqlite-vec loadable extension shipped in its wheel (found without importing the
    package, whose import pulls in numpy and slows every start)."""
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or not spec.origin:
        raise ImportError("sqlite-vec is not installed")
    return os.path.join(os.path.dirname(spec.origin), "vec0")


READER_CACHE_KIB = 16 * 1024  # a bounded reader's own page cache (``bounded`` below)


def _pragmas(*, bounded: bool) -> tuple[str, ...]:
    """Every connection's PRAGMAs. By default each connection maps up to 256 MB of the file and
    keeps a 64 MB page cache; a *bounded* one maps nothing and keeps 16 MB, reading the rest
    through the OS page cache (see ``make_engine``)."""
    common = (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "temp_store=MEMORY",
    )
    if bounded:
        return (*common, f"cache_size=-{READER_CACHE_KIB}", "mmap_size=0")
    return (*common, "cache_size=-65536", "mmap_size=268435456")


def _on_connect(dbapi_conn: Any, _record: Any, *, bounded: bool = False) -> None:
    # The stdlib sqlite3 of many Python builds cannot load extensions; sqlean's bundled SQLite can.
    dbapi_conn.enable_load_extension(True)
    dbapi_conn.load_extension(vec_extension_path())
    dbapi_conn.enable_load_extension(False)
    # Let SQLAlchemy (not the driver) decide when transactions begin: see _on_begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in _pragmas(bounded=bounded):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(db_path: Path, *, writer: bool, bounded: bool = False) -> Engine:
    """Create an engine on ``db_path``.

    The writer engine holds one connection and starts every transaction with ``BEGIN IMMEDIATE`` so
    it takes the write lock up front instead of failing on a lock upgrade; reader engines start
    deferred transactions and, thanks to WAL, never block the writer. The pool hands out the
    connection used last (LIFO): work that comes one request at a time stays on one warm
    connection instead of warming every connection of the pool in turn.

    ``bounded`` (the server's readers): memory-mapped I/O is per connection, so a process whose
    pooled readers each scan the whole catalog (a sync snapshot, thumbnails by the thousand)
    counts the same file once per connection in its resident memory: 4-5 times a 100,000-photo
    catalog. Bounded connections map nothing and keep a 16 MB page cache each; the rest comes
    from the OS page cache, shared and counted once.
    """
    engine = create_engine(
        f"sqlite:///{db_path}",
        module=sqlean,
        poolclass=QueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 8,
        pool_timeout=600,
        pool_use_lifo=True,
        connect_args={"check_same_thread": False},
    )
    on_connect = functools.partial(_on_connect, bounded=True) if bounded else _on_connect
    event.listen(engine, "connect", on_connect)
    begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def is_read_only(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite refusing a write as the catalog (or its folder) is read-only."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "readonly database" in text or "read-only file system" in text


POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_database_url(value: str) -> bool:
    """Whether ``value`` names a PostgreSQL catalog (the only server database supported)."""
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    return scheme in POSTGRES_SCHEMES


def sqlalchemy_url(url: str) -> str:
    """``postgresql://u:p@host/db`` as SQLAlchemy wants it (the psycopg 3 driver)."""
    scheme, rest = url.split("://", 1)
    if scheme.lower() not in POSTGRES_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return f"postgresql+psycopg://{rest}"


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}@{host}"


def make_server_engine(url: str, *, writer: bool) -> Engine:
    """An engine on a PostgreSQL catalog: plain READ COMMITTED transactions; the writer pool is
    small (this process still funnels its writes through one lock, other processes and hosts
    write at the same time, which PostgreSQL's row locks make safe)."""
    return create_engine(
        sqlalchemy_url(url),
        pool_size=2 if writer else 4,
        max_overflow=2 if writer else 8,
        pool_timeout=600,
        pool_pre_ping=True,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results become dataclasses anyway)."""
    return sessionmaker(engine, expire_on_commit=False)
