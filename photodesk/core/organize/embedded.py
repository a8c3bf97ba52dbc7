"""Embedded write-back (``metadata.write_xmp = embedded``): photodesk's XMP fields copied into the
original JPEG, TIFF, DNG or HEIC file with ExifTool, when it is installed.

The file is edited as a copy beside it; the copy's pixels are decoded and compared with the
original's (the RAW sensor data for DNG) before it replaces the original, so a write can change
metadata only. The asset keeps its id, albums, tags and faces; its SHA-1 (and its thumbnails'
names) follow the new content.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_state as repo
from photodesk.core.catalog.events import Changes
from photodesk.core.media.checksums import sha1_file
from photodesk.core.media.metadata.xmp_write import temp_path
from photodesk.core.organize.sidecar_state import SidecarState

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.media.thumbnails import ThumbnailStore

EMBEDDABLE = frozenset({"JPEG", "TIFF", "DNG", "HEIC", "HEIF"})
# ExifTool tags per field photodesk owns; cleared, then copied from the sidecar just written
TAGS = {
    "keywords": ("XMP-dc:Subject", "XMP-lr:HierarchicalSubject", "XMP-digiKam:TagsList"),
    "rating": ("XMP-xmp:Rating",),
    "title": ("XMP-dc:Title",),
    "description": ("XMP-dc:Description",),
    "date": ("XMP-exif:DateTimeOriginal", "XMP-photoshop:DateCreated"),
    "location": (
        "XMP-exif:GPSLatitude",
        "XMP-exif:GPSLongitude",
        "XMP-exif:GPSAltitude",
        "XMP-exif:GPSAltitudeRef",
    ),
    "faces": ("XMP-mwg-rs:RegionInfo", "XMP-MP:RegionInfoMP"),
}


class EmbedError(Exception):
    """The original could not be written (it is left as it was)."""


def exiftool() -> str | None:
    return shutil.which("exiftool")


def pixel_digest(path: Path, file_type: str) -> str:
    """SHA-1 of the decoded pixels (DNG: of the sensor data), to prove a write kept them."""
    digest = hashlib.sha1(usedforsecurity=False)
    if file_type == "DNG":
        import rawpy

        with rawpy.imread(str(path)) as raw:
            digest.update(raw.raw_image.tobytes())
        return digest.hexdigest()
    from PIL import Image

    if file_type in ("HEIC", "HEIF"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        im.load()
        digest.update(f"{im.mode} {im.size}".encode())
        digest.update(im.tobytes())
    return digest.hexdigest()


def _pixels(path: Path, file_type: str) -> str:
    try:
        return pixel_digest(path, file_type)
    except Exception as exc:  # any decoder failure: then the file is not touched
        raise EmbedError(f"cannot decode {path.name} to check its pixels: {exc}") from exc


def _command(tool: str, st: SidecarState, sidecar: Path, target: Path) -> list[str]:
    fields = st.values().fields
    owned = [t for f in sorted(fields) for t in TAGS[f]]
    cmd = [tool, "-q", "-q", "-m", "-overwrite_original"]
    cmd += [f"-{t}=" for t in owned]
    cmd += ["-tagsFromFile", os.fspath(sidecar), *(f"-{t}" for t in owned)]
    if "date" in fields and st.taken_at is not None:  # EXIF's date outranks XMP's on re-import
        cmd.append(f"-EXIF:DateTimeOriginal={st.taken_at:%Y:%m:%d %H:%M:%S}")
        if st.taken_offset is not None:
            sign = "+" if st.taken_offset >= 0 else "-"
            h, m = divmod(abs(st.taken_offset), 60)
            cmd.append(f"-EXIF:OffsetTimeOriginal={sign}{h:02d}:{m:02d}")
    return [*cmd, "--", os.fspath(target)]


def embed_sidecar(store: Store, thumbnails: ThumbnailStore, st: SidecarState, sidecar: Path) -> str:
    """Write the sidecar's photodesk fields into the original; returns a note for the outcome.

    Raises:
        EmbedError: ExifTool failed, or the pixels would have changed (nothing is replaced).
    """
    if st.file_type not in EMBEDDABLE or st.original is None:
        return f"; {st.file_type} files keep their metadata in the sidecar only"
    tool = exiftool()
    if tool is None:
        return "; not embedded: ExifTool is not installed (sidecar only)"
    original = Path(st.original)
    work = temp_path(original)
    try:
        shutil.copy2(original, work)
        before = _pixels(original, st.file_type)
        done = subprocess.run(
            _command(tool, st, sidecar, work), capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise EmbedError(f"ExifTool could not write {original.name}: {done.stderr.strip()}")
        if _pixels(work, st.file_type) != before:
            raise EmbedError(f"writing {original.name} would change its pixels: not done")
        checksum = sha1_file(os.fspath(work))
        with store.read() as s:
            old, clash = repo.checksum_and_owner(s, st.asset_id)
            other = repo.other_with_checksum(s, clash, checksum, st.asset_id)
        if other is not None:
            raise EmbedError(f"the written file would be a duplicate of asset {other}")
        os.replace(work, original)
    finally:
        work.unlink(missing_ok=True)
    stat = original.stat()
    _copy_derivatives(thumbnails, old, checksum)
    with store.write(Changes(assets=frozenset({st.asset_id}))) as s:
        repo.set_content(
            s, st.asset_id, os.fspath(original), checksum, stat.st_size, stat.st_mtime_ns
        )
    return "; embedded"


def _copy_derivatives(store: ThumbnailStore, old: str, new: str) -> None:
    """Thumbnails are named by checksum: the asset's new checksum gets them too (the old ones
    go with ``photodesk check --fix`` once no asset has that content)."""
    for src, dst in (
        (store.thumb_path(old), store.thumb_path(new)),
        (store.preview_path(old), store.preview_path(new)),
    ):
        if src.exists() and not dst.exists():
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            except OSError:
                continue
