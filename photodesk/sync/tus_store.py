"""Resumable-upload state on disk: a partial file and a small JSON state per upload, per owner."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXPIRY_S = 24 * 3600  # an upload untouched this long is abandoned and removed
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_HASH_SLICE = 4 << 20
SUBDIR = "tus"


class UploadNotFound(Exception):
    """No such upload for this owner (never created, terminated, expired, or someone else's)."""


@dataclass
class UploadState:
    """What the server knows about one tus upload; saved as ``<id>.json`` beside ``<id>.part``."""

    id: str
    owner_id: int
    length: int
    offset: int
    metadata: dict[str, str]
    created_at: float
    updated_at: float
    result: dict[str, Any] | None = None  # {"asset_id", "status", "error"} once ingested
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.offset >= self.length

    @property
    def expires_at(self) -> float:
        return self.updated_at + EXPIRY_S


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class TusStore:
    """Creates, loads, extends and removes uploads under each owner's staging folder.

    The running SHA-1 of every upload is kept in memory while the server lives (hashlib objects
    cannot be saved); after a restart it is rebuilt by re-hashing the partial file once.
    """

    def __init__(self, staging_dir: Callable[[int], Path], expiry_s: float = EXPIRY_S) -> None:
        self._staging_dir = staging_dir
        self.expiry_s = expiry_s
        self._hashers: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    # --- paths -----------------------------------------------------------------------------

    def folder(self, owner_id: int) -> Path:
        folder = Path(self._staging_dir(owner_id)) / SUBDIR
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def part_path(self, state: UploadState) -> Path:
        return self.folder(state.owner_id) / f"{state.id}.part"

    def _state_path(self, owner_id: int, upload_id: str) -> Path:
        return self.folder(owner_id) / f"{upload_id}.json"

    # --- lifecycle -------------------------------------------------------------------------

    def create(self, owner_id: int, length: int, metadata: dict[str, str]) -> UploadState:
        """A new empty upload; the partial file and the state exist on disk when this returns."""
        now = time.time()
        state = UploadState(secrets.token_hex(16), owner_id, length, 0, metadata, now, now)
        part = self.part_path(state)
        with open(part, "xb") as fh:
            os.fsync(fh.fileno())
        self.save(state)
        with self._lock:
            self._hashers[state.id] = (0, hashlib.sha1())
        return state

    def load(self, owner_id: int, upload_id: str) -> UploadState:
        """The upload ``upload_id`` of ``owner_id``; another owner's id is simply not found."""
        if not _ID_RE.match(upload_id):
            raise UploadNotFound(upload_id)
        path = self._state_path(owner_id, upload_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = UploadState(**data)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        except (ValueError, TypeError) as exc:
            log.warning("unreadable upload state %s: %s", path, exc)
            raise UploadNotFound(upload_id) from None
        if state.owner_id != owner_id or state.id != upload_id:
            raise UploadNotFound(upload_id)
        if time.time() > state.updated_at + self.expiry_s:
            self.remove(state)
            raise UploadNotFound(upload_id)
        return state

    def save(self, state: UploadState) -> None:
        state.updated_at = time.time()
        _write_json_atomic(self._state_path(state.owner_id, state.id), asdict(state))

    def remove(self, state: UploadState) -> None:
        """Terminate: the state first (so the upload is gone at once), then the partial file."""
        with self._lock:
            self._hashers.pop(state.id, None)
        self._state_path(state.owner_id, state.id).unlink(missing_ok=True)
        self.part_path(state).unlink(missing_ok=True)

    def drop_part(self, state: UploadState) -> None:
        """Forget the bytes of an upload that has been ingested (the state stays for HEAD)."""
        with self._lock:
            self._hashers.pop(state.id, None)
        self.part_path(state).unlink(missing_ok=True)

    # --- hashing ---------------------------------------------------------------------------

    def hasher(self, state: UploadState) -> Any:
        """A SHA-1 over the first ``state.offset`` bytes (a copy: the caller may extend it)."""
        with self._lock:
            cached = self._hashers.get(state.id)
        if cached is not None and cached[0] == state.offset:
            return cached[1].copy()
        h = hashlib.sha1()
        remaining = state.offset
        with open(self.part_path(state), "rb") as fh:
            while remaining > 0:
                data = fh.read(min(_HASH_SLICE, remaining))
                if not data:
                    raise UploadNotFound(f"{state.id}: partial file shorter than its offset")
                h.update(data)
                remaining -= len(data)
        with self._lock:
            self._hashers[state.id] = (state.offset, h.copy())
        return h

    def remember_hasher(self, state: UploadState, hasher: Any) -> None:
        with self._lock:
            self._hashers[state.id] = (state.offset, hasher.copy())

    # --- listing and cleanup ---------------------------------------------------------------

    def states(self, owner_id: int) -> list[UploadState]:
        out = []
        for path in sorted(self.folder(owner_id).glob("*.json")):
            try:
                out.append(self.load(owner_id, path.stem))
            except UploadNotFound:
                continue
        return out

    def pending_bytes(self, owner_id: int) -> int:
        """Bytes promised to this owner's unfinished uploads (they count against the quota)."""
        if not (Path(self._staging_dir(owner_id)) / SUBDIR).is_dir():
            return 0  # no tus upload yet (and no folder made just to look)
        return sum(s.length for s in self.states(owner_id) if s.result is None)

    def sweep(self, owner_ids: Iterable[int]) -> int:
        """Remove expired uploads and stray files of these owners; returns how many went."""
        removed = 0
        now = time.time()
        for owner_id in owner_ids:
            try:
                folder = self.folder(owner_id)
            except OSError as exc:
                log.warning("cannot sweep uploads of user %s: %s", owner_id, exc)
                continue
            for path in folder.iterdir():
                removed += self._sweep_one(owner_id, path, now)
        if removed:
            log.info("removed %d expired or stray upload files", removed)
        return removed

    def _sweep_one(self, owner_id: int, path: Path, now: float) -> int:
        stem = path.name.split(".")[0] or path.name.split(".")[1]
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            return 0
        if path.suffix == ".json" and _ID_RE.match(path.stem):
            try:
                self.load(owner_id, path.stem)  # removes it when expired
            except UploadNotFound:
                return 1 if not path.exists() else 0
            return 0
        if path.suffix == ".part" and _ID_RE.match(stem):
            if not self._state_path(owner_id, stem).exists() and age > 60:
                path.unlink(missing_ok=True)  # a partial file whose upload is gone
                return 1
            return 0
        if path.name.endswith(".tmp") and age > 3600:
            with contextlib.suppress(OSError):
                path.unlink()
                return 1
        return 0


class ChunkWriter:
    """Appends one PATCH's bytes at the upload's offset while hashing them; commit or discard.

    Bytes past the saved offset were never acknowledged (a crash between write and commit), so
    the partial file is cut back to the offset first. A lock lets ``commit`` wait for a write
    still running in a worker thread when the request was cancelled.
    """

    def __init__(self, store: TusStore, state: UploadState, *, verify_chunk: bool) -> None:
        self.store = store
        self.state = state
        self.start = state.offset
        self.written = 0
        self._whole = store.hasher(state)
        self._chunk = hashlib.sha1(usedforsecurity=False) if verify_chunk else None
        self._lock = threading.Lock()
        self._fh = open(store.part_path(state), "r+b")  # noqa: SIM115  (closed by commit/discard)
        self._fh.truncate(self.start)
        self._fh.seek(self.start)

    def write(self, pieces: list[bytes]) -> None:
        """Append ``pieces`` (as read from the socket, not joined: no extra copy)."""
        with self._lock:
            if self._fh.closed:
                return
            for data in pieces:
                self._fh.write(data)
                self._whole.update(data)
                if self._chunk is not None:
                    self._chunk.update(data)
                self.written += len(data)

    def chunk_digest(self) -> bytes | None:
        return self._chunk.digest() if self._chunk is not None else None

    def commit(self) -> UploadState:
        """fsync the new bytes, then record the new offset (atomically): only then acknowledged."""
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            if self.written:
                self.state.offset = self.start + self.written
                self.store.save(self.state)
                self.store.remember_hasher(self.state, self._whole)
            return self.state

    def discard(self) -> None:
        """Drop this request's bytes: the upload stays at the offset it had before."""
        with self._lock:
            if not self._fh.closed:
                self._fh.truncate(self.start)
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            self.written = 0

    def whole_sha1(self) -> str:
        with self._lock:
            return str(self._whole.hexdigest())
