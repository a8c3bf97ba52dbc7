"""Observers for watched folders: native events where they work, polling where they cannot."""

from __future__ import annotations

import errno
import logging
import os
import sys
from dataclasses import dataclass

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserverVFS

from photodesk.core.ingest.watch.fs import INOTIFY_LIMIT_ERRNOS, pruned_scandir, unwatched_dirs

log = logging.getLogger(__name__)

EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


@dataclass(frozen=True)
class Attached:
    """A folder being watched: by which observer, and why not natively when that was wanted."""

    observer: BaseObserver
    watch: ObservedWatch
    mode: str  # native | polling
    error: str | None = None


class Observers:
    """One native observer and one polling observer, shared by all watched folders and started
    on first use (the native one holds an inotify instance, a scarce resource on Linux)."""

    def __init__(self, *, poll_interval_s: float, exclude: tuple[str, ...]) -> None:
        self._interval = poll_interval_s
        self._exclude = exclude
        self._native: BaseObserver | None = None
        self._poller: BaseObserver | None = None

    def attach(self, root: str, handler: FileSystemEventHandler, *, poll: bool) -> Attached:
        """Watch ``root`` recursively; falls back to polling when the system's watch limit is
        reached. Raises OSError when the folder cannot be watched at all."""
        error = None
        if not poll:
            try:
                native = self._native_observer()
                watch = native.schedule(handler, root, recursive=True, event_filter=EVENT_TYPES)
                short = self._unwatched(native, watch, root)
                if short:
                    native.unschedule(watch)
                    raise OSError(errno.ENOSPC, f"{short} sub-folders could not be watched")
                return Attached(native, watch, "native")
            except OSError as exc:
                if exc.errno not in INOTIFY_LIMIT_ERRNOS:
                    raise
                error = f"native events unavailable ({exc.strerror or exc}); polling"
                log.warning(
                    "%s: the system's file watch limit is reached (%s); polling every %g s "
                    "instead (on Linux, raise fs.inotify.max_user_watches)",
                    root,
                    exc.strerror or exc,
                    self._interval,
                )
        poller = self._polling_observer()
        watch = poller.schedule(handler, root, recursive=True, event_filter=EVENT_TYPES)
        return Attached(poller, watch, "polling", error)

    @staticmethod
    def detach(attached: Attached) -> None:
        try:
            attached.observer.unschedule(attached.watch)
        except (KeyError, RuntimeError, OSError):
            pass  # its emitter already stopped itself (the folder went away)

    @staticmethod
    def alive(attached: Attached) -> bool:
        """Whether the folder's emitter still runs (it stops when its folder disappears)."""
        emitters = list(attached.observer.emitters)
        return any(e.watch == attached.watch and e.is_alive() for e in emitters)

    def shutdown(self) -> None:
        for obs in (self._native, self._poller):
            if obs is not None:
                obs.stop()
                obs.join(10)
        self._native = self._poller = None

    @staticmethod
    def _unwatched(observer: BaseObserver, watch: ObservedWatch, root: str) -> int:
        if not sys.platform.startswith("linux"):
            return 0
        emitter = next((e for e in list(observer.emitters) if e.watch == watch), None)
        return unwatched_dirs(emitter, root) or 0

    def _native_observer(self) -> BaseObserver:
        if self._native is None:
            native = Observer()
            native.start()
            self._native = native
        return self._native

    def _polling_observer(self) -> BaseObserver:
        if self._poller is None:
            poller = PollingObserverVFS(
                os.stat, pruned_scandir(self._exclude), polling_interval=self._interval
            )
            poller.start()
            self._poller = poller
        return self._poller
