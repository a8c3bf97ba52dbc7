"""Pixel fix-ups for derivatives: 8-bit modes, alpha flattening, sRGB conversion, orientation."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

from photodesk.core.catalog.errors import UnsupportedFormat

# Transparent pixels are shown on white, as a page or a browser would show them.
BACKGROUND = (255, 255, 255)

# EXIF orientation -> the transpose that makes stored pixels upright (as ImageOps.exif_transpose).
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Modes the resizer and the JPEG encoder take as they are (alpha and CMYK are resolved after the
# resize, on far fewer pixels).
_WORKING_MODES = frozenset({"RGB", "L", "CMYK", "RGBA", "LA"})


def normalize_orientation(value: int | None) -> int:
    """An EXIF orientation 1-8, with missing and out-of-range values (0 is common) read as 1."""
    return value if value is not None and 1 <= value <= 8 else 1


def swaps_axes(orientation: int) -> bool:
    """True for the orientations (5-8) that turn a landscape image into a portrait one."""
    return orientation >= 5


def apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    """Make the (already downscaled) pixels upright for an EXIF orientation 1-8."""
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)


def to_working_mode(im: Image.Image) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB, L, CMYK, RGBA or LA (else UnsupportedFormat)."""
    mode = im.mode
    if mode in _WORKING_MODES:
        return im
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode.startswith("I") or mode.startswith("F"):
        return _high_depth_to_l(im)
    try:
        return im.convert("RGB")  # RGBX, YCbCr, HSV, LAB...
    except ValueError as exc:
        raise UnsupportedFormat(f"cannot convert {mode} pixels to RGB") from exc


def _high_depth_to_l(im: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer or float greyscale to 8 bits (Pillow's convert("L") clips)."""
    arr = np.asarray(im)
    if arr.dtype.kind == "f":
        peak = float(np.nanmax(arr)) if arr.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0  # 0..1 floats are normalised data
        out = np.nan_to_num(arr * scale).clip(0, 255).astype(np.uint8)
        return Image.fromarray(out)
    arr = arr.astype(np.int64).clip(0, 65535)
    peak = int(arr.max()) if arr.size else 0
    # 16-bit containers often hold 10/12-bit sensor or scanner data: scale such data by its real
    # range, and anything wider as full 16-bit (a dark 16-bit photo must stay dark).
    bits = peak.bit_length()
    shift = 0 if bits <= 8 else (bits - 8 if bits <= 12 else 8)
    return Image.fromarray((arr >> shift).astype(np.uint8))


def flatten_alpha(im: Image.Image) -> Image.Image:
    """Composite RGBA/LA over BACKGROUND; other modes pass through."""
    if im.mode == "RGBA":
        out = Image.new("RGB", im.size, BACKGROUND)
        out.paste(im, mask=im.getchannel("A"))
        return out
    if im.mode == "LA":
        out = Image.new("L", im.size, BACKGROUND[0])
        out.paste(im.getchannel("L"), mask=im.getchannel("A"))
        return out
    return im


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Return RGB or L pixels in sRGB: convert through the embedded profile unless it is sRGB."""
    if icc and im.mode in ("RGB", "CMYK"):
        transform = _transform(icc, im.mode)
        if transform is not None:
            try:
                return ImageCms.applyTransform(im, transform) or im
            except (ImageCms.PyCMSError, ValueError, OSError):
                pass  # a profile lcms cannot apply: fall back to the untagged conversion below
    return im.convert("RGB") if im.mode == "CMYK" else im


_COLOR_SPACE_OF_MODE = {"RGB": "RGB", "CMYK": "CMYK"}


@lru_cache(maxsize=16)
def _transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached profile -> sRGB transform, or None when no conversion is needed or possible.

    Profiles repeat across a library (camera sRGB, Display P3, a few CMYK ones), so the parse and
    the transform build (a few ms) are paid once per profile and process.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        if space != _COLOR_SPACE_OF_MODE[mode]:
            return None  # the profile does not describe these pixels
        if mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return None  # "sRGB IEC61966-2.1", "Nikon sRGB 4.0.0.3001"... already what we write
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.buildTransform(
            profile, srgb, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # broken profile: treat the pixels as sRGB
