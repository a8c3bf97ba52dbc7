"""The ``faces`` (detection) and ``faces.cluster`` (grouping into people) jobs."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import analysis, settings
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import jobs as jobs_repo
from photodesk.core.jobs.engine import JobContext, PermanentJobError
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.payloads import AssetPayload, ClusterPayload
from photodesk.core.people import faces as face_store
from photodesk.core.search.jobs import asset_id_of, preview_of

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.inference.models import MLModels
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.people.service import PeopleService

log = logging.getLogger(__name__)

ROUND_KEY = "faces.cluster_round"
CLUSTER_SETTLE = 20.0  # seconds a clustering run waits for queued face detection
FACES_HELP = (
    "no face model: pip install 'photodesk[faces]' (or `photodesk models download buffalo_l`)"
)


def detect_faces(
    store: Store,
    thumbnails: ThumbnailStore,
    ml: MLModels,
    people: PeopleService,
    ctx: JobContext,
) -> dict[str, Any]:
    """Find the faces on a photo's preview, store them, then queue clustering."""
    aid = asset_id_of(ctx.target)
    analyzer = ml.faces_if_attached()
    if analyzer is None:
        raise PermanentJobError(FACES_HELP)
    model = analyzer.model_name
    with store.read() as s:
        last = analysis.result(s, aid, JobName.FACES)
        done = last is not None and last[0] == model and last[1] != analysis.UNANALYSABLE
        if done and not AssetPayload.of(ctx.payload).force:
            return {"asset": aid, "skipped": True}
        src = asset_repo.originals(s, [aid], store.owner_id, trashed=False).get(aid)
    if src is None:
        raise PermanentJobError(f"asset {aid} is gone")
    try:
        preview = preview_of(thumbnails, src)
        ctx.check()
        try:
            found = analyzer.analyze(str(preview))
        except (OSError, ValueError) as exc:
            raise PermanentJobError(f"cannot analyse asset {aid}: {exc}") from exc
    except PermanentJobError:
        with store.write() as s:  # marked once: the catch-up does not queue it again
            analysis.mark_unanalysable(s, aid, JobName.FACES, model)
        raise
    ctx.check()
    ids = face_store.store_faces(store, aid, model, found)
    for face_id in ids:
        try:
            people.face_crop(face_id)  # the face thumbnail, cached for the people view
        except Exception as exc:  # a thumbnail is a nicety; the face is stored
            log.info("no crop for face %s: %s", face_id, exc)
    # The round changes when a clustering run starts: faces stored after it began queue a new
    # run instead of being merged into the running one (which may not have seen them).
    ctx.follow_up(JobName.FACES_CLUSTER, None, ClusterPayload(round=_round(store)).as_dict())
    return {"asset": aid, "faces": len(ids), "model": model}


def _let_detection_catch_up(store: Store, ctx: JobContext) -> None:
    """While face detection is still working through a batch, wait a little before clustering,
    so a big import clusters every ``CLUSTER_SETTLE`` seconds instead of after every photo."""
    deadline = time.monotonic() + CLUSTER_SETTLE
    while time.monotonic() < deadline:
        with store.read() as s:
            if not jobs_repo.any_queued(s, JobName.FACES):
                return
        ctx.check()
        time.sleep(0.5)


def _round(store: Store, *, advance: bool = False) -> int:
    with store.write() if advance else store.read() as s:
        stored = settings.get(s, ROUND_KEY)
        value = stored if isinstance(stored, int) else 0
        if advance:
            value += 1
            settings.put(s, ROUND_KEY, value)
        return value


def cluster_faces(store: Store, ml: MLModels, ctx: JobContext) -> dict[str, Any]:
    """Group unplaced faces into people (incremental); ``payload.full`` re-clusters."""
    _round(store, advance=True)
    full = ClusterPayload.of(ctx.payload).full
    if not full:
        _let_detection_catch_up(store, ctx)
    analyzer = ml.faces_if_attached()
    report = face_store.recluster(store, analyzer) if full else face_store.cluster(store, analyzer)
    return {
        "model": report.model,
        "faces": report.faces,
        "placed": report.placed,
        "new_people": report.new_people,
        "waiting": report.waiting,
    }


def lacking_faces(store: Store, model: str | None, *, retry_failed: bool = False) -> list[int]:
    """The acting user's assets (not trashed) not yet searched for faces with ``model`` (None:
    with any model). Those it could not analyse are left out unless they changed since or
    ``retry_failed``."""
    with store.read() as s:
        done = analysis.analysed(s, JobName.FACES, model)
        if not retry_failed:
            done |= analysis.given_up(s, JobName.FACES, model)
        return [i for i in asset_repo.untrashed_ids(s, store.owner_id) if i not in done]
