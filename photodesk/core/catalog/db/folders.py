"""Folder rows: where the owner's shown photos have their files."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile


def shown_files(s: Session, owner_id: int, roles: Sequence[str]) -> list[tuple[int, str]]:
    """(asset id, path) of the owner's files in ``roles``, trashed and archived photos left out."""
    rows = s.execute(
        select(AssetFile.asset_id, AssetFile.path)
        .join(Asset, Asset.id == AssetFile.asset_id)
        .where(
            Asset.owner_id == owner_id,
            Asset.trashed_at.is_(None),
            Asset.archived.is_(False),
            AssetFile.role.in_(roles),
        )
    )
    return [(int(aid), path) for aid, path in rows]
