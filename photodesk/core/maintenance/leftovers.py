"""Crash leftovers on disk: temp files, derivatives no asset needs, copies no asset references."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.procs import pid_alive
from photodesk.core.ingest.staging import upload_leftovers
from photodesk.core.ingest.storage import COPY_TEMP_SUFFIX
from photodesk.core.ingest.uploads import UPLOADS_DIR
from photodesk.core.maintenance.backups import TEMP_PREFIX, TEMP_SUFFIX, backups_dir

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

log = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Leftovers:
    orphan_derivatives: list[str]  # thumbs/ and previews/ files of content no asset has
    temp_files: list[str]  # render, copy and backup temp files
    untracked_copies: list[str]  # files in originals/ that no catalog row names


def find_leftovers(store: Store, known: set[str], catalogued: set[str], cutoff: float) -> Leftovers:
    """What a crash (or a forgetful writer) left; files modified after ``cutoff`` are skipped.

    Args:
        known: checksums some asset or file of the catalog has.
        catalogued: every path the catalog names.
        cutoff: a ``time.time()``; younger files may belong to an import running now.
    """
    orphans: list[str] = []
    temps: list[str] = []
    for top in (store.thumbs_dir, store.previews_dir):
        for entry in _walk(top):
            name = entry.name
            if name.startswith(".") and name.endswith(".tmp"):  # ThumbnailStore's mkstemp names
                if _old(entry, cutoff):
                    temps.append(entry.path)
            elif (
                name.endswith(".jpg")
                and _is_checksum(name[:-4])
                and name[:-4] not in known
                and _old(entry, cutoff)
            ):
                orphans.append(entry.path)
    untracked: list[str] = []
    for entry in _walk(store.originals_dir):
        if entry.name.endswith(COPY_TEMP_SUFFIX):
            if _old(entry, cutoff):
                temps.append(entry.path)
        elif (
            not entry.name.startswith(".") and entry.path not in catalogued and _old(entry, cutoff)
        ):
            untracked.append(entry.path)
    temps += [
        e.path
        for e in _walk(backups_dir(store))
        if e.name.startswith(TEMP_PREFIX) and e.name.endswith(TEMP_SUFFIX) and _old(e, cutoff)
    ]
    # uploads a killed server left half-received (the library's own staging folder)
    temps += upload_leftovers(store.root / UPLOADS_DIR, cutoff)
    return Leftovers(orphans, temps, untracked)


def remove_files(store: Store, paths: list[str]) -> list[str]:
    """Delete ``paths`` (and the derivative shard folders left empty); returns those removed."""
    removed: list[str] = []
    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):  # an ingest folder
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot remove %s: %s", path, exc)
            continue
        removed.append(path)
        _prune_empty_shards(store, Path(path).parent)
    return removed


def remove_dead_writer_temps(store: Store) -> list[str]:
    """Delete derivative temp files whose writer process is dead; returns their paths.

    Run after a crash is found (a job whose process died): a worker killed mid-write may have
    left a temp file for a derivative that no later import rewrites.
    """
    removed: list[str] = []
    for top in (store.thumbs_dir, store.previews_dir):
        for entry in _walk(top):
            parts = entry.name.split(".")
            # ".<stem>.<pid>.<random>.tmp", as thumbnails_render names them
            ours = len(parts) == 5 and parts[0] == "" and parts[4] == "tmp"
            if ours and parts[2].isdigit() and not pid_alive(int(parts[2])):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(entry.path)
    return removed


def _walk(top: Path) -> Iterator[os.DirEntry[str]]:
    stack = [str(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry
            except OSError:
                continue


def _old(entry: os.DirEntry[str], cutoff: float) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime <= cutoff
    except OSError:
        return False


def _is_checksum(stem: str) -> bool:
    return len(stem) == 40 and set(stem) <= _HEX


def _prune_empty_shards(store: Store, folder: Path) -> None:
    # Only the shard folders of thumbs/ and previews/ (ab/, and ab/cd/ of the old layout);
    # originals/ is the user's layout.
    for top in (store.thumbs_dir, store.previews_dir):
        if folder.parent == top:
            shards: tuple[Path, ...] = (folder,)
        elif folder.parent.parent == top:
            shards = (folder, folder.parent)
        else:
            continue
        for shard in shards:
            try:
                shard.rmdir()
            except OSError:  # not empty (or already gone)
                return
        return
