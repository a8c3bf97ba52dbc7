"""The ingest job handlers: import, upload analysis, metadata refresh, thumbnails (the
pipeline's first stages); registered in ``photodesk.core.handlers``."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import ImportProgress
from photodesk.core.ingest.columns import metadata_values
from photodesk.core.ingest.importer import DEFAULT_TEMPLATE
from photodesk.core.ingest.results import Failure
from photodesk.core.jobs.engine import JobContext, PermanentJobError
from photodesk.core.jobs.kinds import JobName
from photodesk.core.jobs.payloads import AssetPayload, ImportPayload

if TYPE_CHECKING:
    from photodesk.core.catalog.db.assets import Original
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.importer import Importer
    from photodesk.core.ingest.service import IngestService
    from photodesk.core.ingest.uploads import UploadService
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.organize.albums import AlbumService


def import_files(
    importer: Importer, ingest: IngestService, albums: AlbumService, ctx: JobContext
) -> dict[str, Any]:
    """Import ``payload.paths``; metadata and derivatives are made inline (one read per file).
    The follow-up jobs are queued when the job finishes, in the transaction that finishes it."""
    p = ImportPayload.of(ctx.payload)

    def progress(pr: ImportProgress) -> None:
        ctx.check()
        ctx.progress(pr.done, pr.total)

    report = importer.import_paths(
        list(p.paths),
        copy=p.copy,
        template=p.template or DEFAULT_TEMPLATE,
        progress=progress,
        workers=p._workers,
    )
    if p.album and report.asset_ids:
        albums.add(albums.ensure(p.album), report.asset_ids)
    for request in ingest.follow_ups(report.asset_ids):
        ctx.follow_up(request.kind, None if request.target is None else str(request.target))
    return {**report.as_dict(), "asset_count": len(report.asset_ids)}


def analyse_upload(
    store: Store, uploads: UploadService, ingest: IngestService, ctx: JobContext
) -> dict[str, Any]:
    """An upload admitted on the request path: read its metadata, render its thumbnail and
    preview (in the upload worker processes), link it to its storage-template path and write
    what was found; then its follow-up jobs (ML). A file that cannot be decoded leaves the
    catalog and the disk (as a refused upload always did), with an import error saying why."""
    original = _original(store, ctx.target)
    asset_id, path = original.asset_id, Path(original.path)
    pending = uploads.root in path.parents
    sidecar = Path(str(path) + ".xmp")
    result = uploads.analyse(path, sidecar if sidecar.is_file() else None, original.checksum)
    if isinstance(result, Failure):
        if result.error.startswith("cannot read"):
            raise OSError(result.error)  # the disk, not the file: retried
        if not pending:  # placed already (a retried job): never remove a stored original
            raise PermanentJobError(f"{path.name} cannot be analysed: {result.error}")
        # Named by content, so a client that sends it again does not add another error.
        ingest.refuse(
            asset_id, str(path.parent.with_name(original.checksum) / path.name), result.error
        )
        shutil.rmtree(path.parent, ignore_errors=True)
        raise PermanentJobError(f"{path.name} cannot be imported: {result.error}")
    placed = uploads.place(store.owner_id, result) if pending else result
    try:
        absorbed = ingest.complete(asset_id, placed)
    except BaseException:
        if placed is not result:
            for made in (placed.path, placed.sidecar):
                if made:
                    Path(made).unlink(missing_ok=True)
        raise
    if placed is not result:
        shutil.rmtree(path.parent, ignore_errors=True)  # the pending folder, now linked on
    if absorbed is None:  # deleted while it waited
        if placed is not result:
            for made in (placed.path, placed.sidecar):
                if made:
                    Path(made).unlink(missing_ok=True)
        return {"asset": asset_id, "gone": True}
    if asset_id not in absorbed:
        for request in ingest.follow_ups([asset_id]):
            ctx.follow_up(request.kind, None if request.target is None else str(request.target))
    return {"asset": asset_id, "path": placed.path, "live_video": asset_id in absorbed}


def _original(store: Store, target: str | None) -> Original:
    if target is None or not target.isdigit():
        raise PermanentJobError(f"bad asset id {target!r}")
    with store.read() as s:
        row = asset_repo.originals(s, [int(target)]).get(int(target))
    if row is None:
        raise PermanentJobError(f"asset {target} is gone")
    if not os.path.exists(row.path):
        raise PermanentJobError(f"the file of asset {target} is missing: {row.path}")
    return row


def refresh_metadata(store: Store, ctx: JobContext) -> dict[str, Any]:
    """Re-read a file's metadata (after an edit elsewhere); the user's own edits are kept."""
    from photodesk.core.media.formats import sniff_path
    from photodesk.core.media.metadata import read_metadata

    original = _original(store, ctx.target)
    asset_id, path = original.asset_id, original.path
    try:
        fmt = sniff_path(Path(path))
        meta = read_metadata(Path(path), fmt)
    except (CorruptFile, UnsupportedFormat) as exc:
        raise PermanentJobError(str(exc)) from exc
    with store.write(Changes(assets=frozenset({asset_id}))) as s:
        asset_repo.set_columns(s, asset_id, {**metadata_values(meta), "updated_at": datetime.now()})
    ctx.follow_up(JobName.THUMBNAILS, str(asset_id))
    return {"asset": asset_id}


def generate_thumbnails(
    store: Store, thumbnails: ThumbnailStore, ctx: JobContext
) -> dict[str, Any]:
    """Make the thumbnail and preview of an asset if they are missing (or ``payload.force``)."""
    src = _original(store, ctx.target)
    asset_id = src.asset_id
    made = False
    if AssetPayload.of(ctx.payload).force or not thumbnails.has(src.checksum):
        try:
            thumbnails.render(
                Path(src.path), src.checksum, src.file_type, src.kind, src.orientation
            )
        except (CorruptFile, UnsupportedFormat) as exc:
            raise PermanentJobError(str(exc)) from exc
        made = True
    with store.write(Changes(assets=frozenset({asset_id}))) as s:
        asset_repo.set_columns(s, asset_id, {"has_thumbnail": True})
    return {"asset": asset_id, "rendered": made}
