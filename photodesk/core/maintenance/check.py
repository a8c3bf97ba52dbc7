"""Library integrity: catalog checks, missing or changed files, crash leftovers, and backups."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import file_checks as repo
from photodesk.core.catalog.db.integrity import dangling_keys, unreadable_or_damaged
from photodesk.core.catalog.events import Changes
from photodesk.core.ingest.results import sha1_file
from photodesk.core.maintenance.backups import (
    DEFAULT_KEEP,
    backup_catalog,
    backup_if_due,
    backups_dir,
    integrity_problems,
    list_backups,
)
from photodesk.core.maintenance.leftovers import find_leftovers, remove_files

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_KEEP",
    "CheckReport",
    "FileIssue",
    "backup_catalog",
    "backup_if_due",
    "backups_dir",
    "check",
    "integrity_problems",
    "list_backups",
]

log = logging.getLogger(__name__)

# Files younger than this may belong to an import that is running right now (derivatives are
# rendered and copies made before their catalog rows commit): they are neither reported nor removed.
DEFAULT_GRACE = timedelta(minutes=10)

Progress = Callable[[int, int], None]  # (files done, files in all)


@dataclass(frozen=True)
class FileIssue:
    """A catalogued file that is not as the catalog says."""

    asset_id: int
    path: str
    role: str  # original, sidecar, live_video, duplicate
    detail: str


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found (and, with ``fix``, did); paths are absolute."""

    integrity: tuple[str, ...] = ()  # PRAGMA integrity_check messages; empty when "ok"
    foreign_keys: tuple[str, ...] = ()  # PRAGMA foreign_key_check rows
    files_checked: int = 0
    missing: tuple[FileIssue, ...] = ()
    changed: tuple[FileIssue, ...] = ()  # size or modification time differ from the catalog
    checksum_mismatches: tuple[FileIssue, ...] = ()  # only with verify_checksums
    reappeared: tuple[FileIssue, ...] = ()  # marked missing, but back on disk
    orphan_derivatives: tuple[str, ...] = ()  # thumbnails/previews of content no asset has
    temp_files: tuple[str, ...] = ()  # left by a crash in originals/, thumbs/, previews/, backups/
    untracked_copies: tuple[str, ...] = ()  # files in originals/ that no asset references
    assets_without_original: tuple[int, ...] = ()
    verified_checksums: bool = False
    fixed: bool = False
    removed: tuple[str, ...] = ()  # files deleted by fix (only derivatives and temp files)
    marked_missing: int = 0  # file rows newly marked missing by fix
    marked_offline: tuple[int, ...] = ()  # assets newly marked offline by fix
    back_online: tuple[int, ...] = ()  # assets whose original came back, unmarked by fix

    @property
    def catalog_ok(self) -> bool:
        return not self.integrity and not self.foreign_keys

    @property
    def ok(self) -> bool:
        """Nothing at all was found."""
        return not any(
            (
                self.integrity,
                self.foreign_keys,
                self.missing,
                self.changed,
                self.checksum_mismatches,
                self.reappeared,
                self.orphan_derivatives,
                self.temp_files,
                self.untracked_copies,
                self.assets_without_original,
            )
        )

    def unresolved(self) -> int:
        """How many findings still need someone (``fix`` handles leftovers and missing marks)."""
        n = len(self.integrity) + len(self.foreign_keys) + len(self.changed)
        n += len(self.checksum_mismatches) + len(self.untracked_copies)
        n += len(self.assets_without_original)
        leftovers = set(self.orphan_derivatives) | set(self.temp_files)
        if self.fixed:
            return n + len(leftovers - set(self.removed))
        return n + len(leftovers) + len(self.missing) + len(self.reappeared)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "unresolved": self.unresolved()}


@dataclass
class _Files:
    missing: list[FileIssue]
    changed: list[FileIssue]
    mismatches: list[FileIssue]
    reappeared: list[FileIssue]
    to_mark: list[tuple[int, str]]  # (file id, path)
    to_unmark: list[tuple[int, str]]
    offline: set[int]  # assets whose original is missing
    online: set[int]  # assets whose original is on disk
    checked: int


def check(
    store: Store,
    *,
    verify_checksums: bool = False,
    fix: bool = False,
    progress: Progress | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> CheckReport:
    """Check the catalog and the library's files; with ``fix``, repair what is safe to repair.

    Fixing removes orphan derivatives and temp files older than ``grace`` and marks missing
    files (``asset_files.missing``; ``assets.offline`` when the original is gone), or unmarks
    them when they are back. It never deletes a user's photo or an asset's catalog rows. A
    damaged catalog is only reported (restore a backup): nothing else is looked at or changed.
    """
    with store.read() as s:
        integrity = unreadable_or_damaged(s) or ["ok"]
        if integrity != ["ok"]:
            return CheckReport(integrity=tuple(integrity), verified_checksums=verify_checksums)
        foreign_keys = dangling_keys(s)
        rows = repo.files(s)
        offline = repo.offline_flags(s)
        known = repo.known_checksums(s)
        without_original = repo.without_original(s)
    files = _check_files(rows, verify_checksums, progress)
    cutoff = time.time() - grace.total_seconds()
    left = find_leftovers(store, known, {r.path for r in rows}, cutoff)
    report = CheckReport(
        integrity=(),
        foreign_keys=tuple(foreign_keys),
        files_checked=files.checked,
        missing=tuple(files.missing),
        changed=tuple(files.changed),
        checksum_mismatches=tuple(files.mismatches),
        reappeared=tuple(files.reappeared),
        orphan_derivatives=tuple(left.orphan_derivatives),
        temp_files=tuple(left.temp_files),
        untracked_copies=tuple(left.untracked_copies),
        assets_without_original=tuple(without_original),
        verified_checksums=verify_checksums,
    )
    if not fix:
        return report
    # An import may have claimed old derivatives since (it reuses them by checksum): look again.
    with store.read() as s:
        still = repo.known_checksums(s)
    orphans = [p for p in left.orphan_derivatives if Path(p).name[:-4] not in still]
    removed = remove_files(store, [*orphans, *left.temp_files])
    newly_offline = sorted(a for a in files.offline if not offline.get(a))
    back_online = sorted(a for a in files.online - files.offline if offline.get(a))
    marked = _write_marks(store, files, newly_offline, back_online)
    return replace(
        report,
        orphan_derivatives=tuple(orphans),
        fixed=True,
        removed=tuple(removed),
        marked_missing=marked,
        marked_offline=tuple(newly_offline),
        back_online=tuple(back_online),
    )


def _check_files(rows: Sequence[Any], verify: bool, progress: Progress | None) -> _Files:
    out = _Files([], [], [], [], [], [], set(), set(), 0)
    # "source" rows remember where a copy came from (a memory card): it may go away, that's fine.
    todo = [r for r in rows if r.role != "source"]
    for done, r in enumerate(todo, 1):
        try:
            st = os.stat(r.path)
        except OSError as exc:
            reason = "missing" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
            out.missing.append(FileIssue(r.asset_id, r.path, r.role, reason))
            if not r.missing:
                out.to_mark.append((r.id, r.path))
            if r.role == "original":
                out.offline.add(r.asset_id)
        else:
            if r.missing:
                out.reappeared.append(FileIssue(r.asset_id, r.path, r.role, "back on disk"))
                out.to_unmark.append((r.id, r.path))
            if r.role == "original":
                out.online.add(r.asset_id)
            if st.st_size != r.size:
                detail = f"size {r.size} -> {st.st_size}"
                out.changed.append(FileIssue(r.asset_id, r.path, r.role, detail))
            elif st.st_mtime_ns != r.mtime_ns:
                out.changed.append(FileIssue(r.asset_id, r.path, r.role, "modified"))
            if verify and r.checksum:
                try:
                    digest = sha1_file(r.path)
                except OSError as exc:
                    digest = f"unreadable ({exc.strerror or exc})"
                if digest != r.checksum:
                    detail = f"SHA-1 {digest}, catalog says {r.checksum}"
                    out.mismatches.append(FileIssue(r.asset_id, r.path, r.role, detail))
        out.checked = done
        if progress is not None:
            progress(done, len(todo))
    return out


def _write_marks(
    store: Store, files: _Files, newly_offline: list[int], back_online: list[int]
) -> int:
    """Record missing and returned files; rows changed meanwhile (moved, relinked) are left be."""
    if not (files.to_mark or files.to_unmark or newly_offline or back_online):
        return 0
    marked = 0
    changed = frozenset(newly_offline) | frozenset(back_online)
    with store.write(Changes(assets=changed)) as s:
        for file_id, path in files.to_mark:
            if os.path.lexists(path):  # back since we looked
                continue
            marked += repo.mark_missing(s, file_id, path, True)
        for file_id, path in files.to_unmark:
            if os.path.exists(path):
                repo.mark_missing(s, file_id, path, False)
        if newly_offline:
            repo.set_offline(s, newly_offline, True)
        if back_online:
            repo.set_offline(s, back_online, False)
    return marked
