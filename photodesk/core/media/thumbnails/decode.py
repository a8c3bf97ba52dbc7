"""Decoders for derivatives: one cheap decode per file (JPEG draft, HEIF/AVIF, RAW, video frame)."""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.media.thumbnails.color import normalize_orientation

# Refuse anything above 200 MP before its pixels are decoded (a 24-bit 200 MP image is 600 MB).
# Pillow raises DecompressionBombError above twice MAX_IMAGE_PIXELS and warns above it; align the
# two so Pillow's own guard and ours agree (its default would refuse from 179 MP).
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2

# Errors Pillow and its plugins raise for damaged data (truncated streams, bad headers...).
_PIL_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)

_HEIF_TYPES = frozenset({"HEIC", "HEIF", "HEICS", "HEIFS", "AVIF", "AVIFS"})
_RAW_TYPES = frozenset(
    {"3FR", "ARW", "CR2", "CR3", "CRW", "DCR", "DNG", "ERF", "FFF", "IIQ", "KDC", "MEF", "MOS"}
    | {"MRW", "NEF", "NRW", "ORF", "PEF", "RAF", "RAW", "RW2", "RWL", "SR2", "SRF", "SRW", "X3F"}
)
# LibRaw's flip (bit 0: mirror left-right, bit 1: mirror top-bottom, bit 2: transpose) as EXIF.
_FLIP_TO_EXIF = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}
# A video frame's display-matrix rotation (degrees counter-clockwise) as EXIF orientation.
_ROTATION_TO_EXIF = {0: 1, 90: 8, 180: 3, 270: 6}
_RAW_MIN_BITS_PER_PIXEL = 1  # 24 MP raws are 15-60 MB (5-20 bits/px); below 1 bit/px is no data
_VIDEO_FRAME_AT = 1.0  # seconds: past fade-ins and black first frames
_VIDEO_MAX_FRAMES = 240  # frames decoded after the seek before settling for the latest one


@dataclass
class Decoded:
    """Decoded pixels (possibly already reduced in size) and what is still to be done to them."""

    image: Image.Image
    orientation: int  # EXIF 1-8, to apply after downscaling
    source: str  # how the pixels were obtained, e.g. "jpeg-draft", "raw-embedded"
    icc: bytes | None = None


def fit(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    """Scale size so its long edge is at most long_edge, keeping the aspect ratio; never upscale."""
    w, h = size
    if max(w, h) <= long_edge:
        return w, h
    if w >= h:
        return long_edge, max(1, round(h * long_edge / w))
    return max(1, round(w * long_edge / h)), long_edge


def decode(src: Path, file_type: str, kind: str, orientation: int | None, target: int) -> Decoded:
    """Decode src once, at the smallest scale that still gives `target` px on the long edge."""
    size = src.stat().st_size  # a missing or unreadable file is an OSError, not a corrupt one
    if size == 0:
        raise CorruptFile("empty file")
    if kind == "photo":
        return _decode_pillow(src, file_type.upper(), orientation, target)
    if kind == "raw":
        return _decode_raw(src, file_type.upper(), target, size)
    if kind == "video":
        return _decode_video(src, target)
    raise UnsupportedFormat(f"no decoder for {kind or 'unknown'} files")


# --- Pillow: JPEG, MPO, PNG, TIFF, GIF, WebP, BMP..., plus HEIF (pillow_heif) and AVIF ---------

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> bool:
    """Register pillow_heif's opener once per process; False when it is not installed."""
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            try:
                import pillow_heif
            except ImportError:
                return False
            pillow_heif.register_heif_opener(thumbnails=True)
            # Pillow >= 11.3 decodes AVIF itself; older ones need pillow_heif's AVIF opener (< 1.0).
            from PIL import features

            if not features.check("avif") and hasattr(pillow_heif, "register_avif_opener"):
                pillow_heif.register_avif_opener()
            _heif_registered = True
    return True


def _open(src: Path | io.BytesIO, file_type: str) -> Image.Image:
    if file_type in _HEIF_TYPES:
        _register_heif()
    try:
        return Image.open(src)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except UnidentifiedImageError as exc:
        if not _heif_registered and _register_heif():
            return _open(src, file_type)  # a HEIF-family file under another type name
        Image.init()
        known = file_type in Image.ID or file_type in _HEIF_TYPES or file_type in ("MPO", "")
        reason = f"not a decodable {file_type or 'image'} file"
        raise (CorruptFile if known else UnsupportedFormat)(reason) from exc
    except Image.DecompressionBombError as exc:
        raise CorruptFile(f"image too large to decode safely ({exc})") from exc
    except _PIL_ERRORS as exc:
        raise CorruptFile(f"unreadable {file_type or 'image'} header: {exc}") from exc


def pixel_count(src: Path, file_type: str) -> tuple[int, int] | None:
    """Width and height from the header of a picture Pillow (or pillow_heif) opens, without
    decoding its pixels; None for anything else (videos, RAW, damaged or unknown files)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(src, file_type.upper()) as im:
                return int(im.size[0]), int(im.size[1])
    except (CorruptFile, UnsupportedFormat, OSError):
        return None


def _load(im: Image.Image, what: str) -> None:
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise CorruptFile(f"{what} is {w}x{h} pixels, over the {MAX_PIXELS // 1_000_000} MP limit")
    if w == 0 or h == 0:
        raise CorruptFile(f"{what} has no pixels")
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise CorruptFile(f"image too large to decode safely ({exc})") from exc
    except _PIL_ERRORS as exc:
        raise CorruptFile(f"{what} data is truncated or damaged: {exc}") from exc


def _decode_pillow(src: Path, file_type: str, orientation: int | None, target: int) -> Decoded:
    return _decode_image(_open(src, file_type), file_type, orientation, target)


def _decode_image(im: Image.Image, file_type: str, orientation: int | None, target: int) -> Decoded:
    """Load an opened image at the smallest scale that covers `target`; closes it on failure."""
    try:
        fmt = im.format or file_type
        source = fmt.lower()
        if fmt in ("JPEG", "MPO"):  # MPO: frame 0 is the plain JPEG
            # Decode in the DCT domain at the largest 1/2, 1/4 or 1/8 scale that still covers the
            # preview: 1/4 for 24 MP, ~40% less work than a full decode (not thumbnail()'s 2x box).
            full = im.size
            want = fit(full, target)
            if want != full:
                im.draft("RGB", want)
            source = "jpeg-draft" if im.size != full else "jpeg"
        elif fmt == "HEIF":
            # pillow_heif picks an embedded thumbnail only if it covers `want` and is a true copy.
            im.draft(None, fit(im.size, target))
        _load(im, f"{fmt} image")
        return Decoded(
            im, _orientation_for(im, fmt, orientation), source, im.info.get("icc_profile")
        )
    except BaseException:
        im.close()
        raise


def _orientation_for(im: Image.Image, fmt: str, orientation: int | None) -> int:
    """The orientation still to apply to pixels decoded by Pillow.

    HEIF/AVIF: the `orientation` argument (the EXIF tag, as ExifTool reports it: 6 for a portrait
    iPhone shot) is ignored on purpose. In HEIF the irot/imir boxes are what rotate the picture and
    the EXIF tag is informative only (the spec forbids applying both). libheif, and so pillow_heif,
    already applies irot/imir while decoding (and resets the EXIF tag to 1), so HEIF pixels come out
    upright; applying the tag again would double-rotate. Pillow's own AVIF decoder does not apply
    irot/imir but reports them as the EXIF orientation of `info["exif"]` (overriding the tag that
    the file may carry), so for AVIF that value, and only it, is applied.
    """
    if fmt == "HEIF":
        return 1
    if fmt == "AVIF":
        exif = im.info.get("exif")
        if not exif:
            return 1
        data = Image.Exif()
        try:
            data.load(exif)
        except _PIL_ERRORS:
            return 1
        return normalize_orientation(data.get(0x0112))
    if orientation is None:  # caller did not read it: take the file's own tag (header only, cheap)
        try:
            orientation = im.getexif().get(0x0112)
        except _PIL_ERRORS:
            orientation = None
    return normalize_orientation(orientation if isinstance(orientation, int) else None)


# --- RAW: embedded camera preview when big enough, else a half-size demosaic -------------------


def _decode_raw(src: Path, file_type: str, target: int, file_size: int) -> Decoded:
    import rawpy

    try:
        raw = rawpy.imread(str(src))
    except rawpy.LibRawFileUnsupportedError as exc:
        known = file_type in _RAW_TYPES
        why = f"LibRaw cannot read this {file_type or 'RAW'} file"
        raise (CorruptFile if known else UnsupportedFormat)(
            why + (" (damaged or header-only)" if known else "")
        ) from exc
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise CorruptFile(f"unreadable RAW file: {exc}") from exc
    with raw:
        sizes = raw.sizes
        orientation = _FLIP_TO_EXIF.get(sizes.flip, 1)
        raw_long = max(sizes.width, sizes.height)
        embedded = _embedded_preview(raw)
        # The camera's own JPEG is ~10x cheaper than demosaicing: use it when it covers the preview.
        if embedded is not None and _covers(embedded.size, (sizes.width, sizes.height), target):
            try:
                return _from_embedded(embedded, orientation, target)
            except CorruptFile:
                embedded = None  # a damaged preview: the sensor data may still be fine
        try:
            if sizes.width * sizes.height > MAX_PIXELS:
                raise CorruptFile(f"RAW image over the {MAX_PIXELS // 1_000_000} MP limit")
            if file_size * 8 < sizes.raw_width * sizes.raw_height * _RAW_MIN_BITS_PER_PIXEL:
                # Even lossy raws need several bits per photosite; LibRaw would read past the end
                # of header-only or truncated files and return zeros or stale memory.
                raise CorruptFile(
                    f"RAW file too small for its {sizes.raw_width}x{sizes.raw_height} sensor data"
                    " (truncated or header-only)"
                )
            rgb = _demosaic(raw, half=raw_long // 2 >= target)
        except CorruptFile:
            if embedded is not None:  # the sensor data is damaged, the camera's preview is not
                return _from_embedded(embedded, orientation, target)
            raise
    if embedded is not None:
        embedded.close()
    # postprocess() has already applied the flip.
    return Decoded(Image.fromarray(rgb), 1, "raw-demosaic")


def _embedded_preview(raw: Any) -> Image.Image | None:
    """The camera-made preview as a lazily decoded Pillow image, or None."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError, ValueError):
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            return Image.open(io.BytesIO(thumb.data))
        if thumb.format == rawpy.ThumbFormat.BITMAP:
            return Image.fromarray(thumb.data)
    except _PIL_ERRORS:
        return None
    return None


def _covers(preview: tuple[int, int], full: tuple[int, int], target: int) -> bool:
    """Is the embedded preview big enough for a `target` preview of the same picture?"""
    needed = min(target, max(full))
    if max(preview) < needed:
        return False
    # Same aspect ratio (within 5%): some cameras embed a 16:9 or letterboxed preview.
    pw, ph = preview
    fw, fh = full
    return abs(pw * fh - ph * fw) <= 0.05 * fw * ph


def _from_embedded(preview: Image.Image, orientation: int, target: int) -> Decoded:
    decoded = _decode_image(preview, "JPEG", 1, target)
    # The embedded JPEG is stored as the sensor saw it: LibRaw's flip says how to turn it upright.
    decoded.orientation = orientation
    decoded.source = "raw-embedded"
    return decoded


def _demosaic(raw: Any, *, half: bool) -> Any:
    import numpy as np
    import rawpy

    try:
        if not np.any(raw.raw_image_visible):
            # Header-only or truncated files: LibRaw fills the missing sensor data with zeros.
            raise CorruptFile("RAW file has no sensor data (truncated or header-only)")
        return raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8)
    except (rawpy.LibRawError, OSError, ValueError, MemoryError) as exc:
        raise CorruptFile(f"RAW sensor data is truncated or damaged: {exc}") from exc


# --- Video: one frame near 1 s ------------------------------------------------------------------


def _decode_video(src: Path, target: int) -> Decoded:
    import av

    try:
        container = av.open(str(src))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise CorruptFile(f"unreadable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise CorruptFile("video file has no video stream")
        stream = container.streams.video[0]
        try:
            frame = _frame_near(container, stream, _VIDEO_FRAME_AT)
            if frame is None:
                raise CorruptFile("no decodable video frame")
            w, h = frame.width, frame.height
            sar = stream.sample_aspect_ratio
            if sar and sar > 0 and sar != 1:  # anamorphic: scale to display proportions
                w = max(1, round(w * sar))
            tw, th = fit((w, h), target)
            if (tw, th) == (frame.width, frame.height):
                image = frame.to_image()
            else:
                image = frame.to_image(width=tw, height=th, interpolation="AREA")
            rotation = round(frame.rotation) % 360
        except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
            raise CorruptFile(f"video frame cannot be decoded: {exc}") from exc
    # Display matrix: turn counter-clockwise by `rotation` degrees (as ffmpeg's autorotate does).
    return Decoded(image, _ROTATION_TO_EXIF.get(rotation, 1), "video-frame")


def _frame_near(container: Any, stream: Any, at: float) -> Any:
    """The first frame at or after `at` seconds (or the last one of a shorter video)."""
    import av

    duration = None
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    if duration is not None and duration < 2 * at:
        at = duration / 4  # short clip: a quarter in
    start = 0.0
    if stream.start_time and stream.time_base:
        start = float(stream.start_time * stream.time_base)
    frame = None
    if at > 0 and stream.time_base:
        try:
            container.seek(int((start + at) / stream.time_base), stream=stream, backward=True)
            frame = _decode_until(container, stream, start + at)
        except (av.FFmpegError, OSError, ValueError):
            frame = None
        if frame is None:  # unseekable or seek past the data: start over from the beginning
            container.seek(0)
    return frame if frame is not None else _decode_until(container, stream, None)


def _decode_until(container: Any, stream: Any, at: float | None) -> Any:
    last = None
    for count, frame in enumerate(container.decode(stream)):
        last = frame
        if at is None or frame.time is None or frame.time >= at or count >= _VIDEO_MAX_FRAMES:
            break
    return last
