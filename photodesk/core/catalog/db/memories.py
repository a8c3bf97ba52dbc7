"""Memory reads: the owner's live photos in date windows, for "on this day" and events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, Place


class Candidate(NamedTuple):
    """What the memory and event rules need of one photo."""

    id: int
    taken_at: datetime
    file_type: str
    make: str | None
    name: str  # the original file's name, lower case
    latitude: float | None
    longitude: float | None
    city: str | None
    country: str | None
    stack_id: int | None


def first_taken(session: Session, owner_id: int) -> datetime | None:
    """The earliest capture date of the owner's photos (an index seek on owner, taken_at)."""
    stmt = select(func.min(Asset.taken_at)).where(
        Asset.owner_id == owner_id, Asset.taken_at.is_not(None)
    )
    return session.scalar(stmt)


def in_windows(
    session: Session, owner_id: int, windows: Iterable[tuple[datetime, datetime]]
) -> list[Candidate]:
    """Live (not trashed, not archived) photos and videos taken in ``[start, end)`` windows,
    oldest first; one index range scan per window."""
    out: list[Candidate] = []
    name = func.lower(AssetFile.path)
    for start, end in windows:
        stmt = (
            select(
                Asset.id,
                Asset.taken_at,
                Asset.file_type,
                Asset.make,
                name,
                Asset.latitude,
                Asset.longitude,
                Place.city,
                Place.country,
                Asset.stack_id,
            )
            .join(AssetFile, (AssetFile.asset_id == Asset.id) & (AssetFile.role == "original"))
            .outerjoin(Place, Place.id == Asset.place_id)
            .where(
                Asset.owner_id == owner_id,
                Asset.taken_at >= start,
                Asset.taken_at < end,
                Asset.trashed_at.is_(None),
                Asset.archived.is_(False),
            )
            .order_by(Asset.taken_at, Asset.id)
        )
        for row in session.execute(stmt):
            out.append(Candidate(row[0], row[1], row[2], row[3], _basename(row[4]), *row[5:]))
    return out


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
