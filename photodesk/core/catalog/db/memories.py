"""Memory reads: the owner's live photos in date windows, for "on this day" and events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select
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


def _window_statement() -> Any:
    """One window's photos, written once with bound parameters (compiled once, then cached)."""
    return (
        select(
            Asset.id,
            Asset.taken_at,
            Asset.file_type,
            Asset.make,
            AssetFile.path,
            Asset.latitude,
            Asset.longitude,
            Place.city,
            Place.country,
            Asset.stack_id,
        )
        .join(AssetFile, (AssetFile.asset_id == Asset.id) & (AssetFile.role == "original"))
        .outerjoin(Place, Place.id == Asset.place_id)
        .where(
            Asset.owner_id == bindparam("owner"),
            Asset.taken_at >= bindparam("start"),
            Asset.taken_at < bindparam("end"),
            Asset.trashed_at.is_(None),
            Asset.archived.is_(False),
        )
        .order_by(Asset.taken_at, Asset.id)
    )


_WINDOW: Any = None  # the statement, built on first use


def in_windows(
    session: Session, owner_id: int, windows: Iterable[tuple[datetime, datetime]]
) -> list[Candidate]:
    """Live (not trashed, not archived) photos and videos taken in ``[start, end)`` windows,
    oldest first in each; one index range scan per window, through the Core (no ORM rows)."""
    global _WINDOW
    if _WINDOW is None:
        _WINDOW = _window_statement()
    connection = session.connection()
    out: list[Candidate] = []
    for start, end in windows:
        rows = connection.execute(_WINDOW, {"owner": owner_id, "start": start, "end": end})
        for r in rows:
            out.append(Candidate(r[0], r[1], r[2], r[3], _basename(r[4]), *r[5:]))
    return out


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1].lower()
