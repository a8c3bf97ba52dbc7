"""File rows as ``photodesk check`` sees them: every catalogued file, what content is known,
and the missing / offline marks it records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile


def files(s: Session) -> list[Any]:
    """Every file row (``id, asset_id, role, path, size, mtime_ns, checksum, missing``)."""
    return list(
        s.execute(
            select(
                AssetFile.id,
                AssetFile.asset_id,
                AssetFile.role,
                AssetFile.path,
                AssetFile.size,
                AssetFile.mtime_ns,
                AssetFile.checksum,
                AssetFile.missing,
            ).order_by(AssetFile.id)
        ).all()
    )


def offline_flags(s: Session) -> dict[int, bool]:
    """Asset id -> whether it is marked offline."""
    return {int(aid): bool(flag) for aid, flag in s.execute(select(Asset.id, Asset.offline))}


def known_checksums(s: Session) -> set[str]:
    """Content some catalogued file has (a Live Photo's video keeps its poster, too)."""
    known = set(s.scalars(select(Asset.checksum)))
    known.update(s.scalars(select(AssetFile.checksum).where(AssetFile.checksum.is_not(None))))
    return known


def without_original(s: Session) -> list[int]:
    """Assets with no ``original`` file row, by id."""
    return list(
        s.scalars(
            select(Asset.id)
            .where(
                ~select(AssetFile.id)
                .where(and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original"))
                .exists()
            )
            .order_by(Asset.id)
        )
    )


def mark_missing(s: Session, file_id: int, path: str, missing: bool) -> int:
    """Mark the file row ``file_id`` (if it still has ``path``); returns the rows changed."""
    result = s.execute(
        update(AssetFile)
        .where(AssetFile.id == file_id, AssetFile.path == path)
        .values(missing=missing)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_offline(s: Session, asset_ids: Sequence[int], offline: bool) -> None:
    s.execute(update(Asset).where(Asset.id.in_(asset_ids)).values(offline=offline))
