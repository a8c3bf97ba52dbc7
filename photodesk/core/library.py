"""The Library facade: a folder with a catalog, derivative caches, one writer and many readers."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from photodesk.core import ml_jobs  # noqa: F401  (registers clip, faces, faces.cluster)
from photodesk.core.accounts.service import AccountService
from photodesk.core.catalog.db import migrate
from photodesk.core.catalog.db.engine import (
    is_database_url,
    make_engine,
    make_server_engine,
    make_sessionmaker,
    redact,
)
from photodesk.core.catalog.db.schema import User
from photodesk.core.catalog.errors import LibraryError
from photodesk.core.catalog.events import Changes, EventBus
from photodesk.core.catalog.types import UserId
from photodesk.core.ingest import jobs as ingest_jobs  # noqa: F401  (registers the built-in job kinds)
from photodesk.core.ingest.files import FileService
from photodesk.core.ingest.importer import Importer
from photodesk.core.ingest.uploads import UploadService
from photodesk.core.ingest.watch import FolderWatcher
from photodesk.core.jobs.service import JobService
from photodesk.core.media.thumbnails import ThumbnailStore
from photodesk.core.ml_models import Loader, MLModels, Models
from photodesk.core.organize.albums import AlbumService
from photodesk.core.organize.assets import AssetService
from photodesk.core.organize.edits import EditService
from photodesk.core.organize.folders import FolderService
from photodesk.core.organize.geo import GeoService
from photodesk.core.organize.sidecars import XmpService  # also registers xmp.write, xmp.read
from photodesk.core.organize.tags import TagService
from photodesk.core.people.service import PeopleService
from photodesk.core.remote_jobs import RemoteWorkers
from photodesk.core.search.query import SearchService
from photodesk.core.sharing.grants import ShareService

if TYPE_CHECKING:
    from photodesk.core.search.smart import SmartSearch

log = logging.getLogger(__name__)

LOCAL_USER_EMAIL = "local@photodesk"
CATALOG = "catalog.db"


class Library:
    """A library folder: ``catalog.db``, ``thumbs/``, ``previews/``, ``originals/``, ``models/``."""

    def __init__(self, root: Path, database: str | None = None) -> None:
        self.root = root
        # A PostgreSQL catalog (``database`` URL) or the folder's SQLite ``catalog.db``.
        self.database = database
        self.db_path = root / CATALOG
        self.thumbs_dir = root / "thumbs"
        self.previews_dir = root / "previews"
        self.originals_dir = root / "originals"
        self.models_dir = root / "models"
        self.events = EventBus()
        self.thumbnails = ThumbnailStore(self.thumbs_dir, self.previews_dir)
        self._write_lock = threading.RLock()
        if database is not None:
            self._writer = make_server_engine(database, writer=True)
            self._reader = make_server_engine(database, writer=False)
        else:
            self._writer = make_engine(self.db_path, writer=True)
            self._reader = make_engine(self.db_path, writer=False)
        self._write_sessions = make_sessionmaker(self._writer)
        self._read_sessions = make_sessionmaker(self._reader)
        self.owner_id: UserId = UserId(0)
        self.backup_path: Path | None = None
        self.assets = AssetService(self)
        self.importer = Importer(self)
        self.tags = TagService(self)
        self.albums = AlbumService(self)
        self.search = SearchService(self)
        self.folders = FolderService(self)
        self.jobs = JobService(self)
        self.edits = EditService(self)
        self.people = PeopleService(self)
        self.geo = GeoService(self)
        self.xmp = XmpService(self)  # XMP sidecar write-back and read-back
        self.files = FileService(self)
        self.accounts = AccountService(self)
        self.uploads = UploadService(self)
        self.shares = ShareService(self)  # album grants and public links
        self.watch = FolderWatcher(self)  # started by the desktop app, the daemon, `watch run`
        self.workers = RemoteWorkers(self)  # machines that take ML jobs over HTTP
        self.ml = MLModels()  # smart search and face models; photodesk.bootstrap attaches them
        self.smart: SmartSearch | None = None

    def attach_ml(self, models: Models | None = None, *, loader: Loader | None = None) -> None:
        """Plug in the ML models (or a loader run on first use): smart search in ``search``,
        and the ``clip``/``faces`` jobs queued after each import."""
        from photodesk.core.search.smart import SmartSearch

        self.ml.attach(models, loader=loader)
        self.smart = SmartSearch(self, self.ml) if self.ml.attached else None
        self.search.attach_semantic(self.smart)

    def for_user(self, user_id: int) -> Library:
        """The same library acting for ``user_id``: its owner-scoped services see only their rows.

        A view shares the engines, writer lock, jobs, events and caches; never close a view.
        """
        if int(user_id) == self.owner_id:
            return self
        view = copy.copy(self)
        view.owner_id = UserId(int(user_id))
        view.assets = AssetService(view)
        view.importer = Importer(view)
        view.tags = TagService(view)
        view.albums = AlbumService(view)
        view.search = SearchService(view, self.search.semantic)
        view.folders = FolderService(view)
        view.edits = EditService(view)
        view.people = PeopleService(view)
        view.geo = GeoService(view)
        view.xmp = XmpService(view)
        return view

    @classmethod
    def open(cls, root: Path | str, *, create: bool = True, database: str | None = None) -> Library:
        """Open (and create or upgrade) the library at ``root``; the catalog is backed up first.

        ``database``: a ``postgresql://`` URL whose database holds the catalog instead of the
        folder's ``catalog.db`` (the folder keeps thumbnails, previews, originals and models).
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
            for sub in ("", "thumbs", "previews", "originals", "models"):
                (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create the library at {root}: {exc.strerror}") from exc
        lib = cls(root, database)
        try:
            with lib._write_lock:
                lib.backup_path = migrate.upgrade(
                    lib._writer, lib.db_path if database is None else None
                )
            lib.owner_id = lib._ensure_local_user()
        except OperationalError as exc:
            lib.close()
            if database is None:
                raise
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise LibraryError(
                f"cannot use the catalog database {redact(database)}: {reason}"
            ) from exc
        except Exception:
            lib.close()
            raise
        return lib

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

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; any number may run at once on any thread (WAL)."""
        with self._read_sessions() as session:
            yield session
            session.rollback()

    @contextmanager
    def write(self, changes: Changes | None = None) -> Iterator[Session]:
        """The single writer: one transaction at a time; ``changes`` are published after commit."""
        with self._write_lock, self._write_sessions() as session, session.begin():
            yield session
        if changes is not None:
            self.events.publish(changes)

    def close(self) -> None:
        self.watch.stop()
        self.jobs.stop()
        self.uploads.close()
        self._writer.dispose()
        self._reader.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
