"""``IngestService``: the one way new files enter the catalog.

The importer (folders given by the user, and the watcher, which imports through it) analyses
files in worker processes and ``submit``s the results: one batched write through the single
writer. Uploads (the server: Immich, WebDAV, tus, the upload page, inboxes) are ``admit``ted on
the request path without being decoded: a minimal row and a queued ``upload.analyse`` job, whose
handler analyses the file off the request path and ``complete``s the row. Either way one
duplicate check (``duplicates``) decides what is new, and the follow-up jobs of the new assets
(``follow_ups``: missing thumbnails, then the attached models' stages) are queued in one
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.ingest import admission
from photodesk.core.ingest.writer import ImportWriter, ReportBuilder
from photodesk.core.jobs.engine import JobRequest
from photodesk.core.jobs.kinds import JobName

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.inference.models import MLModels
    from photodesk.core.ingest.results import Analysis, Failure
    from photodesk.core.jobs.service import JobService
    from photodesk.core.organize.sidecars import XmpService


class IngestService:
    """New files of the acting user, from any source, into the catalog."""

    def __init__(self, store: Store, jobs: JobService, ml: MLModels, xmp: XmpService) -> None:
        self._store = store
        self._jobs = jobs
        self._ml = ml
        self._xmp = xmp

    def duplicates(self, session: Session, checksums: Sequence[str]) -> dict[str, int]:
        """The duplicate check, in the caller's transaction: checksum (SHA-1 hex) -> the acting
        user's asset with that content, for those present. A Live Photo video absorbed by its
        still counts as present (as the still). Every way in runs it once per file or batch."""
        return asset_repo.by_checksum(session, self._store.owner_id, sorted(set(checksums)))

    def existing(self, checksums: Sequence[str]) -> dict[str, int]:
        """``duplicates`` in a read of its own (Immich's bulk-upload-check, its checksum
        header)."""
        with self._store.read() as s:
            return self.duplicates(s, checksums)

    def admit(self, upload: admission.Admission) -> tuple[int, bool]:
        """An upload, on the request path: its minimal row and its ``upload.analyse`` job in
        one transaction, after the duplicate check (unless ``upload.checked``). Returns the
        asset and whether it is new."""
        return admission.admit(self._store, self._jobs, self.duplicates, upload)

    def complete(self, asset_id: int, analysed: Analysis) -> list[int] | None:
        """What the analysis of an admitted upload found, written (the ``upload.analyse`` job).
        Returns the Live Photo videos absorbed by pairing; None if the asset was deleted."""
        return admission.complete(self._store, asset_id, analysed)

    def refuse(self, asset_id: int, path: str, error: str) -> None:
        """An admitted upload that cannot be decoded: it leaves the catalog, with the reason."""
        admission.refuse(self._store, asset_id, path, error)

    def submit(
        self,
        results: list[Analysis | Failure],
        report: ReportBuilder,
        *,
        copy: bool,
        template: str,
    ) -> None:
        """Write a batch of analysed files in one transaction (``report`` counts the outcome)."""
        ImportWriter(
            self._store, report, copy=copy, template=template, duplicates=self.duplicates
        ).write_batch(results)

    def sidecars_changed(self, paths: list[str]) -> int:
        """Known XMP sidecars whose size or mtime changed (the importer, the watcher): queue a
        read-back of those another app wrote; returns how many."""
        return self._xmp.sidecars_changed(paths)

    def follow_ups(self, asset_ids: Sequence[int]) -> list[JobRequest]:
        """The jobs that follow an import of ``asset_ids``: missing thumbnails (RAW files have
        theirs from the import), then the stages of the attached ML models (``clip``,
        ``faces``)."""
        if not asset_ids:
            return []
        with self._store.read() as s:
            missing = asset_repo.lacking_thumbnails(s, list(asset_ids))
        stages = self._ml.after_import()
        out: list[JobRequest] = []
        for asset_id in asset_ids:
            if asset_id in missing:
                out.append(JobRequest(JobName.THUMBNAILS, str(asset_id)))
            out += [JobRequest(kind, str(asset_id)) for kind in stages]
        return out

    def queue_follow_ups(self, asset_ids: Sequence[int]) -> None:
        """Queue ``follow_ups(asset_ids)`` for the acting user, in one transaction."""
        todo = self.follow_ups(asset_ids)
        if todo:
            self._jobs.enqueue_many(todo)
