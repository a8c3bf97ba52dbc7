"""Remote workers: machines that take ``clip`` and ``faces`` jobs over HTTP (``photodesk worker``).

The server issues each worker a token (only its SHA-256 is kept). A worker claims a job of the
queues it serves (the same atomic claim as local threads, as ``remote:NAME``), downloads the
asset's preview, runs the analysis with its own models, and hands the result back; the server
stores it exactly as the local job would (faces then queue clustering, which runs on the
server). Heartbeats keep a claim; a worker that stops beating loses its job back to the queue
(``JobService.recover``, on the server's heartbeat thread). Results and failures are accepted
only from the worker that holds the job, while it is running.

What a worker analyses is what the local job analyses: the preview (a RAW's preview is rendered
from the RAW, a video's from a frame), except that a ``clip`` job of a video may download the
original (streamed, bounded in size by the worker) to take the same few frames the local job
takes. A failure the worker calls permanent (an undecodable file), or a job whose workers kept
dying on it, marks the asset unanalysable for that task and model, as a local failure does: the
catch-up does not queue it again until it changes (``photodesk index --retry-failed``).
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photodesk.core.catalog.db import analysis, settings, vectors
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import jobs as repo
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
SEEN_EVERY = timedelta(seconds=60)
MODELS_KEY = "workers.models"  # {task: the model the workers last analysed it with}


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
    media_kind: str  # photo, raw or video
    size: int | None = None  # the original's size in bytes (a worker decides whether to fetch it)


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
    def add(self, name: str, *, replace: bool = False) -> str:
        """Register a worker; returns its token (shown once). ``replace``: a worker of that
        name gets a new token (its old one stops working; a desktop enrolling again)."""
        name = _check_name(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._store.write() as s:
            if not worker_repo.add(s, name, _hash(token), datetime.now(), replace=replace):
                raise Conflict(f"a worker called {name!r} exists (revoke it first)")
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
        digest = _hash(token)
        with self._store.read() as s:
            row = worker_repo.by_token(s, digest)
        if row is None or row[1]:
            return None
        name, _, last_seen = row
        now = datetime.now()
        if last_seen is None or now - last_seen > SEEN_EVERY:
            # "last seen" to the minute: not a write on every request of a busy worker
            with self._store.write() as s:
                worker_repo.stamp_seen(s, digest, now)
        return name

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
                tries = row.max_attempts
                died = row.attempts > tries  # the workers that took it all died on it
            try:
                aid = asset_id_of(target)
                src = self._source(owner, aid)
            except PermanentJobError as exc:  # gone since it was queued: next one
                with self._store.write(Changes(jobs=True)) as s:
                    repo.fail(s, job_id, str(exc), retry=False)
                continue
            if died:
                error = f"{tries} workers stopped while analysing it (killed? crashed?)"
                self._give_up(job_id, kind, aid, error, None)
                continue
            return RemoteJob(job_id, kind, aid, src.kind, _size(src.path))

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

    def original(self, worker: str, job_id: int) -> Path:
        """The original file of the job's asset (a video whose frames the worker takes)."""
        job = self._held(worker, job_id)
        aid = asset_id_of(job.target)
        try:
            path = Path(self._source(job.owner_id, aid).path)
        except PermanentJobError as exc:
            raise NotFound(str(exc)) from exc
        if not path.is_file():
            raise NotFound(f"the original of asset {aid} is not on the server's disk")
        return path

    def model(self, task: str) -> str | None:
        """The model the workers last analysed ``task`` with (None: no worker has yet)."""
        with self._store.read() as s:
            known = settings.get(s, MODELS_KEY)
        value = known.get(task) if isinstance(known, dict) else None
        return value if isinstance(value, str) else None

    def _remember_model(self, s: Any, task: str, model: str) -> None:
        known = settings.get(s, MODELS_KEY)
        known = dict(known) if isinstance(known, dict) else {}
        if known.get(task) != model:
            known[task] = model
            settings.put(s, MODELS_KEY, known)

    def heartbeat(self, worker: str, job_id: int) -> None:
        self._held(worker, job_id)
        with self._store.write() as s:
            repo.heartbeat(s, [job_id])

    def fail(
        self,
        worker: str,
        job_id: int,
        error: str,
        *,
        permanent: bool = False,
        model: str | None = None,
    ) -> None:
        """The worker could not do the job: retried later (elsewhere, maybe) unless
        ``permanent``; a job that fails for good marks its asset unanalysable for ``model``."""
        job = self._held(worker, job_id)
        if model is not None:
            model = _model(model)
        message = f"{PREFIX}{worker}: {error}"
        with self._store.write(Changes(jobs=True)) as s:
            state = repo.fail(s, job_id, message, retry=not permanent)
        if state == "failed" and job.target and job.target.isdigit():
            self._mark(job.kind, int(job.target), model)

    def _give_up(self, job_id: int, kind: str, aid: int, error: str, model: str | None) -> None:
        with self._store.write(Changes(jobs=True)) as s:
            repo.fail(s, job_id, error, retry=False)
        self._mark(kind, aid, model)

    def _mark(self, kind: str, aid: int, model: str | None) -> None:
        """No catch-up queues the asset again for this task and model until it changes."""
        model = model or self.model(kind) or kind
        with self._store.write() as s:
            analysis.mark_unanalysable(s, aid, kind, model)

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
            self._remember_model(s, job.kind, _model(model))
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
        with self._store.write() as s:
            self._remember_model(s, job.kind, _model(model))
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


def _size(path: str | None) -> int | None:
    try:
        return Path(path).stat().st_size if path else None
    except OSError:
        return None


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
