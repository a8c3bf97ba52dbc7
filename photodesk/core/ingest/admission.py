"""Uploads admitted before they are analysed: the minimal catalog row an upload request writes,
and what the upload-analysis job writes once it has read the file.

On the request path an upload costs one duplicate check and one short transaction: the asset's
row (checksum, format from the file's first bytes, size, the client's date), its file (still in
the staging area's ``pending/`` folder) and an ``upload.analyse`` job, so the client can put the
asset into albums at once. The job reads the metadata, renders the derivatives (in worker
processes), moves the file to its storage-template path and ``complete``s the row; a file that
cannot be decoded is ``refuse``d: its row and its bytes go and an import error names it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import sync_log
from photodesk.core.catalog.db.bursts import stack_bursts
from photodesk.core.catalog.db.schema import Asset, AssetFile, ImportError_
from photodesk.core.catalog.db.stacks import group_folders
from photodesk.core.catalog.events import Changes
from photodesk.core.ingest.columns import (
    asset_values,
    attach_details,
    geocode,
    user_values,
    xmp_state,
)
from photodesk.core.jobs.engine import JobRequest
from photodesk.core.jobs.kinds import JobName

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.results import Analysis
    from photodesk.core.jobs.service import JobService
    from photodesk.core.media.mediatypes import FileFormat

ASSETS = cast(Table, Asset.__table__)
FILES = cast(Table, AssetFile.__table__)
PROVISIONAL_DATE = "upload"  # taken_at_source of a date the client sent, until the file is read

DuplicateCheck = Callable[[Session, Sequence[str]], dict[str, int]]


@dataclass(frozen=True)
class Admission:
    """A received, fsynced upload waiting in ``path`` (and ``sidecar``) to become an asset."""

    path: Path
    sidecar: Path | None
    checksum: str  # SHA-1 hex, computed over the bytes received
    size: int
    mtime_ns: int
    format: FileFormat  # from the first bytes only
    taken_at: datetime | None  # the client's date for the file, until its metadata is read
    checked: bool = False  # the duplicate check already ran for this checksum (header route)


def admit(
    store: Store, jobs: JobService, duplicates: DuplicateCheck, a: Admission
) -> tuple[int, bool]:
    """Write ``a``'s asset row and queue its analysis, in one transaction; returns the asset
    and whether it is new (False: the acting user holds that content already)."""
    with store.write(Changes(jobs=True)) as s:
        if not a.checked:
            found = duplicates(s, [a.checksum]).get(a.checksum)
            if found is not None:
                return found, False
        taken = a.taken_at.replace(tzinfo=None) if a.taken_at else None
        if a.taken_at is not None and a.taken_at.tzinfo is not None:
            taken = a.taken_at.astimezone().replace(tzinfo=None)  # local wall-clock time
        now = datetime.now()
        try:
            with s.begin_nested():  # a twin upload that won the race: the unique checksum says
                asset_id = s.execute(
                    insert(ASSETS).returning(ASSETS.c.id),
                    {
                        "owner_id": store.owner_id,
                        "checksum": a.checksum,
                        "created_at": now,
                        "updated_at": now,
                        "has_thumbnail": False,
                        "rating": 0,
                        "favorite": False,
                        "archived": False,
                        "offline": False,
                        "kind": a.format.kind,
                        "file_type": a.format.file_type,
                        "mime": a.format.mime,
                        "size": a.size,
                        "taken_at": taken,
                        "taken_at_source": PROVISIONAL_DATE if taken else None,
                        "taken_month": taken.year * 100 + taken.month if taken else None,
                    },
                ).scalar_one()
        except IntegrityError:
            found = duplicates(s, [a.checksum]).get(a.checksum)
            if found is None:
                raise
            return found, False
        rows = [_file_row("original", a.path, a.checksum)]
        if a.sidecar is not None:
            rows.append(_file_row("sidecar", a.sidecar, None))
        s.execute(insert(FILES), [{"asset_id": asset_id, **row} for row in rows])
        jobs.enqueue_many([JobRequest(JobName.UPLOAD_ANALYSIS, str(asset_id))], session=s)
    store.events.publish(Changes(assets=frozenset({asset_id}), assets_added=True))
    return int(asset_id), True


def _file_row(role: str, path: Path, checksum: str | None) -> dict[str, object]:
    st = os.stat(path)
    return {
        "role": role,
        "path": str(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "checksum": checksum,
        "copied": False,
        "missing": False,
    }


def complete(store: Store, asset_id: int, a: Analysis) -> list[int] | None:
    """Write what the analysis of an admitted asset found (``a.path``: where its file now is);
    pairs and stacks it with its folder's assets. Returns the Live Photo videos absorbed (the
    asset itself, if it was one), None if the asset is gone (deleted meanwhile)."""
    owner = store.owner_id
    geo: list[tuple[int, float, float]] = []
    folder = os.path.dirname(a.path)
    with store.write(Changes(assets=frozenset({asset_id}))) as s:
        row = s.get(Asset, asset_id)
        if row is None:
            return None
        # what the client set since the upload (a rating, a title) wins over the file's own,
        # and so does every field a device pushed or someone edited (it has a sync clock)
        edited = sync_log.edited_columns(s, asset_id)
        found = user_values(a)
        mine = {"rating": row.rating == 0, "title": row.title is None}
        mine["description"] = row.description is None
        kept = {k: v for k, v in found.items() if mine.get(k, True) and k not in edited}
        columns = {k: v for k, v in asset_values(a).items() if k not in edited}
        if row.taken_at_source == "user":  # a date set (or synced from a desktop) since upload
            for key in ("taken_at", "taken_offset", "taken_month", "taken_at_source"):
                columns.pop(key, None)
        since = sync_log.journal_head(s)
        st = os.stat(a.path)
        s.execute(
            update(AssetFile)
            .where(AssetFile.asset_id == asset_id, AssetFile.role == "original")
            .values(path=a.path, size=st.st_size, mtime_ns=st.st_mtime_ns, missing=False)
        )
        if a.sidecar is not None:
            s.execute(
                update(AssetFile)
                .where(AssetFile.asset_id == asset_id, AssetFile.role == "sidecar")
                .values(path=a.sidecar)
            )
        s.execute(
            update(Asset)
            .where(Asset.id == asset_id)
            .values(
                **columns,
                **kept,
                xmp_state=xmp_state(a),
                has_thumbnail=a.has_thumbnail,
                updated_at=datetime.now(),
            )
        )
        attach_details(s, owner, asset_id, a, geo)
        if "latitude" not in edited:
            geocode(s, geo)
        sync_log.mark_file_values(s, row.owner_id, asset_id, since)
        absorbed = group_folders(s, owner, {folder})
        stack_bursts(s, owner, {folder})
    return absorbed


def refuse(store: Store, asset_id: int, path: str, error: str) -> None:
    """An admitted upload that cannot be imported: its row goes (with its album places) and an
    import error names the file (``path``)."""
    with store.write(Changes(assets=frozenset({asset_id}), assets_removed=True)) as s:
        s.execute(delete(AssetFile).where(AssetFile.asset_id == asset_id))
        s.execute(delete(Asset).where(Asset.id == asset_id))
        s.execute(delete(ImportError_).where(ImportError_.path == path))
        try:
            size: int | None = os.path.getsize(path)
        except OSError:
            size = None
        s.execute(
            insert(ImportError_).values(
                owner_id=store.owner_id,
                path=path,
                error=error,
                size=size,
                mtime_ns=None,
                created_at=datetime.now(),
            )
        )


def pending_paths(s: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` (files in the staging area's ``pending/`` folders) the catalog holds."""
    found: set[str] = set()
    for i in range(0, len(paths), 500):
        found.update(
            s.scalars(select(AssetFile.path).where(AssetFile.path.in_(paths[i : i + 500])))
        )
    return found
