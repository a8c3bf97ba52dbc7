"""Remote workers: machines that take ``clip`` and ``faces`` jobs over HTTP (``photodesk worker``).

The server issues each worker a token (only its SHA-256 is kept). A worker claims a job of the
queues it serves (the same atomic claim as local threads, as ``remote:NAME``), downloads the
asset's preview, runs the analysis with its own models, and hands the result back; the server
stores it exactly as the local job would (faces then queue clustering, which runs on the
server). Heartbeats keep a claim; a worker that stops beating loses its job back to the queue
(``JobService.recover``, on the server's heartbeat thread). Results and failures are accepted
only from the worker that holds the job, while it is running.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import jobs as repo
from photodesk.core.catalog.db import vectors
from photodesk.core.catalog.db import workers as worker_repo
from photodesk.core.catalog.db.assets import Original
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.inference.ports import DetectedFace
from photodesk.core.jobs.engine import REGISTRY, PermanentJobError
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.payloads import ClusterPayload
from photodesk.core.people import faces as face_store
from photodesk.core.people.jobs import _round
from photodesk.core.search.jobs import _unit, asset_id_of, preview_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from photodesk.core.catalog.store import Store
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.people.service import PeopleService

# the kinds a worker can run: one asset in, vectors out
REMOTE_QUEUES: tuple[str, ...] = (JobName.CLIP.value, JobName.FACES.value)
TOKEN_PREFIX = "pdw_"
PREFIX = "remote:"


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class RemoteJob:
    """A job handed to a worker: analyse asset ``asset_id`` (``kind`` clip or faces)."""

    id: int
    kind: str
    asset_id: int
    media_kind: str  # photo, raw or video (the worker is sent the preview either way)


@dataclass(frozen=True)
class _Held:
    id: int
    kind: str
    target: str | None
    owner_id: int | None
    worker: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() or c == ":" for c in name):
        raise InvalidInput(
            f"bad worker name {name!r} (no spaces or colons, at most 100 characters)"
        )
    return name


class RemoteWorkers:
    """Worker tokens and the job hand-over; ``lib.workers``. ``people_for(user)`` is that
    user's people service (face crops are cached as the local job caches them)."""

    def __init__(
        self,
        store: Store,
        thumbnails: ThumbnailStore,
        people_for: Callable[[int], PeopleService],
    ) -> None:
        self._store = store
        self._thumbnails = thumbnails
        self._people_for = people_for

    # ----- tokens -----------------------------------------------------------------------------
    def add(self, name: str) -> str:
        """Register a worker; returns its token (shown once)."""
        name = _check_name(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._store.write() as s:
            if worker_repo.name_taken(s, name):
                raise Conflict(f"a worker called {name!r} exists (revoke it first)")
            worker_repo.add(s, name, _hash(token), datetime.now())
        return token

    def list(self) -> builtins.list[WorkerInfo]:
        with self._store.read() as s:
            return [WorkerInfo(*row) for row in worker_repo.all_workers(s)]

    def revoke(self, name: str) -> None:
        """Revoke a worker's token and forget it; its running jobs go back to the queue."""
        with self._store.write(Changes(jobs=True)) as s:
            if not worker_repo.remove(s, name):
                raise NotFound(f"no worker called {name!r}")
            repo.requeue(s, worker_repo.running_on(s, PREFIX + name))

    def resolve(self, token: str) -> str | None:
        """The name of the worker holding ``token`` (None: unknown or revoked)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._store.write() as s:
            return worker_repo.seen(s, _hash(token), datetime.now())

    # ----- jobs -------------------------------------------------------------------------------
    def claim(self, worker: str, queues: builtins.list[str]) -> RemoteJob | None:
        """The next job of ``queues`` for ``worker`` (None: nothing waiting)."""
        bad = [q for q in queues if q not in REMOTE_QUEUES]
        if bad or not queues:
            raise InvalidInput(f"workers serve the queues {', '.join(REMOTE_QUEUES)}")
        while True:
            with self._store.write(Changes(jobs=True)) as s:
                row = None
                for queue in queues:
                    row = repo.claim(s, queue, PREFIX + worker)
                    if row is not None:
                        break
                if row is None:
                    return None
                job_id, kind, target, owner = row.id, row.kind, row.target, row.owner_id
            try:
                aid = asset_id_of(target)
                src = self._source(owner, aid)
            except PermanentJobError as exc:  # gone since it was queued: next one
                with self._store.write(Changes(jobs=True)) as s:
                    repo.fail(s, job_id, str(exc), retry=False)
                continue
            return RemoteJob(job_id, kind, aid, src.kind)

    def _source(self, owner: int | None, aid: int) -> Original:
        with self._store.read() as s:
            src = asset_repo.originals(s, [aid], owner, trashed=False).get(aid)
        if src is None:
            raise PermanentJobError(f"asset {aid} is gone")
        return src

    def _held(self, worker: str, job_id: int) -> _Held:
        with self._store.read() as s:
            job = worker_repo.job(s, job_id)
            if job is None or job.state != "running" or job.worker != PREFIX + worker:
                raise Conflict(f"job {job_id} is not running for worker {worker!r}")
            return _Held(job.id, job.kind, job.target, job.owner_id, job.worker)

    def preview(self, worker: str, job_id: int) -> Path:
        """The preview JPEG of the job's asset (rendered now if missing)."""
        job = self._held(worker, job_id)
        aid = asset_id_of(job.target)
        try:
            return preview_of(self._thumbnails, self._source(job.owner_id, aid))
        except PermanentJobError as exc:
            self.fail(worker, job_id, str(exc), permanent=True)
            raise NotFound(str(exc)) from exc

    def heartbeat(self, worker: str, job_id: int) -> None:
        self._held(worker, job_id)
        with self._store.write() as s:
            repo.heartbeat(s, [job_id])

    def fail(self, worker: str, job_id: int, error: str, *, permanent: bool = False) -> None:
        self._held(worker, job_id)
        with self._store.write(Changes(jobs=True)) as s:
            repo.fail(s, job_id, f"{PREFIX}{worker}: {error}", retry=not permanent)

    def complete_clip(
        self, worker: str, job_id: int, model: str, vector: builtins.list[float]
    ) -> None:
        job = self._held(worker, job_id)
        if job.kind != "clip":
            raise InvalidInput(f"job {job_id} is a {job.kind} job")
        vec = np.asarray(vector, dtype=np.float32)
        if vec.ndim != 1 or not 16 <= vec.shape[0] <= 4096 or not np.isfinite(vec).all():
            raise InvalidInput("an embedding is a list of 16 to 4096 numbers")
        aid = asset_id_of(job.target)
        with self._store.write() as s:
            vectors.save(s, _model(model), [(aid, _unit(vec))])
        self._finish(job, {"asset": aid, "embedded": 1, "model": model, "worker": worker})

    def complete_faces(
        self, worker: str, job_id: int, model: str, faces: builtins.list[dict[str, Any]]
    ) -> None:
        job = self._held(worker, job_id)
        if job.kind != "faces":
            raise InvalidInput(f"job {job_id} is a {job.kind} job")
        found = [_face(f) for f in faces]
        aid = asset_id_of(job.target)
        owner = job.owner_id if job.owner_id is not None else self._store.owner_id
        ids = face_store.store_faces(self._store.for_user(owner), aid, _model(model), found)
        people = self._people_for(owner)
        for face_id in ids:
            try:
                people.face_crop(face_id)
            except Exception:  # a thumbnail is a nicety; the face is stored
                pass
        payload = ClusterPayload(round=_round(self._store)).as_dict()
        follow = (JobName.FACES_CLUSTER.value, None, payload)
        self._finish(
            job, {"asset": aid, "faces": len(ids), "model": model, "worker": worker}, follow
        )

    def _finish(
        self, job: _Held, result: dict[str, Any], follow: tuple[str, str | None, Any] | None = None
    ) -> None:
        with self._store.write(Changes(jobs=True)) as s:
            row = worker_repo.job(s, job.id, lock=True)
            if row is None or row.state != "running" or row.worker != job.worker:
                raise Conflict(f"job {job.id} was taken back from this worker")
            repo.finish(s, job.id, result)
            if follow is not None:
                kind, target, payload = follow
                spec = REGISTRY[kind]
                repo.enqueue(
                    s,
                    kind=kind,
                    queue=spec.queue,
                    target=target,
                    payload=payload,
                    owner_id=job.owner_id,
                    max_attempts=spec.max_attempts,
                )


def _model(name: str) -> str:
    name = str(name).strip()
    if not name or len(name) > 100:
        raise InvalidInput("a model name of 1 to 100 characters is needed")
    return name


def _face(data: dict[str, Any]) -> DetectedFace:
    """One face from a worker's JSON: box (4 numbers 0-1), score, landmarks, embedding."""
    try:
        box = tuple(float(v) for v in data["box"])
        embedding = np.asarray(data["embedding"], dtype=np.float32)
        face = DetectedFace(
            box=(box[0], box[1], box[2], box[3]),
            score=float(data.get("score", 0.0)),
            landmarks=tuple(float(v) for v in data.get("landmarks") or ()),
            embedding=embedding,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InvalidInput(f"bad face: {exc}") from exc
    if len(box) != 4 or embedding.ndim != 1 or not 16 <= embedding.shape[0] <= 4096:
        raise InvalidInput("a face has a box of 4 numbers and an embedding of 16 to 4096")
    if not np.isfinite(embedding).all():
        raise InvalidInput("a face embedding must be finite numbers")
    return face
