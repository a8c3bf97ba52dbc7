"""Inboxes: watched folders whose new files become uploads of one account (any account).

A sync tool (Syncthing, Resilio, an SMB share a phone app writes to) fills the folder; each
settled photo or video is copied in through the same path as an Immich upload (dedup by SHA-1
for that account, storage under the account's folder, thumbnails and ML jobs). With
``delete_after_import`` the inbox file goes once the account is seen to hold its content,
analysed (the watcher's periodic check ``sweep``s those whose analysis job had not run yet).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from photodesk.core.catalog.errors import PhotodeskError
from photodesk.core.catalog.types import ImportFailure
from photodesk.core.ingest.files import WatchedFolder, norm
from photodesk.core.ingest.results import sha1_file
from photodesk.core.ingest.watch.reconcile import SyncResult
from photodesk.core.media.formats import MEDIA_EXTENSIONS

if TYPE_CHECKING:
    from photodesk.core.ingest.uploads import UploadService

log = logging.getLogger(__name__)
COPY_CHUNK = 1 << 20
MAX_REMEMBERED = 200_000


class InboxImport:
    """Imports settled inbox files for the inbox's account; runs on the watcher's thread."""

    def __init__(self, uploads: UploadService) -> None:
        self._uploads = uploads
        # (size, mtime_ns) of files this process already brought in: rescans skip them unread.
        self._done: dict[str, tuple[int, int]] = {}
        # delete_after_import files whose upload is admitted but not analysed yet (a job): they
        # are removed by ``sweep`` once the account holds the analysed asset.
        self._awaiting: dict[str, tuple[int, str, tuple[int, int]]] = {}

    def apply(self, folder: WatchedFolder, paths: Sequence[str]) -> SyncResult:
        result = SyncResult()
        for path in dict.fromkeys(norm(p) for p in paths):
            if os.path.splitext(path)[1].lower() not in MEDIA_EXTENSIONS:
                continue  # sidecars, partial files of sync tools (.syncthing.*.tmp), notes
            try:
                result += self._one(folder, path)
            except (OSError, PhotodeskError) as exc:
                result += SyncResult(failed=(ImportFailure(path, str(exc)),))
        return result

    def _one(self, folder: WatchedFolder, path: str) -> SyncResult:
        uploads, owner = self._uploads, folder.owner_id
        st = os.stat(path)
        key = (st.st_size, st.st_mtime_ns)
        if self._done.get(path) == key and not folder.delete_after_import:
            return SyncResult(unchanged=1)
        sha1 = sha1_file(path)
        found = uploads.has_checksum(owner, sha1)
        result = SyncResult(duplicates=1)
        if found is None:
            uploads.check_space(owner, st.st_size)
            with uploads.stage(owner, max_bytes=None) as staged:
                with open(path, "rb") as src:
                    while chunk := src.read(COPY_CHUNK):
                        staged.write(chunk)
                staged.finish()
            if staged.sha1 != sha1:  # still being written after all: the next change retries
                staged.discard()
                return SyncResult()
            outcome = uploads.ingest(
                owner,
                staged.path,
                os.path.basename(path),
                staged.sha1,
                file_modified_at=datetime.fromtimestamp(st.st_mtime),
                checked=True,  # has_checksum above was the duplicate check
            )
            if outcome.asset_id is None:
                return SyncResult(failed=(ImportFailure(path, outcome.error or "refused"),))
            found = outcome.asset_id
            result = SyncResult(imported=1)
        if len(self._done) >= MAX_REMEMBERED:
            self._done.clear()
        self._done[path] = key
        if folder.delete_after_import:
            self._remove_verified(path, owner, sha1, key)
        return result

    def sweep(self) -> int:
        """Remove the awaited inbox files whose uploads are analysed now (the watcher's periodic
        check); returns how many are still awaited."""
        for path, (owner, sha1, key) in list(self._awaiting.items()):
            self._awaiting.pop(path, None)
            self._remove_verified(path, owner, sha1, key)
        return len(self._awaiting)

    def _remove_verified(self, path: str, owner: int, sha1: str, key: tuple[int, int]) -> None:
        """Delete the inbox file only if the account holds its content, analysed (a file its
        analysis refuses stays), and it did not change."""
        found = self._uploads.has_checksum(owner, sha1)
        if found is None:
            return
        if not self._uploads.analysed(owner, found):
            if len(self._awaiting) < MAX_REMEMBERED:
                self._awaiting[path] = (owner, sha1, key)
            return
        try:
            st = os.stat(path)
            if (st.st_size, st.st_mtime_ns) != key:
                return
            os.unlink(path)
        except OSError as exc:
            log.warning("cannot remove %s from the inbox after its import: %s", path, exc)
            return
        self._done.pop(path, None)
        log.info("imported and removed from the inbox: %s", path)
