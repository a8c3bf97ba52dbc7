"""File rows (``asset_files``): lookups by path, moves of files and folders, missing flags,
sidecars, and the offline flag of assets whose originals are gone."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, ImportError_
from photodesk.core.catalog.db.schema import WatchedFolder as WatchedRow
from photodesk.core.catalog.types import AssetId, CatalogFile

CHUNK = 900  # below SQLite's bound-parameter limit
# The table, not the ORM class: a Core executemany (the ORM's bulk insert splits the rows by
# which values are None).
FILES = cast(Table, AssetFile.__table__)


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


# -- reading -------------------------------------------------------------------------------------


def at_paths(s: Session, paths: Sequence[str]) -> dict[str, CatalogFile]:
    """The rows at exactly these paths."""
    out: dict[str, CatalogFile] = {}
    for chunk in _chunks(paths):
        for row in s.scalars(select(AssetFile).where(AssetFile.path.in_(chunk))):
            out[row.path] = _record(row)
    return out


def at_or_under(s: Session, folder: str) -> list[CatalogFile]:
    """Every row at or below ``folder`` (missing ones included), by path."""
    rows = s.scalars(
        select(AssetFile).where(_at_or_under(AssetFile.path, folder)).order_by(AssetFile.path)
    )
    return [_record(r) for r in rows]


def checksummed_of_sizes(s: Session, sizes: Sequence[int]) -> list[CatalogFile]:
    """Rows with a checksum whose size is one of ``sizes``."""
    out: list[CatalogFile] = []
    for chunk in _chunks(sizes):
        for row in s.scalars(
            select(AssetFile).where(AssetFile.checksum.is_not(None), AssetFile.size.in_(chunk))
        ):
            out.append(_record(row))
    return out


def has_path(s: Session, path: str) -> bool:
    return s.scalar(select(AssetFile.id).where(AssetFile.path == path)) is not None


def originals_starting(s: Session, prefix: str) -> list[CatalogFile]:
    """Original files whose path starts with ``prefix`` (taken literally), by path."""
    rows = s.scalars(
        select(AssetFile)
        .where(AssetFile.role == "original", AssetFile.path.startswith(prefix, autoescape=True))
        .order_by(AssetFile.path)
    )
    return [_record(r) for r in rows]


def sidecars_of(s: Session, asset_id: int) -> list[CatalogFile]:
    """The asset's sidecar rows, oldest first."""
    rows = s.scalars(
        select(AssetFile)
        .where(AssetFile.asset_id == asset_id, AssetFile.role == "sidecar")
        .order_by(AssetFile.id)
    )
    return [_record(r) for r in rows]


# -- writing -------------------------------------------------------------------------------------


def relocate(s: Session, old: str, new: str, *, new_exists: bool) -> tuple[int, set[int]]:
    """Re-point the rows at or below ``old`` to ``new`` (import errors and watched folders too).

    A row already at a destination belonged to a file the move replaced: it is dropped. Returns
    how many file rows moved and the assets touched (moved or losing a file).
    """
    touched: set[int] = set()
    rows = s.execute(
        select(AssetFile.id, AssetFile.path, AssetFile.asset_id).where(
            _at_or_under(AssetFile.path, old)
        )
    ).all()
    _repath_simple(s, ImportError_, ImportError_.path, old, new)
    _repath_simple(s, WatchedRow, WatchedRow.path, old, new)
    if not rows:
        return 0, touched
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
        s.execute(update(AssetFile).where(AssetFile.id.in_(exact)).values(missing=not new_exists))
    touched.update(aid for _, _, aid in rows)
    return len(rows), touched


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


def mark_missing(s: Session, path: str) -> list[int]:
    """Flag the present rows at or below ``path`` missing; the asset id of each row flagged."""
    cond = and_(_at_or_under(AssetFile.path, path), AssetFile.missing.is_(False))
    ids = s.execute(select(AssetFile.id, AssetFile.asset_id).where(cond)).all()
    for chunk in _chunks([i for i, _ in ids]):
        s.execute(update(AssetFile).where(AssetFile.id.in_(chunk)).values(missing=True))
    return [int(a) for _, a in ids]


def restore(s: Session, path: str, size: int, mtime_ns: int) -> int | None:
    """The row at ``path`` is present again with this size and mtime; its asset id, if any."""
    row = s.scalars(select(AssetFile).where(AssetFile.path == path)).first()
    if row is None:
        return None
    row.missing, row.size, row.mtime_ns = False, size, mtime_ns
    return int(row.asset_id)


def place_sidecar(s: Session, asset_id: int, path: str, size: int, mtime_ns: int) -> None:
    """Re-point the asset's first sidecar row to ``path`` (present), or add one there."""
    row = s.scalars(
        select(AssetFile)
        .where(AssetFile.asset_id == asset_id, AssetFile.role == "sidecar")
        .order_by(AssetFile.id)
    ).first()
    if row is not None:
        row.path, row.missing, row.size, row.mtime_ns = path, False, size, mtime_ns
        return
    s.execute(
        insert(AssetFile).values(
            asset_id=asset_id,
            role="sidecar",
            path=path,
            size=size,
            mtime_ns=mtime_ns,
            checksum=None,
            copied=False,
            missing=False,
        )
    )


def with_originals(s: Session, asset_ids: Collection[int]) -> set[int]:
    """Those of ``asset_ids`` that have an original file in this library (present or not)."""
    out: set[int] = set()
    for chunk in _chunks(sorted(asset_ids)):
        out.update(
            s.scalars(
                select(AssetFile.asset_id).where(
                    AssetFile.asset_id.in_(chunk), AssetFile.role == "original"
                )
            )
        )
    return out


def refresh_offline(s: Session, asset_ids: Collection[int]) -> None:
    """An asset is offline when no original of it is on disk; a present copy takes over."""
    s.flush()
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


# -- what an import reads and writes --------------------------------------------------------------

# Above this many scanned files, reading every known path at once is cheaper than lookups.
KNOWN_LOOKUP_LIMIT = 5000
PRESENT_CHUNK = 500  # paths per lookup of an import batch (or of the pending uploads)


def known_files(s: Session, paths: Sequence[str] | None = None) -> dict[str, tuple[int, int]]:
    """The size and mtime each media path had when imported; only ``paths`` when given.

    Looking up just the scanned paths keeps a small import into a big library from reading every
    row (and from holding the GIL long enough to stall the desktop's GUI thread).
    """
    base = select(AssetFile.path, AssetFile.size, AssetFile.mtime_ns).where(
        AssetFile.role != "sidecar", AssetFile.missing.is_(False)
    )
    if paths is None or len(paths) > KNOWN_LOOKUP_LIMIT:
        rows = s.execute(base)
        return {path: (size, mtime) for path, size, mtime in rows}
    found: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(paths):
        for path, size, mtime in s.execute(base.where(AssetFile.path.in_(chunk))):
            found[path] = (size, mtime)
    return found


def referenced_in_place(s: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` the library references where they are (imported without --copy)."""
    found: set[str] = set()
    for chunk in _chunks(paths):
        found.update(
            s.scalars(
                select(AssetFile.path).where(
                    AssetFile.path.in_(chunk), AssetFile.role == "original"
                )
            )
        )
    return found


def present_paths(s: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` have a file row (of any role, missing or not)."""
    found: set[str] = set()
    for i in range(0, len(paths), PRESENT_CHUNK):
        chunk = paths[i : i + PRESENT_CHUNK]
        found.update(s.scalars(select(AssetFile.path).where(AssetFile.path.in_(chunk))))
    return found


def row_at(s: Session, path: str) -> AssetFile | None:
    """The row at ``path``, for the writer to change inside its transaction."""
    return s.scalars(select(AssetFile).where(AssetFile.path == path)).first()


def original_row(s: Session, asset_id: int) -> AssetFile | None:
    """The asset's (first) original row."""
    return s.scalars(
        select(AssetFile).where(AssetFile.asset_id == asset_id, AssetFile.role == "original")
    ).first()


def insert_rows(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """New rows (each with every column but ``id``), in one executemany."""
    s.execute(insert(FILES), list(rows))


def drop_row(s: Session, row: AssetFile) -> None:
    """Delete ``row`` now (flushed: its path is free for a row of this transaction)."""
    s.delete(row)
    s.flush()


def add_duplicate(
    s: Session, asset_id: int, path: str, size: int, mtime_ns: int, checksum: str
) -> None:
    """Another copy of the asset's content, at ``path``."""
    s.add(
        AssetFile(
            asset_id=asset_id,
            role="duplicate",
            path=path,
            size=size,
            mtime_ns=mtime_ns,
            checksum=checksum,
        )
    )


def relink_original(
    s: Session,
    asset: Asset,
    original: AssetFile | None,
    path: str,
    size: int,
    mtime_ns: int,
    checksum: str,
) -> None:
    """The asset's original moved (or was renamed) to ``path``: its row follows (one is added
    if it had none), and the asset is online."""
    if original is None:
        original = AssetFile(asset_id=asset.id, role="original", checksum=checksum)
        s.add(original)
    original.path, original.size, original.mtime_ns = path, size, mtime_ns
    original.missing, original.copied = False, False
    asset.offline = False


def place_original(s: Session, asset_id: int, path: str, size: int, mtime_ns: int) -> None:
    """The asset's original is now at ``path`` (an analysed upload moved into storage)."""
    s.execute(
        update(AssetFile)
        .where(AssetFile.asset_id == asset_id, AssetFile.role == "original")
        .values(path=path, size=size, mtime_ns=mtime_ns, missing=False)
    )


def move_sidecar(s: Session, asset_id: int, path: str) -> None:
    """The asset's sidecar is now at ``path``."""
    s.execute(
        update(AssetFile)
        .where(AssetFile.asset_id == asset_id, AssetFile.role == "sidecar")
        .values(path=path)
    )
