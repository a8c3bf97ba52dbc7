"""Asset state rows: which ids match or belong to a user, bulk edits of columns, the trash."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.assets import filtered
from photodesk.core.catalog.db.schema import Asset, AssetFile, ImportError_, Stack
from photodesk.core.catalog.types import AssetQuery


def matching(s: Session, owner_id: int, q: AssetQuery) -> list[int]:
    """The ids of the owner's assets matching ``q``, in its order."""
    return list(s.scalars(filtered(owner_id, q)))


def owned_among(s: Session, owner_id: int, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that ``owner_id`` owns."""
    if not ids:
        return set()
    return set(s.scalars(select(Asset.id).where(Asset.id.in_(ids), Asset.owner_id == owner_id)))


def set_many(s: Session, ids: Sequence[int], values: dict[str, Any]) -> None:
    """Set columns (name -> value) of these assets."""
    s.execute(update(Asset).where(Asset.id.in_(ids)).values(**values))


def trashed_before(s: Session, owner_id: int, cutoff: datetime) -> list[tuple[int, str]]:
    """(id, checksum) of the owner's assets trashed before ``cutoff``."""
    rows = s.execute(
        select(Asset.id, Asset.checksum).where(
            Asset.owner_id == owner_id, Asset.trashed_at < cutoff
        )
    )
    return [(int(i), c) for i, c in rows]


def copied_files(s: Session, ids: Sequence[int]) -> list[str]:
    """Paths of the files of these assets that photodesk copied into the library."""
    if not ids:
        return []
    return list(
        s.scalars(select(AssetFile.path).where(AssetFile.asset_id.in_(ids), AssetFile.copied))
    )


def forget(s: Session, ids: Sequence[int]) -> None:
    """Delete these assets (their rows cascade) and the stacks left without members."""
    s.execute(delete(Asset).where(Asset.id.in_(ids)))
    s.execute(
        delete(Stack).where(
            ~Stack.id.in_(select(Asset.stack_id).where(Asset.stack_id.is_not(None)))
        )
    )


def checksums_in_use(s: Session, checksums: Sequence[str]) -> set[str]:
    """Those of ``checksums`` some asset (any user's) still has."""
    return set(s.scalars(select(Asset.checksum).where(Asset.checksum.in_(checksums))))


def import_errors(s: Session, owner_id: int) -> list[tuple[str, str]]:
    """(path, error) of the owner's failed imports, by path."""
    rows = s.execute(
        select(ImportError_.path, ImportError_.error)
        .where(ImportError_.owner_id == owner_id)
        .order_by(ImportError_.path)
    )
    return [(p, e) for p, e in rows]


def checksum_and_owner(s: Session, asset_id: int) -> tuple[str, int]:
    checksum, owner = s.execute(
        select(Asset.checksum, Asset.owner_id).where(Asset.id == asset_id)
    ).one()
    return checksum, int(owner)


def other_with_checksum(s: Session, owner_id: int, checksum: str, besides: int) -> int | None:
    """Another asset of the owner with this content, if any."""
    found = s.scalar(
        select(Asset.id).where(
            Asset.owner_id == owner_id, Asset.checksum == checksum, Asset.id != besides
        )
    )
    return None if found is None else int(found)


def set_content(
    s: Session, asset_id: int, path: str, checksum: str, size: int, mtime_ns: int
) -> None:
    """The asset's file at ``path`` was rewritten: its new checksum, size and mtime."""
    s.execute(update(Asset).where(Asset.id == asset_id).values(checksum=checksum, size=size))
    s.execute(
        update(AssetFile)
        .where(AssetFile.asset_id == asset_id, AssetFile.path == path)
        .values(checksum=checksum, size=size, mtime_ns=mtime_ns)
    )
