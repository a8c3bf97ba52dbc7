"""WebDAV names (``dav_entries``): each account's folders, names of assets and plain files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, DavEntry
from photodesk.core.catalog.errors import Conflict
from photodesk.core.catalog.types import DavItem


@dataclass(frozen=True)
class FileSource:
    """Where a name's bytes are: a plain file (``blob``) or the files of an asset."""

    is_dir: bool
    blob: str | None
    sha1: str | None
    files: tuple[tuple[str, str | None, str], ...] = ()  # (path, checksum, role) of the asset


@dataclass(frozen=True)
class Bound:
    """What binding a name replaced."""

    created: bool
    old_blob: str | None
    trashed: list[int]


def _item(row: DavEntry) -> DavItem:
    return DavItem(
        row.path,
        bool(row.is_dir),
        int(row.size or 0),
        row.sha1,
        row.content_type,
        row.modified_at,
        row.created_at,
        row.asset_id,
        dict(row.props or {}),
    )


def _under(owner_id: int, path: str) -> ColumnElement[bool]:
    """The SQL condition for ``path`` and everything below it."""
    cond = DavEntry.owner_id == owner_id
    if path == "":
        return cond
    return cond & ((DavEntry.path == path) | DavEntry.path.startswith(path + "/", autoescape=True))


def _row(s: Session, owner_id: int, path: str) -> DavEntry | None:
    return s.scalars(
        select(DavEntry).where(DavEntry.owner_id == owner_id, DavEntry.path == path)
    ).first()


def _trash_unnamed(s: Session, owner_id: int, assets: set[int | None]) -> list[int]:
    """Move to the trash those of ``assets`` that no name of the space shows any more."""
    wanted = {a for a in assets if a is not None}
    if not wanted:
        return []
    still = set(
        s.scalars(
            select(DavEntry.asset_id).where(
                DavEntry.owner_id == owner_id, DavEntry.asset_id.in_(wanted)
            )
        ).all()
    )
    trash = sorted(wanted - still)
    if trash:
        s.execute(
            update(Asset)
            .where(Asset.owner_id == owner_id, Asset.id.in_(trash))
            .where(Asset.trashed_at.is_(None))
            .values(trashed_at=datetime.now(), updated_at=datetime.now())
        )
    return trash


# -- reading ------------------------------------------------------------------------------------


def entry(s: Session, owner_id: int, path: str) -> DavItem | None:
    row = _row(s, owner_id, path)
    return _item(row) if row is not None else None


def children(s: Session, owner_id: int, path: str) -> list[DavItem]:
    """The names directly inside the folder ``path``, by path."""
    prefix = path + "/" if path else ""
    rows = s.scalars(
        select(DavEntry)
        .where(_under(owner_id, path), DavEntry.path != path)
        .order_by(DavEntry.path)
    ).all()
    return [_item(r) for r in rows if "/" not in r.path[len(prefix) :]]


def file_source(s: Session, owner_id: int, path: str) -> FileSource | None:
    row = _row(s, owner_id, path)
    if row is None:
        return None
    if row.is_dir or row.blob:
        return FileSource(bool(row.is_dir), row.blob, row.sha1)
    files = s.execute(
        select(AssetFile.path, AssetFile.checksum, AssetFile.role).where(
            AssetFile.asset_id == row.asset_id, AssetFile.missing.is_(False)
        )
    ).all()
    return FileSource(False, None, row.sha1, tuple((f.path, f.checksum, f.role) for f in files))


def plain_bytes(s: Session, owner_id: int) -> int:
    """What the account's plain files take."""
    total = s.scalar(
        select(func.sum(DavEntry.size)).where(
            DavEntry.owner_id == owner_id, DavEntry.blob.is_not(None)
        )
    )
    return int(total or 0)


# -- writing ------------------------------------------------------------------------------------


def bind(
    s: Session,
    owner_id: int,
    path: str,
    *,
    asset_id: int | None,
    blob: str | None,
    size: int,
    sha1: str | None,
    modified_at: datetime,
    now: datetime,
) -> Bound | None:
    """Point the file name ``path`` at an asset or a plain file (None: ``path`` is a folder).
    New content under an old name sends the photo it showed to the trash, as a delete does."""
    row = _row(s, owner_id, path)
    created = row is None
    if row is None:
        row = DavEntry(owner_id=owner_id, path=path, is_dir=False, created_at=now)
        s.add(row)
    elif row.is_dir:
        return None
    old_blob, old_asset = row.blob, row.asset_id
    row.asset_id, row.blob, row.size, row.sha1 = asset_id, blob, size, sha1
    row.modified_at = modified_at
    s.flush()
    trashed = _trash_unnamed(s, owner_id, {old_asset} - {asset_id, None})
    return Bound(created, old_blob, trashed)


def add_folder(s: Session, owner_id: int, path: str, now: datetime) -> bool:
    """Create the folder ``path``; False if the name is taken."""
    if _row(s, owner_id, path) is not None:
        return False
    s.add(
        DavEntry(owner_id=owner_id, path=path, is_dir=True, size=0, modified_at=now, created_at=now)
    )
    return True


def remove(s: Session, owner_id: int, path: str) -> tuple[list[str], list[int]]:
    """Delete ``path`` and all below it; returns the plain files' blobs and the assets that no
    name shows any more (now in the trash)."""
    rows = s.execute(
        select(DavEntry.id, DavEntry.asset_id, DavEntry.blob).where(_under(owner_id, path))
    ).all()
    s.execute(delete(DavEntry).where(DavEntry.id.in_([r.id for r in rows])))
    trash = _trash_unnamed(s, owner_id, {r.asset_id for r in rows})
    return [r.blob for r in rows if r.blob], trash


def _flush_new(s: Session, dst: str) -> None:
    try:
        s.flush()
    except IntegrityError:  # a client created the destination meanwhile
        raise Conflict(f"/{dst} was created meanwhile; try again") from None


def move(s: Session, owner_id: int, src: str, dst: str) -> None:
    """Rename ``src`` and all below it to ``dst``; Conflict if a name there appeared."""
    rows = s.scalars(select(DavEntry).where(_under(owner_id, src))).all()
    old = {row.id: row.path for row in rows}
    step = uuid.uuid4().hex  # two steps: no clash with the unique (owner, path) on the way
    for row in rows:  # (no NUL: PostgreSQL text cannot hold one)
        row.path = f"\x01moving-{step}-{row.id}"
    s.flush()
    for row in rows:
        row.path = dst + old[row.id][len(src) :]
    _flush_new(s, dst)


def copy(
    s: Session,
    owner_id: int,
    src: str,
    dst: str,
    *,
    deep: bool,
    now: datetime,
    copy_blob: Callable[[str], str],
) -> None:
    """Copy ``src`` (with all below it when ``deep``) to ``dst``; ``copy_blob`` copies a plain
    file and names the copy. Conflict if a name there appeared."""
    where = (
        _under(owner_id, src) if deep else (DavEntry.owner_id == owner_id) & (DavEntry.path == src)
    )
    for row in s.scalars(select(DavEntry).where(where)).all():
        s.add(
            DavEntry(
                owner_id=owner_id,
                path=dst + row.path[len(src) :],
                is_dir=row.is_dir,
                asset_id=row.asset_id,
                blob=copy_blob(row.blob) if row.blob else None,
                size=row.size,
                sha1=row.sha1,
                content_type=row.content_type,
                props=row.props,
                modified_at=row.modified_at,
                created_at=now,
            )
        )
    _flush_new(s, dst)


def set_props(s: Session, owner_id: int, path: str, changes: list[tuple[str, str | None]]) -> bool:
    """Set (XML) or remove (None) dead properties, in order; False if there is no such name."""
    row = _row(s, owner_id, path)
    if row is None:
        return False
    props = dict(row.props or {})
    for name, value in changes:
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value
    row.props = props or None
    return True
