"""The ``thumbnails.layout`` job: move thumbnails and previews from ``ab/cd/`` to ``ab/``.

Libraries made before kept each file two folders deep (``<dir>/ab/cd/<checksum>.jpg``): 65,536
folders for a big library, most holding one or two files, and making them was most of the
kernel's work of a first sync. The move is a rename per file inside one file system: resumable
(a cancelled or killed run leaves every file in one of the two places, where lookups find it),
idempotent, and it never copies. A file already in the new place (written since the upgrade)
wins over the old one. Once a folder holds no old-layout file its marker is written, and
lookups stop looking in the old place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photodesk.core.media.thumbnails import ThumbnailStore, mark_flat

__all__ = ["LayoutResult", "flatten"]

_HEX = frozenset("0123456789abcdefABCDEF")
STALE_TEMP_S = 3600.0  # a writer's temporary file this old belongs to no running writer


@dataclass(frozen=True)
class LayoutResult:
    moved: int  # files renamed into ab/
    dropped: int  # old copies of files already in ab/
    left: int  # files of the old folders that are not derivatives (left where they are)

    def as_dict(self) -> dict[str, int]:
        return {"moved": self.moved, "dropped": self.dropped, "left": self.left}


def flatten(
    store: ThumbnailStore,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] | None = None,
) -> LayoutResult:
    """Move every old-layout file of ``store`` into the flat layout and mark both folders.

    ``check`` raises to cancel (between folders: what moved stays moved); ``progress`` gets
    (top-level folders done, of all).
    """
    moved = dropped = left = 0
    tops = (store.thumbs_dir, store.previews_dir)
    shards = [(top, name) for top in tops for name in _hex_dirs(top)]
    for k, (top, outer) in enumerate(shards):
        check()
        for inner in _hex_dirs(top / outer):
            m, d, n = _move_up(top / outer / inner, top / outer)
            moved, dropped, left = moved + m, dropped + d, left + n
            try:
                (top / outer / inner).rmdir()
            except OSError:  # something else stays there (counted in ``left``)
                pass
        if progress is not None:
            progress(k + 1, len(shards))
    for top in tops:
        mark_flat(top)
    store.legacy = False
    return LayoutResult(moved, dropped, left)


def _hex_dirs(folder: Path) -> list[str]:
    """The two-hex-digit sub-folders of ``folder`` (shards; ``faces/`` and others are not)."""
    try:
        with os.scandir(folder) as it:
            return sorted(
                e.name
                for e in it
                if len(e.name) == 2 and set(e.name) <= _HEX and e.is_dir(follow_symlinks=False)
            )
    except FileNotFoundError:
        return []


def _move_up(old: Path, new: Path) -> tuple[int, int, int]:
    """Move ``old``'s derivative files into ``new``: (moved, dropped, left)."""
    moved = dropped = left = 0
    try:
        with os.scandir(old) as it:
            entries = list(it)
    except FileNotFoundError:
        return 0, 0, 0
    for entry in entries:
        name = entry.name
        stem = name[:-4]
        if name.endswith(".jpg") and len(stem) >= 4 and set(stem) <= _HEX:
            target = new / name
            try:
                if target.exists():  # written in the new place since: the newer one stays
                    os.unlink(entry.path)
                    dropped += 1
                else:
                    os.rename(entry.path, target)
                    moved += 1
            except FileNotFoundError:  # a writer or another run moved it meanwhile
                continue
        elif name.startswith(".") and _stale(entry):  # a dead writer's temporary file
            try:
                os.unlink(entry.path)
            except OSError:
                left += 1
        else:
            left += 1
    return moved, dropped, left


def _stale(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime < time.time() - STALE_TEMP_S
    except OSError:
        return False
