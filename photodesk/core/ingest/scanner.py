"""Walks folders for media files and their XMP sidecars, skipping hidden and system clutter."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from photodesk.core.media.formats import MEDIA_EXTENSIONS

# Folders that NAS boxes, OSes and other photo tools litter libraries with.
SKIP_DIRS = frozenset(
    {
        "@eadir",
        "#recycle",
        "#snapshot",
        "$recycle.bin",
        "system volume information",
        "lost+found",
        ".thumbnails",
        ".trash",
        ".trashes",
        ".spotlight-v100",
        ".fseventsd",
        ".photodesk",
        "__macosx",
    }
)
SKIP_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "zbthumbnail.info"})
PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", ".photodesk-tmp")
SIDECAR_EXT = ".xmp"


@dataclass(frozen=True)
class ScannedFile:
    path: str  # absolute
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    media: list[ScannedFile]
    sidecars: dict[str, str]  # lower-cased sidecar path without ".xmp" -> real sidecar path
    missing: list[str]  # arguments that do not exist
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (folder, why), not skipped


def is_skipped_name(name: str, *, is_dir: bool) -> bool:
    lower = name.lower()
    if name.startswith(".") or lower in (SKIP_DIRS if is_dir else SKIP_FILES):
        return True
    return not is_dir and (lower.endswith(PARTIAL_SUFFIXES) or name.startswith("._"))


def _walk(top: str, unreadable: list[tuple[str, str]]) -> Iterator[os.DirEntry[str]]:
    """Files under ``top``; folders that cannot be listed go into ``unreadable`` with the reason
    (an import must say it skipped them, not pass over them in silence)."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            unreadable.append((folder, f"cannot read the folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_skipped_name(entry.name, is_dir=is_dir):
                continue
            if is_dir:
                stack.append(entry.path)
            else:
                yield entry


def scan(paths: Iterable[str | Path], *, library_root: Path | None = None) -> ScanResult:
    """List media files under ``paths`` (files or folders, recursively), with size and mtime."""
    media: dict[str, ScannedFile] = {}
    sidecars: dict[str, str] = {}
    missing: list[str] = []
    unreadable: list[tuple[str, str]] = []
    # Never import the library's own caches when a user points at a parent folder.
    caches = (
        tuple(os.path.join(library_root, sub) + os.sep for sub in ("thumbs", "previews", "models"))
        if library_root
        else ()
    )

    def consider(path: str, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            return
        lower = path.lower()
        ext = os.path.splitext(lower)[1]
        if ext == SIDECAR_EXT:
            sidecars[lower[: -len(SIDECAR_EXT)]] = path
        elif ext in MEDIA_EXTENSIONS and st.st_size >= 0:
            media[path] = ScannedFile(path, st.st_size, st.st_mtime_ns)

    for raw in paths:
        top = os.path.abspath(os.fspath(raw))
        try:
            st = os.stat(top)
        except OSError:
            missing.append(str(raw))
            continue
        if stat.S_ISDIR(st.st_mode):
            for entry in _walk(top, unreadable):
                if caches and entry.path.startswith(caches):
                    continue
                try:
                    consider(entry.path, entry.stat())
                except OSError:
                    continue
        else:
            consider(top, st)
    return ScanResult(sorted(media.values(), key=lambda f: f.path), sidecars, missing, unreadable)


def sidecar_for(path: str, sidecars: dict[str, str]) -> str | None:
    """The XMP sidecar of ``path``: ``photo.jpg.xmp`` (darktable, digiKam) or ``photo.xmp``."""
    lower = path.lower()
    return sidecars.get(lower) or sidecars.get(os.path.splitext(lower)[0])
