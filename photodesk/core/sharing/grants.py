"""Sharing: albums shared between users (viewer, editor); public links live in shares_links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, exists, func, or_, select

from photodesk.core.catalog.db.schema import Album as AlbumRow
from photodesk.core.catalog.db.schema import AlbumAsset, AlbumShare, Asset, User
from photodesk.core.catalog.errors import Forbidden, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.sharing.links import (
    KEY_BYTES,
    LinkFile,
    LinkItem,
    LinkService,
    ShareLink,
    check_slug,
    parse_expiry,
)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from photodesk.core.catalog.store import Store

__all__ = [
    "KEY_BYTES",
    "ROLES",
    "AlbumGrant",
    "LinkFile",
    "LinkItem",
    "ShareLink",
    "ShareService",
    "SharedAlbum",
    "album_grants_read",
    "check_slug",
    "parse_expiry",
]

ROLES = ("viewer", "editor")


@dataclass(frozen=True)
class AlbumGrant:
    """One user's access to someone else's album."""

    album_id: int
    album_name: str
    user_id: int
    email: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class SharedAlbum:
    """An album as a user sees it: their own (role ``owner``) or shared with them."""

    id: int
    name: str
    description: str
    owner_id: int
    owner_email: str
    role: str  # owner | editor | viewer
    asset_count: int
    cover_asset_id: int | None
    created_at: datetime
    owner_name: str = ""


def album_grants_read(user_id: int) -> ColumnElement[bool]:
    """SQL condition on ``Asset``: an album this user owns, or one shared with them, holds the
    (untrashed) asset. The sharing half of the one read rule (``accounts.can_read`` and the
    asset listings use it, so the rule is written once)."""
    return and_(
        Asset.trashed_at.is_(None),
        exists().where(
            AlbumAsset.asset_id == Asset.id,
            AlbumRow.id == AlbumAsset.album_id,
            or_(
                AlbumRow.owner_id == user_id,
                exists().where(
                    and_(AlbumShare.album_id == AlbumRow.id, AlbumShare.user_id == user_id)
                ),
            ),
        ),
    )


class ShareService(LinkService):
    """``lib.shares``: who else may see an album, and the public links of a user."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ----- albums shared between users --------------------------------------------------------
    def role(self, user_id: int, album_id: int) -> str | None:
        """``owner``, ``editor``, ``viewer`` or None: what this user may do with the album."""
        with self._store.read() as s:
            return self._role(s, user_id, album_id)

    def _role(self, s: Session, user_id: int, album_id: int) -> str | None:
        owner = s.scalar(select(AlbumRow.owner_id).where(AlbumRow.id == int(album_id)))
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

    def share_album(self, owner_id: int, album_id: int, user_id: int, role: str) -> AlbumGrant:
        """Give ``user_id`` viewer or editor access to the owner's album (or change the role)."""
        if role not in ROLES:
            raise InvalidInput(f"a role is viewer or editor, not {role!r}")
        if user_id == owner_id:
            raise InvalidInput("an album cannot be shared with its owner")
        with self._store.write(Changes(albums=True)) as s:
            album = self._owned_album(s, owner_id, album_id)
            user = s.get(User, int(user_id))
            if user is None:
                raise NotFound(f"no user with id {user_id}")
            grant = s.scalars(
                select(AlbumShare).where(
                    AlbumShare.album_id == album.id, AlbumShare.user_id == user.id
                )
            ).first()
            if grant is None:
                grant = AlbumShare(
                    album_id=album.id, user_id=user.id, role=role, created_at=datetime.now()
                )
                s.add(grant)
            grant.role = role
            s.flush()
            return AlbumGrant(album.id, album.name, user.id, user.email, role, grant.created_at)

    def unshare_album(self, owner_id: int, album_id: int, user_id: int) -> None:
        """Take the user's access away; NotFound if they had none."""
        with self._store.write(Changes(albums=True)) as s:
            self._owned_album(s, owner_id, album_id)
            result = s.execute(
                delete(AlbumShare).where(
                    AlbumShare.album_id == int(album_id), AlbumShare.user_id == int(user_id)
                )
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound(f"album {album_id} is not shared with user {user_id}")

    def album_grants(self, owner_id: int, album_id: int) -> list[AlbumGrant]:
        with self._store.read() as s:
            album = self._owned_album(s, owner_id, album_id)
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

    def albums_for(self, user_id: int) -> list[SharedAlbum]:
        """The user's own albums and those shared with them, by name."""
        with self._store.read() as s:
            shared = dict(
                s.execute(
                    select(AlbumShare.album_id, AlbumShare.role).where(
                        AlbumShare.user_id == user_id
                    )
                ).all()
            )
            rows = s.execute(
                select(AlbumRow, User.email, User.name)
                .join(User, User.id == AlbumRow.owner_id)
                .where(or_(AlbumRow.owner_id == user_id, AlbumRow.id.in_(list(shared) or [-1])))
                .order_by(AlbumRow.name, AlbumRow.id)
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

    def album_asset_ids(self, user_id: int, album_id: int) -> list[int]:
        """The album's photos for a user who may see it (owner or grant); NotFound otherwise."""
        with self._store.read() as s:
            if self._role(s, user_id, album_id) is None:
                raise NotFound(f"no album {album_id}")
            return self._album_ids(s, int(album_id))

    def album_items(self, user_id: int, album_id: int) -> list[LinkItem]:
        """The album's photos with what a grid needs, for a user who may see it (owner or
        grant); NotFound otherwise (existence not revealed)."""
        with self._store.read() as s:
            if self._role(s, user_id, album_id) is None:
                raise NotFound(f"no album {album_id}")
            return self._items_of(s, self._album_ids(s, int(album_id)))

    def add_to_album(self, user_id: int, album_id: int, asset_ids: Iterable[int]) -> int:
        """Owner or editor adds their own photos; returns how many were new to the album."""
        wanted = sorted({int(i) for i in asset_ids})
        with self._store.write(Changes(albums=True, assets=frozenset(wanted))) as s:
            role = self._role(s, user_id, album_id)
            if role is None:
                raise NotFound(f"no album {album_id}")
            if role == "viewer":
                raise Forbidden("a viewer cannot change the album")
            owned = set(
                s.scalars(
                    select(Asset.id).where(Asset.id.in_(wanted or [-1]), Asset.owner_id == user_id)
                )
            )
            if len(owned) != len(wanted):
                missing = next(i for i in wanted if i not in owned)
                raise NotFound(f"no asset with id {missing}")
            have = set(
                s.scalars(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == int(album_id)))
            )
            now = datetime.now()
            new = [a for a in wanted if a not in have]
            for aid in new:
                s.add(AlbumAsset(album_id=int(album_id), asset_id=aid, added_at=now))
            album = self._album(s, album_id)
            if album.cover_asset_id is None and new:
                album.cover_asset_id = new[0]
            album.updated_at = now
            return len(new)

    def remove_from_album(self, user_id: int, album_id: int, asset_ids: Iterable[int]) -> int:
        """Owner or editor removes photos from the album (the photos stay in the library)."""
        ids = sorted({int(i) for i in asset_ids})
        with self._store.write(Changes(albums=True, assets=frozenset(ids))) as s:
            role = self._role(s, user_id, album_id)
            if role is None:
                raise NotFound(f"no album {album_id}")
            if role == "viewer":
                raise Forbidden("a viewer cannot change the album")
            result = s.execute(
                delete(AlbumAsset).where(
                    AlbumAsset.album_id == int(album_id), AlbumAsset.asset_id.in_(ids or [-1])
                )
            )
            album = self._album(s, album_id)
            if album.cover_asset_id in ids:
                album.cover_asset_id = s.scalar(
                    select(AlbumAsset.asset_id).where(AlbumAsset.album_id == album.id).limit(1)
                )
            album.updated_at = datetime.now()
            return int(getattr(result, "rowcount", 0) or 0)

    def read_condition(self, user_id: int) -> ColumnElement[bool]:
        """The SQL form of ``grants_read`` (on ``Asset``), for listings of readable assets."""
        return album_grants_read(user_id)

    def grants_read(self, user_id: int, asset_id: int) -> bool:
        """Whether an album lets this user see an asset they do not own (the sharing half of
        ``accounts.can_read``): it is in an album they own or that is shared with them."""
        with self._store.read() as s:
            granted = (
                select(Asset.id)
                .where(Asset.id == int(asset_id), album_grants_read(user_id))
                .limit(1)
            )
            return s.scalar(granted) is not None
