"""Each account's WebDAV space: the names a backup app created, over assets and small files.

A photo or video put into the space is imported as an asset of the account (through the same
path as an Immich upload); its name then points at the asset, so the app finds again what it
uploaded. Other files (the marker and test files apps write) are kept as small plain files.
Names live in the ``dav_entries`` table; deleting a name moves its asset to the trash.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import dav as dav_repo
from photodesk.core.catalog.errors import (
    Conflict,
    CorruptFile,
    Forbidden,
    InvalidInput,
    NotFound,
    UnsupportedFormat,
)
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import DavItem
from photodesk.core.dav.locks import LockManager, is_below
from photodesk.core.media.formats import MEDIA_EXTENSIONS

if TYPE_CHECKING:
    from photodesk.core.accounts.service import AccountService
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.uploads import StagedFile, UploadService

DAV_DIR = "dav"  # <library>/dav/<user id>/: the plain files
MAX_PLAIN_BYTES = 16 * 1024 * 1024  # a file that is not a photo or video may be this large
MAX_SEGMENT_BYTES = 255
MAX_PATH_CHARS = 4096
EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


class Exists(Conflict):
    """The name is taken (MKCOL on an existing name: HTTP 405)."""


class MissingParent(Conflict):
    """The parent folder does not exist (HTTP 409)."""


class PreconditionFailed(Conflict):
    """The destination exists and overwriting was refused (HTTP 412)."""


def norm_path(text: str) -> str:
    """A decoded URL path below the space's root as a space path: ``a/b`` (``""`` the root)."""
    parts = []
    for seg in text.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            raise InvalidInput("'..' is not allowed in a path")
        if any(ord(c) < 32 or ord(c) == 127 for c in seg) or "\\" in seg:
            raise InvalidInput("control characters and backslashes are not allowed in names")
        if len(seg.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise InvalidInput("a name is longer than 255 bytes")
        parts.append(seg)
    path = "/".join(parts)
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInput("the path is too long")
    return path


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def is_media_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in MEDIA_EXTENSIONS


class DavSpace:
    """The accounts' WebDAV spaces (``lib.dav``); every call names the acting account."""

    def __init__(self, store: Store, uploads: UploadService, accounts: AccountService) -> None:
        self._store = store
        self._uploads = uploads
        self._accounts = accounts
        self.locks = LockManager()
        self.max_plain_bytes = MAX_PLAIN_BYTES

    # ----- reading --------------------------------------------------------------------------
    def stat(self, owner_id: int, path: str) -> DavItem | None:
        if path == "":
            now = datetime.now().replace(microsecond=0)
            return DavItem("", True, 0, None, None, now, now)
        with self._store.read() as s:
            return dav_repo.entry(s, owner_id, path)

    def children(self, owner_id: int, path: str) -> list[DavItem]:
        with self._store.read() as s:
            return dav_repo.children(s, owner_id, path)

    def file_path(self, owner_id: int, item: DavItem) -> Path:
        """The file on disk with this item's bytes (the asset's original, or the plain file)."""
        with self._store.read() as s:
            source = dav_repo.file_source(s, owner_id, item.path)
        if source is None or source.is_dir:
            raise NotFound(f"/{item.path} is not a file")
        if source.blob:
            return self.plain_dir(owner_id) / source.blob
        # The very bytes uploaded (a Live Photo's video is a file of its still), else the original.
        for wanted in (lambda c, r: c == source.sha1, lambda c, r: r == "original"):
            for path, checksum, role in source.files:
                if wanted(checksum, role) and os.path.isfile(path):
                    return Path(path)
        raise NotFound(f"the file of /{item.path} is missing from the library")

    def plain_dir(self, owner_id: int) -> Path:
        return self._store.root / DAV_DIR / str(int(owner_id))

    def plain_bytes(self, owner_id: int) -> int:
        """What the account's plain files take (they count toward its quota)."""
        with self._store.read() as s:
            return dav_repo.plain_bytes(s, owner_id)

    def quota(self, owner_id: int) -> tuple[int, int]:
        """(bytes used, bytes still available) for the account (RFC 4331's quota properties)."""
        used = self._accounts.usage_bytes(owner_id) + self.plain_bytes(owner_id)
        uploads = self._uploads
        root = uploads.root if uploads.root.exists() else self._store.root
        free = max(0, shutil.disk_usage(root).free - uploads.free_space_margin)
        quota = self._accounts.get(owner_id).quota_bytes
        return used, free if quota is None else max(0, min(quota - used, free))

    # ----- checks before a body is read ----------------------------------------------------
    def check_put(self, owner_id: int, path: str, length: int | None) -> None:
        """Refuse a PUT before its bytes: bad place, or a file that could never be kept."""
        if path == "":
            raise Exists("the root is a folder")
        self._need_folder(owner_id, parent_of(path))
        target = self.stat(owner_id, path)
        if target is not None and target.is_dir:
            raise Exists(f"/{path} is a folder")
        if not is_media_name(path) and length is not None and length > self.max_plain_bytes:
            raise UnsupportedFormat(
                f"{path.rsplit('/', 1)[-1]} is not a photo or video (by its extension), and "
                f"other files may have at most {self.max_plain_bytes} bytes"
            )
        self._uploads.check_space(owner_id, (length or 0) + self.plain_bytes(owner_id))

    def _need_folder(self, owner_id: int, path: str) -> None:
        found = self.stat(owner_id, path)
        if found is None or not found.is_dir:
            raise MissingParent(f"the folder /{path} does not exist")

    # ----- writing --------------------------------------------------------------------------
    def receive(
        self, owner_id: int, path: str, staged: StagedFile, *, modified_at: datetime | None = None
    ) -> bool:
        """Keep a finished, fsynced upload under ``path``; True if the name is new.

        Photos and videos go through the upload import (dedup by SHA-1: a file the account has
        already only gets the name); anything else is kept as a plain file if small enough.
        The staged file is always consumed. Raises UnsupportedFormat / CorruptFile on refusal.
        """
        name = path.rsplit("/", 1)[-1]
        try:
            self.check_put(owner_id, path, staged.size)
        except BaseException:
            staged.discard()
            raise
        if is_media_name(path) and staged.size > 0:  # Finder and Explorer PUT 0 bytes first
            outcome = self._uploads.ingest(
                owner_id, staged.path, name, staged.sha1, file_modified_at=modified_at
            )
            if outcome.asset_id is None:
                raise CorruptFile(f"{name} cannot be imported: {outcome.error}")
            return self._bind(
                owner_id, path, asset_id=outcome.asset_id, size=staged.size, sha1=staged.sha1,
                modified_at=modified_at,
            )  # fmt: skip
        if staged.size > self.max_plain_bytes:
            staged.discard()
            raise UnsupportedFormat(
                f"{name} is not a photo or video, and other files may have at most "
                f"{self.max_plain_bytes} bytes"
            )
        folder = self.plain_dir(owner_id)
        folder.mkdir(parents=True, exist_ok=True)
        blob = uuid.uuid4().hex
        try:
            shutil.move(staged.path, folder / blob)
        except BaseException:
            staged.discard()
            raise
        try:
            return self._bind(
                owner_id, path, blob=blob, size=staged.size, sha1=staged.sha1,
                modified_at=modified_at,
            )  # fmt: skip
        except BaseException:
            (folder / blob).unlink(missing_ok=True)
            raise

    def _bind(
        self,
        owner_id: int,
        path: str,
        *,
        size: int,
        sha1: str | None,
        asset_id: int | None = None,
        blob: str | None = None,
        modified_at: datetime | None = None,
    ) -> bool:
        now = datetime.now()
        with self._store.write() as s:
            bound = dav_repo.bind(
                s, owner_id, path, asset_id=asset_id, blob=blob, size=size, sha1=sha1,
                modified_at=modified_at or now, now=now,
            )  # fmt: skip
            if bound is None:
                raise Exists(f"/{path} is a folder")
        if bound.trashed:
            self._store.events.publish(Changes(assets=frozenset(bound.trashed)))
        if bound.old_blob:
            (self.plain_dir(owner_id) / bound.old_blob).unlink(missing_ok=True)
        return bound.created

    def touch(self, owner_id: int, path: str) -> None:
        """An empty plain file (locking a name that does not exist creates one)."""
        if path == "":
            raise Exists("the root is a folder")
        self._need_folder(owner_id, parent_of(path))
        folder = self.plain_dir(owner_id)
        folder.mkdir(parents=True, exist_ok=True)
        blob = uuid.uuid4().hex
        (folder / blob).touch()
        self._bind(
            owner_id, path, blob=blob, size=0, sha1="da39a3ee5e6b4b0d3255bfef95601890afd80709"
        )

    def mkcol(self, owner_id: int, path: str) -> None:
        if path == "" or self.stat(owner_id, path) is not None:
            raise Exists(f"/{path} exists already")
        self._need_folder(owner_id, parent_of(path))
        now = datetime.now()
        with self._store.write() as s:  # checked again under the writer: clients MKCOL in parallel
            if not dav_repo.add_folder(s, owner_id, path, now):
                raise Exists(f"/{path} exists already")

    def delete(self, owner_id: int, path: str) -> None:
        """Remove a name (and all below it); assets no other name shows go to the trash."""
        if path == "":
            raise Forbidden("the root cannot be deleted")
        if self.stat(owner_id, path) is None:
            raise NotFound(f"/{path} does not exist")
        blobs = self._remove(owner_id, path)
        self.locks.forget(owner_id, path)
        for blob in blobs:
            (self.plain_dir(owner_id) / blob).unlink(missing_ok=True)

    def _remove(self, owner_id: int, path: str) -> list[str]:
        with self._store.write() as s:
            blobs, trash = dav_repo.remove(s, owner_id, path)
        if trash:
            self._store.events.publish(Changes(assets=frozenset(trash)))
        return blobs

    def transfer(
        self, owner_id: int, src: str, dst: str, *, move: bool, deep: bool, overwrite: bool
    ) -> bool:
        """COPY or MOVE ``src`` to ``dst``; True if ``dst`` is a new name.

        A copied photo shows the same asset under a second name (no second asset); a copied
        plain file is a new file. ``deep=False`` copies a folder without its contents.
        """
        if src == "" or dst == "":
            raise Forbidden("the root cannot be copied, moved or replaced")
        source = self.stat(owner_id, src)
        if source is None:
            raise NotFound(f"/{src} does not exist")
        if dst == src or is_below(dst, src):
            raise Forbidden("the destination is the source or inside it")
        self._need_folder(owner_id, parent_of(dst))
        existed = self.stat(owner_id, dst) is not None
        if existed:
            if not overwrite:
                raise PreconditionFailed(f"/{dst} exists")
            self.delete(owner_id, dst)
        if move:  # Conflict when a client created the destination meanwhile
            with self._store.write() as s:
                dav_repo.move(s, owner_id, src, dst)
            self.locks.forget(owner_id, src)
        else:
            self._copy_rows(owner_id, src, dst, deep=deep)
        return not existed

    def _copy_rows(self, owner_id: int, src: str, dst: str, *, deep: bool) -> None:
        folder = self.plain_dir(owner_id)
        made: list[Path] = []

        def copy_blob(blob: str) -> str:
            new = uuid.uuid4().hex
            shutil.copyfile(folder / blob, folder / new)
            made.append(folder / new)
            return new

        try:
            with self._store.write() as s:
                dav_repo.copy(
                    s, owner_id, src, dst, deep=deep, now=datetime.now(), copy_blob=copy_blob
                )
        except BaseException:
            for p in made:
                p.unlink(missing_ok=True)
            raise

    def set_props(self, owner_id: int, path: str, changes: list[tuple[str, str | None]]) -> None:
        """Set (XML) or remove (None) dead properties, in order, all or nothing."""
        if path == "":
            raise Forbidden("the root has no properties of its own")
        with self._store.write() as s:
            if not dav_repo.set_props(s, owner_id, path, changes):
                raise NotFound(f"/{path} does not exist")


__all__ = [
    "DavItem",
    "DavSpace",
    "Exists",
    "MissingParent",
    "PreconditionFailed",
    "is_media_name",
    "norm_path",
    "parent_of",
]
