"""The ``clip`` job: smart-search embeddings of photos (and a few frames of each video)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photodesk.core.catalog.db import analysis, vectors
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import jobs as jobs_repo
from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.jobs.engine import JobContext, PermanentJobError
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.payloads import AssetPayload

if TYPE_CHECKING:
    from photodesk.core.catalog.db.assets import Original
    from photodesk.core.catalog.store import Store
    from photodesk.core.inference.models import MLModels
    from photodesk.core.media.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)

BATCH = 32  # photos per embedding call (a clip job also takes waiting jobs' photos)
VIDEO_FRAMES = (0.15, 0.5, 0.85)  # where in a video to take the frames that are mean-pooled
FRAME_SIDE = 640
CLIP_HELP = "no smart-search (CLIP) model: run `photodesk models download ViT-B-32__openai`"


def asset_id_of(target: str | None) -> int:
    """A job's target as an asset id; a permanent failure when it is not one."""
    if target is None or not target.isdigit():
        raise PermanentJobError(f"bad asset id {target!r}")
    return int(target)


def preview_of(thumbnails: ThumbnailStore, src: Original) -> Path:
    """The asset's 1440 px preview JPEG, rendered now if it is missing."""
    path = thumbnails.preview_path(src.checksum)
    if not path.is_file():
        try:
            thumbnails.render(
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


def embed_clip(
    store: Store, thumbnails: ThumbnailStore, ml: MLModels, ctx: JobContext
) -> dict[str, Any]:
    """Embed a photo for smart search, with up to BATCH-1 photos of other waiting clip jobs
    (those jobs then find their photo done and finish at once)."""
    target = asset_id_of(ctx.target)
    embedder = ml.image_if_attached()
    if embedder is None:
        raise PermanentJobError(CLIP_HELP)
    model = embedder.model_name
    with store.read() as s:
        waiting = jobs_repo.queued_targets(s, JobName.CLIP, besides=ctx.job_id, limit=4 * BATCH)
        ids = list(dict.fromkeys([target, *(int(t) for t in waiting if t and t.isdigit())]))
        done = vectors.embedded(s, model, ids)
    if target in done and not AssetPayload.of(ctx.payload).force:
        return {"asset": target, "skipped": True}
    todo = [i for i in ids if i not in done or i == target][:BATCH]
    with store.read() as s:
        sources = asset_repo.originals(s, todo, store.owner_id, trashed=False)
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
                    files = [preview_of(thumbnails, src)]
                except PermanentJobError:
                    if aid == target:
                        with store.write() as s:
                            analysis.mark_unanalysable(s, aid, JobName.CLIP, model)
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
    with store.write() as s:
        vectors.save(s, model, rows)
    return {"asset": target, "embedded": len(rows), "model": model}


def lacking_clip(store: Store, model: str | None, *, retry_failed: bool = False) -> list[int]:
    """The acting user's assets (not trashed) without an embedding of ``model`` (None: of any
    model; a server whose workers have not said which they run). Those it could not analyse
    are left out unless they changed since or ``retry_failed``."""
    with store.read() as s:
        done = set(vectors.embedded_all(s, model))
        if not retry_failed:
            done |= analysis.given_up(s, JobName.CLIP, model)
        return [i for i in asset_repo.untrashed_ids(s, store.owner_id) if i not in done]
