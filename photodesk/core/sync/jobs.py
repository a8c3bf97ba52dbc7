"""Background sync: the ``sync.round`` job, and what queues it while the desktop app runs.

A round is a persisted job (queue ``sync``, one at a time; registered in core/handlers.py):
local writes queue one a few seconds later, a timer queues one every few minutes, and a long poll
on the server's feed queues one as soon as another device's change lands there. The threads here
only queue jobs.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.events import Changes
from photodesk.core.jobs.engine import JobContext
from photodesk.core.jobs.kinds import JobName
from photodesk.core.sync.ports import RemoteRefused, RemoteUnavailable
from photodesk.core.sync.types import FeedPage

if TYPE_CHECKING:
    from photodesk.core.library import Library

log = logging.getLogger(__name__)
KIND = JobName.SYNC_ROUND
SETTLE_S = 3.0  # local writes come in bursts (a tag on 200 photos): one round after them
INTERVAL_S = 300.0
ASSIST_INTERVAL_S = 60.0  # how often an allowed desktop looks for its server's ML jobs
LONG_POLL_S = 25


def assist_server(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """The ``assist.server`` job: work the paired server's ML jobs until none waits (only when
    the user allows it); cancelling the job stops it between two of them."""
    return lib.sync.work_for_server(ctx.check)


def sync_round(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """One round with the paired server; offline or refused is a result, not a failure."""
    if lib.sync.pairing() is None:
        return {"skipped": "not paired"}
    report = lib.sync.run_attached(lambda step, done, total: ctx.progress(done, total))
    return report.as_json()


class BackgroundSync:
    """Queues ``sync.round`` jobs while a paired library is open in the desktop app."""

    def __init__(self, lib: Library, *, interval_s: float = INTERVAL_S) -> None:
        self.lib = lib
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._settle: threading.Timer | None = None
        self._lock = threading.Lock()
        self._unsubscribe: Any = None

    def start(self) -> None:
        if self._threads:
            return
        self._unsubscribe = self.lib.events.subscribe(self._on_event)
        for target, name in (
            (self._tick, "sync-timer"),
            (self._listen, "sync-long-poll"),
            (self._assist_tick, "sync-assist-timer"),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        with self._lock:
            if self._settle is not None:
                self._settle.cancel()
        for t in self._threads:
            t.join(timeout=1.0)  # the long poll may be mid-request: it is a daemon thread
        self._threads.clear()

    def queue(self) -> None:
        if self._stop.is_set() or self.lib.sync.pairing() is None:
            return
        try:
            self.lib.jobs.enqueue(KIND)
        except Exception:  # a closing library
            log.debug("could not queue a sync round", exc_info=True)

    def queue_assist(self) -> None:
        """Queue an ``assist.server`` job if the user allows this desktop to work for its
        server (one at a time: the queue deduplicates it)."""
        if self._stop.is_set() or not self.lib.sync.worker_allowed():
            return
        try:
            self.lib.jobs.enqueue(JobName.ASSIST_SERVER)
        except Exception:  # a closing library
            log.debug("could not queue work for the server", exc_info=True)

    def _assist_tick(self) -> None:
        self.queue_assist()
        while not self._stop.wait(ASSIST_INTERVAL_S):
            self.queue_assist()

    def _on_event(self, event: object) -> None:
        if not isinstance(event, Changes) or not (event.assets or event.tags or event.albums):
            return
        with self._lock:
            if self._settle is not None:
                self._settle.cancel()
            self._settle = threading.Timer(SETTLE_S, self.queue)
            self._settle.daemon = True
            self._settle.start()

    def _tick(self) -> None:
        self.queue()
        while not self._stop.wait(self.interval_s):
            self.queue()

    def known(self) -> dict[str, int]:
        """What this library has of the people feed and the shared albums (the long poll
        answers as soon as the server has more of either)."""
        from photodesk.core.sync import client_people, shared

        out = {"people": int(self.lib.sync.setting(client_people.PEOPLE_CURSOR, 0) or 0)}
        version = self.lib.sync.setting(shared.VERSION_KEY)
        if version is not None:
            out["shared"] = int(version)
        return out

    @staticmethod
    def behind(page: FeedPage, known: dict[str, int]) -> bool:
        """Whether a long poll's answer has something for a round: an asset change, or the
        people feed or shared albums moved."""
        heads = page.heads
        return bool(page.items) or any(
            k in heads and (heads[k] > v if k == "people" else heads[k] != v)
            for k, v in known.items()
        )

    def _listen(self) -> None:
        """Long-poll the feed; another device's change queues a round at once."""
        while not self._stop.is_set():
            try:
                remote = self.lib.sync.attached_remote()
                cursor = int(self.lib.sync.cursor())
                known = self.known()
                page = remote.changes(cursor, 1, wait=LONG_POLL_S, known=known)
                if self.behind(page, known) and not self._stop.is_set():
                    self.queue()
                    self._stop.wait(SETTLE_S)  # let the round move the cursor
            except (RemoteUnavailable, RemoteRefused, LookupError) as exc:
                log.debug("sync long poll: %s", exc)
                self._stop.wait(30.0)
            except Exception:
                log.exception("sync long poll failed")
                self._stop.wait(30.0)
