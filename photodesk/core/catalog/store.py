"""The catalog store: what every service needs from a library, and nothing more.

A ``Store`` is the library folder's paths, its two engines (one writer, many readers), the change
events and the acting user. Services are built on a store (never on the ``Library`` facade, which
is the one module that knows every service); ``for_user()`` gives the same store acting for
another user.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError as OperationalError  # re-exported: a refused write
from sqlalchemy.exc import SQLAlchemyError as SQLAlchemyError  # re-exported: a failed write
from sqlalchemy.orm import Session as Session  # re-exported: services type the sessions they get

from photodesk.core.catalog.db import migrate
from photodesk.core.catalog.db.engine import (
    is_database_url,
    is_read_only,
    make_engine,
    make_server_engine,
    make_sessionmaker,
    redact,
)
from photodesk.core.catalog.db.schema import User
from photodesk.core.catalog.errors import LibraryError
from photodesk.core.catalog.events import Changes, EventBus
from photodesk.core.catalog.types import UserId

LOCAL_USER_EMAIL = "local@photodesk"
CATALOG = "catalog.db"
FOLDERS = ("thumbs", "previews", "originals", "models")


class Store:
    """A library folder's catalog: ``catalog.db`` and the derivative folders beside it."""

    def __init__(
        self, root: Path, database: str | None = None, *, bounded_readers: bool = False
    ) -> None:
        self.root = root
        # A PostgreSQL catalog (``database`` URL) or the folder's SQLite ``catalog.db``.
        self.database = database
        self.db_path = root / CATALOG
        self.thumbs_dir = root / "thumbs"
        self.previews_dir = root / "previews"
        self.originals_dir = root / "originals"
        self.models_dir = root / "models"
        # the library folder as given and as resolved (watchers never import from inside it)
        self.roots: tuple[str, ...] = tuple(sorted({str(root), os.path.realpath(root)}))
        self.events = EventBus()
        self.owner_id: UserId = UserId(0)  # the acting user (the local owner unless for_user)
        self.backup_path: Path | None = None  # the backup made before the last migration
        self._write_lock = threading.RLock()
        if database is not None:
            self._writer: Engine = make_server_engine(database, writer=True)
            self._reader: Engine = make_server_engine(database, writer=False)
        else:
            self._writer = make_engine(self.db_path, writer=True)
            # bounded: readers map none of the file (a server; see make_engine)
            self._reader = make_engine(self.db_path, writer=False, bounded=bounded_readers)
        self._write_sessions = make_sessionmaker(self._writer)
        self._read_sessions = make_sessionmaker(self._reader)
        self.local_owner_id: UserId = UserId(0)

    @classmethod
    def open(
        cls,
        root: Path | str,
        *,
        create: bool = True,
        database: str | None = None,
        bounded_readers: bool = False,
    ) -> Store:
        """Open (and create or upgrade) the catalog at ``root``; it is backed up first.

        ``database``: a ``postgresql://`` URL whose database holds the catalog instead of the
        folder's ``catalog.db`` (the folder keeps thumbnails, previews, originals and models).
        ``bounded_readers``: SQLite reader connections keep a small page cache each and map
        none of the file (``engine.make_engine``), for a process with many busy readers.
        """
        root = Path(root).expanduser().resolve()
        if database is not None and not is_database_url(database):
            raise LibraryError(
                f"unsupported catalog database {redact(database)!r}: use postgresql://..."
            )
        if database is None and not (root / CATALOG).exists() and not create:
            raise LibraryError(f"no photodesk library at {root}")
        if root.exists() and not root.is_dir():
            raise LibraryError(f"{root} is not a folder")
        try:
            for sub in ("", *FOLDERS):
                (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create the library at {root}: {exc.strerror}") from exc
        store = cls(root, database, bounded_readers=bounded_readers)
        try:
            with store._write_lock:
                store.backup_path = migrate.upgrade(
                    store._writer, store.db_path if database is None else None
                )
            store.owner_id = store.local_owner_id = store._ensure_local_user()
        except OperationalError as exc:
            store.dispose()
            if database is None:
                if is_read_only(exc):
                    raise store._read_only() from exc
                raise
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise LibraryError(
                f"cannot use the catalog database {redact(database)}: {reason}"
            ) from exc
        except Exception:
            store.dispose()
            raise
        return store

    def _read_only(self) -> LibraryError:
        return LibraryError(
            f"the library at {self.root} is read-only: photodesk needs to write to its catalog"
        )

    def _ensure_local_user(self) -> UserId:
        with self.write() as session:
            user = session.scalars(select(User).order_by(User.id).limit(1)).first()
            if user is None:
                user = User(
                    email=LOCAL_USER_EMAIL, name="Me", is_admin=True, created_at=datetime.now()
                )
                session.add(user)
                session.flush()
            return UserId(user.id)

    def for_user(self, user_id: int) -> Store:
        """The same store (engines, writer lock, events) acting for ``user_id``."""
        if int(user_id) == self.owner_id:
            return self
        view = copy.copy(self)
        view.owner_id = UserId(int(user_id))
        return view

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; any number may run at once on any thread (WAL)."""
        with self._read_sessions() as session:
            yield session
            session.rollback()

    @contextmanager
    def write(self, changes: Changes | None = None) -> Iterator[Session]:
        """The single writer: one transaction at a time; ``changes`` are published after commit."""
        try:
            with self._write_lock, self._write_sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            if is_read_only(exc):
                raise self._read_only() from exc
            raise
        if changes is not None:
            self.events.publish(changes)

    @property
    def writer_engine(self) -> Engine:
        """The writer's engine, for raw DDL (tests of old catalogs)."""
        return self._writer

    def dispose(self) -> None:
        self._writer.dispose()
        self._reader.dispose()
