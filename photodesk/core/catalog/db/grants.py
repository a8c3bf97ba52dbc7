"""Album rows as sharing sees them: grants to other users, who may read an asset, album contents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db.schema import Album, AlbumAsset, AlbumShare, Asset, AssetFile, User
from photodesk.core.catalog.types import (
    AlbumGrant,
    AssetQuery,
    AssetRecord,
    LinkItem,
    SharedAlbum,
)


@dataclass(frozen=True)
class AlbumFacts:
    id: int
    owner_id: int
    name: str


def album_grants_read(user_id: int) -> ColumnElement[bool]:
    """SQL condition on ``Asset``: an album this user owns, or one shared with them, holds the
    (untrashed) asset. The sharing half of the one read rule (``accounts.can_read`` and the
    asset listings use it, so the rule is written once)."""
    return and_(
        Asset.trashed_at.is_(None),
        exists().where(
            AlbumAsset.asset_id == Asset.id,
            Album.id == AlbumAsset.album_id,
            or_(
                Album.owner_id == user_id,
                exists().where(
                    and_(AlbumShare.album_id == Album.id, AlbumShare.user_id == user_id)
                ),
            ),
        ),
    )


# -- who may read an asset ----------------------------------------------------------------------


def asset_owner(s: Session, asset_id: int) -> int | None:
    return s.scalar(select(Asset.owner_id).where(Asset.id == int(asset_id)))


def grants_read(s: Session, user_id: int, asset_id: int) -> bool:
    """Whether an album this user owns or was given holds the (untrashed) asset."""
    granted = select(Asset.id).where(Asset.id == int(asset_id), album_grants_read(user_id)).limit(1)
    return s.scalar(granted) is not None


def readable_records(
    s: Session, user_id: int, query: AssetQuery, *, offset: int = 0, include_shared: bool = False
) -> list[AssetRecord]:
    """A page of the user's assets matching ``query`` (with ``include_shared``, also those an
    album lets them read)."""
    also = album_grants_read(user_id) if include_shared else None
    stmt = asset_repo.filtered(user_id, query, also=also)
    if offset:
        stmt = stmt.offset(offset)
    return asset_repo.records(s, list(s.scalars(stmt)))


def owned(s: Session, owner_id: int, asset_ids: Sequence[int]) -> set[int]:
    """Those of ``asset_ids`` the owner has."""
    return set(
        s.scalars(
            select(Asset.id).where(
                Asset.id.in_(list(asset_ids) or [-1]), Asset.owner_id == owner_id
            )
        )
    )


# -- albums and grants --------------------------------------------------------------------------


def album(s: Session, album_id: int) -> AlbumFacts | None:
    row = s.get(Album, int(album_id))
    return None if row is None else AlbumFacts(row.id, row.owner_id, row.name)


def role(s: Session, user_id: int, album_id: int) -> str | None:
    """``owner``, ``editor``, ``viewer`` or None: what this user may do with the album."""
    owner = s.scalar(select(Album.owner_id).where(Album.id == int(album_id)))
    if owner is None:
        return None
    if owner == user_id:
        return "owner"
    found = s.scalar(
        select(AlbumShare.role).where(
            AlbumShare.album_id == int(album_id), AlbumShare.user_id == user_id
        )
    )
    return str(found) if found else None


def user_email(s: Session, user_id: int) -> str | None:
    return s.scalar(select(User.email).where(User.id == int(user_id)))


def share(s: Session, album_id: int, user_id: int, role: str, now: datetime) -> datetime:
    """Grant (or change) the user's role; returns when the grant was first made."""
    grant = s.scalars(
        select(AlbumShare).where(AlbumShare.album_id == album_id, AlbumShare.user_id == user_id)
    ).first()
    if grant is None:
        grant = AlbumShare(album_id=album_id, user_id=user_id, role=role, created_at=now)
        s.add(grant)
    grant.role = role
    s.flush()
    return grant.created_at


def unshare(s: Session, album_id: int, user_id: int) -> bool:
    """Take the grant away; False if there was none."""
    result = s.execute(
        delete(AlbumShare).where(
            AlbumShare.album_id == int(album_id), AlbumShare.user_id == int(user_id)
        )
    )
    return bool(getattr(result, "rowcount", 0))


def grants_of(s: Session, album: AlbumFacts) -> list[AlbumGrant]:
    rows = s.execute(
        select(AlbumShare, User.email)
        .join(User, User.id == AlbumShare.user_id)
        .where(AlbumShare.album_id == album.id)
        .order_by(User.email)
    )
    return [
        AlbumGrant(album.id, album.name, g.user_id, email, g.role, g.created_at)
        for g, email in rows
    ]


def albums_for(s: Session, user_id: int) -> list[SharedAlbum]:
    """The user's own albums and those shared with them, by name."""
    shared = dict(
        s.execute(
            select(AlbumShare.album_id, AlbumShare.role).where(AlbumShare.user_id == user_id)
        ).all()
    )
    rows = s.execute(
        select(Album, User.email, User.name)
        .join(User, User.id == Album.owner_id)
        .where(or_(Album.owner_id == user_id, Album.id.in_(list(shared) or [-1])))
        .order_by(Album.name, Album.id)
    ).all()
    ids = [a.id for a, _, _ in rows]
    counts: dict[int, int] = dict(
        s.execute(
            select(AlbumAsset.album_id, func.count())
            .join(Asset, Asset.id == AlbumAsset.asset_id)
            .where(AlbumAsset.album_id.in_(ids or [-1]), Asset.trashed_at.is_(None))
            .group_by(AlbumAsset.album_id)
        ).all()
    )
    return [
        SharedAlbum(
            id=a.id,
            name=a.name,
            description=a.description or "",
            owner_id=a.owner_id,
            owner_email=email,
            role="owner" if a.owner_id == user_id else str(shared[a.id]),
            asset_count=counts.get(a.id, 0),
            cover_asset_id=a.cover_asset_id,
            created_at=a.created_at,
            owner_name=name or "",
        )
        for a, email, name in rows
    ]


# -- album contents -----------------------------------------------------------------------------


def album_asset_ids(s: Session, album_id: int) -> list[int]:
    """The album's untrashed assets in its sort order (by date taken)."""
    desc = s.scalar(select(Album.sort_order).where(Album.id == album_id)) == "desc"
    order = (Asset.taken_at.desc(), Asset.id.desc()) if desc else (Asset.taken_at.asc(), Asset.id)
    return list(
        s.scalars(
            select(Asset.id)
            .join(AlbumAsset, AlbumAsset.asset_id == Asset.id)
            .where(AlbumAsset.album_id == album_id, Asset.trashed_at.is_(None))
            .order_by(*order)
        )
    )


def in_album(s: Session, album_id: int, asset_id: int) -> bool:
    found = s.scalar(
        select(AlbumAsset.asset_id).where(
            AlbumAsset.album_id == album_id, AlbumAsset.asset_id == int(asset_id)
        )
    )
    return found is not None


def add_to_album(s: Session, album_id: int, asset_ids: Sequence[int], now: datetime) -> list[int]:
    """Add the assets not yet in the album (the first new one becomes the cover of an album
    without one); returns those added."""
    have = set(s.scalars(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == int(album_id))))
    new = [a for a in asset_ids if a not in have]
    for aid in new:
        s.add(AlbumAsset(album_id=int(album_id), asset_id=aid, added_at=now))
    row = s.get(Album, int(album_id))
    assert row is not None
    if row.cover_asset_id is None and new:
        row.cover_asset_id = new[0]
    row.updated_at = now
    return new


def remove_from_album(s: Session, album_id: int, asset_ids: Sequence[int], now: datetime) -> int:
    """Take the assets out of the album (a new cover if the cover went); returns how many."""
    result = s.execute(
        delete(AlbumAsset).where(
            AlbumAsset.album_id == int(album_id), AlbumAsset.asset_id.in_(list(asset_ids) or [-1])
        )
    )
    row = s.get(Album, int(album_id))
    assert row is not None
    if row.cover_asset_id in asset_ids:
        row.cover_asset_id = s.scalar(
            select(AlbumAsset.asset_id).where(AlbumAsset.album_id == row.id).limit(1)
        )
    row.updated_at = now
    return int(getattr(result, "rowcount", 0) or 0)


def link_items(s: Session, ids: list[int]) -> list[LinkItem]:
    """What a gallery grid needs of these assets, in this order."""
    rows: dict[int, LinkItem] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for r in s.execute(
            select(
                Asset.id,
                Asset.kind,
                Asset.mime,
                Asset.width,
                Asset.height,
                Asset.duration,
                AssetFile.path,
                Asset.orientation,
            )
            .outerjoin(
                AssetFile, and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original")
            )
            .where(Asset.id.in_(chunk))
        ):
            width, height = r.width, r.height
            if r.orientation in (5, 6, 7, 8):
                width, height = height, width
            name = str(r.path or "").replace("\\", "/").rsplit("/", 1)[-1]
            rows[r.id] = LinkItem(r.id, r.kind, r.mime or "", width, height, r.duration, name)
    return [rows[i] for i in ids if i in rows]
