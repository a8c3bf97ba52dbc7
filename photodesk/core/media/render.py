"""Decode an asset for display: upright sRGB RGB pixels as bytes, at most a given size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat

if TYPE_CHECKING:
    from photodesk.core.catalog.types import AssetRecord
    from photodesk.core.library import Library

# Bicubic after an integer box reduction, as the derivatives are made.
_REDUCING_GAP = 2.0


@dataclass(frozen=True)
class RenderedImage:
    """Packed 8-bit RGB rows (``width * 3`` bytes each), upright and in sRGB."""

    data: bytes
    width: int
    height: int
    source: str  # how the pixels were obtained: "jpeg", "raw-embedded", "video-frame"...

    @property
    def stride(self) -> int:
        return self.width * 3


def render_asset(library: Library, asset_id: int, max_size: int | None = None) -> RenderedImage:
    """Decode the asset's primary file, reduced to ``max_size`` px on the long edge if given.

    Uses the same decoders as the thumbnails (RAW embedded preview or demosaic, HEIF, a video's
    frame), so what the viewer shows at 1:1 matches the preview. Blocking: call it off the GUI
    thread.

    Raises:
        NotFound: no such asset.
        OSError: the file is missing or unreadable (an offline drive...).
        CorruptFile, UnsupportedFormat: nothing can be decoded from it.
    """
    return render_record(library.assets.get(asset_id), max_size)


def render_record(record: AssetRecord, max_size: int | None = None) -> RenderedImage:
    """``render_asset`` for a record already in hand."""
    return render_file(
        Path(record.path), record.file_type, record.kind, record.orientation, max_size
    )


def render_file(
    path: Path, file_type: str, kind: str, orientation: int | None, max_size: int | None = None
) -> RenderedImage:
    """Decode one file to upright sRGB RGB pixels (see ``render_asset``)."""
    from PIL import Image

    from photodesk.core.media.thumbnails.color import (
        apply_orientation,
        flatten_alpha,
        to_srgb,
        to_working_mode,
    )
    from photodesk.core.media.thumbnails.decode import MAX_PIXELS, decode, fit

    if max_size is not None and max_size < 1:
        raise ValueError("max_size must be positive")
    # No size asked: the whole picture (the decoders refuse anything over MAX_PIXELS).
    target = max_size if max_size is not None else MAX_PIXELS
    decoded = decode(path, file_type, kind, orientation, target)
    try:
        im = to_working_mode(decoded.image)
        size = fit(im.size, target)
        if size != im.size:
            im = im.resize(size, Image.Resampling.BICUBIC, reducing_gap=_REDUCING_GAP)
        im = to_srgb(flatten_alpha(im), decoded.icc)
        im = apply_orientation(im, decoded.orientation)
        if im.mode != "RGB":
            im = im.convert("RGB")
        data = im.tobytes()
        width, height = im.size
    except UnsupportedFormat:
        raise
    except (OSError, ValueError) as exc:
        raise CorruptFile(f"decoded pixels cannot be processed: {exc}") from exc
    finally:
        decoded.image.close()
    return RenderedImage(data, width, height, decoded.source)
