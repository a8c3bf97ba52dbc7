"""File service: catalog operations on files (moves, missing and returning files, watch list)."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_files
from photodesk.core.catalog.db import watched as watched_rows
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.pathcase import ExactNames
from photodesk.core.catalog.types import AssetId, CatalogFile, WatchedFolder
from photodesk.core.ingest.results import sha1_file

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

__all__ = ["CatalogFile", "FileChange", "FileService", "WatchedFolder", "norm"]

SIDECAR_EXT = ".xmp"


@dataclass(frozen=True)
class FileChange:
    """What a file operation changed: how many file rows, and which assets they belong to."""

    files: int = 0
    asset_ids: frozenset[AssetId] = frozenset()


def norm(path: str | os.PathLike[str]) -> str:
    """A path as the catalog stores it: absolute, normalised, symlinks kept (as the importer)."""
    return os.path.abspath(os.fspath(path))


class FileService:
    """Keeps ``asset_files`` in step with the disk; never deletes an asset, only re-points files."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- reading -------------------------------------------------------------------------------

    def lookup(self, paths: Iterable[str]) -> dict[str, CatalogFile]:
        """The catalog's rows at exactly these paths."""
        wanted = sorted({norm(p) for p in paths})
        with self._store.read() as s:
            return asset_files.at_paths(s, wanted)

    def files_under(self, folder: str) -> list[CatalogFile]:
        """Every catalog row at or below ``folder`` (missing ones included), by path."""
        with self._store.read() as s:
            return asset_files.at_or_under(s, norm(folder))

    def moved_from(self, stats: Collection[tuple[int, int]]) -> list[CatalogFile]:
        """Rows with a checksum whose (size, mtime_ns) is one of ``stats`` and whose file is gone
        (flagged missing, or not there any more although no deletion was reported yet): where
        files with those stats may have moved from."""
        sizes = sorted({size for size, _ in stats})
        with self._store.read() as s:
            rows = asset_files.checksummed_of_sizes(s, sizes)
        names = ExactNames()
        return [
            r
            for r in rows
            if (r.size, r.mtime_ns) in stats and (r.missing or not names.exists(r.path))
        ]

    # -- moves ---------------------------------------------------------------------------------

    def relocate(self, old_path: str, new_path: str) -> FileChange:
        """A file or folder moved (or was renamed, also only in case): re-point the catalog."""
        return self.relocate_many([(old_path, new_path)])

    def relocate_many(self, moves: Iterable[tuple[str, str]]) -> FileChange:
        """Apply moves in order in one transaction; each may be a file or a folder prefix.

        A row already at a destination belonged to a file the move replaced: it is dropped and its
        asset goes offline (unless it has another copy). Albums, tags, ratings and faces hang on
        the asset, so they all survive.
        """
        pairs = [(norm(a), norm(b)) for a, b in moves]
        pairs = [(a, b) for a, b in pairs if a != b]
        if not pairs:
            return FileChange()
        touched: set[int] = set()
        count = 0
        with self._store.write() as s:
            for old, new in pairs:
                moved, hit = asset_files.relocate(s, old, new, new_exists=os.path.exists(new))
                count += moved
                touched |= hit
            asset_files.refresh_offline(s, touched)
        return self._publish(count, touched)

    # -- missing and returning files -------------------------------------------------------------

    def mark_missing(self, paths: Iterable[str]) -> FileChange:
        """Files (or whole folders) that are gone: rows kept and flagged, their assets offline."""
        wanted = sorted({norm(p) for p in paths})
        if not wanted:
            return FileChange()
        touched: set[int] = set()
        count = 0
        with self._store.write() as s:
            for path in wanted:
                flagged = asset_files.mark_missing(s, path)
                count += len(flagged)
                touched.update(flagged)
            asset_files.refresh_offline(s, touched)
        return self._publish(count, touched)

    def missing_under(self, folder: str, present_paths: Collection[str]) -> FileChange:
        """After a rescan of ``folder``: flag what it did not find.

        A path the scan did not list but that still exists (a file in a folder the scanner skips,
        say) is left alone: missing means gone from the disk, nothing else.
        """
        present = {norm(p) for p in present_paths}
        names = ExactNames()
        gone = [
            f.path
            for f in self.files_under(folder)
            if not f.missing and f.path not in present and not names.exists(f.path)
        ]
        return self.mark_missing(gone)

    def restore(self, paths: Iterable[str]) -> FileChange:
        """Missing files that are back at the same path with the same content: clear the flags.

        Same size and mtime is enough; otherwise the content is hashed and compared. A file that
        came back changed is left to the importer (which updates the asset in place).
        """
        rows = [r for r in self.lookup(paths).values() if r.missing]
        back: list[tuple[str, int, int]] = []
        for r in rows:
            try:
                st = os.stat(r.path)
            except OSError:
                continue
            same = (st.st_size, st.st_mtime_ns) == (r.size, r.mtime_ns)
            if not same and r.checksum is not None:
                try:
                    same = st.st_size == r.size and sha1_file(r.path) == r.checksum
                except OSError:
                    continue
            if same or r.role == "sidecar":
                back.append((r.path, st.st_size, st.st_mtime_ns))
        if not back:
            return FileChange()
        touched: set[int] = set()
        with self._store.write() as s:
            for path, size, mtime in back:
                aid = asset_files.restore(s, path, size, mtime)
                if aid is not None:
                    touched.add(aid)
            asset_files.refresh_offline(s, touched)
        return self._publish(len(back), touched)

    def attach_sidecar(self, sidecar_path: str) -> FileChange:
        """An XMP sidecar that turned up next to a catalogued photo (``a.jpg.xmp`` or ``a.xmp``).

        Its asset's missing sidecar row is re-pointed here, or a new row is added; an asset whose
        sidecar is present elsewhere keeps it.
        """
        path = norm(sidecar_path)
        folder, name = os.path.split(path)
        if not name.lower().endswith(SIDECAR_EXT):
            return FileChange()
        base = name[: -len(SIDECAR_EXT)].lower()
        try:
            st = os.stat(path)
        except OSError:
            return FileChange()
        with self._store.write() as s:
            if asset_files.has_path(s, path):
                return FileChange()
            stem = os.path.splitext(base)[0] if "." in base else base
            rows = asset_files.originals_starting(s, os.path.join(folder, stem))

            def matches(r: CatalogFile) -> int:
                d, n = os.path.split(r.path)
                if d != folder:
                    return 0
                n = n.lower()
                return 2 if n == base else (1 if os.path.splitext(n)[0] == base else 0)

            # Best match first (a.jpg.xmp belongs to a.jpg), then by path.
            ranked = sorted((r for r in rows if matches(r)), key=lambda r: (-matches(r), r.path))
            for media in ranked:
                sides = asset_files.sidecars_of(s, media.asset_id)
                # The flag may lag behind the disk (a deletion not reported yet): look.
                names = ExactNames()
                if any(not r.missing and names.exists(r.path) for r in sides):
                    continue
                asset_files.place_sidecar(s, media.asset_id, path, st.st_size, st.st_mtime_ns)
                owner = media.asset_id
                break
            else:
                return FileChange()
        return self._publish(1, {owner})

    def _publish(self, count: int, touched: Collection[int]) -> FileChange:
        ids = frozenset(AssetId(i) for i in touched)
        if ids:
            self._store.events.publish(Changes(assets=ids))
        return FileChange(count, ids)

    # -- watched folders -------------------------------------------------------------------------

    def watched(self) -> list[WatchedFolder]:
        """The owner's watched folders, and every account's inboxes (the server's to run)."""
        with self._store.read() as s:
            return watched_rows.visible(s, self._store.owner_id)

    def get_watched(self, path: str | os.PathLike[str]) -> WatchedFolder:
        p = norm(path)
        for w in self.watched():
            if w.path == p:
                return w
        raise NotFound(f"{p} is not a watched folder")

    def add_watched(
        self,
        path: str | os.PathLike[str],
        *,
        copy: bool = False,
        polling: bool | None = None,
        inbox_for: int | None = None,
        delete_after_import: bool = False,
    ) -> WatchedFolder:
        """Watch a folder; it must exist, and not overlap the library or another watched folder.

        With ``inbox_for`` (an account id) the folder is that account's inbox: new files are
        copied in as its uploads, and with ``delete_after_import`` removed once verified.
        """
        if delete_after_import and inbox_for is None:
            raise InvalidInput("only an inbox (a folder watched for an account) deletes files")
        p = norm(os.path.expanduser(os.fspath(path)))
        if not os.path.isdir(p):
            raise InvalidInput(f"{p} is not a folder")
        lib = str(self._store.root)
        if p == lib or p.startswith(lib.rstrip(os.sep) + os.sep):
            raise InvalidInput(f"{p} is inside the library folder")
        for w in self.watched():
            if w.path == p:
                raise Conflict(f"{p} is watched already")
            if p.startswith(w.path.rstrip(os.sep) + os.sep):
                raise Conflict(f"{p} is watched already as part of {w.path}")
            if w.path.startswith(p.rstrip(os.sep) + os.sep):
                raise Conflict(f"{w.path} is watched already: remove it first, then add {p}")
        with self._store.write(Changes()) as s:
            return watched_rows.add(
                s,
                owner_id=self._store.owner_id if inbox_for is None else int(inbox_for),
                path=p,
                copy=copy or inbox_for is not None,
                polling=polling,
                inbox=inbox_for is not None,
                delete_after_import=delete_after_import,
            )

    def remove_watched(self, path: str | os.PathLike[str]) -> WatchedFolder:
        """Stop watching; the assets found there stay in the library."""
        found = self.get_watched(path)
        with self._store.write(Changes()) as s:
            watched_rows.remove(s, found.id)
        return found

    def mark_scanned(self, folder_id: int, when: datetime | None = None) -> None:
        with self._store.write() as s:
            watched_rows.mark_scanned(s, folder_id, when or datetime.now())
