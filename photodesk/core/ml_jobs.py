"""ML job kinds: ``clip`` (smart-search embeddings), ``faces`` (detection), ``faces.cluster``."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from photodesk.core.catalog.db import vectors
from photodesk.core.catalog.db.schema import Asset, AssetAnalysis, AssetFile, Job, Setting
from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.jobs.engine import JobContext, PermanentJobError, job
from photodesk.core.people import faces as face_store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from photodesk.core.library import Library

log = logging.getLogger(__name__)

BATCH = 32  # photos per embedding call (a clip job also takes waiting jobs' photos)
VIDEO_FRAMES = (0.15, 0.5, 0.85)  # where in a video to take the frames that are mean-pooled
FRAME_SIDE = 640
ROUND_KEY = "faces.cluster_round"
CLUSTER_SETTLE = 20.0  # seconds a clustering run waits for queued face detection
CLIP_HELP = "no smart-search (CLIP) model: run `photodesk models download ViT-B-32__openai`"
FACES_HELP = (
    "no face model: pip install 'photodesk[faces]' (or `photodesk models download buffalo_l`)"
)
# AssetAnalysis.found of a photo a task cannot analyse (a RAW without a preview, a damaged file):
# the catch-up does not queue it again until its content changes or the user asks
# (`photodesk index --retry-failed`); the reason is its failed job's error.
UNANALYSABLE = -1


@dataclass(frozen=True)
class _Source:
    asset_id: int
    checksum: str
    kind: str
    file_type: str
    orientation: int | None
    path: str


def _asset_id(target: str | None) -> int:
    if target is None or not target.isdigit():
        raise PermanentJobError(f"bad asset id {target!r}")
    return int(target)


def _sources(lib: Library, ids: list[int]) -> dict[int, _Source]:
    with lib.read() as s:
        rows = s.execute(
            select(
                Asset.id,
                Asset.checksum,
                Asset.kind,
                Asset.file_type,
                Asset.orientation,
                AssetFile.path,
            )
            .join(AssetFile, AssetFile.asset_id == Asset.id)
            .where(
                Asset.id.in_(ids),
                Asset.owner_id == lib.owner_id,
                AssetFile.role == "original",
                Asset.trashed_at.is_(None),
            )
        ).all()
    return {int(r[0]): _Source(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows}


def preview_of(lib: Library, src: _Source) -> Path:
    """The asset's 1440 px preview JPEG, rendered now if it is missing."""
    path = lib.thumbnails.preview_path(src.checksum)
    if not path.is_file():
        try:
            lib.thumbnails.render(
                Path(src.path), src.checksum, src.file_type, src.kind, src.orientation
            )
        except (CorruptFile, UnsupportedFormat, OSError) as exc:
            raise PermanentJobError(f"no preview for asset {src.asset_id}: {exc}") from exc
    return path


def video_frames(path: str, folder: Path, stem: str) -> list[Path]:
    """A few frames of a video as JPEGs in ``folder`` (empty when it cannot be decoded)."""
    import av

    out: list[Path] = []
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / 1_000_000  # av.time_base
            for n, at in enumerate(VIDEO_FRAMES):
                if duration > 0:
                    container.seek(int(at * duration * 1_000_000), any_frame=False)
                frame = next(container.decode(stream), None)
                if frame is None:
                    continue
                img = frame.to_image()
                img.thumbnail((FRAME_SIDE, FRAME_SIDE))
                dest = folder / f"{stem}-{n}.jpg"
                img.save(dest, "JPEG", quality=90)
                out.append(dest)
                if duration <= 0:
                    break
    except (av.error.FFmpegError, OSError, IndexError, StopIteration) as exc:
        log.info("no frames from %s: %s", path, exc)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


@job("clip", queue="clip")
def embed_clip(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Embed a photo for smart search, with up to BATCH-1 photos of other waiting clip jobs
    (those jobs then find their photo done and finish at once)."""
    target = _asset_id(ctx.target)
    embedder = lib.ml.image() if lib.ml.attached else None
    if embedder is None:
        raise PermanentJobError(CLIP_HELP)
    model = embedder.model_name
    with lib.read() as s:
        waiting = s.scalars(
            select(Job.target)
            .where(Job.kind == "clip", Job.state == "queued", Job.id != ctx.job_id)
            .order_by(Job.priority.desc(), Job.id)
            .limit(4 * BATCH)
        )
        ids = list(dict.fromkeys([target, *(int(t) for t in waiting if t and t.isdigit())]))
        done = vectors.embedded(s, model, ids)
    if target in done and not ctx.payload.get("force"):
        return {"asset": target, "skipped": True}
    todo = [i for i in ids if i not in done or i == target][:BATCH]
    sources = _sources(lib, todo)
    if target not in sources:
        raise PermanentJobError(f"asset {target} is gone")
    with tempfile.TemporaryDirectory(prefix="photodesk-clip-") as tmp:
        images: list[str] = []
        owners: list[int] = []
        for aid in todo:
            ctx.check()
            src = sources.get(aid)
            if src is None:
                continue
            files: list[Path] = []
            if src.kind == "video":
                files = video_frames(src.path, Path(tmp), str(aid))
            if not files:
                try:
                    files = [preview_of(lib, src)]
                except PermanentJobError:
                    if aid == target:
                        _mark_unanalysable(lib, aid, "clip", model)
                        raise
                    continue
            images += [str(f) for f in files]
            owners += [aid] * len(files)
        ctx.check()
        try:
            vecs = np.asarray(embedder.embed_images(images), dtype=np.float32)
        except Exception:
            if len(set(owners)) == 1:
                raise
            # one bad image must not fail the photos batched with it: embed just the target
            keep = [i for i, o in enumerate(owners) if o == target]
            images, owners = [images[i] for i in keep], [target] * len(keep)
            vecs = np.asarray(embedder.embed_images(images), dtype=np.float32)
    rows = []
    for aid in dict.fromkeys(owners):
        mine = vecs[[i for i, o in enumerate(owners) if o == aid]]
        rows.append((aid, _unit(mine.mean(axis=0))))
    ctx.check()
    with lib.write() as s:
        vectors.save(s, model, rows)
    return {"asset": target, "embedded": len(rows), "model": model}


@job("faces", queue="faces")
def detect_faces(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Find the faces on a photo's preview, store them, then queue clustering."""
    aid = _asset_id(ctx.target)
    analyzer = lib.ml.faces() if lib.ml.attached else None
    if analyzer is None:
        raise PermanentJobError(FACES_HELP)
    model = analyzer.model_name
    with lib.read() as s:
        row = s.get(AssetAnalysis, (aid, "faces"))
        done = row is not None and row.model == model and row.found != UNANALYSABLE
        if done and not ctx.payload.get("force"):
            return {"asset": aid, "skipped": True}
    src = _sources(lib, [aid]).get(aid)
    if src is None:
        raise PermanentJobError(f"asset {aid} is gone")
    try:
        preview = preview_of(lib, src)
        ctx.check()
        try:
            found = analyzer.analyze(str(preview))
        except (OSError, ValueError) as exc:
            raise PermanentJobError(f"cannot analyse asset {aid}: {exc}") from exc
    except PermanentJobError:
        _mark_unanalysable(lib, aid, "faces", model)
        raise
    ctx.check()
    ids = face_store.store_faces(lib, aid, model, found)
    for face_id in ids:
        try:
            lib.people.face_crop(face_id)  # the face thumbnail, cached for the people view
        except Exception as exc:  # a thumbnail is a nicety; the face is stored
            log.info("no crop for face %s: %s", face_id, exc)
    # The round changes when a clustering run starts: faces stored after it began queue a new
    # run instead of being merged into the running one (which may not have seen them).
    ctx.follow_up("faces.cluster", None, {"round": _round(lib)})
    return {"asset": aid, "faces": len(ids), "model": model}


def _let_detection_catch_up(lib: Library, ctx: JobContext) -> None:
    """While face detection is still working through a batch, wait a little before clustering,
    so a big import clusters every ``CLUSTER_SETTLE`` seconds instead of after every photo."""
    import time

    deadline = time.monotonic() + CLUSTER_SETTLE
    while time.monotonic() < deadline:
        with lib.read() as s:
            busy = s.scalar(
                select(Job.id).where(Job.kind == "faces", Job.state == "queued").limit(1)
            )
        if busy is None:
            return
        ctx.check()
        time.sleep(0.5)


def _round(lib: Library, *, advance: bool = False) -> int:
    with lib.write() if advance else lib.read() as s:
        row = s.get(Setting, ROUND_KEY)
        value = int(row.value) if row is not None and isinstance(row.value, int) else 0
        if advance:
            value += 1
            s.merge(Setting(key=ROUND_KEY, value=value))
        return value


@job("faces.cluster", queue="cluster")
def cluster_faces(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Group unplaced faces into people (incremental); ``payload.full`` re-clusters."""
    _round(lib, advance=True)
    full = bool(ctx.payload.get("full"))
    if not full:
        _let_detection_catch_up(lib, ctx)
    report = face_store.recluster(lib) if full else face_store.cluster(lib)
    return {
        "model": report.model,
        "faces": report.faces,
        "placed": report.placed,
        "new_people": report.new_people,
        "waiting": report.waiting,
    }


def _mark_unanalysable(lib: Library, aid: int, task: str, model: str) -> None:
    with lib.write() as s:
        if s.get(Asset, aid) is not None:
            s.merge(
                AssetAnalysis(
                    asset_id=aid, task=task, model=model, found=UNANALYSABLE, done_at=datetime.now()
                )
            )


def _given_up(s: Session, task: str, model: str) -> set[int]:
    """Assets the task could not analyse with this model and that have not changed since."""
    return set(
        s.scalars(
            select(AssetAnalysis.asset_id)
            .join(Asset, Asset.id == AssetAnalysis.asset_id)
            .where(
                AssetAnalysis.task == task,
                AssetAnalysis.model == model,
                AssetAnalysis.found == UNANALYSABLE,
                Asset.updated_at <= AssetAnalysis.done_at,
            )
        )
    )


def lacking(lib: Library, task: str, *, retry_failed: bool = False) -> list[int]:
    """Assets (not trashed) that the ``clip`` or ``faces`` task has not done with the attached
    model; empty when that model is not attached. Those it could not analyse are left out
    unless they changed since or ``retry_failed``."""
    if task == "clip":
        embedder = lib.ml.image() if lib.ml.attached else None
        if embedder is None:
            return []
        with lib.read() as s:
            done = set(vectors.embedded_all(s, embedder.model_name))
            if not retry_failed:
                done |= _given_up(s, "clip", embedder.model_name)
            mine = s.scalars(
                select(Asset.id).where(Asset.owner_id == lib.owner_id, Asset.trashed_at.is_(None))
            )
            return [i for i in mine if i not in done]
    if task == "faces":
        analyzer = lib.ml.faces() if lib.ml.attached else None
        if analyzer is None:
            return []
        with lib.read() as s:
            done = set(
                s.scalars(
                    select(AssetAnalysis.asset_id).where(
                        AssetAnalysis.task == "faces",
                        AssetAnalysis.model == analyzer.model_name,
                        AssetAnalysis.found != UNANALYSABLE,
                    )
                )
            )
            if not retry_failed:
                done |= _given_up(s, "faces", analyzer.model_name)
            mine = s.scalars(
                select(Asset.id).where(Asset.owner_id == lib.owner_id, Asset.trashed_at.is_(None))
            )
            return [i for i in mine if i not in done]
    raise ValueError(task)


def queue_missing(lib: Library, task: str, *, retry_failed: bool = False) -> int:
    """Queue a ``clip`` or ``faces`` job for every asset that lacks one; returns how many
    (``retry_failed``: also those it could not analyse before)."""
    from photodesk.core.catalog.db import jobs as jobs_repo
    from photodesk.core.catalog.events import Changes
    from photodesk.core.jobs.engine import REGISTRY

    spec = REGISTRY[task]
    with lib.read() as s:  # one query for what is already waiting, not one per asset
        waiting = set(
            s.scalars(
                select(Job.target).where(Job.kind == task, Job.state.in_(jobs_repo.ACTIVE))
            )
        )
    ids = [i for i in lacking(lib, task, retry_failed=retry_failed) if str(i) not in waiting]
    for start in range(0, len(ids), 2000):
        with lib.write(Changes(jobs=True)) as s:
            for aid in ids[start : start + 2000]:
                jobs_repo.enqueue(
                    s,
                    kind=task,
                    queue=spec.queue,
                    target=str(aid),
                    payload=None,
                    owner_id=lib.owner_id,
                    max_attempts=spec.max_attempts,
                    dedupe=False,
                )
    return len(ids)


@job("ml.catch-up", queue="maintenance")
def catch_up(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Queue ``clip`` and ``faces`` jobs for every user's photos that the attached models have
    not analysed yet: photos imported before the models were installed, or by an older model."""
    if not lib.ml.attached:
        return {"queued": {}}
    queued: dict[str, int] = {}
    users = [u.id for u in lib.accounts.list_users()] or [lib.owner_id]
    for task in lib.ml.after_import():
        ctx.check()
        queued[task] = sum(queue_missing(lib.for_user(uid), task) for uid in users)
    if lib.smart is not None:
        lib.smart.warm()  # load the search index now, not on the first search as the user types
    return {"queued": queued}
