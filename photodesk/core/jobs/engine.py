"""The job engine: persisted jobs in named queues, worked by threads, crash-safe and observable."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from photodesk.core.catalog.db.schema import Job
from photodesk.core.catalog.procs import pid_alive
from photodesk.core.jobs.kinds import CONCURRENCY
from photodesk.core.jobs.payloads import Payload

log = logging.getLogger(__name__)

QUEUES: dict[str, int] = CONCURRENCY  # the queues and their threads (kept for older callers)
HEARTBEAT_SECONDS = 15.0
STALE_AFTER = timedelta(seconds=90)
PAUSED_KEY = "jobs.paused"


class PermanentJobError(Exception):
    """A failure that retrying cannot fix (the file is gone, the input is invalid)."""


class JobCancelled(Exception):
    """Raised inside a handler (by ``ctx.check()``) when its job or queue was cancelled."""


@dataclass
class JobContext:
    """What a running handler sees: its job, a cancel flag, progress and follow-ups."""

    job_id: int
    kind: str
    target: str | None
    payload: dict[str, Any]
    owner_id: int | None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _progress: Callable[[int, int], None] | None = None
    follow_ups: list[tuple[str, str | None, dict[str, Any] | None]] = field(default_factory=list)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled(self.kind)

    def progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(done, total)

    def follow_up(
        self, kind: str, target: str | None = None, payload: dict[str, Any] | None = None
    ) -> None:
        self.follow_ups.append((kind, target, payload))


# A handler gets the library acting for the job's user (``photodesk.core.handlers`` adapts each
# domain's handler to it) and the job's context; it returns the job's result.
Handler = Callable[[Any, JobContext], "dict[str, Any] | None"]


class JobRequest(NamedTuple):
    """One job to queue: its kind, target (an asset id...) and payload."""

    kind: str
    target: str | int | None = None
    payload: Payload | dict[str, Any] | None = None


@dataclass(frozen=True)
class JobKind:
    name: str
    queue: str
    handler: Handler
    max_attempts: int = 3


REGISTRY: dict[str, JobKind] = {}  # filled by photodesk.core.handlers.register_job_kinds()


def register(kind: JobKind) -> None:
    """Make a job kind known to every library of this process (its queue must exist)."""
    if kind.queue not in QUEUES:
        raise ValueError(f"job kind {kind.name!r}: no queue {kind.queue!r}")
    REGISTRY[kind.name] = kind


def job(name: str, *, queue: str, max_attempts: int = 3) -> Callable[[Handler], Handler]:
    """``register`` as a decorator, for tests and extensions: ``@job("x.y", queue="metadata")``.
    The core's own kinds are registered in ``photodesk.core.handlers``, not by decorators."""

    def decorate(fn: Handler) -> Handler:
        register(JobKind(name, queue, fn, max_attempts))
        return fn

    return decorate


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    queue: str
    target: str | None
    state: str
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, j: Job) -> JobInfo:
        return cls(
            j.id,
            j.kind,
            j.queue,
            j.target,
            j.state,
            j.attempts,
            j.max_attempts,
            j.last_error,
            j.created_at,
            j.finished_at,
            j.result,
        )


@dataclass(frozen=True)
class QueueStatus:
    """One queue as the status bar and ``photodesk jobs`` show it."""

    name: str
    concurrency: int
    paused: bool
    queued: int
    running: int
    done: int
    failed: int
    rate: float  # jobs per second, over the last minute, in this process
    eta_seconds: float | None


@dataclass(frozen=True)
class JobProgress:
    """Published on the event bus while jobs run (throttled)."""

    queues: tuple[QueueStatus, ...]
    job_id: int | None = None
    kind: str | None = None
    done: int | None = None  # progress inside one job (e.g. files of an import)
    total: int | None = None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str | None) -> bool:
    """Whether the process that claimed a job still runs (on this host we can tell at once)."""
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: only its heartbeat can tell
    return pid_alive(int(pid))
