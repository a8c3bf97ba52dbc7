"""Perceptual-hash reads and writes for near-duplicate finding."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset


def hashes(session: Session, owner_id: int) -> list[tuple[int, int]]:
    """(id, phash) of the owner's assets that are not in the trash and have a hash."""
    stmt = select(Asset.id, Asset.phash).where(
        Asset.owner_id == owner_id, Asset.trashed_at.is_(None), Asset.phash.is_not(None)
    )
    return [(int(i), int(h)) for i, h in session.execute(stmt) if h is not None]


def unhashed(session: Session, owner_id: int) -> list[tuple[int, str]]:
    """(id, checksum) of assets with a thumbnail but no hash yet (imported before hashing)."""
    stmt = select(Asset.id, Asset.checksum).where(
        Asset.owner_id == owner_id, Asset.has_thumbnail.is_(True), Asset.phash.is_(None)
    )
    return [(int(i), str(c)) for i, c in session.execute(stmt)]


def store(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    for asset_id, value in pairs:
        session.execute(update(Asset).where(Asset.id == asset_id).values(phash=value))


def ranking(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """What makes an asset the one to keep: (favourite, rating, pixels, bytes) by id."""
    stmt = select(
        Asset.id, Asset.favorite, Asset.rating, Asset.width, Asset.height, Asset.size
    ).where(Asset.id.in_(ids))
    return {
        int(r[0]): (int(bool(r[1])), int(r[2] or 0), int((r[3] or 0) * (r[4] or 0)), int(r[5]))
        for r in session.execute(stmt)
    }
