"""Album rows: find an album by id or name, its members, counts and cover."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, AlbumAsset, Asset


def find(s: Session, owner_id: int, name_or_id: str | int) -> Album | None:
    """The owner's album with this id (digits) or else this name."""
    owner = Album.owner_id == owner_id
    row = None
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        row = s.scalars(select(Album).where(owner, Album.id == int(name_or_id))).first()
    if row is None:
        row = s.scalars(select(Album).where(owner, Album.name == str(name_or_id))).first()
    return row


def name_taken(s: Session, owner_id: int, name: str) -> bool:
    return (
        s.scalar(select(Album.id).where(Album.owner_id == owner_id, Album.name == name)) is not None
    )


def create(s: Session, owner_id: int, name: str, description: str, now: datetime) -> int:
    row = Album(
        owner_id=owner_id, name=name, description=description, created_at=now, updated_at=now
    )
    s.add(row)
    s.flush()
    return int(row.id)


def delete_album(s: Session, row: Album) -> None:
    s.delete(row)


def member_ids(s: Session, album_id: int) -> set[int]:
    return set(s.scalars(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == album_id)))


def add_members(s: Session, album_id: int, asset_ids: Iterable[int], now: datetime) -> None:
    for aid in asset_ids:
        s.add(AlbumAsset(album_id=album_id, asset_id=aid, added_at=now))


def remove_members(s: Session, album_id: int, asset_ids: list[int]) -> None:
    s.execute(
        delete(AlbumAsset).where(
            AlbumAsset.album_id == album_id, AlbumAsset.asset_id.in_(asset_ids)
        )
    )


def any_member(s: Session, album_id: int) -> int | None:
    return s.scalar(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == album_id).limit(1))


def holds(s: Session, album_id: int, asset_id: int) -> bool:
    found = s.scalar(
        select(AlbumAsset.asset_id).where(
            AlbumAsset.album_id == album_id, AlbumAsset.asset_id == asset_id
        )
    )
    return found is not None


def live_counts(s: Session) -> dict[int, int]:
    """Album id -> how many of its photos are not in the trash."""
    return {
        int(a): int(n)
        for a, n in s.execute(
            select(AlbumAsset.album_id, func.count())
            .join(Asset, Asset.id == AlbumAsset.asset_id)
            .where(Asset.trashed_at.is_(None))
            .group_by(AlbumAsset.album_id)
        )
    }


def of_owner(s: Session, owner_id: int) -> list[Album]:
    """The owner's albums by name."""
    return list(s.scalars(select(Album).where(Album.owner_id == owner_id).order_by(Album.name)))


def live_members(s: Session, album_id: int, *, newest_first: bool) -> list[int]:
    """The album's photos not in the trash, by capture time (then id)."""
    order = (
        (Asset.taken_at.desc(), Asset.id.desc())
        if newest_first
        else (Asset.taken_at.asc(), Asset.id.asc())
    )
    return list(
        s.scalars(
            select(Asset.id)
            .join(AlbumAsset, AlbumAsset.asset_id == Asset.id)
            .where(AlbumAsset.album_id == album_id, Asset.trashed_at.is_(None))
            .order_by(*order)
        )
    )
