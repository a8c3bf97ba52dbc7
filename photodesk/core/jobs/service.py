"""JobService (``lib.jobs``): enqueue, run, pause, cancel and observe background work."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import jobs as repo
from photodesk.core.catalog.db import settings
from photodesk.core.catalog.errors import InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.jobs.engine import (
    HEARTBEAT_SECONDS,
    PAUSED_KEY,
    QUEUES,
    REGISTRY,
    STALE_AFTER,
    JobCancelled,
    JobContext,
    JobInfo,
    JobKind,
    JobProgress,
    JobRequest,
    PermanentJobError,
    QueueStatus,
    worker_alive,
    worker_id,
)
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.payloads import Payload

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store

log = logging.getLogger(__name__)
RATE_WINDOW = 60.0


class JobService:
    """``lib.jobs``: the queues of one library, worked by threads of this process.

    ``scope(user_id)`` gives what a handler runs on for a job's user (the library acting for
    them: see ``photodesk.core.handlers``); ``on_dead_workers`` clears what a process that died
    mid-job left on disk (``recover``).
    """

    def __init__(
        self,
        store: Store,
        scope: Callable[[int], Any],
        *,
        on_dead_workers: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self._scope = scope
        self._on_dead_workers = on_dead_workers
        self._worker = worker_id()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[int, JobContext] = {}
        self._running_lock = threading.Lock()
        self._finished: dict[str, deque[float]] = {q: deque() for q in QUEUES}
        self._last_publish = 0.0
        # Queues this process leaves to remote workers (``serve --no-local-ml``): no threads.
        self.remote_queues: frozenset[str] = frozenset()

    # ----- queueing -------------------------------------------------------------------------
    def enqueue(
        self,
        kind: str,
        target: str | int | None = None,
        payload: Payload | dict[str, Any] | None = None,
        *,
        priority: int = 0,
        owner_id: int | None = None,
    ) -> int:
        """Queue a job; it runs for ``owner_id`` (default: the acting user)."""
        return self.enqueue_many(
            [JobRequest(kind, target, payload)], priority=priority, owner_id=owner_id
        )[0]

    def enqueue_many(
        self,
        requests: Iterable[JobRequest],
        *,
        priority: int = 0,
        owner_id: int | None = None,
        dedupe: bool = True,
        session: Session | None = None,
    ) -> list[int]:
        """Queue several jobs in one transaction (``session``: in the caller's own write)."""
        todo = [(r, self._spec(r.kind)) for r in requests]
        owner = self._store.owner_id if owner_id is None else int(owner_id)

        def add(s: Session) -> list[int]:
            return [
                repo.enqueue(
                    s,
                    kind=r.kind,
                    queue=spec.queue,
                    target=None if r.target is None else str(r.target),
                    payload=r.payload.as_dict() if isinstance(r.payload, Payload) else r.payload,
                    owner_id=owner,
                    priority=priority,
                    max_attempts=spec.max_attempts,
                    dedupe=dedupe,
                )
                for r, spec in todo
            ]

        if session is not None:
            ids = add(session)
        else:
            with self._store.write(Changes(jobs=True)) as s:
                ids = add(s)
        self.wake()
        return ids

    def wake(self) -> None:
        """Tell idle workers that new jobs wait (after jobs were queued in another write)."""
        with self._wake:
            self._wake.notify_all()

    @staticmethod
    def _spec(kind: str) -> JobKind:
        spec = REGISTRY.get(kind)
        if spec is None:
            raise InvalidInput(f"unknown job kind {kind!r}")
        return spec

    def for_user(self, store: Store) -> JobService:
        """The same queues and workers, queueing for ``store``'s acting user by default."""
        view = copy.copy(self)
        view._store = store
        return view

    def active_targets(self, kind: str) -> list[str]:
        """Targets of the waiting or running jobs of ``kind`` (of every user)."""
        with self._store.read() as s:
            return repo.active_targets(s, kind)

    def get(self, job_id: int) -> JobInfo:
        with self._store.read() as s:
            row = repo.get(s, job_id)
            if row is None:
                raise NotFound(f"no job {job_id}")
            return JobInfo.of(row)

    def failures(self, limit: int = 100) -> list[JobInfo]:
        with self._store.read() as s:
            return [JobInfo.of(j) for j in repo.failures(s, limit)]

    def retry(self, queue: str | None = None) -> int:
        if queue is not None:
            self._check_queue(queue)
        with self._store.write(Changes(jobs=True)) as s:
            n = repo.retry_failed(s, queue)
        with self._wake:
            self._wake.notify_all()
        return n

    # ----- control ----------------------------------------------------------------------------
    def paused(self) -> set[str]:
        with self._store.read() as s:
            value = settings.get(s, PAUSED_KEY)
            return set(value) if isinstance(value, list) else set()

    def _set_paused(self, queues: set[str]) -> None:
        with self._store.write(Changes(jobs=True)) as s:
            settings.put(s, PAUSED_KEY, sorted(queues))

    def pause(self, queue: str) -> None:
        """Stop starting jobs of ``queue`` (also after a restart); running ones finish."""
        self._check_queue(queue)
        self._set_paused(self.paused() | {queue})

    def resume(self, queue: str) -> None:
        self._check_queue(queue)
        self._set_paused(self.paused() - {queue})
        with self._wake:
            self._wake.notify_all()

    def cancel(self, queue: str) -> int:
        """Drop the queue's waiting jobs and ask its running ones to stop."""
        self._check_queue(queue)
        with self._store.write(Changes(jobs=True)) as s:
            n = repo.cancel_queue(s, queue)
        with self._running_lock:
            for ctx in self._running.values():
                if REGISTRY[ctx.kind].queue == queue:
                    ctx._cancel.set()
        return n

    def cancel_job(self, job_id: int) -> None:
        with self._store.write(Changes(jobs=True)) as s:
            repo.cancel(s, job_id)
        with self._running_lock:
            if job_id in self._running:
                self._running[job_id]._cancel.set()

    @staticmethod
    def _check_queue(queue: str) -> None:
        if queue not in QUEUES:
            raise InvalidInput(f"unknown queue {queue!r} (queues: {', '.join(QUEUES)})")

    # ----- status -----------------------------------------------------------------------------
    def status(self) -> list[QueueStatus]:
        with self._store.read() as s:
            counts = repo.counts(s)
        paused = self.paused()
        now = time.monotonic()
        out = []
        for name, concurrency in QUEUES.items():
            c = counts.get(name, {})
            recent = self._finished[name]
            while recent and now - recent[0] > RATE_WINDOW:
                recent.popleft()
            rate = len(recent) / RATE_WINDOW if recent else 0.0
            queued = c.get("queued", 0)
            out.append(
                QueueStatus(
                    name,
                    concurrency,
                    name in paused,
                    queued,
                    c.get("running", 0),
                    c.get("done", 0),
                    c.get("failed", 0),
                    rate,
                    queued / rate if rate > 0 else None,
                )
            )
        return out

    def _publish(
        self,
        ctx: JobContext | None = None,
        done: int | None = None,
        total: int | None = None,
        *,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last_publish < 0.25:
            return
        self._last_publish = now
        self._store.events.publish(
            JobProgress(
                tuple(self.status()),
                ctx.job_id if ctx else None,
                ctx.kind if ctx else None,
                done,
                total,
            )
        )

    # ----- recovery ---------------------------------------------------------------------------
    def recover(self) -> int:
        """Requeue jobs whose process died: on this host at once, elsewhere after STALE_AFTER."""
        with self._store.read() as s:
            running = repo.running_workers(s)
        dead = [job_id for job_id, worker in running.items() if not worker_alive(worker)]
        with self._store.write(Changes(jobs=True)) as s:
            repo.requeue(s, dead)
            n = repo.recover(s, STALE_AFTER)
        if dead and self._on_dead_workers is not None:
            self._on_dead_workers()  # a process died mid-job here: clear its workers' temp files
        return len(dead) + n

    # ----- running ----------------------------------------------------------------------------
    def run(self, job_id: int, progress: Any = None) -> JobInfo:
        """Run one queued job now, on this thread (the CLI's foreground import)."""
        with self._store.write(Changes(jobs=True)) as s:
            row = repo.claim_id(s, job_id, self._worker)
            if row is None:
                raise InvalidInput(f"job {job_id} is not waiting to run")
            claimed = JobInfo.of(row), dict(row.payload or {}), row.owner_id
        self._execute(claimed, progress)
        return self.get(job_id)

    def _claim(self, queue: str) -> tuple[JobInfo, dict[str, Any], int | None] | None:
        with self._store.write() as s:
            row = repo.claim(s, queue, self._worker)
            if row is None:
                return None
            return JobInfo.of(row), dict(row.payload or {}), row.owner_id

    def _execute(
        self, claimed: tuple[JobInfo, dict[str, Any], int | None], progress: Any = None
    ) -> None:
        info, payload, owner_id = claimed
        spec = REGISTRY.get(info.kind)
        ctx = JobContext(info.id, info.kind, info.target, payload, owner_id)

        def on_progress(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            self._publish(ctx, done, total)

        ctx._progress = on_progress
        with self._running_lock:
            self._running[info.id] = ctx
        try:
            if spec is None:
                raise PermanentJobError(f"no handler for job kind {info.kind!r}")
            # A job runs for the user it was queued for: on the daemon, one user's uploads are
            # clustered into that user's people and searched in that user's photos.
            scoped = self._scope(self._store.owner_id if owner_id is None else owner_id)
            result = spec.handler(scoped, ctx)
        except JobCancelled:
            with self._store.write(Changes(jobs=True)) as s:
                repo.cancel(s, info.id)
        except PermanentJobError as exc:
            with self._store.write(Changes(jobs=True)) as s:
                repo.fail(s, info.id, str(exc), retry=False)
        except Exception as exc:  # any other failure is retried with backoff
            log.warning("job %s %s failed: %s", info.id, info.kind, exc, exc_info=True)
            with self._store.write(Changes(jobs=True)) as s:
                repo.fail(s, info.id, f"{type(exc).__name__}: {exc}")
        else:
            with self._store.write(Changes(jobs=True)) as s:
                if repo.get(s, info.id) is not None and not ctx.cancelled():
                    repo.finish(s, info.id, result)
                    for kind, target, extra in ctx.follow_ups:
                        follow = REGISTRY.get(kind)
                        if follow is not None:
                            repo.enqueue(
                                s,
                                kind=kind,
                                queue=follow.queue,
                                target=target,
                                payload=extra,
                                owner_id=owner_id,
                                max_attempts=follow.max_attempts,
                            )
                else:
                    repo.cancel(s, info.id)
            if spec is not None:
                self._finished[spec.queue].append(time.monotonic())
        finally:
            with self._running_lock:
                self._running.pop(info.id, None)
        self._publish(force=True)
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        """Work the queues on background threads until ``stop()`` (the desktop app, the daemon)."""
        if self._threads:
            return
        self._stop.clear()
        self.recover()
        self.enqueue(JobName.BACKUP)  # cheap when a recent backup exists
        for queue, n in QUEUES.items():
            if queue in self.remote_queues:
                continue
            for i in range(n):
                t = threading.Thread(
                    target=self._loop, args=(queue,), daemon=True, name=f"photodesk-job-{queue}-{i}"
                )
                t.start()
                self._threads.append(t)
        hb = threading.Thread(target=self._beat, daemon=True, name="photodesk-job-heartbeat")
        hb.start()
        self._threads.append(hb)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask running jobs to stop and wait for the threads; unfinished jobs stay queued."""
        self._stop.set()
        with self._running_lock:
            for ctx in self._running.values():
                ctx._cancel.set()
        with self._wake:
            self._wake.notify_all()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self, queue: str) -> None:
        while not self._stop.is_set():
            claimed = None
            try:
                if queue not in self.paused():
                    claimed = self._claim(queue)
            except Exception:  # the catalog went away under us: try again shortly
                log.exception("claiming a %s job failed", queue)
            if claimed is None:
                with self._wake:
                    self._wake.wait(1.0)
                continue
            self._execute(claimed)

    def _beat(self) -> None:
        beats = 0
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._running_lock:
                ids = list(self._running)
            beats += 1
            try:
                with self._store.write() as s:
                    repo.heartbeat(s, ids)
                    # Jobs of processes or remote workers that stopped beating go back to
                    # their queue (checked every few beats, not only when the engine starts).
                    if beats % 4 == 0:
                        repo.recover(s, STALE_AFTER)
            except Exception:
                log.exception("job heartbeat failed")

    def run_until_idle(self, *, timeout: float | None = None) -> bool:
        """Work every due job of unpaused queues, then return; True if idle, False on timeout."""
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if self._idle():
                    return True
                if deadline is not None and time.monotonic() > deadline:
                    return False
                with self._wake:
                    self._wake.wait(0.2)
        finally:
            self.stop()

    def _idle(self) -> bool:
        paused = self.paused()
        with self._running_lock:
            if self._running:
                return False
        with self._store.read() as s:
            return not repo.any_due(s, paused | set(self.remote_queues))

    def prune(self, older_than: timedelta = timedelta(days=7)) -> None:
        with self._store.write() as s:
            repo.prune(s, older_than)
