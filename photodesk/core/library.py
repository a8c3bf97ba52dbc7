"""The Library facade: a folder with a catalog, derivative caches, one writer and many readers.

This is the one module that knows every service: each is built on the catalog ``Store`` with the
services it needs handed to it, so no service imports the facade. ``for_user()`` builds the same
set over the store acting for another user.
"""

from __future__ import annotations

import copy
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core import handlers
from photodesk.core.accounts.service import AccountService
from photodesk.core.catalog.events import Changes, EventBus
from photodesk.core.catalog.store import CATALOG, LOCAL_USER_EMAIL, Session, Store
from photodesk.core.catalog.types import UserId
from photodesk.core.dav.space import DavSpace
from photodesk.core.inference.models import Loader, MLModels, Models
from photodesk.core.ingest.files import FileService
from photodesk.core.ingest.importer import Importer
from photodesk.core.ingest.service import IngestService
from photodesk.core.ingest.uploads import AnalysisPool, UploadService
from photodesk.core.ingest.watch import DEFAULT_POLL_INTERVAL_S, DEFAULT_SETTLE_S, FolderWatcher
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.service import JobService
from photodesk.core.maintenance.leftovers import remove_dead_writer_temps
from photodesk.core.maintenance.service import MaintenanceService
from photodesk.core.media.thumbnails import ThumbnailStore
from photodesk.core.organize.albums import AlbumService
from photodesk.core.organize.assets import AssetService
from photodesk.core.organize.edits import EditService
from photodesk.core.organize.events import EventService
from photodesk.core.organize.folders import FolderService
from photodesk.core.organize.geo import GeoService
from photodesk.core.organize.memories import MemoryService
from photodesk.core.organize.sidecars import XmpService
from photodesk.core.organize.tags import TagService
from photodesk.core.organize.timeline import TimelineService
from photodesk.core.people.service import PeopleService
from photodesk.core.search.duplicates import DuplicateService
from photodesk.core.search.query import SearchService
from photodesk.core.sharing.grants import ShareService
from photodesk.core.sync.service import SyncService
from photodesk.core.workers.remote import RemoteWorkers

if TYPE_CHECKING:
    from photodesk.core.search.smart import SmartSearch

__all__ = ["CATALOG", "LOCAL_USER_EMAIL", "Library", "LibraryOptions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LibraryOptions:
    """How a front end wants the library to run, given when it is opened (services are never
    configured afterwards)."""

    import_worker_niceness: int = 0  # the desktop raises it: import workers yield to the GUI
    upload_storage_root: Path | None = None  # the server's uploads (None: <library>/originals/)
    upload_analysis_workers: int = 2  # processes decoding uploads (0: in the request's thread)
    watch_settle_s: float = DEFAULT_SETTLE_S  # a file is imported once unchanged this long
    watch_poll_interval_s: float = DEFAULT_POLL_INTERVAL_S  # polling of network shares
    watch_polling: bool | None = None  # True: poll every folder; None: network shares only
    watch_workers: int | None = None  # import processes of the watcher (None: automatic)
    # SQLite readers with a 16 MB cache each and no memory map (the server: its pooled readers
    # scan whole accounts, and each connection's map of the file counts in its memory)
    bounded_readers: bool = False


class Library:
    """A library folder: ``catalog.db``, ``thumbs/``, ``previews/``, ``originals/``, ``models/``."""

    def __init__(self, store: Store, options: LibraryOptions | None = None) -> None:
        handlers.register_job_kinds()
        self.store = store
        self.options = options or LibraryOptions()
        self.thumbnails = ThumbnailStore(store.thumbs_dir, store.previews_dir)
        self.thumbnails.settle_layout()  # a new library's folders are flat from the start
        self.ml = MLModels()  # smart search and face models; photodesk.bootstrap attaches them
        self.smart: SmartSearch | None = None
        self._analysis = AnalysisPool(self.options.upload_analysis_workers)
        self.jobs = JobService(
            store, self._scoped, on_dead_workers=lambda: remove_dead_writer_temps(self.store)
        )
        self._compose(self.jobs)

    def _compose(self, jobs: JobService) -> None:
        """Build every service over ``self.store`` (the acting user's), sharing the engines,
        caches, models and job workers."""
        store, opts = self.store, self.options
        self.jobs = jobs
        self.assets = AssetService(store, self.thumbnails)
        self.xmp = XmpService(store, self.assets, jobs, self.thumbnails)  # sidecar write/read-back
        self.ingest = IngestService(store, jobs, self.ml, self.xmp)  # the one way files come in
        self.importer = Importer(store, self.ingest, worker_niceness=opts.import_worker_niceness)
        self.tags = TagService(store, self.assets)
        self.albums = AlbumService(store, self.assets)
        prior: SearchService | None = vars(self).get("search")  # a view keeps smart search
        self.search = SearchService(store, prior.semantic if prior is not None else None)
        self.folders = FolderService(store, self.assets)
        self.edits = EditService(store, self.assets)
        self.memories = MemoryService(store)  # "on this day", "this week N years ago"
        self.event_groups = EventService(store)  # photos grouped by time and place
        self.duplicates = DuplicateService(
            store, self.thumbnails, self.assets, self.albums, self.tags, self.edits
        )
        prior_people: PeopleService | None = vars(self).get("people")  # shares its crop cache
        self.people = PeopleService(
            store,
            self.assets,
            self.thumbnails,
            self.ml,
            prior_people.crops if prior_people is not None else None,
        )
        self.geo = GeoService(store)
        # machines that take ML jobs over HTTP (photodesk worker)
        self.workers = RemoteWorkers(
            store, self.thumbnails, lambda user_id: self.for_user(user_id).people
        )
        self.timeline = TimelineService(store)
        self.files = FileService(store)
        self.maintenance = MaintenanceService(store)
        self.shares = ShareService(store)  # album grants and public links
        self.sync = SyncService(self)  # pairing, the change feed, sync rounds (docs/sync.md)
        self.accounts = AccountService(store, self.thumbnails, self.shares)
        prior_uploads: UploadService | None = vars(self).get("uploads")  # shares its quota book
        self.uploads = UploadService(
            store,
            self.accounts,
            lambda user_id: self.for_user(user_id).ingest,
            lambda user_id: self.for_user(user_id).albums,
            storage_root=opts.upload_storage_root,
            analysis=self._analysis,
            quota=prior_uploads.quota if prior_uploads is not None else None,
        )
        self.dav = DavSpace(store, self.uploads, self.accounts)  # WebDAV spaces (phone backup)
        # started by the desktop app, the daemon, `watch run` (start_background)
        self.watch = FolderWatcher(
            store,
            self.importer,
            settle_s=opts.watch_settle_s,
            poll_interval_s=opts.watch_poll_interval_s,
            polling=opts.watch_polling,
            workers=opts.watch_workers,
            sidecars_changed=self.ingest.sidecars_changed,
            uploads=self.uploads,  # inboxes: watched folders whose files become an account's
        )

    def _scoped(self, user_id: int) -> Library:
        """What a job's handler runs on: this library acting for the job's user."""
        return self.for_user(user_id)

    # ----- opening --------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        root: Path | str,
        *,
        create: bool = True,
        options: LibraryOptions | None = None,
        database: str | None = None,
    ) -> Library:
        """Open (and create or upgrade) the library at ``root``; the catalog is backed up first.

        ``database``: a ``postgresql://`` URL whose database holds the catalog instead of the
        folder's ``catalog.db`` (the folder keeps thumbnails, previews, originals and models).
        """
        bounded = options is not None and options.bounded_readers
        store = Store.open(root, create=create, database=database, bounded_readers=bounded)
        return cls(store, options)

    def attach_ml(self, models: Models | None = None, *, loader: Loader | None = None) -> None:
        """Plug in the ML models (or a loader run on first use): smart search in ``search``,
        and the ``clip``/``faces`` jobs queued after each import."""
        from photodesk.core.search.smart import SmartSearch

        self.ml.attach(models, loader=loader)
        self.smart = SmartSearch(self.store, self.ml) if self.ml.attached else None
        self.search.attach_semantic(self.smart)

    def for_user(self, user_id: int) -> Library:
        """The same library acting for ``user_id``: every service acts for that user.

        A view shares the engines, writer lock, job workers, events, caches and models; never
        close a view.
        """
        if int(user_id) == self.owner_id:
            return self
        view = copy.copy(self)
        view.store = self.store.for_user(user_id)
        view._compose(self.jobs.for_user(view.store))
        return view

    def queue_missing(
        self, task: str, *, retry_failed: bool = False, for_workers: bool = False
    ) -> int:
        """Queue a ``clip`` or ``faces`` job for each of the acting user's photos that the
        attached model has not analysed; returns how many (``photodesk index``). Photos it
        could not analyse wait until they change, unless ``retry_failed``. ``for_workers``:
        those the remote workers' model has not analysed (a server without local ML)."""
        return handlers.queue_missing(
            self, task, retry_failed=retry_failed, for_workers=for_workers
        )

    # ----- background work ------------------------------------------------------------------
    def start_background(self, *, jobs: bool = True, watch: bool = True) -> None:
        """Work the job queues and follow the watched folders on background threads (the
        desktop app, the server); ``stop_background()`` or ``close()`` ends them."""
        if jobs:
            if self.thumbnails.legacy:  # a library made before the flat layout: move its files
                self.jobs.enqueue(JobName.THUMBNAILS_LAYOUT)
            self.jobs.start()
        if watch:
            self.watch.start()

    def stop_background(self) -> None:
        """Stop following watched folders and working jobs (unfinished jobs stay queued)."""
        self.watch.stop()
        self.jobs.stop()

    # ----- the store, as the library's own ---------------------------------------------------
    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def db_path(self) -> Path:
        return self.store.db_path

    @property
    def database(self) -> str | None:
        """The PostgreSQL URL of the catalog (None: the folder's SQLite ``catalog.db``)."""
        return self.store.database

    @property
    def thumbs_dir(self) -> Path:
        return self.store.thumbs_dir

    @property
    def previews_dir(self) -> Path:
        return self.store.previews_dir

    @property
    def originals_dir(self) -> Path:
        return self.store.originals_dir

    @property
    def models_dir(self) -> Path:
        return self.store.models_dir

    @property
    def events(self) -> EventBus:
        return self.store.events

    @property
    def owner_id(self) -> UserId:
        """The acting user (the library's local owner unless this is a ``for_user`` view)."""
        return self.store.owner_id

    @property
    def backup_path(self) -> Path | None:
        """The catalog backup made before this open's migration, if one ran."""
        return self.store.backup_path

    def read(self) -> AbstractContextManager[Session]:
        """A read-only session; any number may run at once on any thread (WAL)."""
        return self.store.read()

    def write(self, changes: Changes | None = None) -> AbstractContextManager[Session]:
        """The single writer: one transaction at a time; ``changes`` are published after commit."""
        return self.store.write(changes)

    def close(self) -> None:
        self.sync.stop_background()
        self.stop_background()
        self.uploads.close()
        self.store.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
