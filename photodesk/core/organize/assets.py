"""Asset service: list, show and edit the owner's assets (rating, favourite, archive, trash)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from photodesk.core.catalog.db import assets as repo
from photodesk.core.catalog.db.schema import (
    Album,
    Asset,
    AssetFile,
    ImportError_,
    Person,
    Stack,
    Tag,
)
from photodesk.core.catalog.errors import InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import AssetId, AssetQuery, AssetRecord, LibraryStats
from photodesk.core.media.render import RenderedImage, render_record
from photodesk.core.organize.sidecars import note_edit

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.media.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
TRASH_DAYS = 30


class AssetService:
    def __init__(self, store: Store, thumbnails: ThumbnailStore) -> None:
        self._store = store
        self._thumbnails = thumbnails

    def list(self, query: AssetQuery | None = None) -> list[AssetRecord]:
        q = query or AssetQuery()
        with self._store.read() as s:
            ids = list(s.scalars(repo.filtered(self._store.owner_id, q)))
            return repo.records(s, ids)

    def ids(self, query: AssetQuery | None = None) -> builtins.list[AssetId]:
        with self._store.read() as s:
            return [
                AssetId(i)
                for i in s.scalars(repo.filtered(self._store.owner_id, query or AssetQuery()))
            ]

    def get(self, asset_id: int) -> AssetRecord:
        with self._store.read() as s:
            found = repo.records(s, [asset_id])
        if not found or found[0].owner_id != self._store.owner_id:
            raise NotFound(f"no asset with id {asset_id}")
        return found[0]

    def thumbnail_path(self, asset_id: int, *, preview: bool = False) -> Path | None:
        rec = self.get(asset_id)
        store = self._thumbnails
        path = store.preview_path(rec.checksum) if preview else store.thumb_path(rec.checksum)
        return path if path.exists() else None

    def render(self, asset_id: int, max_size: int | None = None) -> RenderedImage:
        """Decode the asset's primary file, reduced to ``max_size`` px on the long edge if given.

        Uses the same decoders as the thumbnails (RAW embedded preview or demosaic, HEIF, a
        video's frame), so what the viewer shows at 1:1 matches the preview. Blocking: call it
        off the GUI thread.

        Raises:
            NotFound: no such asset.
            OSError: the file is missing or unreadable (an offline drive...).
            CorruptFile, UnsupportedFormat: nothing can be decoded from it.
        """
        return render_record(self.get(asset_id), max_size)

    def owned(self, ids: Iterable[int]) -> builtins.list[int]:
        """``ids`` (sorted, once each) if the acting user owns them all; else ``NotFound``."""
        wanted = sorted(set(int(i) for i in ids))
        with self._store.read() as s:
            have = (
                set(
                    s.scalars(
                        select(Asset.id).where(
                            Asset.id.in_(wanted), Asset.owner_id == self._store.owner_id
                        )
                    )
                )
                if wanted
                else set()
            )
        missing = [i for i in wanted if i not in have]
        if missing:
            raise NotFound(f"no asset with id {', '.join(map(str, missing))}")
        return wanted

    def _set(self, ids: Iterable[int], xmp: tuple[str, ...] = (), **values: object) -> None:
        owned = self.owned(ids)
        with self._store.write(Changes(assets=frozenset(owned))) as s:
            s.execute(
                update(Asset).where(Asset.id.in_(owned)).values(**values, updated_at=datetime.now())
            )
            if xmp:
                note_edit(s, owned, xmp)  # the XMP sidecar follows (lib.xmp)

    def set_rating(self, ids: Iterable[int], rating: int) -> None:
        if not 0 <= rating <= 5:
            raise InvalidInput("a rating is 0 to 5 stars")
        self._set(ids, xmp=("rating",), rating=rating)

    def set_favorite(self, ids: Iterable[int], favorite: bool = True) -> None:
        self._set(ids, favorite=favorite)

    def set_archived(self, ids: Iterable[int], archived: bool = True) -> None:
        self._set(ids, archived=archived)

    def trash(self, ids: Iterable[int]) -> None:
        """Move to the trash: hidden everywhere, files kept for TRASH_DAYS days."""
        self._set(ids, trashed_at=datetime.now())

    def restore(self, ids: Iterable[int]) -> None:
        self._set(ids, trashed_at=None)

    def purge_trash(self, *, older_than_days: int = TRASH_DAYS) -> int:
        """Forget assets trashed long ago; their copies in originals/ and derivatives go too."""
        cutoff = datetime.now() - timedelta(days=older_than_days)
        with self._store.read() as s:
            rows = s.execute(
                select(Asset.id, Asset.checksum).where(
                    Asset.owner_id == self._store.owner_id, Asset.trashed_at < cutoff
                )
            ).all()
            copies = (
                list(
                    s.scalars(
                        select(AssetFile.path).where(
                            AssetFile.asset_id.in_([r[0] for r in rows]), AssetFile.copied
                        )
                    )
                )
                if rows
                else []
            )
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        with self._store.write(Changes(assets=frozenset(ids), assets_removed=True)) as s:
            s.execute(delete(Asset).where(Asset.id.in_(ids)))
            s.execute(
                delete(Stack).where(
                    ~Stack.id.in_(select(Asset.stack_id).where(Asset.stack_id.is_not(None)))
                )
            )
        for path in copies:
            Path(path).unlink(missing_ok=True)
        with self._store.read() as s:
            still = set(
                s.scalars(select(Asset.checksum).where(Asset.checksum.in_([r[1] for r in rows])))
            )
        for _, checksum in rows:
            if checksum not in still:
                self._thumbnails.delete(checksum)
        return len(ids)

    def import_errors(self) -> builtins.list[tuple[str, str]]:
        with self._store.read() as s:
            return [
                (p, e)
                for p, e in s.execute(
                    select(ImportError_.path, ImportError_.error)
                    .where(ImportError_.owner_id == self._store.owner_id)
                    .order_by(ImportError_.path)
                )
            ]

    def stats(self) -> LibraryStats:
        owner = self._store.owner_id
        mine = Asset.owner_id == owner
        with self._store.read() as s:

            def count(*conds: ColumnElement[bool] | InstrumentedAttribute[bool]) -> int:
                return int(
                    s.scalar(select(func.count()).select_from(Asset).where(mine, *conds)) or 0
                )

            live = Asset.trashed_at.is_(None)
            oldest, newest, total = s.execute(
                select(
                    func.min(Asset.taken_at), func.max(Asset.taken_at), func.sum(Asset.size)
                ).where(mine, live)
            ).one()
            return LibraryStats(
                assets=count(live),
                photos=count(live, Asset.kind == "photo"),
                raws=count(live, Asset.kind == "raw"),
                videos=count(live, Asset.kind == "video"),
                total_bytes=int(total or 0),
                with_gps=count(live, Asset.latitude.is_not(None)),
                favorites=count(live, Asset.favorite),
                archived=count(live, Asset.archived),
                trashed=count(Asset.trashed_at.is_not(None)),
                offline=count(Asset.offline),
                stacks=int(
                    s.scalar(select(func.count()).select_from(Stack).where(Stack.owner_id == owner))
                    or 0
                ),
                albums=int(
                    s.scalar(select(func.count()).select_from(Album).where(Album.owner_id == owner))
                    or 0
                ),
                tags=int(
                    s.scalar(select(func.count()).select_from(Tag).where(Tag.owner_id == owner))
                    or 0
                ),
                people=int(
                    s.scalar(
                        select(func.count()).select_from(Person).where(Person.owner_id == owner)
                    )
                    or 0
                ),
                import_errors=int(
                    s.scalar(
                        select(func.count())
                        .select_from(ImportError_)
                        .where(ImportError_.owner_id == owner)
                    )
                    or 0
                ),
                oldest=oldest,
                newest=newest,
            )
