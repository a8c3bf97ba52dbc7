"""Opening images for inference: upright (EXIF orientation applied), RGB, optionally downscaled."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from photodesk.ml.errors import ImageReadError

# Decompression-bomb guard stays on; this is generous enough for 200 MP panoramas.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 400_000_000)


def open_rgb(path: str | Path, max_side: int | None = None) -> Image.Image:
    """The image at ``path``, upright, RGB, shrunk (never enlarged) to at most max_side."""
    try:
        with Image.open(path) as im:
            if max_side and hasattr(im, "draft") and im.format == "JPEG":
                # JPEG DCT scaling: decode at 1/2, 1/4, 1/8 directly when much larger than needed.
                im.draft("RGB", (max_side, max_side))
            im = ImageOps.exif_transpose(im)
            img = im.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from exc
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img
