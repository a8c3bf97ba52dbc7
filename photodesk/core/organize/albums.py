"""Album service: create, rename, delete albums and change what they hold."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from photodesk.core.catalog.db import albums as repo
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import Album, AlbumId, AssetId

SortOrder = Literal["asc", "desc"]

if TYPE_CHECKING:
    from photodesk.core.catalog.db.schema import Album as AlbumRow
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.organize.assets import AssetService


class AlbumService:
    def __init__(self, store: Store, assets: AssetService) -> None:
        self._store = store
        self._assets = assets

    def _find(self, s: Session, name_or_id: str | int) -> AlbumRow:
        row = repo.find(s, self._store.owner_id, name_or_id)
        if row is None:
            raise NotFound(f"no album {name_or_id!r}")
        return row

    def create(self, name: str, description: str = "") -> AlbumId:
        name = name.strip()
        if not name:
            raise InvalidInput("an album needs a name")
        now = datetime.now()
        with self._store.write(Changes(albums=True)) as s:
            if repo.name_taken(s, self._store.owner_id, name):
                raise Conflict(f"an album named {name!r} exists already")
            return AlbumId(repo.create(s, self._store.owner_id, name, description, now))

    def ensure(self, name: str) -> AlbumId:
        try:
            with self._store.read() as s:
                return AlbumId(self._find(s, name).id)
        except NotFound:
            return self.create(name)

    def rename(self, album: str | int, new_name: str) -> None:
        with self._store.write(Changes(albums=True)) as s:
            row = self._find(s, album)
            row.name, row.updated_at = new_name.strip() or row.name, datetime.now()

    def delete(self, album: str | int) -> None:
        """Delete the album; its photos stay in the library."""
        with self._store.write(Changes(albums=True)) as s:
            repo.delete_album(s, self._find(s, album))

    def add(self, album: str | int, asset_ids: Iterable[int]) -> int:
        owned = self._assets.owned(asset_ids)
        with self._store.write(Changes(albums=True, assets=frozenset(owned))) as s:
            row = self._find(s, album)
            have = repo.member_ids(s, row.id)
            new = [a for a in owned if a not in have]
            now = datetime.now()
            repo.add_members(s, row.id, new, now)
            if row.cover_asset_id is None and owned:
                row.cover_asset_id = owned[0]
            row.updated_at = now
            return len(new)

    def remove(self, album: str | int, asset_ids: Iterable[int]) -> None:
        ids = [int(i) for i in asset_ids]
        with self._store.write(Changes(albums=True, assets=frozenset(ids))) as s:
            row = self._find(s, album)
            repo.remove_members(s, row.id, ids)
            if row.cover_asset_id in ids:
                row.cover_asset_id = repo.any_member(s, row.id)

    def list(self) -> list[Album]:
        with self._store.read() as s:
            counts = repo.live_counts(s)
            return [
                Album(
                    AlbumId(r.id),
                    r.name,
                    r.description,
                    counts.get(r.id, 0),
                    AssetId(r.cover_asset_id) if r.cover_asset_id else None,
                    r.created_at,
                )
                for r in repo.of_owner(s, self._store.owner_id)
            ]

    def set_cover(self, album: str | int, asset_id: int) -> None:
        """Show ``asset_id`` (a photo in the album) as the album's cover."""
        with self._store.write(Changes(albums=True)) as s:
            row = self._find(s, album)
            if not repo.holds(s, row.id, int(asset_id)):
                raise InvalidInput(f"asset {asset_id} is not in the album {row.name!r}")
            row.cover_asset_id, row.updated_at = int(asset_id), datetime.now()

    def set_sort(self, album: str | int, order: str) -> None:
        """Sort the album by capture time, oldest first (``"asc"``) or newest first (``"desc"``)."""
        if order not in ("asc", "desc"):
            raise InvalidInput(f"an album sorts 'asc' or 'desc', not {order!r}")
        with self._store.write(Changes(albums=True)) as s:
            row = self._find(s, album)
            row.sort_order, row.updated_at = order, datetime.now()

    def sort_order(self, album: str | int) -> SortOrder:
        with self._store.read() as s:
            return "desc" if self._find(s, album).sort_order == "desc" else "asc"

    def assets(self, album: str | int) -> builtins.list[AssetId]:
        """The album's photos (archived ones too, trashed ones not) in its sort order."""
        with self._store.read() as s:
            row = self._find(s, album)
            newest_first = row.sort_order == "desc"
            return [AssetId(i) for i in repo.live_members(s, row.id, newest_first=newest_first)]
