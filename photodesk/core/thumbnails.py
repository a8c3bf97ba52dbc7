"""Render and cache JPEG thumbnails (256 px) and previews (1440 px) on disk by content hash."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photodesk.core.errors import CorruptFile, UnsupportedFormat
from photodesk.core.thumbnails_color import (
    apply_orientation,
    flatten_alpha,
    to_srgb,
    to_working_mode,
)
from photodesk.core.thumbnails_decode import Decoded, decode, fit

__all__ = ["PREVIEW_SIZE", "THUMB_SIZE", "RenderResult", "ThumbnailStore"]

THUMB_SIZE = 256  # long edge, px
PREVIEW_SIZE = 1440  # long edge, px
THUMB_QUALITY = 80
PREVIEW_QUALITY = 82

# Bicubic after an integer box reduction down to 2x the target: what Image.thumbnail() does, as
# sharp as Lanczos at these ratios and cheaper.
_RESAMPLE = Image.Resampling.BICUBIC
_REDUCING_GAP = 2.0
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

    def thumb_path(self, checksum: str) -> Path:
        """Where the 256 px thumbnail of this content lives (it may not exist)."""
        return _sharded(self.thumbs_dir, checksum)

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
        thumb_path, preview_path = self.thumb_path(checksum), self.preview_path(checksum)
        decoded = decode(Path(src), file_type, kind, orientation, PREVIEW_SIZE)
        try:
            preview, thumb = _derivatives(decoded)
            _write_pair(
                (preview, preview_path, PREVIEW_QUALITY), (thumb, thumb_path, THUMB_QUALITY)
            )
        finally:
            decoded.image.close()  # also releases the file handle multi-frame formats keep open
        return RenderResult(thumb.size, preview.size, decoded.source)

    def delete(self, checksum: str) -> None:
        """Remove both files; missing ones are fine."""
        for path in (self.thumb_path(checksum), self.preview_path(checksum)):
            path.unlink(missing_ok=True)


def _sharded(root: Path, checksum: str) -> Path:
    if not _CHECKSUM.fullmatch(checksum):
        raise ValueError(f"not a hex checksum: {checksum!r}")
    return root / checksum[0:2] / checksum[2:4] / f"{checksum}.jpg"


def _derivatives(decoded: Decoded) -> tuple[Image.Image, Image.Image]:
    """Upright sRGB preview (<= PREVIEW_SIZE) and thumbnail (<= THUMB_SIZE, from the preview)."""
    try:
        im = to_working_mode(decoded.image)
        size = fit(im.size, PREVIEW_SIZE)
        if size != im.size:
            im = im.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)
        # Colour and orientation work on the preview-sized pixels only, after the downscale.
        preview = apply_orientation(to_srgb(flatten_alpha(im), decoded.icc), decoded.orientation)
        size = fit(preview.size, THUMB_SIZE)
        thumb = preview.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)
    except UnsupportedFormat:
        raise
    except (OSError, ValueError) as exc:
        raise CorruptFile(f"decoded pixels cannot be processed: {exc}") from exc
    return preview, thumb


def _write_pair(*items: tuple[Image.Image, Path, int]) -> None:
    """Write every file or none: temp files in the target folders, then os.replace each.

    Readers never see a half-written JPEG. If anything fails, temp files and any file of the
    pair already replaced are removed, so no thumbnail is left without its preview.
    """
    temps: list[Path] = []
    done: list[Path] = []
    try:
        for im, path, quality in items:
            path.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_save_temp(im, path, quality))
        for tmp, (_, path, _) in zip(temps, items, strict=True):
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in (*temps, *done):
            path.unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    # mkstemp creates 0600 files; derivatives get the usual mode a new file would get (umask).
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


def _save_temp(im: Image.Image, path: Path, quality: int) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.stem[:16]}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):  # not on Windows
            os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            # No exif/icc_profile arguments: derivatives carry neither (pixels are upright sRGB).
            im.save(fh, "JPEG", quality=quality, optimize=False, progressive=False)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
