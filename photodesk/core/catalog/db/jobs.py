"""Job rows: enqueue (deduplicated), atomic claim, finish, retry with backoff, recovery, counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Job

ACTIVE = ("queued", "running")


def enqueue(
    s: Session,
    *,
    kind: str,
    queue: str,
    target: str | None,
    payload: dict[str, Any] | None,
    owner_id: int | None,
    priority: int = 0,
    max_attempts: int = 3,
    dedupe: bool = True,
) -> int:
    """Add a job; with ``dedupe`` an identical queued or running job is reused instead."""
    if dedupe:
        rows = s.execute(
            select(Job.id, Job.payload).where(
                Job.kind == kind,
                Job.target == target if target is not None else Job.target.is_(None),
                # The same work for another user is other work (their faces, their people).
                Job.owner_id == owner_id if owner_id is not None else Job.owner_id.is_(None),
                Job.state.in_(ACTIVE),
            )
        )
        for job_id, existing in rows:
            if _identity(existing) == _identity(payload):
                return int(job_id)
    now = datetime.now()
    job = Job(
        kind=kind,
        queue=queue,
        target=target,
        payload=payload,
        owner_id=owner_id,
        priority=priority,
        max_attempts=max_attempts,
        state="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    s.add(job)
    s.flush()
    return job.id


def get(s: Session, job_id: int) -> Job | None:
    """The job's row, if it exists (finished jobs are pruned after a while)."""
    return s.get(Job, job_id)


def _identity(payload: dict[str, Any] | None) -> dict[str, Any]:
    """What makes two jobs the same work: keys starting with "_" are tuning, not identity."""
    return {k: v for k, v in (payload or {}).items() if not k.startswith("_")}


def _start(s: Session, which: Any, worker: str) -> Job | None:
    """Mark the queued job selected by ``which`` as running for ``worker``, in one statement."""
    now = datetime.now()
    return s.scalars(
        update(Job)
        .where(Job.id == which, Job.state == "queued")
        .values(
            state="running",
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            updated_at=now,
            worker=worker,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    ).first()


def claim(s: Session, queue: str, worker: str) -> Job | None:
    """Take the next due job of ``queue`` in one UPDATE ... RETURNING: no two workers share one.

    On PostgreSQL the pick is ``FOR UPDATE SKIP LOCKED``: daemons on several hosts share one
    queue, each passing over the rows another is claiming instead of waiting for it (SQLite,
    with its one writer, renders no locking clause).
    """
    due = (
        select(Job.id)
        .where(
            Job.queue == queue,
            Job.state == "queued",
            or_(Job.not_before.is_(None), Job.not_before <= datetime.now()),
        )
        .order_by(Job.priority.desc(), Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return _start(s, due, worker)


def finish(s: Session, job_id: int, result: dict[str, Any] | None) -> None:
    now = datetime.now()
    s.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state="done", result=result, finished_at=now, updated_at=now, last_error=None)
    )


def fail(s: Session, job_id: int, error: str, *, retry: bool = True) -> str:
    """Record a failure; retry later with exponential backoff until attempts run out."""
    job = s.get(Job, job_id)
    if job is None:
        return "gone"
    now = datetime.now()
    job.last_error = error[:4000]
    job.updated_at = now
    if retry and job.attempts < job.max_attempts:
        job.state = "queued"
        job.not_before = now + backoff(job.attempts)
    else:
        job.state = "failed"
        job.finished_at = now
    return job.state


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 4 ** max(0, attempts - 1)))


def cancel(s: Session, job_id: int) -> None:
    s.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE))
        .values(state="cancelled", finished_at=datetime.now(), updated_at=datetime.now())
    )


def heartbeat(s: Session, job_ids: list[int]) -> None:
    if job_ids:
        s.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.state == "running")
            .values(heartbeat_at=datetime.now())
        )


def recover(s: Session, stale_after: timedelta) -> int:
    """Requeue jobs whose worker stopped beating (the process died); returns how many."""
    limit = datetime.now() - stale_after
    result = s.execute(
        update(Job)
        .where(
            Job.state == "running",
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < limit),
        )
        .values(state="queued", worker=None, not_before=None, updated_at=datetime.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def retry_failed(s: Session, queue: str | None = None) -> int:
    cond = [Job.state == "failed"]
    if queue:
        cond.append(Job.queue == queue)
    result = s.execute(
        update(Job)
        .where(and_(*cond))
        .values(state="queued", attempts=0, not_before=None, updated_at=datetime.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_queue(s: Session, queue: str) -> int:
    result = s.execute(
        update(Job)
        .where(Job.queue == queue, Job.state == "queued")
        .values(state="cancelled", finished_at=datetime.now(), updated_at=datetime.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def counts(s: Session) -> dict[str, dict[str, int]]:
    """{queue: {state: n}} over every job row."""
    out: dict[str, dict[str, int]] = {}
    for queue, state, n in s.execute(
        select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state)
    ):
        out.setdefault(queue, {})[state] = n
    return out


def failures(s: Session, limit: int = 100) -> list[Job]:
    return list(
        s.scalars(select(Job).where(Job.state == "failed").order_by(Job.id.desc()).limit(limit))
    )


def prune(s: Session, older_than: timedelta) -> None:
    """Forget finished jobs after a while (failed ones stay until retried or cleared)."""
    s.execute(
        delete(Job).where(
            Job.state.in_(("done", "cancelled")), Job.finished_at < datetime.now() - older_than
        )
    )


def claim_id(s: Session, job_id: int, worker: str) -> Job | None:
    """Claim one given job (the CLI runs the job it just queued in the foreground)."""
    return _start(s, job_id, worker)


def running_workers(s: Session) -> dict[int, str | None]:
    return {
        job_id: worker
        for job_id, worker in s.execute(select(Job.id, Job.worker).where(Job.state == "running"))
    }


def requeue(s: Session, job_ids: list[int]) -> None:
    if job_ids:
        s.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.state == "running")
            .values(state="queued", worker=None, not_before=None, updated_at=datetime.now())
            .execution_options(synchronize_session=False)
        )


def active_targets(s: Session, kind: str) -> list[str]:
    """The targets of the queued or running jobs of ``kind`` (any user)."""
    rows = s.scalars(select(Job.target).where(Job.kind == kind, Job.state.in_(ACTIVE)))
    return [t for t in rows if t]


def queued_targets(s: Session, kind: str, *, besides: int, limit: int) -> list[str]:
    """Targets of other queued jobs of ``kind``, the next to run first (a batch's companions)."""
    rows = s.scalars(
        select(Job.target)
        .where(Job.kind == kind, Job.state == "queued", Job.id != besides)
        .order_by(Job.priority.desc(), Job.id)
        .limit(limit)
    )
    return [t for t in rows if t]


def any_queued(s: Session, kind: str) -> bool:
    """Whether a job of ``kind`` waits to run."""
    found = s.scalar(select(Job.id).where(Job.kind == kind, Job.state == "queued").limit(1))
    return found is not None


def any_due(s: Session, paused: set[str]) -> bool:
    """Whether a job of an unpaused queue is running or due to run now."""
    found = s.scalar(
        select(Job.id)
        .where(
            Job.state.in_(ACTIVE),
            Job.queue.not_in(paused),
            (Job.not_before.is_(None)) | (Job.not_before <= datetime.now()),
        )
        .limit(1)
    )
    return found is not None
