"""Change tracking for watched folders: events to moves and deletions, files settling in batches."""

from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import dataclass

from watchdog.events import FileSystemEvent

from photodesk.core.ingest.scanner import scan
from photodesk.core.ingest.watch.fs import is_ignored, is_inside, is_wanted_file

GROUP_HOLD_S = 30.0  # longest a settled JPEG waits for its RAW still being copied

Op = tuple[str, str, str]  # ("move", src, dest) or ("gone", path, "")


@dataclass
class Pending:
    """A file seen new or changed, waiting until its size and mtime hold still."""

    folder_id: int
    size: int
    mtime_ns: int
    since: float  # monotonic time the file was last seen changing
    first: float


def group_key(path: str) -> tuple[str, str]:
    """Files that should arrive together: IMG_1.CR2, IMG_1.JPG, IMG_1.xmp, IMG_1.JPG.xmp."""
    folder, name = os.path.split(path)
    return folder, name.lower().split(".")[0]


class ChangeTracker:
    """What the watcher has seen and not applied yet; fed by the worker thread (``counts`` may be
    read from any thread)."""

    def __init__(
        self, *, settle_s: float, max_wait_s: float, batch_max: int, library_roots: tuple[str, ...]
    ) -> None:
        self._settle = settle_s
        self._max_wait = max_wait_s
        self._batch_max = batch_max
        self._library_roots = library_roots
        self._lock = threading.Lock()
        self._pending: dict[str, Pending] = {}
        self._ops: list[Op] = []

    # -- state ---------------------------------------------------------------------------------

    @property
    def has_ops(self) -> bool:
        return bool(self._ops)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def counts(self) -> dict[int, int]:
        """Files pending per watched folder id."""
        with self._lock:
            out: dict[int, int] = {}
            for p in self._pending.values():
                out[p.folder_id] = out.get(p.folder_id, 0) + 1
            return out

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._ops.clear()

    # -- recording -----------------------------------------------------------------------------

    def relevant(self, root: str, path: str, *, is_dir: bool) -> bool:
        if not path or is_ignored(path, root, is_dir=is_dir, library_roots=self._library_roots):
            return False
        return is_dir or is_wanted_file(path)

    def on_event(self, folder_id: int, root: str, event: FileSystemEvent) -> bool:
        """Record one watchdog event; True when it says the watched folder itself went away."""
        src = os.fsdecode(event.src_path)
        is_dir = event.is_directory
        kind = event.event_type
        if kind == "moved":
            if event.is_synthetic:
                return False  # the move of the folder that held it covers it
            dest = os.fsdecode(event.dest_path)
            ok_src = self.relevant(root, src, is_dir=is_dir)
            ok_dest = self.relevant(root, dest, is_dir=is_dir)
            if ok_src and ok_dest:
                self.moved(src, dest)
            elif ok_dest:  # e.g. photo.jpg.part -> photo.jpg, or out of #recycle
                self.appeared(folder_id, dest, is_dir=is_dir)
            elif ok_src:  # e.g. into #recycle, or out of the watched folder
                self.vanished(src)
        elif kind == "deleted":
            if src == root:
                return True
            if self.relevant(root, src, is_dir=is_dir):
                self.vanished(src)
        elif kind in ("created", "modified", "closed"):
            if event.is_synthetic or (is_dir and kind != "created"):
                return False
            if self.relevant(root, src, is_dir=is_dir):
                self.appeared(folder_id, src, is_dir=is_dir)
        return False

    def appeared(self, folder_id: int, path: str, *, is_dir: bool) -> None:
        if not is_dir:
            self.touch(folder_id, path)
            return
        found = scan([path])  # a folder moved or copied in: what is in it already
        for f in found.media:
            self.touch(folder_id, f.path)
        for side in found.sidecars.values():
            self.touch(folder_id, side)

    def touch(self, folder_id: int, path: str) -> None:
        """A file was created or written: (re)start its settle clock if it changed."""
        if any(is_inside(path, lib) for lib in self._library_roots):
            return
        now = time.monotonic()
        try:
            st = os.stat(path)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            return
        with self._lock:
            known = self._pending.get(path)
            if known is None:
                self._pending[path] = Pending(folder_id, st.st_size, st.st_mtime_ns, now, now)
            elif (known.size, known.mtime_ns) != (st.st_size, st.st_mtime_ns):
                known.size, known.mtime_ns, known.since = st.st_size, st.st_mtime_ns, now

    def add_scanned(self, folder_id: int, files: list[tuple[str, int, int]]) -> None:
        """Files a rescan found new or changed; old ones count as settled already."""
        now = time.monotonic()
        cutoff = time.time_ns() - int(self._settle * 1e9)
        with self._lock:
            for path, size, mtime in files:
                since = now - self._settle if mtime <= cutoff else now
                self._pending[path] = Pending(folder_id, size, mtime, since, since)

    def vanished(self, path: str) -> None:
        self.forget(path)
        self._ops.append(("gone", path, ""))

    def moved(self, src: str, dest: str) -> None:
        with self._lock:
            for key in [k for k in self._pending if is_inside(k, src)]:
                self._pending[dest + key[len(src) :]] = self._pending.pop(key)
        self._ops.append(("move", src, dest))

    def forget(self, path: str) -> None:
        """Drop pending files at or below ``path``."""
        with self._lock:
            for key in [k for k in self._pending if is_inside(k, path)]:
                del self._pending[key]

    # -- draining ------------------------------------------------------------------------------

    def take_ops(self) -> list[Op]:
        ops, self._ops = self._ops, []
        return ops

    def take_batch(self) -> tuple[int, list[str], bool] | None:
        """The next batch of settled files of one folder: (folder id, paths, more are ready).

        A burst is taken in one go once its folder is quiet (fewer, larger import calls), but a
        steady trickle still goes every ``max_wait_s``; files sharing a base name wait for each
        other, so a RAW + JPEG + XMP group lands in one import.
        """
        if not self._pending:
            return None
        now = time.monotonic()
        with self._lock:
            items = list(self._pending.items())
        last: dict[int, float] = {}
        oldest: dict[int, float] = {}
        for _, e in items:
            last[e.folder_id] = max(last.get(e.folder_id, 0.0), e.since)
            oldest[e.folder_id] = min(oldest.get(e.folder_id, now), e.first)
        due = {
            fid
            for fid in last
            if now - last[fid] >= self._settle or now - oldest[fid] >= self._max_wait
        }
        waiting = {group_key(p) for p, e in items if now - e.since < self._settle}
        ready: list[str] = []
        for path, entry in items:
            if entry.folder_id not in due or now - entry.since < self._settle:
                continue
            if group_key(path) in waiting and now - entry.first < GROUP_HOLD_S:
                continue
            try:
                st = os.stat(path)
            except OSError:
                with self._lock:
                    self._pending.pop(path, None)
                continue
            if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns):
                entry.size, entry.mtime_ns, entry.since = st.st_size, st.st_mtime_ns, now
                continue
            ready.append(path)
            if len(ready) >= self._batch_max:
                break
        if not ready:
            return None
        with self._lock:
            folder_id = self._pending[ready[0]].folder_id
            batch = sorted(p for p in ready if self._pending[p].folder_id == folder_id)
            for p in batch:
                del self._pending[p]
        return folder_id, batch, len(batch) < len(ready) or len(ready) >= self._batch_max
