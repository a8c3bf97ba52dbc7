"""Uploads in the staging folders: their names, what a killed writer left, and pictures refused
before any decoding.

Staged streams are ``<uploads>/<user>/.stream-<pid>-<hex>.part`` and imports in progress
``.ingest-<pid>-<hex>/`` folders: the pid names the writer, so ``photodesk check`` and the
server's start-up sweep can tell a killed writer's leftovers from an upload still arriving.
"""

from __future__ import annotations

import os
from pathlib import Path

from photodesk.core.catalog.procs import pid_alive

STREAM_PREFIX = ".stream-"  # StagedFile's names; other staging users (tus) pick their own
INGEST_PREFIX = ".ingest-"


def upload_writer(name: str) -> int | None:
    """The process that writes an upload temp file or folder, from its name (None: unknown,
    as in names written by older versions)."""
    for prefix in (STREAM_PREFIX, INGEST_PREFIX):
        if name.startswith(prefix):
            pid, sep, _rest = name[len(prefix) :].partition("-")
            if sep and pid.isascii() and pid.isdigit():
                return int(pid)
    return None


def upload_leftovers(root: Path, cutoff: float) -> list[str]:
    """Staged uploads and ingest folders whose writer is gone: the process named in them no
    longer runs, or they were untouched since ``cutoff`` (a stalled upload, an older name)."""
    found: list[str] = []
    try:
        users = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return found
    for user_dir in users:
        try:
            entries = sorted(os.scandir(user_dir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.name.startswith((STREAM_PREFIX, INGEST_PREFIX)):
                continue
            pid = upload_writer(entry.name)
            if (pid is not None and not pid_alive(pid)) or _untouched(entry, cutoff):
                found.append(entry.path)
    return found


def over_pixel_limit(path: Path, max_pixels: int | None) -> str | None:
    """Why a picture is refused before any decoding (only its header is read), if it is: more
    pixels than ``max_pixels`` (a 600 KB PNG can declare 200 million)."""
    if not max_pixels:
        return None
    from photodesk.core.media.formats import sniff_path
    from photodesk.core.media.thumbnails.decode import pixel_count

    fmt = sniff_path(path)
    size = pixel_count(path, fmt.file_type) if fmt and fmt.kind == "photo" else None
    if size is None or size[0] * size[1] <= max_pixels:
        return None
    return (
        f"the picture is {size[0]}x{size[1]} pixels, over this server's limit of "
        f"{max_pixels / 1e6:g} megapixels"
    )


def _untouched(entry: os.DirEntry[str], cutoff: float) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime <= cutoff
    except OSError:
        return False
