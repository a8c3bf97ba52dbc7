"""Remote worker rows (token hashes) and the job rows a worker holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Job, RemoteWorker

WorkerRow = tuple[int, str, datetime, "datetime | None", bool]  # id, name, created, seen, revoked


@dataclass(frozen=True)
class HeldJob:
    """A job row as the hand-over checks it."""

    id: int
    kind: str
    target: str | None
    owner_id: int | None
    state: str
    worker: str | None


def name_taken(s: Session, name: str) -> bool:
    return s.scalar(select(RemoteWorker.id).where(RemoteWorker.name == name)) is not None


def add(s: Session, name: str, token_hash: str, now: datetime, *, replace: bool = False) -> bool:
    """Register a worker (``replace``: a worker of that name gets the new token and is no longer
    revoked); False if the name is taken and ``replace`` is off."""
    row = s.scalar(select(RemoteWorker).where(RemoteWorker.name == name))
    if row is not None and not replace:
        return False
    if row is not None:
        row.token_hash, row.revoked_at = token_hash, None
    else:
        s.add(RemoteWorker(name=name, token_hash=token_hash, created_at=now))
    return True


def by_token(s: Session, token_hash: str) -> tuple[str, bool, datetime | None] | None:
    """(name, revoked, last seen) of the worker with this token."""
    row = s.execute(
        select(RemoteWorker.name, RemoteWorker.revoked_at, RemoteWorker.last_seen_at).where(
            RemoteWorker.token_hash == token_hash
        )
    ).first()
    return None if row is None else (str(row.name), row.revoked_at is not None, row.last_seen_at)


def stamp_seen(s: Session, token_hash: str, now: datetime) -> None:
    s.execute(
        update(RemoteWorker).where(RemoteWorker.token_hash == token_hash).values(last_seen_at=now)
    )


def all_workers(s: Session) -> list[WorkerRow]:
    rows = s.scalars(select(RemoteWorker).order_by(RemoteWorker.id)).all()
    return [(r.id, r.name, r.created_at, r.last_seen_at, r.revoked_at is not None) for r in rows]


def remove(s: Session, name: str) -> bool:
    """Forget the worker; False if there is none of that name."""
    row = s.scalar(select(RemoteWorker).where(RemoteWorker.name == name))
    if row is None:
        return False
    s.delete(row)
    return True


def running_on(s: Session, worker: str) -> list[int]:
    """The ids of the jobs running on ``worker`` (as the jobs table names it)."""
    return list(s.scalars(select(Job.id).where(Job.state == "running", Job.worker == worker)))


def job(s: Session, job_id: int, *, lock: bool = False) -> HeldJob | None:
    """The job's row (``lock``: FOR UPDATE where the dialect has it)."""
    row = s.get(Job, job_id, with_for_update=lock or None)
    if row is None:
        return None
    return HeldJob(row.id, row.kind, row.target, row.owner_id, row.state, row.worker)
