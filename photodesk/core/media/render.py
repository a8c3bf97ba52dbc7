"""Decode an asset for display: upright sRGB RGB pixels as bytes, at most a given size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat

if TYPE_CHECKING:
    from photodesk.core.catalog.types import AssetRecord

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


def render_record(record: AssetRecord, max_size: int | None = None) -> RenderedImage:
    """``lib.assets.render`` for a record already in hand."""
    return render_file(
        Path(record.path), record.file_type, record.kind, record.orientation, max_size
    )


def render_file(
    path: Path, file_type: str, kind: str, orientation: int | None, max_size: int | None = None
) -> RenderedImage:
    """Decode one file to upright sRGB RGB pixels (see ``lib.assets.render``)."""
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


def write_plain_jpeg(
    src: Path, dst: Path, file_type: str, kind: str, orientation: int | None, quality: int = 92
) -> None:
    """Decode ``src`` as the thumbnailer does (HEIF, RAW, the catalog's orientation) and write a
    plain upright JPEG at full size to ``dst``: no EXIF, no XMP; only the colour profile stays.

    Raises:
        CorruptFile, UnsupportedFormat, OSError, ValueError: nothing can be decoded from it.
    """
    from photodesk.core.media.icc import neutral_icc
    from photodesk.core.media.thumbnails.color import (
        apply_orientation,
        flatten_alpha,
        to_working_mode,
    )
    from photodesk.core.media.thumbnails.decode import decode

    decoded = decode(src, file_type, kind, orientation, 1 << 16)
    try:
        im = flatten_alpha(to_working_mode(apply_orientation(decoded.image, decoded.orientation)))
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.info = {}  # Pillow would write a comment (JPEG COM, GIF, PNG text) it finds there
        profile = neutral_icc(decoded.icc)  # the colour profile, without its words
        extra = {"icc_profile": profile} if profile else {}
        with open(dst, "wb") as fh:
            im.save(fh, "JPEG", quality=quality, **extra)
    finally:
        decoded.image.close()
