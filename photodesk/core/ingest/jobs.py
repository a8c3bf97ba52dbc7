"""The built-in job kinds: import, metadata refresh, thumbnails (the pipeline's first stages)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from photodesk.core.catalog.db.schema import Asset, AssetFile
from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import ImportProgress
from photodesk.core.ingest.importer import DEFAULT_TEMPLATE
from photodesk.core.jobs.engine import JobContext, PermanentJobError, job

if TYPE_CHECKING:
    from photodesk.core.library import Library

# Stages that follow an import, per new asset; the library's attached ML models add
# "clip" and "faces" (``lib.ml.after_import()``).
AFTER_IMPORT: list[str] = []


@job("import", queue="import")
def import_files(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Import ``payload.paths``; metadata and derivatives are made inline (one read per file)."""
    p = ctx.payload

    def progress(pr: ImportProgress) -> None:
        ctx.check()
        ctx.progress(pr.done, pr.total)

    report = lib.importer.import_paths(
        p.get("paths", []),
        copy=bool(p.get("copy")),
        template=p.get("template") or DEFAULT_TEMPLATE,
        progress=progress,
        workers=p.get("_workers"),
    )
    if p.get("album") and report.asset_ids:
        lib.albums.add(lib.albums.ensure(str(p["album"])), report.asset_ids)
    with lib.read() as s:
        missing = set(
            s.scalars(
                select(Asset.id).where(
                    Asset.id.in_(report.asset_ids[:30000]),
                    Asset.has_thumbnail.is_(False),
                    Asset.kind != "raw",
                )
            )
        )
    for asset_id in report.asset_ids:
        if asset_id in missing:
            ctx.follow_up("thumbnails.generate", str(asset_id))
        for kind in (*AFTER_IMPORT, *lib.ml.after_import()):
            ctx.follow_up(kind, str(asset_id))
    return {**report.as_dict(), "asset_count": len(report.asset_ids)}


def _original(lib: Library, target: str | None) -> tuple[int, str, str]:
    if target is None or not target.isdigit():
        raise PermanentJobError(f"bad asset id {target!r}")
    with lib.read() as s:
        row = s.execute(
            select(Asset.id, Asset.checksum, AssetFile.path)
            .join(AssetFile, AssetFile.asset_id == Asset.id)
            .where(Asset.id == int(target), AssetFile.role == "original")
        ).first()
    if row is None:
        raise PermanentJobError(f"asset {target} is gone")
    if not os.path.exists(row[2]):
        raise PermanentJobError(f"the file of asset {target} is missing: {row[2]}")
    return int(row[0]), str(row[1]), str(row[2])


@job("metadata.refresh", queue="metadata")
def refresh_metadata(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Re-read a file's metadata (after an edit elsewhere); the user's own edits are kept."""
    from photodesk.core.media.formats import sniff_path
    from photodesk.core.media.metadata import read_metadata

    asset_id, _, path = _original(lib, ctx.target)
    try:
        fmt = sniff_path(Path(path))
        meta = read_metadata(Path(path), fmt)
    except (CorruptFile, UnsupportedFormat) as exc:
        raise PermanentJobError(str(exc)) from exc
    taken = meta.taken_at
    with lib.write(Changes(assets=frozenset({asset_id}))) as s:
        s.execute(
            update(Asset)
            .where(Asset.id == asset_id)
            .values(
                width=meta.width,
                height=meta.height,
                orientation=meta.orientation,
                duration=meta.duration,
                taken_at=taken,
                taken_offset=meta.taken_at_offset,
                taken_at_source=meta.taken_at_source,
                taken_month=taken.year * 100 + taken.month if taken else None,
                make=meta.make,
                model=meta.model,
                lens=meta.lens,
                iso=meta.iso,
                f_number=meta.f_number,
                exposure_time=meta.exposure_time,
                focal_length=meta.focal_length,
                latitude=meta.latitude,
                longitude=meta.longitude,
                altitude=meta.altitude,
                updated_at=datetime.now(),
            )
        )
    ctx.follow_up("thumbnails.generate", str(asset_id))
    return {"asset": asset_id}


@job("thumbnails.generate", queue="thumbnails")
def generate_thumbnails(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """Make the thumbnail and preview of an asset if they are missing (or ``payload.force``)."""
    asset_id, checksum, path = _original(lib, ctx.target)
    store = lib.thumbnails
    made = False
    if ctx.payload.get("force") or not store.has(checksum):
        with lib.read() as s:
            kind, ftype, orientation = s.execute(
                select(Asset.kind, Asset.file_type, Asset.orientation).where(Asset.id == asset_id)
            ).one()
        try:
            store.render(Path(path), checksum, ftype, kind, orientation)
        except (CorruptFile, UnsupportedFormat) as exc:
            raise PermanentJobError(str(exc)) from exc
        made = True
    with lib.write(Changes(assets=frozenset({asset_id}))) as s:
        s.execute(update(Asset).where(Asset.id == asset_id).values(has_thumbnail=True))
    return {"asset": asset_id, "rendered": made}


@job("maintenance.backup", queue="maintenance")
def backup_catalog(lib: Library, ctx: JobContext) -> dict[str, Any]:
    """The automatic catalog backup: at most one a day, and only if the catalog changed."""
    from photodesk.core.maintenance.check import backup_if_due

    made = backup_if_due(lib)
    return {"backup": str(made) if made else None}
