"""Brings the catalog in line with files on disk: restore, move by content, import, sidecars."""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

from photodesk.core.catalog.types import ImportFailure, ImportReport
from photodesk.core.ingest.files import CatalogFile, FileService, WatchedFolder, norm
from photodesk.core.ingest.results import sha1_file
from photodesk.core.ingest.scanner import SIDECAR_EXT, scan
from photodesk.core.ingest.watch.fs import is_inside

ImportFn = Callable[[list[str], bool], ImportReport]


@dataclass(frozen=True)
class SyncResult:
    """What one batch (or rescan) did to the catalog."""

    imported: int = 0
    relinked: int = 0  # the importer found a moved file by its checksum
    moved: int = 0  # files and folders re-pointed without re-reading them
    restored: int = 0  # missing files that came back
    missing: int = 0
    duplicates: int = 0
    sidecars: int = 0
    unchanged: int = 0
    failed: tuple[ImportFailure, ...] = field(default=(), repr=False)

    def __add__(self, other: SyncResult) -> SyncResult:
        values = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "failed"
        }
        return SyncResult(**values, failed=self.failed + other.failed)

    def summary(self) -> str:
        parts = [
            f"{f.name} {getattr(self, f.name)}"
            for f in fields(self)
            if f.name not in ("failed", "unchanged") and getattr(self, f.name)
        ]
        if self.failed:
            parts.append(f"failed {len(self.failed)}")
        return ", ".join(parts) or "nothing new"


def is_sidecar(path: str) -> bool:
    return path.lower().endswith(SIDECAR_EXT)


class FolderSync:
    """Applies settled files and rescans to the catalog; runs on the watcher's worker thread."""

    def __init__(
        self,
        files: FileService,
        import_fn: ImportFn,
        library_roots: tuple[str, ...],
        sidecars_changed: Callable[[list[str]], int] | None = None,
    ) -> None:
        self._files = files
        self._import = import_fn
        self._library_roots = library_roots
        # known sidecars whose size or mtime changed: re-read them (lib.xmp.sidecars_changed)
        self._sidecars_changed = sidecars_changed

    def apply(self, paths: Sequence[str], *, copy: bool) -> SyncResult:
        """Bring these files (complete, on disk) into the catalog.

        Order matters: files back at their old path are restored first, then files whose content
        matches a missing catalog file are re-pointed, then the rest is imported in ONE call, so
        RAW + JPEG + XMP arriving together are stacked together.
        """
        stats: dict[str, os.stat_result] = {}
        for p in dict.fromkeys(norm(p) for p in paths):
            try:
                st = os.stat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                stats[p] = st
        if not stats:
            return SyncResult()
        known = self._files.lookup(stats)
        unchanged = 0
        todo: list[str] = []
        back: list[str] = []
        edited: list[str] = []
        for p, st in stats.items():
            row = known.get(p)
            if row is None:
                todo.append(p)
            elif row.missing:
                back.append(p)
            elif (st.st_size, st.st_mtime_ns) == (row.size, row.mtime_ns):
                unchanged += 1
            elif row.role == "sidecar":
                edited.append(p)
            else:
                todo.append(p)  # changed in place: the importer updates the same asset
        if edited and self._sidecars_changed is not None:
            self._sidecars_changed(edited)
        unchanged += len(edited)
        restored = self._files.restore(back).files if back else 0
        if back:
            still = self._files.lookup(back)
            todo += [p for p in back if p in still and still[p].missing and not is_sidecar(p)]
        moved = self._pair_moves([p for p in todo if p not in known], stats)
        media = [p for p in todo if p not in moved and not is_sidecar(p)]
        result = SyncResult(restored=restored, moved=len(moved), unchanged=unchanged)
        if media:
            report = self._import(media + self._sidecars_next_to(media), copy)
            result += SyncResult(
                imported=report.imported,
                relinked=report.relinked,
                duplicates=report.duplicates,
                sidecars=report.sidecars,
                unchanged=report.unchanged,
                failed=report.failed,
            )
        xmps = [p for p in stats if is_sidecar(p) and p not in known]
        attached = 0
        if xmps:
            have = self._files.lookup(xmps)
            for x in xmps:
                if x not in have:
                    attached += self._files.attach_sidecar(x).files
        return result + SyncResult(sidecars=attached)

    def _pair_moves(self, unknown: list[str], stats: dict[str, os.stat_result]) -> set[str]:
        """Re-point missing files that turn up elsewhere (same size, mtime and SHA-1).

        Polling and network file systems often report a move as a delete plus a create; this keeps
        the asset and its Live Photo video or copy-source rows without re-importing anything.
        """
        keyed = {p: (stats[p].st_size, stats[p].st_mtime_ns) for p in unknown if not is_sidecar(p)}
        if not keyed:
            return set()
        wanted = set(keyed.values())
        candidates: dict[tuple[int, int], list[CatalogFile]] = defaultdict(list)
        for c in self._files.moved_from(wanted):
            if c.checksum and (c.size, c.mtime_ns) in wanted:
                candidates[(c.size, c.mtime_ns)].append(c)
        moves: list[tuple[str, str]] = []
        used: set[str] = set()
        for p, key in keyed.items():
            options = [c for c in candidates.get(key, ()) if c.path not in used]
            if not options:
                continue
            try:
                digest = sha1_file(p)
            except OSError:
                continue
            # Prefer the candidate with the same name (a case-only rename, a moved folder).
            name = os.path.basename(p).lower()
            options.sort(key=lambda c: os.path.basename(c.path).lower() != name)
            match = next((c for c in options if c.checksum == digest), None)
            if match is not None:
                moves.append((match.path, p))
                used.add(match.path)
        if moves:
            self._files.relocate_many(moves)
        return {new for _, new in moves}

    @staticmethod
    def _sidecars_next_to(media: list[str]) -> list[str]:
        """XMP files beside ``media`` (``a.jpg.xmp`` or ``a.xmp``, any case), for the importer."""
        by_folder: dict[str, list[str]] = defaultdict(list)
        for p in media:
            by_folder[os.path.dirname(p)].append(os.path.basename(p).lower())
        out: list[str] = []
        for folder, names in by_folder.items():
            try:
                with os.scandir(folder) as it:
                    xmps = {e.name.lower(): e.path for e in it if is_sidecar(e.name)}
            except OSError:
                continue
            for name in names:
                for key in (name + SIDECAR_EXT, os.path.splitext(name)[0] + SIDECAR_EXT):
                    if key in xmps:
                        out.append(xmps[key])
        return list(dict.fromkeys(out))

    def rescan(self, folder: WatchedFolder) -> tuple[SyncResult, list[tuple[str, int, int]]]:
        """Catch up with what happened while nothing watched.

        Files gone from the disk are flagged missing now; new, changed and returning files are
        returned as (path, size, mtime_ns) for the caller to settle and ``apply`` in batches (a
        moved file is then re-pointed, as its old path is missing by then).
        """
        root = folder.path
        found = scan([root])
        present: dict[str, tuple[int, int]] = {f.path: (f.size, f.mtime_ns) for f in found.media}
        for side in found.sidecars.values():
            try:
                st = os.stat(side)
            except OSError:
                continue
            present[side] = (st.st_size, st.st_mtime_ns)
        present = {
            p: st
            for p, st in present.items()
            if not any(is_inside(p, lib) for lib in self._library_roots)
        }
        gone = self._files.missing_under(root, present)
        rows = {r.path: r for r in self._files.files_under(root)}
        todo = []
        for p, (size, mtime) in present.items():
            row = rows.get(p)
            if row is None or row.missing or (row.size, row.mtime_ns) != (size, mtime):
                todo.append((p, size, mtime))
        self._files.mark_scanned(folder.id)
        return SyncResult(missing=gone.files), todo
