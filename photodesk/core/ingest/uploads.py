"""Uploads from clients: staged while hashed, checked for duplicates and admitted as assets on the
request path; analysed and moved into storage by their ``upload.analyse`` job."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from photodesk.core.catalog.db import asset_files as file_repo
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.errors import InvalidInput, UploadTooLarge
from photodesk.core.catalog.procs import exit_with_parent
from photodesk.core.ingest.admission import Admission
from photodesk.core.ingest.importer import DEFAULT_TEMPLATE, _mp_context
from photodesk.core.ingest.quota import QuotaBook, Reservation
from photodesk.core.ingest.results import Analysis, Failure, FileTask
from photodesk.core.ingest.staging import (
    STREAM_PREFIX,
    over_pixel_limit,
    upload_leftovers,
)
from photodesk.core.ingest.storage import expand_template, fsync_dir, link_exclusive
from photodesk.core.media.formats import sniff

if TYPE_CHECKING:
    from collections.abc import Callable

    from photodesk.core.accounts.service import AccountService
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.service import IngestService
    from photodesk.core.media.mediatypes import FileFormat
    from photodesk.core.organize.albums import AlbumService

log = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"  # <library>/uploads/<user id>/: same file system as originals/
PENDING_DIR = "pending"  # <uploads>/<user id>/pending/<hex>/<name>: admitted, not analysed yet
FREE_SPACE_MARGIN = 512 * 1024 * 1024
MAX_NAME_BYTES = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")

Status = Literal["created", "duplicate", "rejected"]


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one upload: a new asset, an existing one (same content), or a refusal."""

    asset_id: int | None
    status: Status
    error: str | None = None


def safe_filename(name: str | None, fallback: str = "upload") -> str:
    """A client's file name made harmless: no folders, control or reserved characters, kept short.

    ``../../etc/passwd.jpg`` becomes ``passwd.jpg``, ``C:\\x.jpg`` becomes ``x.jpg``; the
    extension is kept so the file type can still be recognised.
    """
    text = _CONTROL.sub("", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip().strip(". ")
    stem, ext = os.path.splitext(text)
    if not re.fullmatch(r"\.[A-Za-z0-9]{1,10}", ext or "."):
        stem, ext = text, ""
    if not stem or _RESERVED.match(text):
        stem = f"{fallback}_{stem}" if stem else fallback
    while len((stem + ext).encode()) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return stem + ext


def normalize_sha1(value: str | None) -> str | None:
    """A SHA-1 as 40 lowercase hex digits, from hex or base64 (Immich accepts both); else None."""
    if not value:
        return None
    value = value.strip()
    if _HEX40.match(value):
        return value.lower()
    if len(value) == 28:
        import base64
        import binascii

        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        return raw.hex() if len(raw) == 20 else None
    return None


class StagedFile:
    """A file being received: written to the staging folder while hashed, fsynced, or discarded.

    Use as a context manager; leaving the block by an exception (a dropped connection) removes
    the file. ``finish()`` fsyncs and closes it; ``ingest`` then moves or removes it.
    """

    def __init__(self, directory: Path, *, max_bytes: int | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{STREAM_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.part"
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha1(usedforsecurity=False)
        self._fh = open(self.path, "xb")  # noqa: SIM115  (closed by finish/discard)

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        n = len(chunk)
        if self.max_bytes is not None and self.size + n > self.max_bytes:
            raise UploadTooLarge(f"the upload is larger than the {self.max_bytes} bytes allowed")
        self._digest.update(chunk)
        self._fh.write(chunk)
        self.size += n

    @property
    def sha1(self) -> str:
        return self._digest.hexdigest()

    def finish(self) -> Path:
        """Flush the bytes to disk (fsync) and close; the file stays until ingested."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        return self.path

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self.discard()
        elif not self._fh.closed:
            self._fh.close()


class AnalysisPool:
    """The worker processes that decode uploads (the ``upload.analyse`` jobs), shared by every
    user's view of the library."""

    def __init__(self, workers: int) -> None:
        self.workers = workers  # 0: analyse in the calling thread
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def get(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=_mp_context(),
                    initializer=exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def drop(self, pool: ProcessPoolExecutor) -> None:
        with self._pool_lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


class UploadService:
    """Turns files received from clients into assets of the uploading user (``lib.uploads``)."""

    def __init__(
        self,
        store: Store,
        accounts: AccountService,
        ingest_of: Callable[[int], IngestService],
        albums_of: Callable[[int], AlbumService],
        *,
        storage_root: Path | None = None,
        analysis: AnalysisPool | None = None,
        quota: QuotaBook | None = None,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._ingest_of = ingest_of  # a user's ingest service: uploads come in as any import
        self._albums_of = albums_of  # a user's albums (an upload may go into one)
        self.template = DEFAULT_TEMPLATE
        self.storage_root = storage_root  # None: the library's originals/ folder
        self.free_space_margin = FREE_SPACE_MARGIN
        self._analysis = analysis if analysis is not None else AnalysisPool(2)
        self.max_pixels: int | None = None  # pictures with more are refused (the server sets it)
        self.quota = quota or QuotaBook(
            accounts.check_quota, lambda: self.root, store.root, lambda: self.free_space_margin
        )

    @property
    def analysis_workers(self) -> int:
        """Decoding processes (0: decode in the calling thread)."""
        return self._analysis.workers

    @analysis_workers.setter
    def analysis_workers(self, n: int) -> None:
        self._analysis.workers = n

    # ----- before the bytes ----------------------------------------------------------------
    @property
    def root(self) -> Path:
        """Staging: in the library, or beside a separate storage root (same file system)."""
        if self.storage_root is not None:
            return Path(self.storage_root) / f".photodesk-{UPLOADS_DIR}"
        return self._store.root / UPLOADS_DIR

    def staging_dir(self, owner_id: int) -> Path:
        """Where a user's uploads arrive: inside the library, so the final move is a rename."""
        path = self.root / str(int(owner_id))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def check_space(self, owner_id: int, size: int) -> None:
        """Refuse ``size`` more bytes for this user before any is accepted (quota, free disk),
        counting what uploads in progress have reserved."""
        self.quota.check(owner_id, size)

    def reserve(self, owner_id: int, size: int) -> Reservation:
        """Check and hold ``size`` bytes of quota and disk for an upload starting now (one step,
        so parallel uploads cannot all pass the same check); release it when the upload ends."""
        return self.quota.reserve(owner_id, size)

    def has_checksum(self, owner_id: int, sha1_hex: str) -> int | None:
        """This user's asset with this content (SHA-1, hex or base64), if any."""
        sha1 = normalize_sha1(sha1_hex)
        return None if sha1 is None else self.existing(owner_id, [sha1]).get(sha1)

    def existing(self, owner_id: int, checksums: list[str]) -> dict[str, int]:
        """The bulk form of ``has_checksum``: normalised SHA-1 -> asset id, for those present.

        A Live Photo video absorbed by its still counts as present (as the still).
        """
        wanted = [c for c in (normalize_sha1(x) for x in checksums) if c]
        return self._ingest_of(int(owner_id)).existing(wanted)

    def analysed(self, owner_id: int, asset_id: int) -> bool:
        """Whether an asset's upload was analysed (its file left the pending folder)."""
        with self._store.read() as s:
            row = asset_repo.originals(s, [int(asset_id)], int(owner_id)).get(int(asset_id))
        return row is not None and self.pending_dir(owner_id) not in Path(row.path).parents

    def stage(self, owner_id: int, *, max_bytes: int | None = None) -> StagedFile:
        return StagedFile(self.staging_dir(owner_id), max_bytes=max_bytes)

    # ----- after the bytes -----------------------------------------------------------------
    def pending_dir(self, owner_id: int) -> Path:
        """Where a user's admitted uploads wait for their analysis (one folder each)."""
        return self.staging_dir(owner_id) / PENDING_DIR

    def ingest(
        self,
        owner_id: int,
        temp_path: Path,
        filename: str,
        sha1_hex: str,
        *,
        album: str | None = None,
        file_created_at: datetime | None = None,
        file_modified_at: datetime | None = None,
        device_asset_id: str | None = None,
        sidecar_path: Path | None = None,
        checked: bool = False,
    ) -> UploadOutcome:
        """Admit a received (fsynced) file as an asset of ``owner_id``; its analysis (metadata,
        thumbnails, placement under the storage template, then the ML jobs) is an
        ``upload.analyse`` job that runs off the request path.

        ``sha1_hex`` is the SHA-1 the caller computed over the bytes it wrote (never a client's
        unverified claim): it becomes the asset's checksum without reading the file again.
        ``checked``: the caller ran the duplicate check for it already (Immich's checksum
        header), so it is not run twice. Only the file's first bytes are read here (its format,
        and for pictures the pixel count its header declares). The temp file (and sidecar) is
        always consumed: moved to the pending folder, or removed.
        """
        del device_asset_id  # the file's own metadata decides; kept for clients
        temp_path = Path(temp_path)
        work = self.pending_dir(owner_id) / uuid.uuid4().hex
        outcome = UploadOutcome(None, "rejected", "not admitted")
        try:
            sha1 = normalize_sha1(sha1_hex)
            if sha1 is None:
                raise InvalidInput(f"not a SHA-1 checksum: {sha1_hex!r}")
            name = safe_filename(filename)
            work.mkdir(parents=True)
            staged = work / name
            os.replace(temp_path, staged)
            if file_modified_at is not None:
                ts = file_modified_at.timestamp()
                os.utime(staged, (ts, ts))
            side = None
            if sidecar_path is not None and Path(sidecar_path).exists():
                side = work / (name + ".xmp")
                os.replace(sidecar_path, side)
            st = staged.stat()
            fmt, refused = _admissible(staged, st.st_size, self.max_pixels)
            if fmt is None:
                outcome = UploadOutcome(None, "rejected", refused)
            else:
                admitted = Admission(
                    staged, side, sha1, st.st_size, st.st_mtime_ns, fmt,
                    file_created_at or file_modified_at, checked,
                )  # fmt: skip
                asset_id, created = self._ingest_of(int(owner_id)).admit(admitted)
                outcome = UploadOutcome(asset_id, "created" if created else "duplicate")
        finally:
            temp_path.unlink(missing_ok=True)
            if sidecar_path is not None:
                Path(sidecar_path).unlink(missing_ok=True)
            if outcome.status != "created":
                shutil.rmtree(work, ignore_errors=True)
        if outcome.asset_id is not None and album:
            albums = self._albums_of(int(owner_id))
            albums.add(albums.ensure(album), [outcome.asset_id])
        return outcome

    def clear_stale(self, older_than: float = 24 * 3600) -> int:
        """Remove staged streams and ingest folders a crash left behind (their writer is gone,
        or they were untouched for ``older_than`` s), and pending folders no asset refers to;
        returns how many."""
        removed = 0
        cutoff = time.time() - older_than
        for path in upload_leftovers(self.root, cutoff) + self._orphans(cutoff):
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed += 1
            except OSError as exc:
                log.warning("cannot remove the stale upload %s: %s", path, exc)
        return removed

    def _orphans(self, cutoff: float) -> list[str]:
        """Pending folders untouched since ``cutoff`` whose files the catalog does not know (a
        crash between the move and the commit, or after the analysis moved the file on)."""
        folders: dict[str, list[str]] = {}
        for pending in sorted(self.root.glob(f"*/{PENDING_DIR}/*")):
            try:
                if pending.stat().st_mtime > cutoff:
                    continue
                folders[str(pending)] = [str(p) for p in pending.iterdir()]
            except OSError:
                continue
        if not folders:
            return []
        with self._store.read() as s:
            known = file_repo.present_paths(s, [p for files in folders.values() for p in files])
        return [f for f, files in folders.items() if not known.intersection(files)]

    def close(self) -> None:
        self._analysis.close()

    # ----- the upload.analyse job ----------------------------------------------------------
    def analyse(self, path: Path, sidecar: Path | None, sha1: str) -> Analysis | Failure:
        """Everything about an admitted upload that needs no catalog access, decoded in the
        worker processes (a hostile file that crashes one cannot stop the server)."""
        from photodesk.core.ingest.analyze import analyze

        st = path.stat()
        task = FileTask(
            str(path),
            st.st_size,
            st.st_mtime_ns,
            str(sidecar) if sidecar else None,
            str(self._store.thumbs_dir),
            str(self._store.previews_dir),
            sha1,  # hashed while received: the file is not read a second time for it
        )
        if self.analysis_workers <= 0:
            return analyze(task)
        for attempt in (1, 2):
            pool = self._analysis.get()
            try:
                return pool.submit(analyze, task).result()
            except BrokenProcessPool:
                self._analysis.drop(pool)
                if attempt == 2:
                    break
        return Failure(task.path, task.size, task.mtime_ns, "crashed the decoder (damaged file?)")

    def place(self, owner_id: int, a: Analysis) -> Analysis:
        """Link an analysed upload (and its sidecar) into the user's storage, at its template
        path (never replacing a file); the pending copy stays until the catalog says so."""
        rel = expand_template(self.template, a)
        folder = self._accounts.storage_dir(owner_id, self.storage_root)
        final = link_exclusive(Path(a.path), folder / rel, keep_source=True)
        side = None
        try:
            if a.sidecar:
                side = link_exclusive(Path(a.sidecar), Path(str(final) + ".xmp"), keep_source=True)
            fsync_dir(final.parent)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return dataclasses.replace(a, path=str(final), sidecar=str(side) if side else None)


def _admissible(path: Path, size: int, max_pixels: int | None) -> tuple[FileFormat | None, str]:
    """The format of a received file from its first bytes, or why it is refused at once."""
    if size == 0:
        return None, "empty file"
    with open(path, "rb") as fh:
        head = fh.read(4096)
    fmt = sniff(head, path.name)
    if fmt is None:
        return None, "not a photo or video (content not recognised)"
    too_big = over_pixel_limit(path, max_pixels)
    if too_big:
        return None, too_big
    return fmt, ""


__all__ = [
    "Reservation",
    "StagedFile",
    "UploadOutcome",
    "UploadService",
    "normalize_sha1",
    "safe_filename",
]
