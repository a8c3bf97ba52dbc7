"""Albums other accounts shared with an account, as sync reads them on the server and mirrors
them on a desktop (``photodesk.core.sync.shared``): grants, members, the sharer as a user,
the mirror's albums, grants and members, and the photos no shared album holds any more."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, AlbumAsset, AlbumShare, Asset, User
from photodesk.core.catalog.db.sync_log import SyncRemote

# -- server ------------------------------------------------------------------------------------


def grants(s: Session, user_id: int) -> list[tuple[Album, str, str, str]]:
    """(album, role, sharer's email, sharer's name) of albums others shared with ``user_id``."""
    return [
        (album, role, email, name or "")
        for album, role, email, name in s.execute(
            select(Album, AlbumShare.role, User.email, User.name)
            .join(AlbumShare, AlbumShare.album_id == Album.id)
            .join(User, User.id == Album.owner_id)
            .where(AlbumShare.user_id == user_id, Album.owner_id != user_id)
            .order_by(Album.id)
        ).all()
    ]


def live_members(s: Session, album_ids: Sequence[int]) -> dict[int, list[int]]:
    """Album -> its photos not in the trash, by id."""
    out: dict[int, list[int]] = {a: [] for a in album_ids}
    if not out:  # (an empty IN list still made SQLite walk every untrashed photo)
        return out
    for album_id, asset_id in s.execute(
        select(AlbumAsset.album_id, AlbumAsset.asset_id)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(AlbumAsset.album_id.in_(list(album_ids)), Asset.trashed_at.is_(None))
        .order_by(AlbumAsset.album_id, AlbumAsset.asset_id)
    ):
        out[album_id].append(asset_id)
    return out


# -- desktop -----------------------------------------------------------------------------------


def sharer(s: Session, email: str, name: str) -> int:
    """The sharer as a user of this catalog (no password: nobody signs in as them here)."""
    found = s.scalar(select(User.id).where(User.email == email))
    if found is not None:
        return int(found)
    user = User(email=email, name=name, is_admin=False, created_at=datetime.now())
    s.add(user)
    s.flush()
    return user.id


def album(s: Session, album_id: int) -> Album | None:
    return s.get(Album, album_id)


def make_album(s: Session, owner: int, name: str, description: str, now: datetime) -> Album:
    row = Album(owner_id=owner, name=name, description=description, created_at=now,
                updated_at=now)  # fmt: skip
    s.add(row)
    s.flush()
    return row


def delete_album(s: Session, row: Album) -> None:
    s.delete(row)


def grant(s: Session, album_id: int, user_id: int, role: str, now: datetime) -> None:
    """Give ``user_id`` this role on the album (made, or changed)."""
    row = s.scalar(
        select(AlbumShare).where(AlbumShare.album_id == album_id, AlbumShare.user_id == user_id)
    )
    if row is None:
        s.add(AlbumShare(album_id=album_id, user_id=user_id, role=role, created_at=now))
    else:
        row.role = role


def members(s: Session, album_id: int) -> set[int]:
    return set(s.scalars(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == album_id)))


def add_members(s: Session, album_id: int, asset_ids: Collection[int], now: datetime) -> None:
    for aid in asset_ids:
        s.add(AlbumAsset(album_id=album_id, asset_id=aid, added_at=now))


def remove_members(s: Session, album_id: int, asset_ids: Collection[int]) -> None:
    s.execute(
        delete(AlbumAsset).where(
            AlbumAsset.album_id == album_id, AlbumAsset.asset_id.in_(set(asset_ids))
        )
    )


def drop_orphans(s: Session, me: int) -> list[int]:
    """Delete the linked photos of others that no album holds any more: their ids."""
    orphans = list(
        s.scalars(
            select(Asset.id).where(
                Asset.owner_id != me,
                Asset.id.in_(select(SyncRemote.asset_id)),
                ~Asset.id.in_(select(AlbumAsset.asset_id)),
            )
        )
    )
    if orphans:
        s.execute(delete(Asset).where(Asset.id.in_(orphans)))
    return orphans


def flush(s: Session) -> None:
    s.flush()


def account(s: Session, user_id: int) -> tuple[str, str] | None:
    """(email, name) of a user of this catalog (None: no such user)."""
    user = s.get(User, user_id)
    return None if user is None else (user.email, user.name or "")


def others_assets(s: Session, asset_ids: Sequence[int], me: int) -> dict[int, Asset]:
    """id -> row of those of these assets that ``me`` does not own (for writing)."""
    return {
        a.id: a
        for a in s.scalars(select(Asset).where(Asset.id.in_(list(asset_ids)), Asset.owner_id != me))
    }
