"""Geotagged rows for the map: one point per photo (a stack's primary), in a box or anywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.assets import filtered
from photodesk.core.catalog.db.schema import Asset, Stack
from photodesk.core.catalog.types import AssetQuery


def _located(owner_id: int, q: AssetQuery, *columns: Any) -> Select[Any]:
    stmt = filtered(owner_id, q).with_only_columns(*columns)
    # One marker per stack (the RAW+JPEG pair is one photo): its primary asset.
    return stmt.outerjoin(Stack, Stack.id == Asset.stack_id).where(
        Asset.latitude.is_not(None),
        Asset.longitude.is_not(None),
        or_(
            Asset.stack_id.is_(None),
            Stack.primary_asset_id.is_(None),
            Stack.primary_asset_id == Asset.id,
        ),
    )


def points(s: Session, owner_id: int, q: AssetQuery) -> list[Any]:
    """(id, latitude, longitude, checksum, taken_at) of the geotagged assets ``q`` matches."""
    stmt = _located(
        owner_id, q, Asset.id, Asset.latitude, Asset.longitude, Asset.checksum, Asset.taken_at
    )
    rows: list[Any] = []
    # Core rows (no ORM work per row), in slices: a front end's GUI thread gets the GIL between
    # them instead of waiting for 100,000 rows to be converted at once.
    for part in s.connection().execute(stmt).partitions(2000):
        rows.extend(part)
    return rows


def in_box(
    s: Session, owner_id: int, q: AssetQuery, south: float, west: float, north: float, east: float
) -> list[Any]:
    """(id, latitude, longitude) of the geotagged assets ``q`` matches inside the box (``west >
    east``: it crosses the antimeridian)."""
    stmt = _located(owner_id, q, Asset.id, Asset.latitude, Asset.longitude).where(
        Asset.latitude >= south, Asset.latitude <= north
    )
    if west <= east:
        stmt = stmt.where(Asset.longitude >= west, Asset.longitude <= east)
    else:
        stmt = stmt.where(or_(Asset.longitude >= west, Asset.longitude <= east))
    return list(s.connection().execute(stmt).all())
