"""Writes import results to the catalog: dedup, relink, copies, tags, places, stacks."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db.bursts import stack_bursts
from photodesk.core.catalog.db.schema import Asset, AssetFile, ImportError_
from photodesk.core.catalog.db.stacks import group_folders
from photodesk.core.catalog.pathcase import ExactNames
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

    from photodesk.core.catalog.store import Store

    # The duplicate check: the checksums of ``sums`` the acting user holds -> their assets.
    DuplicateCheck = Callable[[Session, Sequence[str]], dict[str, int]]

log = logging.getLogger(__name__)

ASSETS = cast(Table, Asset.__table__)
FILES = cast(Table, AssetFile.__table__)
# Above this many scanned files, reading every known path at once is cheaper than lookups.
KNOWN_LOOKUP_LIMIT = 5000


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


def known_files(session: Session, paths: Sequence[str] | None = None) -> dict[str, tuple[int, int]]:
    """The size and mtime each media path had when imported; only ``paths`` when given.

    Looking up just the scanned paths keeps a small import into a big library from reading every
    row (and from holding the GIL long enough to stall the desktop's GUI thread).
    """
    base = select(AssetFile.path, AssetFile.size, AssetFile.mtime_ns).where(
        AssetFile.role != "sidecar", AssetFile.missing.is_(False)
    )
    if paths is None or len(paths) > KNOWN_LOOKUP_LIMIT:
        rows = session.execute(base)
        return {path: (size, mtime) for path, size, mtime in rows}
    found: dict[str, tuple[int, int]] = {}
    for start in range(0, len(paths), 900):
        chunk = paths[start : start + 900]
        for path, size, mtime in session.execute(base.where(AssetFile.path.in_(chunk))):
            found[path] = (size, mtime)
    return found


def referenced_in_place(session: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` the library references where they are (imported without --copy)."""
    found: set[str] = set()
    for start in range(0, len(paths), 900):
        found.update(
            session.scalars(
                select(AssetFile.path).where(
                    AssetFile.path.in_(paths[start : start + 900]), AssetFile.role == "original"
                )
            )
        )
    return found


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
        self._known_paths: set[str] = set()
        self._known_sums: set[str] = set()
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            self._known_paths.update(
                s.scalars(select(AssetFile.path).where(AssetFile.path.in_(chunk)))
            )
            s.execute(delete(ImportError_).where(ImportError_.path.in_(chunk)))
        if sums:
            self._known_sums.update(self._duplicates(s, sums))

    def _fail(self, session: Session, f: Failure) -> None:
        self._report.failed.append(ImportFailure(f.path, f.error))
        session.execute(
            insert(ImportError_).values(
                owner_id=self._store.owner_id,
                path=f.path,
                error=f.error,
                size=f.size,
                mtime_ns=f.mtime_ns,
                created_at=datetime.now(),
            )
        )

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
        here = s.scalars(select(AssetFile).where(AssetFile.path == a.path)).first()
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
                s.execute(update(Asset).where(Asset.id == here.asset_id).values(offline=False))
                rep.unchanged += 1
                return
            if here.role == "original":  # edited in place: same asset, new content
                clash = s.scalar(
                    select(Asset.id).where(Asset.owner_id == owner, Asset.checksum == a.checksum)
                )
                if clash is None:
                    here.size, here.mtime_ns, here.checksum, here.missing = (
                        a.size,
                        a.mtime_ns,
                        a.checksum,
                        False,
                    )
                    s.execute(
                        update(Asset)
                        .where(Asset.id == here.asset_id)
                        .values(
                            **asset_values(a),
                            checksum=a.checksum,
                            has_thumbnail=a.has_thumbnail,
                            offline=False,
                            updated_at=datetime.now(),
                        )
                    )
                    rep.imported += 1
                    rep.asset_ids.append(AssetId(here.asset_id))
                    return
            s.delete(here)
            s.flush()
        same = s.scalars(
            select(Asset).where(Asset.owner_id == owner, Asset.checksum == a.checksum)
        ).first()
        if same is not None:
            original = s.scalars(
                select(AssetFile).where(AssetFile.asset_id == same.id, AssetFile.role == "original")
            ).first()
            if original is None or not ExactNames().exists(original.path):
                # The file moved (or was renamed): keep the asset and all that hangs on it.
                if original is None:
                    original = AssetFile(asset_id=same.id, role="original", checksum=a.checksum)
                    s.add(original)
                original.path, original.size, original.mtime_ns = a.path, a.size, a.mtime_ns
                original.missing, original.copied = False, False
                same.offline = False
                rep.relinked += 1
                rep.asset_ids.append(AssetId(same.id))
            else:
                s.add(
                    AssetFile(
                        asset_id=same.id,
                        role="duplicate",
                        path=a.path,
                        size=a.size,
                        mtime_ns=a.mtime_ns,
                        checksum=a.checksum,
                    )
                )
                rep.duplicates += 1
            return
        self._insert(s, a, copied, geo)

    def _insert(
        self, s: Session, a: Analysis, copied: list[str], geo: list[tuple[int, float, float]]
    ) -> None:
        """A new asset: Core inserts (the ORM unit of work is several times slower in bulk)."""
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
        asset_id = s.execute(
            insert(ASSETS).returning(ASSETS.c.id),
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
        ).scalar_one()
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
            if s.scalar(select(AssetFile.id).where(AssetFile.path == side)) is None:
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
        s.execute(
            insert(FILES),
            [{"asset_id": asset_id, "missing": False, **row} for row in rows],
        )
        attach_details(s, owner, asset_id, a, geo)
        self._folders.add(os.path.dirname(path))
        rep.imported += 1
        rep.asset_ids.append(AssetId(asset_id))

    @staticmethod
    def _referenced(s: Session, path: str) -> bool:
        return s.scalar(select(AssetFile.id).where(AssetFile.path == path)) is not None

    def _inside_originals(self, path: str) -> bool:
        return path.startswith(str(self._store.originals_dir) + os.sep)
