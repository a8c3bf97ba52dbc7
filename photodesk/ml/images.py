"""Opening images for inference: upright (EXIF orientation applied), RGB, optionally downscaled."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from photodesk.ml.errors import ImageReadError

# The decompression-bomb guard stays on; this is generous enough for 200 MP panoramas.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 400_000_000)


def open_rgb(
    path: str | Path, max_side: int | None = None, *, min_side: int | None = None
) -> Image.Image:
    """The image at ``path``, upright and RGB.

    ``max_side`` shrinks it (never enlarges) so no side exceeds it. ``min_side`` lets JPEGs
    decode at a reduced scale as long as both sides stay at least that large (DCT scaling:
    much faster for big photos that are resized to a small model input anyway).
    """
    want = min_side or max_side
    try:
        with Image.open(path) as im:
            if want and im.format == "JPEG":
                im.draft("RGB", (want, want))
            img = ImageOps.exif_transpose(im).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from exc
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img
