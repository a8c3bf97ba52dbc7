"""Sharing: albums shared between users (viewer, editor); public links live in shares_links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import grants as grant_repo
from photodesk.core.catalog.errors import Forbidden, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import AlbumGrant, SharedAlbum
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
    from photodesk.core.catalog.store import Session, Store

__all__ = [
    "KEY_BYTES",
    "ROLES",
    "AlbumGrant",
    "LinkFile",
    "LinkItem",
    "ShareLink",
    "ShareService",
    "SharedAlbum",
    "check_slug",
    "parse_expiry",
]

ROLES = ("viewer", "editor")


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
        return grant_repo.role(s, user_id, album_id)

    def share_album(self, owner_id: int, album_id: int, user_id: int, role: str) -> AlbumGrant:
        """Give ``user_id`` viewer or editor access to the owner's album (or change the role)."""
        if role not in ROLES:
            raise InvalidInput(f"a role is viewer or editor, not {role!r}")
        if user_id == owner_id:
            raise InvalidInput("an album cannot be shared with its owner")
        with self._store.write(Changes(albums=True)) as s:
            album = self._owned_album(s, owner_id, album_id)
            email = grant_repo.user_email(s, int(user_id))
            if email is None:
                raise NotFound(f"no user with id {user_id}")
            since = grant_repo.share(s, album.id, int(user_id), role, datetime.now())
            return AlbumGrant(album.id, album.name, int(user_id), email, role, since)

    def unshare_album(self, owner_id: int, album_id: int, user_id: int) -> None:
        """Take the user's access away; NotFound if they had none."""
        with self._store.write(Changes(albums=True)) as s:
            self._owned_album(s, owner_id, album_id)
            if not grant_repo.unshare(s, album_id, user_id):
                raise NotFound(f"album {album_id} is not shared with user {user_id}")

    def album_grants(self, owner_id: int, album_id: int) -> list[AlbumGrant]:
        with self._store.read() as s:
            return grant_repo.grants_of(s, self._owned_album(s, owner_id, album_id))

    def albums_for(self, user_id: int) -> list[SharedAlbum]:
        """The user's own albums and those shared with them, by name."""
        with self._store.read() as s:
            return grant_repo.albums_for(s, user_id)

    def album_asset_ids(self, user_id: int, album_id: int) -> list[int]:
        """The album's photos for a user who may see it (owner or grant); NotFound otherwise."""
        with self._store.read() as s:
            if self._role(s, user_id, album_id) is None:
                raise NotFound(f"no album {album_id}")
            return grant_repo.album_asset_ids(s, int(album_id))

    def album_items(self, user_id: int, album_id: int) -> list[LinkItem]:
        """The album's photos with what a grid needs, for a user who may see it (owner or
        grant); NotFound otherwise (existence not revealed)."""
        with self._store.read() as s:
            if self._role(s, user_id, album_id) is None:
                raise NotFound(f"no album {album_id}")
            return grant_repo.link_items(s, grant_repo.album_asset_ids(s, int(album_id)))

    def _editable(self, s: Session, user_id: int, album_id: int) -> None:
        role = self._role(s, user_id, album_id)
        if role is None:
            raise NotFound(f"no album {album_id}")
        if role == "viewer":
            raise Forbidden("a viewer cannot change the album")

    def add_to_album(self, user_id: int, album_id: int, asset_ids: Iterable[int]) -> int:
        """Owner or editor adds their own photos; returns how many were new to the album."""
        wanted = sorted({int(i) for i in asset_ids})
        with self._store.write(Changes(albums=True, assets=frozenset(wanted))) as s:
            self._editable(s, user_id, album_id)
            owned = grant_repo.owned(s, user_id, wanted)
            if len(owned) != len(wanted):
                missing = next(i for i in wanted if i not in owned)
                raise NotFound(f"no asset with id {missing}")
            self._album(s, album_id)
            return len(grant_repo.add_to_album(s, int(album_id), wanted, datetime.now()))

    def remove_from_album(self, user_id: int, album_id: int, asset_ids: Iterable[int]) -> int:
        """Owner or editor removes photos from the album (the photos stay in the library)."""
        ids = sorted({int(i) for i in asset_ids})
        with self._store.write(Changes(albums=True, assets=frozenset(ids))) as s:
            self._editable(s, user_id, album_id)
            return grant_repo.remove_from_album(s, int(album_id), ids, datetime.now())

    def grants_read(self, user_id: int, asset_id: int) -> bool:
        """Whether an album lets this user see an asset they do not own (the sharing half of
        ``accounts.can_read``): it is in an album they own or that is shared with them."""
        with self._store.read() as s:
            return grant_repo.grants_read(s, user_id, asset_id)
