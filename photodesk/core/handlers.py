"""Every job kind of the core, registered in one place: its queue, retries and handler.

A domain writes its handlers over the services it needs (``ingest.jobs``, ``people.jobs``,
``search.jobs``); this module binds each to the library acting for the job's user. A new job
kind: add its name to ``jobs/kinds.py``, its handler to its domain, and a line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from photodesk.core.ingest import jobs as ingest_jobs
from photodesk.core.jobs.engine import REGISTRY, JobContext, JobKind, JobRequest, register
from photodesk.core.jobs.kinds import JobName, Queue
from photodesk.core.maintenance.backups import backup_if_due
from photodesk.core.media.thumbnails.layout import flatten
from photodesk.core.organize import sidecars
from photodesk.core.people import jobs as people_jobs
from photodesk.core.search import jobs as search_jobs
from photodesk.core.sync import jobs as sync_jobs

if TYPE_CHECKING:
    from photodesk.core.library import Library

Result = dict[str, Any]
ML_TASKS = (JobName.CLIP, JobName.FACES)


def _import(lib: Library, ctx: JobContext) -> Result:
    return ingest_jobs.import_files(lib.importer, lib.ingest, lib.albums, ctx)


def _refresh_metadata(lib: Library, ctx: JobContext) -> Result:
    return ingest_jobs.refresh_metadata(lib.store, ctx)


def _upload_analysis(lib: Library, ctx: JobContext) -> Result:
    return ingest_jobs.analyse_upload(lib.store, lib.uploads, lib.ingest, ctx)


def _thumbnails(lib: Library, ctx: JobContext) -> Result:
    return ingest_jobs.generate_thumbnails(lib.store, lib.thumbnails, ctx)


def _thumbnails_layout(lib: Library, ctx: JobContext) -> Result:
    return flatten(lib.thumbnails, ctx.check, ctx.progress).as_dict()


def _backup(lib: Library, ctx: JobContext) -> Result:
    """The automatic catalog backup: at most one a day, and only if the catalog changed."""
    made = backup_if_due(lib.store)
    return {"backup": str(made) if made else None}


def _clip(lib: Library, ctx: JobContext) -> Result:
    return search_jobs.embed_clip(lib.store, lib.thumbnails, lib.ml, ctx)


def _faces(lib: Library, ctx: JobContext) -> Result:
    return people_jobs.detect_faces(lib.store, lib.thumbnails, lib.ml, lib.people, ctx)


def _cluster(lib: Library, ctx: JobContext) -> Result:
    return people_jobs.cluster_faces(lib.store, lib.ml, ctx)


def _xmp_write(lib: Library, ctx: JobContext) -> Result:
    return sidecars.write_xmp(lib.store, lib.thumbnails, ctx)


def _xmp_read(lib: Library, ctx: JobContext) -> Result:
    return sidecars.read_xmp(lib.store, ctx)


def _sync_round(lib: Library, ctx: JobContext) -> Result:
    return sync_jobs.sync_round(lib, ctx)


def _assist(lib: Library, ctx: JobContext) -> Result:
    return sync_jobs.assist_server(lib, ctx)


def _catch_up(lib: Library, ctx: JobContext) -> Result:
    """Queue ``clip`` and ``faces`` jobs for every user's photos that the attached models (or,
    on a server leaving ML to remote workers, the workers' models) have not analysed yet:
    photos imported before the models were installed or the workers came, or by an older model."""
    if not lib.ml.attached and not lib.ml.remote:
        return {"queued": {}}
    queued: dict[str, int] = {}
    users = [u.id for u in lib.accounts.list_users()] or [lib.owner_id]
    for task in lib.ml.after_import():
        ctx.check()
        queued[task] = sum(queue_missing(lib.for_user(uid), task) for uid in users)
    if lib.smart is not None:
        lib.smart.warm()  # load the search index now, not on the first search as the user types
    return {"queued": queued}


def _model_of(lib: Library, task: str, for_workers: bool) -> tuple[bool, str | None]:
    """(whether the task can be queued, the model to check against: None is any model).
    The attached model; else, for a task left to remote workers, the model they last
    reported (any, until one has)."""
    if task not in (JobName.CLIP, JobName.FACES):
        raise ValueError(task)
    if not for_workers and lib.ml.attached:
        model = lib.ml.image() if task == JobName.CLIP else lib.ml.faces()
        if model is not None:
            return True, model.model_name
    if for_workers or task in lib.ml.remote:
        return True, lib.workers.model(task)
    return False, None


def lacking(
    lib: Library, task: str, *, retry_failed: bool = False, for_workers: bool = False
) -> list[int]:
    """The acting user's assets that the ``clip`` or ``faces`` task has not done with the
    attached model (``for_workers``, or no model here but the task is left to remote workers:
    with the workers' model); empty when there is none. Photos it could not analyse are left
    out until they change, unless ``retry_failed``."""
    usable, model = _model_of(lib, task, for_workers)
    if not usable:
        return []
    if task == JobName.CLIP:
        return search_jobs.lacking_clip(lib.store, model, retry_failed=retry_failed)
    return people_jobs.lacking_faces(lib.store, model, retry_failed=retry_failed)


def queue_missing(
    lib: Library, task: str, *, retry_failed: bool = False, for_workers: bool = False
) -> int:
    """Queue a ``clip`` or ``faces`` job for every asset of the acting user that lacks one;
    returns how many were queued (``retry_failed``: also those it could not analyse before;
    ``for_workers``: lacking the remote workers' model, whatever is attached here)."""
    waiting = set(lib.jobs.active_targets(task))  # one query, not one per asset
    found = lacking(lib, task, retry_failed=retry_failed, for_workers=for_workers)
    ids = [i for i in found if str(i) not in waiting]
    for start in range(0, len(ids), 2000):
        lib.jobs.enqueue_many(
            (JobRequest(task, aid) for aid in ids[start : start + 2000]), dedupe=False
        )
    return len(ids)


KINDS = (
    JobKind(JobName.IMPORT, Queue.IMPORT, _import),
    JobKind(JobName.METADATA_REFRESH, Queue.METADATA, _refresh_metadata),
    JobKind(JobName.THUMBNAILS, Queue.THUMBNAILS, _thumbnails),
    JobKind(JobName.UPLOAD_ANALYSIS, Queue.METADATA, _upload_analysis),
    JobKind(JobName.THUMBNAILS_LAYOUT, Queue.MAINTENANCE, _thumbnails_layout),
    JobKind(JobName.BACKUP, Queue.MAINTENANCE, _backup),
    JobKind(JobName.CLIP, Queue.CLIP, _clip),
    JobKind(JobName.FACES, Queue.FACES, _faces),
    JobKind(JobName.FACES_CLUSTER, Queue.CLUSTER, _cluster),
    JobKind(JobName.ML_CATCH_UP, Queue.MAINTENANCE, _catch_up),
    JobKind(JobName.XMP_WRITE, Queue.METADATA, _xmp_write),
    JobKind(JobName.XMP_READ, Queue.METADATA, _xmp_read),
    JobKind(JobName.SYNC_ROUND, Queue.SYNC, _sync_round, max_attempts=1),
    JobKind(JobName.ASSIST_SERVER, Queue.ASSIST, _assist, max_attempts=1),
)


def register_job_kinds() -> None:
    """Register the core's job kinds (idempotent; ``Library`` calls it)."""
    for kind in KINDS:
        if REGISTRY.get(kind.name) is not kind:
            register(kind)
