"""Watched folders: native events or polling, settle, batched import, moves and deletes."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from photodesk.core.catalog.pathcase import ExactNames
from photodesk.core.catalog.types import ImportReport
from photodesk.core.ingest.files import FileService, WatchedFolder
from photodesk.core.ingest.scanner import scan
from photodesk.core.ingest.watch.changes import ChangeTracker
from photodesk.core.ingest.watch.fs import is_inside, network_fs_type
from photodesk.core.ingest.watch.inbox import InboxImport
from photodesk.core.ingest.watch.observers import Attached, Observers
from photodesk.core.ingest.watch.reconcile import FolderSync, SyncResult

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.importer import Importer
    from photodesk.core.ingest.uploads import UploadService

log = logging.getLogger(__name__)

DEFAULT_SETTLE_S = 2.0
DEFAULT_POLL_INTERVAL_S = 30.0
DEFAULT_RESCAN_INTERVAL_S = 6 * 3600.0
BATCH_MAX = 500
POOL_MIN_BYTES = 48 << 20  # smaller batches are analysed in-process

Item = tuple[str, int, object]  # (kind, folder id, payload)


@dataclass(frozen=True)
class WatchStatus:
    """How one watched folder is being followed right now."""

    path: str
    mode: str  # starting | native | polling | unavailable
    network: str | None  # the file system type when it is a network share
    pending: int  # files seen but not settled or imported yet
    last_scan_at: datetime | None
    error: str | None


@dataclass
class _Folder:
    info: WatchedFolder
    mode: str = "starting"
    network: str | None = None
    attached: Attached | None = None
    error: str | None = None
    scanned_at: datetime | None = None
    rescanned: float = 0.0  # monotonic time of the last rescan


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: only hands events over to the worker."""

    def __init__(self, watcher: FolderWatcher, folder_id: int) -> None:
        self._watcher = watcher
        self._folder_id = folder_id

    def dispatch(self, event: FileSystemEvent) -> None:
        self._watcher._put(("event", self._folder_id, event))


class FolderWatcher:
    """Follows the library's watched folders on its own threads; start() and stop() never block
    on file-system or catalog work (stop waits for the batch being imported, if any).

    Args:
        settle_s: a new or changed file is imported once its size and mtime held this long.
        poll_interval_s: polling interval for network shares and when native events fail.
        polling: True to poll every folder, False to never poll by choice, None to decide per
            folder (the folder's own setting, else poll network shares).
        workers: import worker processes; None: in-process for small batches (by bytes), else
            all cores.
        rescan_interval_s: compare each folder with the catalog again this often (None: only at
            start), a safety net for events the OS drops.
    """

    def __init__(
        self,
        store: Store,
        importer: Importer,
        *,
        settle_s: float = DEFAULT_SETTLE_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        polling: bool | None = None,
        workers: int | None = None,
        batch_max: int = BATCH_MAX,
        rescan_interval_s: float | None = DEFAULT_RESCAN_INTERVAL_S,
        sidecars_changed: Callable[[list[str]], int] | None = None,
        uploads: UploadService | None = None,
    ) -> None:
        self._store = store
        self._importer = importer
        self._on_sidecars = sidecars_changed  # XMP read-back of sidecars another app edited
        self._settle = settle_s
        self._poll_interval = poll_interval_s
        self._polling_choice = polling
        self._workers = workers
        self._rescan_every = rescan_interval_s
        self._check_every = max(1.0, min(poll_interval_s, 60.0))
        self.files = FileService(store)
        self._library_roots = store.roots
        self._sync = FolderSync(
            self.files, self._import, self._library_roots, self._sidecars_changed
        )
        # inboxes (folders watched for an account) are copied in as that account's uploads
        self._inbox = InboxImport(uploads) if uploads is not None else None
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued = 0
        self._busy = False
        self._loaded = False  # the watched folders are attached and their rescans queued
        self._folders: dict[int, _Folder] = {}
        self._changes = ChangeTracker(
            settle_s=settle_s,
            max_wait_s=max(10.0, 5 * settle_s),
            batch_max=batch_max,
            library_roots=self._library_roots,
        )
        self._more = False
        self._observers = Observers(poll_interval_s=poll_interval_s, exclude=self._library_roots)
        self._thread: threading.Thread | None = None
        self._next_check = 0.0

    # -- public API ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching every enabled watched folder; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._loaded = False
        self._thread = threading.Thread(target=self._run, name="photodesk-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop watching; files not imported yet are caught by the rescan at the next start."""
        thread = self._thread
        if thread is None:
            return
        self._put(("stop", 0, None))
        if thread is threading.current_thread():
            return  # asked from a listener on the worker: it stops after this step
        thread.join(timeout)
        if thread.is_alive():
            log.warning("watched folders: still finishing an import; stopping after it")
        else:
            self._thread = None

    def reload(self) -> None:
        """Pick up watched folders added or removed since start()."""
        self._put(("reload", 0, None))

    def rescan(self, path: str | None = None) -> None:
        """Compare a watched folder (or all of them) with the catalog again."""
        self._put(("rescan", 0, path))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> list[WatchStatus]:
        counts = self._changes.counts()
        with self._lock:
            return [
                WatchStatus(
                    f.info.path,
                    f.mode,
                    f.network,
                    counts.get(fid, 0),
                    f.scanned_at,
                    f.error,
                )
                for fid, f in sorted(self._folders.items(), key=lambda kv: kv[1].info.path)
            ]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued, settling or being imported (events still in the kernel's
        or watchdog's hands are not seen); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._loaded and not (
                    self._queued or self._busy or self._changes.has_pending or self._changes.has_ops
                )
                idle = idle and all(f.mode != "starting" for f in self._folders.values())
            if idle and self.running:
                return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the worker thread -----------------------------------------------------------------------

    def _put(self, item: Item) -> None:
        with self._lock:
            self._queued += 1
        self._queue.put(item)

    def _run(self) -> None:
        try:
            self._reload()
            with self._lock:
                self._loaded = True
            while True:
                items: list[Item] = []
                try:
                    items.append(self._queue.get(timeout=self._wait_time()))
                    while True:
                        items.append(self._queue.get_nowait())
                except queue.Empty:
                    pass
                with self._lock:
                    self._busy = True
                try:
                    if self._step(items):
                        return
                except Exception:  # a bad batch must not end the watching
                    log.exception("watched folders: a step failed")
                finally:
                    with self._lock:
                        self._busy = False
                        self._queued -= len(items)
        except Exception:
            log.exception("watched folders: the watcher stopped")
        finally:
            self._shutdown()

    def _wait_time(self) -> float:
        if self._changes.has_ops or self._more:
            return 0.0
        if self._changes.has_pending:
            return min(0.25, max(0.02, self._settle / 4))
        return max(0.05, self._next_check - time.monotonic())

    def _step(self, items: list[Item]) -> bool:
        for kind, folder_id, payload in items:
            if kind == "stop":
                return True
            if kind == "reload":
                self._reload()
            elif kind == "rescan":
                for f in list(self._folders.values()):
                    if payload is None or f.info.path == os.path.abspath(str(payload)):
                        self._rescan(f)
            elif kind == "event" and folder_id in self._folders:
                assert isinstance(payload, FileSystemEvent)
                folder = self._folders[folder_id]
                if self._changes.on_event(folder_id, folder.info.path, payload):
                    self._unavailable(folder, "the folder was deleted or unmounted")
        self._more = False  # stays False if this step fails: no busy loop on a failing batch
        self._flush_ops()
        self._more = self._import_settled()
        if time.monotonic() >= self._next_check:
            self._reload()  # folders and inboxes added or removed meanwhile (by the CLI)
            self._check_folders()
            if self._inbox is not None:
                self._inbox.sweep()  # inbox files whose uploads were analysed since
            self._next_check = time.monotonic() + self._check_every
        return False

    def _shutdown(self) -> None:
        for f in list(self._folders.values()):
            self._detach(f)
        self._observers.shutdown()
        with self._lock:
            while True:  # events that came in while stopping: the next start rescans anyway
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queued = 0
            self._folders.clear()
        self._changes.clear()

    # -- folders ---------------------------------------------------------------------------------

    def _reload(self) -> None:
        wanted = {w.id: w for w in self.files.watched() if w.enabled}
        for fid in [fid for fid in self._folders if fid not in wanted]:
            self._detach(self._folders[fid])
            with self._lock:
                del self._folders[fid]
        fresh: list[_Folder] = []
        for fid, info in wanted.items():
            old = self._folders.get(fid)
            if old is not None and old.info.path == info.path and old.info.polling == info.polling:
                old.info = info
                continue
            if old is not None:
                self._detach(old)
            folder = _Folder(info)
            with self._lock:
                self._folders[fid] = folder
            fresh.append(folder)
        for folder in fresh:  # watch all first, then rescan: nothing falls between the two
            self._attach(folder)
        for folder in fresh:
            if folder.mode != "unavailable":
                self._rescan(folder)

    def _attach(self, folder: _Folder) -> None:
        root = folder.info.path
        if not os.path.isdir(root):
            self._unavailable(folder, "the folder cannot be reached")
            return
        folder.network = network_fs_type(root)
        choice = self._polling_choice
        if choice is None:
            choice = folder.info.polling
        poll = folder.network is not None if choice is None else choice
        try:
            attached = self._observers.attach(root, _Handler(self, folder.info.id), poll=poll)
        except OSError as exc:
            self._unavailable(folder, f"cannot watch: {exc.strerror or exc}")
            return
        folder.attached, folder.mode, folder.error = attached, attached.mode, attached.error
        how = "events" if folder.mode == "native" else f"polling every {self._poll_interval:g} s"
        net = f" (network share: {folder.network})" if folder.network else ""
        log.info("watching %s%s: %s", root, net, how)

    def _detach(self, folder: _Folder) -> None:
        if folder.attached is not None:
            self._observers.detach(folder.attached)
        folder.attached = None

    def _unavailable(self, folder: _Folder, why: str) -> None:
        """The folder is gone or unreachable (an unmounted share): its files are offline until it
        comes back, which the periodic check notices."""
        self._detach(folder)
        if folder.mode != "unavailable":
            log.warning(
                "%s: %s; its files are shown as missing until it is back", folder.info.path, why
            )
        folder.mode, folder.error = "unavailable", why
        self._changes.vanished(folder.info.path)

    def _check_folders(self) -> None:
        for folder in list(self._folders.values()):
            if folder.mode == "unavailable":
                if os.path.isdir(folder.info.path):
                    self._attach(folder)
                    if folder.mode != "unavailable":
                        log.info("%s is back", folder.info.path)
                        self._rescan(folder)
                continue
            if folder.attached is None:
                continue
            if self._rescan_every and time.monotonic() - folder.rescanned >= self._rescan_every:
                self._rescan(folder)  # a safety net for events the OS dropped (queue overflow)
            if not self._observers.alive(folder.attached) or not os.path.isdir(folder.info.path):
                log.warning("%s: watching stopped; starting again", folder.info.path)
                self._detach(folder)
                self._attach(folder)
                if folder.mode != "unavailable":
                    self._rescan(folder)

    def _rescan(self, folder: _Folder) -> None:
        root = folder.info.path
        if not os.path.isdir(root):
            self._unavailable(folder, "the folder cannot be reached")
            return
        self._flush_ops()
        try:
            result, todo = self._sync.rescan(folder.info)
        except OSError as exc:
            self._unavailable(folder, f"cannot scan: {exc.strerror or exc}")
            return
        self._changes.add_scanned(folder.info.id, todo)
        with self._lock:
            folder.scanned_at = datetime.now()
            folder.rescanned = time.monotonic()
        log.info(
            "%s: rescanned; %d to import or check%s",
            root,
            len(todo),
            f", {result.missing} files missing" if result.missing else "",
        )

    def _flush_ops(self) -> None:
        """Apply moves and deletions in the order they happened, consecutive ones together."""
        ops = self._changes.take_ops()
        i = 0
        while i < len(ops):
            j = i
            while j < len(ops) and ops[j][0] == ops[i][0]:
                j += 1
            if ops[i][0] == "move":
                self._apply_moves([(a, b) for _, a, b in ops[i:j]])
            else:
                self._apply_gone([p for _, p, _ in ops[i:j]])
            i = j

    def _apply_moves(self, moves: list[tuple[str, str]]) -> None:
        change = self.files.relocate_many(moves)
        if change.files:
            log.info("moved: %s", "; ".join(f"{a} -> {b}" for a, b in moves[:5]))
        # Whatever arrived with the move but is not in the catalog yet (a file that was still
        # settling, one that failed before, the contents of a folder moved in) gets imported.
        dests: list[str] = []
        for _, dest in moves:
            if os.path.isdir(dest):
                found = scan([dest])
                dests += [f.path for f in found.media] + list(found.sidecars.values())
            elif os.path.isfile(dest):
                dests.append(dest)
        known = self.files.lookup(dests)
        owner = {f.info.path: fid for fid, f in self._folders.items()}
        for path in dests:
            row = known.get(path)
            if row is not None and not row.missing:
                continue
            fid = next((fid for root, fid in owner.items() if is_inside(path, root)), None)
            if fid is not None:
                self._changes.touch(fid, path)

    def _apply_gone(self, paths: list[str]) -> None:
        names = ExactNames()  # deleted then re-created before we got here: not gone
        gone = [p for p in dict.fromkeys(paths) if not names.exists(p)]
        change = self.files.mark_missing(gone)
        if change.files:
            log.info("missing: %d files (%s)", change.files, ", ".join(gone[:5]))

    # -- settling and importing ------------------------------------------------------------------

    def _import_settled(self) -> bool:
        """Import one batch of files that stopped changing; True if more are ready."""
        taken = self._changes.take_batch()
        if taken is None:
            return False
        folder_id, batch, more = taken
        folder = self._folders.get(folder_id)
        if folder is not None:
            if folder.info.inbox and self._inbox is not None:  # the account's uploads
                result = self._inbox.apply(folder.info, batch)
            else:
                result = self._sync.apply(batch, copy=folder.info.copy)
            self._log(folder.info.path, len(batch), result)
        return more

    def _sidecars_changed(self, paths: list[str]) -> int:
        """Sidecars edited by another app: re-read and merged by ``xmp.read`` jobs."""
        return self._on_sidecars(paths) if self._on_sidecars is not None else 0

    def _import(self, paths: list[str], copy: bool) -> ImportReport:
        """The one place the watcher imports (the job engine will take this over)."""
        workers = self._workers
        if workers is None:
            # Starting worker processes costs about a second: worth it only for real work.
            size = 0
            for p in paths:
                try:
                    size += os.stat(p).st_size
                except OSError:
                    pass
            workers = 1 if size < POOL_MIN_BYTES else None
        return self._importer.import_paths(paths, copy=copy, workers=workers)

    @staticmethod
    def _log(root: str, count: int, result: SyncResult) -> None:
        log.info("%s: %d files: %s", root, count, result.summary())
        for f in result.failed:
            log.warning("cannot import %s: %s", f.path, f.error)
