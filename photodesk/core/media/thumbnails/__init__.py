"""Render and cache JPEG thumbnails (256 px) and previews (1440 px) on disk by content hash.

The files are ``<dir>/ab/<checksum>.jpg``: 256 folders, made once. Libraries made before
(``<dir>/ab/cd/<checksum>.jpg``, 65,536 folders: a first sync of 100,000 thumbnails made as many
folders as files, and the kernel's work for them was most of its cost) are moved over by the
``thumbnails.layout`` job (``layout.py``); until it has run, paths fall back to the old place.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LAYOUT_MARKER", "PREVIEW_SIZE", "THUMB_SIZE", "RenderResult", "ThumbnailStore"]

THUMB_SIZE = 256  # long edge, px
PREVIEW_SIZE = 1440  # long edge, px
_CHECKSUM = re.compile(r"[0-9a-fA-F]{4,128}")
LAYOUT_MARKER = ".layout"  # in each folder once every file there is <dir>/ab/<checksum>.jpg
LAYOUT_TEXT = "ab/<checksum>.jpg\n"


@dataclass(frozen=True)
class RenderResult:
    """Upright sizes of the two files written, and how the pixels were obtained."""

    thumb_size: tuple[int, int]
    preview_size: tuple[int, int]
    source: str  # "jpeg-draft", "jpeg", "heif", "avif", "png", "raw-embedded", "raw-demosaic"...


class ThumbnailStore:
    """Thumbnails and previews as <dir>/ab/<checksum>.jpg; plain paths, so it pickles.

    ``legacy``: a folder may still hold files in the old ``ab/cd/`` layout (its layout marker
    is missing); paths then fall back to a file found there, and ``thumbnails.layout`` is due.
    """

    def __init__(self, thumbs_dir: Path, previews_dir: Path) -> None:
        self.thumbs_dir = Path(thumbs_dir)
        self.previews_dir = Path(previews_dir)
        self._thumbs = str(self.thumbs_dir)
        self.legacy = not all(
            os.path.exists(os.path.join(top, LAYOUT_MARKER))
            for top in (self.thumbs_dir, self.previews_dir)
        )

    def settle_layout(self) -> bool:
        """Mark folders that hold nothing yet (a new library) as flat; True when the old layout
        may remain (``thumbnails.layout`` is due). A folder that cannot be marked stays legacy:
        correct, one more stat per lookup."""
        if self.legacy:
            try:
                if all(_empty(top) for top in (self.thumbs_dir, self.previews_dir)):
                    for top in (self.thumbs_dir, self.previews_dir):
                        mark_flat(top)
                    self.legacy = False
            except OSError:
                pass
        return self.legacy

    def thumb_path(self, checksum: str) -> Path:
        """Where the 256 px thumbnail of this content lives (it may not exist)."""
        return self._path(self.thumbs_dir, checksum)

    def thumb_file(self, checksum: str) -> str:
        """Where a new thumbnail goes, as text made without pathlib (a sync writes 100,000)."""
        return os.path.join(self._thumbs, _checked(checksum)[0:2], checksum + ".jpg")

    def preview_path(self, checksum: str) -> Path:
        """Where the 1440 px preview of this content lives (it may not exist)."""
        return self._path(self.previews_dir, checksum)

    def _path(self, root: Path, checksum: str) -> Path:
        path = _sharded(root, checksum)
        if self.legacy and not path.exists():
            old = nested_path(root, checksum)
            if old.exists():
                return old
        return path

    def has(self, checksum: str) -> bool:
        """True when both the thumbnail and the preview exist."""
        return self.thumb_path(checksum).is_file() and self.preview_path(checksum).is_file()

    def render(
        self, src: Path, checksum: str, file_type: str, kind: str, orientation: int | None
    ) -> RenderResult:
        """Decode src once and write its preview and thumbnail atomically.

        Args:
            file_type: ExifTool-style type from content sniffing (JPEG, HEIC, CR2, MP4...).
            kind: "photo", "raw" or "video".
            orientation: EXIF orientation 1-8 of the file (None: read it from the file where
                cheap). Ignored for HEIF/AVIF, whose decoders apply the container's rotation.

        Raises:
            CorruptFile: no image can be made from the file (empty, truncated, damaged).
            UnsupportedFormat: photodesk has no decoder for this kind of file.
        """
        # Imaging libraries load on first use: listing or serving a library never needs them.
        from photodesk.core.media.thumbnails.render import render_pair

        thumb, preview, source = render_pair(
            Path(src),
            file_type,
            kind,
            orientation,
            self.thumb_path(checksum),
            self.preview_path(checksum),
        )
        return RenderResult(thumb, preview, source)

    def delete(self, checksum: str) -> None:
        """Remove both files (in either layout); missing ones are fine."""
        for root in (self.thumbs_dir, self.previews_dir):
            _sharded(root, checksum).unlink(missing_ok=True)
            if self.legacy:
                nested_path(root, checksum).unlink(missing_ok=True)


def _checked(checksum: str) -> str:
    """``checksum`` itself; ValueError unless it is hex (it names a file: no ``/`` or ``..``)."""
    if not _CHECKSUM.fullmatch(checksum):
        raise ValueError(f"not a hex checksum: {checksum!r}")
    return checksum


def _sharded(root: Path, checksum: str) -> Path:
    _checked(checksum)
    return root / checksum[0:2] / f"{checksum}.jpg"


def nested_path(root: Path, checksum: str) -> Path:
    """Where the old layout kept this content's file: ``<dir>/ab/cd/<checksum>.jpg``."""
    _checked(checksum)
    return root / checksum[0:2] / checksum[2:4] / f"{checksum}.jpg"


def mark_flat(top: Path) -> None:
    """Write the layout marker of ``top`` (made if missing). Only its presence counts, so it is
    written in place: a write cut short still marks a folder that was flat before it began."""
    top.mkdir(parents=True, exist_ok=True)
    (top / LAYOUT_MARKER).write_text(LAYOUT_TEXT, encoding="ascii")


def _empty(top: Path) -> bool:
    """True when ``top`` holds nothing but its marker (or does not exist)."""
    try:
        with os.scandir(top) as it:
            return all(e.name == LAYOUT_MARKER for e in it)
    except FileNotFoundError:
        return True
