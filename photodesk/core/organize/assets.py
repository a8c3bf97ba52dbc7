"""Asset service: list, show and edit the owner's assets (rating, favourite, archive, trash)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_state as repo
from photodesk.core.catalog.db.assets import records
from photodesk.core.catalog.db.stats import library_stats
from photodesk.core.catalog.errors import InvalidInput, NotFound, PhotodeskError
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
            return records(s, repo.matching(s, self._store.owner_id, q))

    def ids(self, query: AssetQuery | None = None) -> builtins.list[AssetId]:
        with self._store.read() as s:
            found = repo.matching(s, self._store.owner_id, query or AssetQuery())
        return [AssetId(i) for i in found]

    def get(self, asset_id: int) -> AssetRecord:
        with self._store.read() as s:
            found = records(s, [asset_id])
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

    def metadata_warnings(self, asset_id: int) -> builtins.list[str]:
        """What the asset's file says that the catalog does not use, read again from the file:
        implausible dates and exposures, GPS 0,0, damaged blocks (the raw values are in the
        words); empty when the file cannot be read now."""
        from photodesk.core.media.metadata import read_metadata

        path = Path(self.get(asset_id).path)
        try:
            return list(read_metadata(path).warnings)
        except (PhotodeskError, OSError):
            return []

    def owned(self, ids: Iterable[int]) -> builtins.list[int]:
        """``ids`` (sorted, once each) if the acting user owns them all; else ``NotFound``."""
        wanted = sorted(set(int(i) for i in ids))
        with self._store.read() as s:
            have = repo.owned_among(s, self._store.owner_id, wanted)
        missing = [i for i in wanted if i not in have]
        if missing:
            raise NotFound(f"no asset with id {', '.join(map(str, missing))}")
        return wanted

    def _set(self, ids: Iterable[int], xmp: tuple[str, ...] = (), **values: object) -> None:
        owned = self.owned(ids)
        with self._store.write(Changes(assets=frozenset(owned))) as s:
            repo.set_many(s, owned, {**values, "updated_at": datetime.now()})
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
            rows = repo.trashed_before(s, self._store.owner_id, cutoff)
            copies = repo.copied_files(s, [r[0] for r in rows])
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        with self._store.write(Changes(assets=frozenset(ids), assets_removed=True)) as s:
            repo.forget(s, ids)
        for path in copies:
            Path(path).unlink(missing_ok=True)
        with self._store.read() as s:
            still = repo.checksums_in_use(s, [r[1] for r in rows])
        for _, checksum in rows:
            if checksum not in still:
                self._thumbnails.delete(checksum)
        return len(ids)

    def import_errors(self) -> builtins.list[tuple[str, str]]:
        with self._store.read() as s:
            return repo.import_errors(s, self._store.owner_id)

    def stats(self) -> LibraryStats:
        with self._store.read() as s:
            return library_stats(s, self._store.owner_id)
