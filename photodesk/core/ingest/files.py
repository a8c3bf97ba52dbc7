"""File service: catalog operations on files (moves, missing and returning files, watch list)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, ImportError_
from photodesk.core.catalog.db.schema import WatchedFolder as WatchedRow
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.pathcase import ExactNames
from photodesk.core.catalog.types import AssetId
from photodesk.core.ingest.results import sha1_file

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

CHUNK = 900  # below SQLite's bound-parameter limit
SIDECAR_EXT = ".xmp"


@dataclass(frozen=True)
class WatchedFolder:
    """A folder whose new, changed, moved and deleted files the catalog follows."""

    id: int
    path: str
    copy: bool  # copy new files into the library's originals/ instead of referencing them
    enabled: bool
    polling: bool | None  # None: decided automatically (network shares are polled)
    last_scan_at: datetime | None
    owner_id: int = 0  # whose assets its new files become
    inbox: bool = False  # new files are copied in as uploads of owner_id (any account)
    delete_after_import: bool = False  # an inbox file goes once its import is verified


@dataclass(frozen=True)
class CatalogFile:
    """One file the catalog knows: an original, a sidecar, a Live Photo video, a duplicate..."""

    asset_id: AssetId
    path: str
    role: str
    size: int
    mtime_ns: int
    checksum: str | None
    missing: bool


@dataclass(frozen=True)
class FileChange:
    """What a file operation changed: how many file rows, and which assets they belong to."""

    files: int = 0
    asset_ids: frozenset[AssetId] = frozenset()


def norm(path: str | os.PathLike[str]) -> str:
    """A path as the catalog stores it: absolute, normalised, symlinks kept (as the importer)."""
    return os.path.abspath(os.fspath(path))


def _under(column: InstrumentedAttribute[str], folder: str) -> ColumnElement[bool]:
    """Paths strictly below ``folder``, case-sensitively and using the path index (a range scan)."""
    prefix = folder.rstrip(os.sep) + os.sep
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(os.sep) + 1))


def _at_or_under(column: InstrumentedAttribute[str], path: str) -> ColumnElement[bool]:
    return or_(column == path, _under(column, path))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _record(row: AssetFile) -> CatalogFile:
    return CatalogFile(
        AssetId(row.asset_id),
        row.path,
        row.role,
        row.size,
        row.mtime_ns,
        row.checksum,
        row.missing,
    )


def _watched(row: WatchedRow) -> WatchedFolder:
    return WatchedFolder(
        row.id, row.path, row.copy, row.enabled, row.polling, row.last_scan_at,
        row.owner_id, bool(row.inbox), bool(row.delete_after_import),
    )  # fmt: skip


class FileService:
    """Keeps ``asset_files`` in step with the disk; never deletes an asset, only re-points files."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- reading -------------------------------------------------------------------------------

    def lookup(self, paths: Iterable[str]) -> dict[str, CatalogFile]:
        """The catalog's rows at exactly these paths."""
        wanted = sorted({norm(p) for p in paths})
        out: dict[str, CatalogFile] = {}
        with self._store.read() as s:
            for chunk in _chunks(wanted):
                for row in s.scalars(select(AssetFile).where(AssetFile.path.in_(chunk))):
                    out[row.path] = _record(row)
        return out

    def files_under(self, folder: str) -> list[CatalogFile]:
        """Every catalog row at or below ``folder`` (missing ones included), by path."""
        with self._store.read() as s:
            rows = s.scalars(
                select(AssetFile)
                .where(_at_or_under(AssetFile.path, norm(folder)))
                .order_by(AssetFile.path)
            )
            return [_record(r) for r in rows]

    def moved_from(self, stats: Collection[tuple[int, int]]) -> list[CatalogFile]:
        """Rows with a checksum whose (size, mtime_ns) is one of ``stats`` and whose file is gone
        (flagged missing, or not there any more although no deletion was reported yet): where
        files with those stats may have moved from."""
        sizes = sorted({size for size, _ in stats})
        out: list[CatalogFile] = []
        names = ExactNames()
        with self._store.read() as s:
            for chunk in _chunks(sizes):
                for row in s.scalars(
                    select(AssetFile).where(
                        AssetFile.checksum.is_not(None), AssetFile.size.in_(chunk)
                    )
                ):
                    if (row.size, row.mtime_ns) in stats and (
                        row.missing or not names.exists(row.path)
                    ):
                        out.append(_record(row))
        return out

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
                count += self._relocate(s, old, new, touched)
            self._refresh_offline(s, touched)
        return self._publish(count, touched)

    def _relocate(self, s: Session, old: str, new: str, touched: set[int]) -> int:
        rows = s.execute(
            select(AssetFile.id, AssetFile.path, AssetFile.asset_id).where(
                _at_or_under(AssetFile.path, old)
            )
        ).all()
        self._repath_simple(s, ImportError_, ImportError_.path, old, new)
        self._repath_simple(s, WatchedRow, WatchedRow.path, old, new)
        if not rows:
            return 0
        target = {fid: new + path[len(old) :] for fid, path, _ in rows}
        moving = set(target)
        for chunk in _chunks(sorted(target.values())):
            for other in s.scalars(select(AssetFile).where(AssetFile.path.in_(chunk))):
                if other.id not in moving:  # a file the move replaced on disk
                    touched.add(other.asset_id)
                    s.delete(other)
        s.flush()
        s.execute(update(AssetFile), [{"id": fid, "path": p} for fid, p in target.items()])
        exact = [fid for fid, path, _ in rows if path == old]
        if exact:  # a single file: it is where the move says, so it is not missing
            s.execute(
                update(AssetFile)
                .where(AssetFile.id.in_(exact))
                .values(missing=not os.path.exists(new))
            )
        touched.update(aid for _, _, aid in rows)
        return len(rows)

    @staticmethod
    def _repath_simple(
        s: Session, model: type[Any], column: InstrumentedAttribute[str], old: str, new: str
    ) -> None:
        """Move paths of a table with a unique path column; a row in the way is dropped."""
        rows = s.execute(select(model.id, column).where(_at_or_under(column, old))).all()
        if not rows:
            return
        target = {rid: new + path[len(old) :] for rid, path in rows}
        in_the_way: list[int] = []
        for chunk in _chunks(sorted(target.values())):
            in_the_way += [i for i in s.scalars(select(model.id).where(column.in_(chunk)))]
        for chunk in _chunks([i for i in in_the_way if i not in target]):
            s.execute(delete(model).where(model.id.in_(chunk)))
        s.execute(update(model), [{"id": rid, "path": p} for rid, p in target.items()])

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
                cond = and_(_at_or_under(AssetFile.path, path), AssetFile.missing.is_(False))
                ids = s.execute(select(AssetFile.id, AssetFile.asset_id).where(cond)).all()
                for chunk in _chunks([i for i, _ in ids]):
                    s.execute(update(AssetFile).where(AssetFile.id.in_(chunk)).values(missing=True))
                count += len(ids)
                touched.update(a for _, a in ids)
            self._refresh_offline(s, touched)
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
                row = s.scalars(select(AssetFile).where(AssetFile.path == path)).first()
                if row is not None:
                    row.missing, row.size, row.mtime_ns = False, size, mtime
                    touched.add(row.asset_id)
            s.flush()
            self._refresh_offline(s, touched)
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
            if s.scalar(select(AssetFile.id).where(AssetFile.path == path)) is not None:
                return FileChange()
            stem = os.path.splitext(base)[0] if "." in base else base
            rows = s.scalars(
                select(AssetFile)
                .where(
                    AssetFile.role == "original",
                    AssetFile.path.startswith(os.path.join(folder, stem), autoescape=True),
                )
                .order_by(AssetFile.path)
            ).all()

            def matches(r: AssetFile) -> int:
                d, n = os.path.split(r.path)
                if d != folder:
                    return 0
                n = n.lower()
                return 2 if n == base else (1 if os.path.splitext(n)[0] == base else 0)

            # Best match first (a.jpg.xmp belongs to a.jpg), then by path.
            ranked = sorted((r for r in rows if matches(r)), key=lambda r: (-matches(r), r.path))
            for media in ranked:
                sides = s.scalars(
                    select(AssetFile).where(
                        AssetFile.asset_id == media.asset_id, AssetFile.role == "sidecar"
                    )
                ).all()
                # The flag may lag behind the disk (a deletion not reported yet): look.
                names = ExactNames()
                if any(not r.missing and names.exists(r.path) for r in sides):
                    continue
                if sides:
                    sides[0].path, sides[0].missing = path, False
                    sides[0].size, sides[0].mtime_ns = st.st_size, st.st_mtime_ns
                else:
                    s.execute(
                        insert(AssetFile).values(
                            asset_id=media.asset_id,
                            role="sidecar",
                            path=path,
                            size=st.st_size,
                            mtime_ns=st.st_mtime_ns,
                            checksum=None,
                            copied=False,
                            missing=False,
                        )
                    )
                owner = media.asset_id
                break
            else:
                return FileChange()
        return self._publish(1, {owner})

    def _refresh_offline(self, s: Session, asset_ids: Collection[int]) -> None:
        """An asset is offline when no original of it is on disk; a present copy takes over."""
        ids = sorted(asset_ids)
        offline: list[int] = []
        online: list[int] = []
        for chunk in _chunks(ids):
            files: dict[int, list[AssetFile]] = defaultdict(list)
            for row in s.scalars(
                select(AssetFile)
                .where(AssetFile.asset_id.in_(chunk), AssetFile.role.in_(("original", "duplicate")))
                .order_by(AssetFile.id)
            ):
                files[row.asset_id].append(row)
            for aid in chunk:
                rows = files.get(aid, [])
                originals = [r for r in rows if r.role == "original"]
                if any(not r.missing for r in originals):
                    online.append(aid)
                    continue
                spare = next((r for r in rows if r.role == "duplicate" and not r.missing), None)
                if spare is None:
                    offline.append(aid)
                    continue
                for r in originals:
                    r.role = "duplicate"
                spare.role = "original"
                online.append(aid)
        for chunk in _chunks(offline):
            s.execute(update(Asset).where(Asset.id.in_(chunk)).values(offline=True))
        for chunk in _chunks(online):
            s.execute(update(Asset).where(Asset.id.in_(chunk)).values(offline=False))

    def _publish(self, count: int, touched: Collection[int]) -> FileChange:
        ids = frozenset(AssetId(i) for i in touched)
        if ids:
            self._store.events.publish(Changes(assets=ids))
        return FileChange(count, ids)

    # -- watched folders -------------------------------------------------------------------------

    def watched(self) -> list[WatchedFolder]:
        """The owner's watched folders, and every account's inboxes (the server's to run)."""
        with self._store.read() as s:
            rows = s.scalars(
                select(WatchedRow)
                .where((WatchedRow.owner_id == self._store.owner_id) | WatchedRow.inbox.is_(True))
                .order_by(WatchedRow.path)
            )
            return [_watched(r) for r in rows]

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
            row = WatchedRow(
                owner_id=self._store.owner_id if inbox_for is None else int(inbox_for),
                path=p,
                copy=copy or inbox_for is not None,
                enabled=True,
                polling=polling,
                inbox=inbox_for is not None,
                delete_after_import=delete_after_import,
            )
            s.add(row)
            s.flush()
            return _watched(row)

    def remove_watched(self, path: str | os.PathLike[str]) -> WatchedFolder:
        """Stop watching; the assets found there stay in the library."""
        found = self.get_watched(path)
        with self._store.write(Changes()) as s:
            s.execute(delete(WatchedRow).where(WatchedRow.id == found.id))
        return found

    def mark_scanned(self, folder_id: int, when: datetime | None = None) -> None:
        with self._store.write() as s:
            s.execute(
                update(WatchedRow)
                .where(WatchedRow.id == folder_id)
                .values(last_scan_at=when or datetime.now())
            )
