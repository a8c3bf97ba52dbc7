"""Writes import results to the catalog: dedup, relink, copies, tags, places, stacks."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_files as file_repo
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import import_errors
from photodesk.core.catalog.db.bursts import stack_bursts
from photodesk.core.catalog.db.stacks import group_folders
from photodesk.core.catalog.pathcase import ExactNames
from photodesk.core.catalog.store import SQLAlchemyError
from photodesk.core.catalog.types import AssetId, ImportFailure, ImportReport
from photodesk.core.ingest.columns import (
    asset_values,
    attach_details,
    geocode,
    user_values,
    xmp_state,
)
from photodesk.core.ingest.results import Analysis, Failure, sha1_file
from photodesk.core.ingest.storage import copy_exclusive, expand_template

if TYPE_CHECKING:
    from collections.abc import Callable

    from photodesk.core.catalog.store import Session, Store

    # The duplicate check: the checksums of ``sums`` the acting user holds -> their assets.
    DuplicateCheck = Callable[[Session, Sequence[str]], dict[str, int]]

log = logging.getLogger(__name__)


@dataclass
class ReportBuilder:
    scanned: int = 0
    imported: int = 0
    duplicates: int = 0
    unchanged: int = 0
    relinked: int = 0
    sidecars: int = 0
    copied: int = 0
    failed: list[ImportFailure] = field(default_factory=list)
    warnings: list[ImportFailure] = field(default_factory=list)
    asset_ids: list[AssetId] = field(default_factory=list)

    def build(self) -> ImportReport:
        return ImportReport(
            scanned=self.scanned,
            imported=self.imported,
            duplicates=self.duplicates,
            unchanged=self.unchanged,
            relinked=self.relinked,
            sidecars=self.sidecars,
            copied=self.copied,
            failed=tuple(self.failed),
            warnings=tuple(self.warnings),
            asset_ids=tuple(self.asset_ids),
        )


class ImportWriter:
    """Applies analysed files to the catalog in batches, through the library's single writer."""

    def __init__(
        self,
        store: Store,
        report: ReportBuilder,
        *,
        copy: bool,
        template: str,
        duplicates: DuplicateCheck | None = None,
    ) -> None:
        self._store = store
        # the ingest service's one duplicate check (checksum -> asset), run once per batch
        self._duplicates = duplicates or (
            lambda s, sums: asset_repo.by_checksum(s, store.owner_id, sums)
        )
        self._report = report
        self._copy = copy
        self._template = template
        self._folders: set[str] = set()

    def write_batch(self, results: list[Analysis | Failure]) -> None:
        copied: list[str] = []
        geo: list[tuple[int, float, float]] = []
        imported_before = len(self._report.asset_ids)
        counts = (
            self._report.imported,
            self._report.duplicates,
            self._report.unchanged,
            self._report.relinked,
            self._report.sidecars,
            len(self._report.failed),
            len(self._report.warnings),
            self._report.copied,
        )
        self._folders = set()
        absorbed: list[int] = []
        try:
            with self._store.write() as session:
                self._prefetch(session, results)
                for result in results:
                    if isinstance(result, Failure):
                        self._fail(session, result)
                        continue
                    mark = len(copied), len(geo), len(self._report.asset_ids)
                    try:
                        # Only copies can fail half-way; referencing needs no savepoint.
                        with session.begin_nested() if self._copy else nullcontext():
                            self._apply(session, result, copied, geo)
                    except OSError as exc:  # e.g. the disk filled up while copying
                        for path in copied[mark[0] :]:
                            Path(path).unlink(missing_ok=True)
                        del copied[mark[0] :], geo[mark[1] :]
                        if len(self._report.asset_ids) > mark[2]:
                            del self._report.asset_ids[mark[2] :]
                            self._report.imported -= 1
                        reason = f"cannot copy into the library: {exc.strerror or exc}"
                        self._fail(
                            session, Failure(result.path, result.size, result.mtime_ns, reason)
                        )
                geocode(session, geo)
                # Stacks and Live Photos are made in the same transaction as their assets, so a
                # crash can never leave a committed RAW + JPEG pair unstacked.
                if self._folders:
                    absorbed = group_folders(session, self._store.owner_id, self._folders)
                    stack_bursts(session, self._store.owner_id, self._folders)
        except (SQLAlchemyError, OSError) as exc:
            # Nothing of this batch is in the catalog: remove copies made for it and say why.
            for path in copied:
                Path(path).unlink(missing_ok=True)
            rep = self._report
            del rep.asset_ids[imported_before:]
            (rep.imported, rep.duplicates, rep.unchanged, rep.relinked, rep.sidecars) = counts[:5]
            rep.copied = counts[7]
            del rep.failed[counts[5] :]
            del rep.warnings[counts[6] :]
            reason = f"catalog write failed: {getattr(exc, 'orig', None) or exc}"
            log.error("%s", reason)
            rep.failed.extend(ImportFailure(r.path, reason) for r in results)
            return
        for vid in absorbed:  # a Live Photo video now belongs to its photo
            if AssetId(vid) in self._report.asset_ids:
                self._report.asset_ids.remove(AssetId(vid))
                self._report.imported -= 1

    def _prefetch(self, s: Session, results: list[Analysis | Failure]) -> None:
        """One query each for what the batch may collide with, instead of several per file."""
        paths = [r.path for r in results]
        sums = [r.checksum for r in results if isinstance(r, Analysis)]
        self._known_paths: set[str] = file_repo.present_paths(s, paths)
        self._known_sums: set[str] = set()
        import_errors.clear(s, paths)  # the batch tries them again
        if sums:
            self._known_sums.update(self._duplicates(s, sums))

    def _fail(self, session: Session, f: Failure) -> None:
        self._report.failed.append(ImportFailure(f.path, f.error))
        import_errors.record(session, self._store.owner_id, f.path, f.error, f.size, f.mtime_ns)

    def _apply(
        self, s: Session, a: Analysis, copied: list[str], geo: list[tuple[int, float, float]]
    ) -> None:
        owner = self._store.owner_id
        rep = self._report
        for w in a.warnings:
            rep.warnings.append(ImportFailure(a.path, w))
        if a.path not in self._known_paths and a.checksum not in self._known_sums:
            self._insert(s, a, copied, geo)
            return
        here = file_repo.row_at(s, a.path)
        if here is not None:
            if (
                here.checksum == a.checksum
                and here.role == "original"
                and self._copy
                and not self._inside_originals(a.path)
            ):
                # Imported in place before, now with --copy: the library takes its own copy and
                # no longer depends on the file where it was (which stays untouched).
                here.path = copy_exclusive(
                    a.path,
                    self._store.originals_dir,
                    expand_template(self._template, a),
                    checksum=a.checksum,
                    referenced=lambda p: self._referenced(s, p),
                )
                copied.append(here.path)
                here.size, here.mtime_ns, here.missing = a.size, a.mtime_ns, False
                rep.copied += 1
                return
            if here.checksum == a.checksum:  # touched, not changed
                here.size, here.mtime_ns, here.missing = a.size, a.mtime_ns, False
                asset_repo.set_columns(s, here.asset_id, {"offline": False})
                rep.unchanged += 1
                return
            # edited in place: same asset, new content (unless the new content is another asset)
            if here.role == "original" and asset_repo.with_checksum(s, owner, a.checksum) is None:
                here.size, here.mtime_ns, here.checksum, here.missing = (
                    a.size,
                    a.mtime_ns,
                    a.checksum,
                    False,
                )
                asset_repo.set_columns(
                    s,
                    here.asset_id,
                    {
                        **asset_values(a),
                        "checksum": a.checksum,
                        "has_thumbnail": a.has_thumbnail,
                        "offline": False,
                        "updated_at": datetime.now(),
                    },
                )
                rep.imported += 1
                rep.asset_ids.append(AssetId(here.asset_id))
                return
            file_repo.drop_row(s, here)
        same = asset_repo.row_with_checksum(s, owner, a.checksum)
        if same is not None:
            original = file_repo.original_row(s, same.id)
            if original is None or not ExactNames().exists(original.path):
                # The file moved (or was renamed): keep the asset and all that hangs on it.
                file_repo.relink_original(s, same, original, a.path, a.size, a.mtime_ns, a.checksum)
                rep.relinked += 1
                rep.asset_ids.append(AssetId(same.id))
            else:
                file_repo.add_duplicate(s, same.id, a.path, a.size, a.mtime_ns, a.checksum)
                rep.duplicates += 1
            return
        self._insert(s, a, copied, geo)

    def _insert(
        self, s: Session, a: Analysis, copied: list[str], geo: list[tuple[int, float, float]]
    ) -> None:
        """A new asset: Core inserts (``assets.insert_row``, ``asset_files.insert_rows``)."""
        owner = self._store.owner_id
        rep = self._report
        path = a.path
        if self._copy and not self._inside_originals(a.path):
            path = copy_exclusive(
                a.path,
                self._store.originals_dir,
                expand_template(self._template, a),
                checksum=a.checksum,
                referenced=lambda p: self._referenced(s, p),
            )
            copied.append(path)
        now = datetime.now()
        asset_id = asset_repo.insert_row(
            s,
            {
                "owner_id": owner,
                "checksum": a.checksum,
                "created_at": now,
                "updated_at": now,
                "has_thumbnail": a.has_thumbnail,
                "rating": 0,
                "favorite": False,
                "archived": False,
                "offline": False,
                **asset_values(a),
                **user_values(a),
                "xmp_state": xmp_state(a),
            },
        )
        self._known_sums.add(a.checksum)
        st = os.stat(path)
        rows = [
            {
                "role": "original",
                "path": path,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "checksum": a.checksum,
                "copied": path != a.path,
            }
        ]
        if path != a.path:  # remember where a copy came from, so re-runs skip it unread
            rows.append(
                {
                    "role": "source",
                    "path": a.path,
                    "size": a.size,
                    "mtime_ns": a.mtime_ns,
                    "checksum": a.checksum,
                    "copied": False,
                }
            )
        if a.sidecar:
            side = a.sidecar
            if path != a.path:
                side = copy_exclusive(
                    a.sidecar,
                    Path(path).parent,
                    Path(path).name + ".xmp",
                    checksum=sha1_file(a.sidecar),
                    referenced=lambda p: self._referenced(s, p),
                )
                copied.append(side)
            if not file_repo.has_path(s, side):
                sst = os.stat(side)
                rows.append(
                    {
                        "role": "sidecar",
                        "path": side,
                        "size": sst.st_size,
                        "mtime_ns": sst.st_mtime_ns,
                        "checksum": None,
                        "copied": False,
                    }
                )
                rep.sidecars += 1
        file_repo.insert_rows(s, [{"asset_id": asset_id, "missing": False, **row} for row in rows])
        attach_details(s, owner, asset_id, a, geo)
        self._folders.add(os.path.dirname(path))
        rep.imported += 1
        rep.asset_ids.append(AssetId(asset_id))

    @staticmethod
    def _referenced(s: Session, path: str) -> bool:
        return file_repo.has_path(s, path)

    def _inside_originals(self, path: str) -> bool:
        return path.startswith(str(self._store.originals_dir) + os.sep)
