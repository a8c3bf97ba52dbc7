"""Rendering of one preview and one thumbnail from a single decode, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.catalog.procs import no_exit_while_writing, remove_dead_temps
from photodesk.core.media.thumbnails import PREVIEW_SIZE, THUMB_SIZE
from photodesk.core.media.thumbnails.color import (
    apply_orientation,
    flatten_alpha,
    to_srgb,
    to_working_mode,
)
from photodesk.core.media.thumbnails.decode import Decoded, decode, fit

THUMB_QUALITY = 80
PREVIEW_QUALITY = 82

# Bicubic after an integer box reduction down to 2x the target: what Image.thumbnail() does, as
# sharp as Lanczos at these ratios and cheaper.
_RESAMPLE = Image.Resampling.BICUBIC
_REDUCING_GAP = 2.0


def render_pair(
    src: Path,
    file_type: str,
    kind: str,
    orientation: int | None,
    thumb_path: Path,
    preview_path: Path,
) -> tuple[tuple[int, int], tuple[int, int], str]:
    """Decode ``src`` once; write preview and thumbnail; return their sizes and the route."""
    decoded = decode(src, file_type, kind, orientation, PREVIEW_SIZE)
    try:
        preview, thumb = _derivatives(decoded)
        _write_pair((preview, preview_path, PREVIEW_QUALITY), (thumb, thumb_path, THUMB_QUALITY))
    finally:
        decoded.image.close()  # also releases the file handle multi-frame formats keep open
    return thumb.size, preview.size, decoded.source


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
    # In a worker, the parent watcher waits for this block: an exit never strands a temp file.
    with no_exit_while_writing():
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
    # The writer's pid is in the name, so the next write of this file clears a killed writer's.
    remove_dead_temps(path.parent, f".{path.stem[:16]}.*.tmp", 2)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem[:16]}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):  # not on Windows
            os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            # No exif/icc_profile arguments: derivatives carry neither (pixels are upright sRGB);
            # an empty comment, or Pillow writes one it finds in im.info (JPEG COM, GIF, PNG).
            im.save(fh, "JPEG", quality=quality, optimize=False, progressive=False, comment=b"")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
