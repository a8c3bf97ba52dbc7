"""File-system facts for watched folders: network mounts, what to ignore, pruned listings."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache

from photodesk.core.ingest.scanner import SIDECAR_EXT, is_skipped_name
from photodesk.core.media.formats import MEDIA_EXTENSIONS

# File systems where inotify/FSEvents do not see changes made by other machines (or the host).
NETWORK_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "afpfs",
        "webdav",
        "davfs",
        "ncpfs",
        "9p",
        "v9fs",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "vboxsf",
        "vmhgfs",
        "virtiofs",
        "drvfs",
        "sshfs",
    }
)
# FUSE file systems that are local disks (ntfs-3g and exfat-fuse mount as fuseblk).
LOCAL_FUSE = frozenset({"fuseblk", "fuse.ntfs-3g", "fuse.exfat", "fuse.gocryptfs", "fuse.encfs"})
# errno values of a full inotify: no watches (ENOSPC) or no instances (EMFILE) left, or no memory.
INOTIFY_LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENOMEM})

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, fs type) pairs from /proc/mounts text (``\\040`` escapes decoded)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append((_unescape(parts[1]), parts[2]))
    return out


def parse_bsd_mount(text: str) -> list[tuple[str, str]]:
    """(mount point, fs type) pairs from the output of macOS/BSD ``mount``."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^.+? on (.+) \(([^,)]+)", line)
        if m:
            out.append((m.group(1), m.group(2).strip()))
    return out


def mount_type(path: str, mounts: list[tuple[str, str]]) -> str | None:
    """The type of the file system ``path`` lives on: the longest matching mount point wins."""
    real = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for point, fstype in mounts:
        inside = real == point or real.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), fstype)
    return best[1] if best else None


def is_network_fs(fstype: str | None) -> bool:
    if not fstype:
        return False
    fstype = fstype.lower()
    if fstype in NETWORK_FS or fstype.split(".")[-1] in NETWORK_FS:
        return True
    return fstype.startswith("fuse") and fstype not in LOCAL_FUSE


@lru_cache(maxsize=1)
def _bsd_mounts() -> list[tuple[str, str]]:
    try:
        text = subprocess.run(
            ["/sbin/mount"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_bsd_mount(text)


def _windows_remote(path: str) -> bool:
    if path.startswith(("\\\\", "//")):
        return True  # a UNC path: \\server\share
    import ctypes

    drive = os.path.splitdrive(os.path.abspath(path))[0]
    if not drive:
        return False
    kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 (windll exists on Windows only)
    return bool(kernel32.GetDriveTypeW(drive + "\\") == 4)  # DRIVE_REMOTE


def network_fs_type(path: str) -> str | None:
    """The file system type when ``path`` is on a network share (or a VM/WSL share), else None."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
                mounts = parse_mounts(fh.read())
        except OSError:
            return None
        fstype = mount_type(path, mounts)
    elif sys.platform == "win32":
        try:
            return "remote" if _windows_remote(path) else None
        except (OSError, AttributeError):
            return None
    else:
        fstype = mount_type(path, _bsd_mounts())
    return fstype if is_network_fs(fstype) else None


def is_wanted_file(path: str) -> bool:
    """A media file or an XMP sidecar (by extension; the importer checks the content)."""
    ext = os.path.splitext(path)[1].lower()
    return ext in MEDIA_EXTENSIONS or ext == SIDECAR_EXT


def is_inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def is_ignored(path: str, root: str, *, is_dir: bool, library_roots: tuple[str, ...]) -> bool:
    """Whether a path under ``root`` is clutter: the library, hidden, system or partial files."""
    if not is_inside(path, root) or any(is_inside(path, lib) for lib in library_roots):
        return True
    if path == root:
        return False
    parts = os.path.relpath(path, root).split(os.sep)
    if any(is_skipped_name(p, is_dir=True) for p in parts[:-1]):
        return True
    return is_skipped_name(parts[-1], is_dir=is_dir)


def pruned_scandir(
    exclude: tuple[str, ...] = (),
) -> Callable[[str | None], Iterator[os.DirEntry[str]]]:
    """``os.scandir`` without clutter folders (and ``exclude``d ones, such as the library), so
    polling never walks Synology's @eaDir and co."""

    def scandir(path: str | None) -> Iterator[os.DirEntry[str]]:
        with os.scandir(path) as it:
            entries = list(it)
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_skipped_name(entry.name, is_dir=is_dir) or (is_dir and entry.path in exclude):
                continue
            yield entry

    return scandir


def unwatched_dirs(emitter: object, root: str) -> int | None:
    """Folders below ``root`` an inotify emitter failed to watch (watch limit hit part-way).

    watchdog raises only when the root cannot be watched and silently skips sub-folders, so this
    compares its watch table with the tree; None when this watchdog does not expose the table.
    """
    group = getattr(emitter, "_inotify", None)
    table = getattr(group, "_active_callbacks_by_path", None)
    if not isinstance(table, dict):
        return None
    watched = {os.fsdecode(p) for p in list(table)}
    missing = 0
    for folder, dirs, _ in os.walk(root):
        for d in dirs:
            full = os.path.join(folder, d)
            if full not in watched and not os.path.islink(full) and os.path.isdir(full):
                missing += 1
    return missing
