"""Render and cache JPEG thumbnails (256 px) and previews (1440 px) on disk by content hash."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PREVIEW_SIZE", "THUMB_SIZE", "RenderResult", "ThumbnailStore"]

THUMB_SIZE = 256  # long edge, px
PREVIEW_SIZE = 1440  # long edge, px
_CHECKSUM = re.compile(r"[0-9a-fA-F]{4,128}")


@dataclass(frozen=True)
class RenderResult:
    """Upright sizes of the two files written, and how the pixels were obtained."""

    thumb_size: tuple[int, int]
    preview_size: tuple[int, int]
    source: str  # "jpeg-draft", "jpeg", "heif", "avif", "png", "raw-embedded", "raw-demosaic"...


class ThumbnailStore:
    """Thumbnails and previews as <dir>/ab/cd/<checksum>.jpg; plain paths, so it pickles."""

    def __init__(self, thumbs_dir: Path, previews_dir: Path) -> None:
        self.thumbs_dir = Path(thumbs_dir)
        self.previews_dir = Path(previews_dir)
        self._thumbs = str(self.thumbs_dir)

    def thumb_path(self, checksum: str) -> Path:
        """Where the 256 px thumbnail of this content lives (it may not exist)."""
        return _sharded(self.thumbs_dir, checksum)

    def thumb_file(self, checksum: str) -> str:
        """``thumb_path`` as text, made without pathlib (a sync writes 100,000 of them)."""
        if not _CHECKSUM.fullmatch(checksum):
            raise ValueError(f"not a hex checksum: {checksum!r}")
        return os.path.join(self._thumbs, checksum[0:2], checksum[2:4], checksum + ".jpg")

    def preview_path(self, checksum: str) -> Path:
        """Where the 1440 px preview of this content lives (it may not exist)."""
        return _sharded(self.previews_dir, checksum)

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
        """Remove both files; missing ones are fine."""
        for path in (self.thumb_path(checksum), self.preview_path(checksum)):
            path.unlink(missing_ok=True)


def _sharded(root: Path, checksum: str) -> Path:
    if not _CHECKSUM.fullmatch(checksum):
        raise ValueError(f"not a hex checksum: {checksum!r}")
    return root / checksum[0:2] / checksum[2:4] / f"{checksum}.jpg"
