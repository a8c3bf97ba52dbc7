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
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_files as file_repo
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import import_errors, sync_log
from photodesk.core.catalog.db.bursts import stack_bursts
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
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.ingest.results import Analysis
    from photodesk.core.jobs.service import JobService
    from photodesk.core.media.mediatypes import FileFormat

    # The duplicate check: checksum -> the acting user's asset with that content.
    DuplicateCheck = Callable[[Session, Sequence[str]], dict[str, int]]

PROVISIONAL_DATE = "upload"  # taken_at_source of a date the client sent, until the file is read


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
        # a twin upload that won the race: the unique checksum says, the duplicate check names it
        asset_id, new = asset_repo.insert_unless_taken(
            s,
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
            lambda: duplicates(s, [a.checksum]).get(a.checksum),
        )
        if not new:
            return asset_id, False
        rows = [_file_row("original", a.path, a.checksum)]
        if a.sidecar is not None:
            rows.append(_file_row("sidecar", a.sidecar, None))
        file_repo.insert_rows(s, [{"asset_id": asset_id, **row} for row in rows])
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
        row = asset_repo.row(s, asset_id)
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
        file_repo.place_original(s, asset_id, a.path, st.st_size, st.st_mtime_ns)
        if a.sidecar is not None:
            file_repo.move_sidecar(s, asset_id, a.sidecar)
        asset_repo.set_columns(
            s,
            asset_id,
            {
                **columns,
                **kept,
                "xmp_state": xmp_state(a),
                "has_thumbnail": a.has_thumbnail,
                "updated_at": datetime.now(),
            },
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
        asset_repo.delete_with_files(s, asset_id)
        try:
            size: int | None = os.path.getsize(path)
        except OSError:
            size = None
        import_errors.replace(s, store.owner_id, path, error, size, None)
