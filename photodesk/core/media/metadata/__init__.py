"""Read capture metadata from photos, RAW files, videos and XMP sidecars (pure, headless).

The rules follow ExifTool: which tag wins, how values are cleaned, what counts as
absent. Only headers are read; pixels are never decoded.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.media.formats import (
    HEAD_SIZE,
    MEDIA_EXTENSIONS,
    VIDEO_EXTENSIONS,
    make_format,
    sniff,
)
from photodesk.core.media.mediatypes import FileFormat, Metadata, SidecarData
from photodesk.core.media.metadata.bmff import read_cr3, read_heif
from photodesk.core.media.metadata.dates import DateCandidate, date_from_filename, gps_offset
from photodesk.core.media.metadata.exif import Found
from photodesk.core.media.metadata.image import (
    read_bmp,
    read_gif,
    read_jpeg,
    read_png,
    read_tiff_file,
    read_webp,
)
from photodesk.core.media.metadata.raw import read_crw, read_kyocera, read_mrw, read_raf, read_x3f
from photodesk.core.media.metadata.video import read_video
from photodesk.core.media.metadata.xmp import XmpData, parse_xmp

__all__ = ["read_metadata", "read_sidecar", "sidecar_path"]

Reader = Callable[[BinaryIO, Found], None]

_READERS: dict[str, Reader] = {
    "JPEG": read_jpeg,
    "MPO": read_jpeg,
    "PNG": read_png,
    "WEBP": read_webp,
    "GIF": read_gif,
    "BMP": read_bmp,
    "HEIC": read_heif,
    "HEIF": read_heif,
    "HEICS": read_heif,
    "HEIFS": read_heif,
    "AVIF": read_heif,
    "CR3": read_cr3,
    "CRW": read_crw,
    "MRW": read_mrw,
    "X3F": read_x3f,
    "RAF": read_raf,
}

# capture-time sources, best first
_DATE_RANK = {
    name: rank
    for rank, name in enumerate(
        [
            "exif:DateTimeOriginal",
            "exif:CreateDate",
            "xmp:DateTimeOriginal",
            "xmp:CreateDate",
            "xmp:DateCreated",
            "iptc:DateCreated",
            "xmp:DateTimeDigitized",
            "gps",
            "quicktime:CreationDate",
            "quicktime:CreateDate",
            "makernotes:DateTimeOriginal",
            "filename",
            "mtime",
        ]
    )
}

# what a damaged header can throw from the struct/zlib level; mapped to CorruptFile
_PARSE_ERRORS = (
    struct.error,
    IndexError,
    ValueError,
    KeyError,
    OverflowError,
    EOFError,
    zlib.error,
)


def read_metadata(path: Path, fmt: FileFormat | None = None) -> Metadata:
    """Read the metadata of one media file.

    Raises:
        UnsupportedFormat: the file is not a photo, RAW or video file.
        CorruptFile: the file is empty, truncated or damaged beyond reading.
    """
    path = Path(path)
    try:
        stat = path.stat()
        with open(path, "rb") as fh:
            head = fh.read(HEAD_SIZE)
            if not head:
                raise CorruptFile("empty file")
            fmt = fmt or sniff(head, path.name)
            if fmt is None:
                raise _not_media(head, path)
            found = _read_found(fh, head, fmt, path)
    except OSError as exc:
        raise CorruptFile(f"cannot read file: {exc.strerror or exc}") from exc
    return _build(fmt, found, path, stat.st_mtime)


def _read_found(fh: BinaryIO, head: bytes, fmt: FileFormat, path: Path) -> Found:
    found = Found()
    fh.seek(0)
    try:
        if fmt.kind == "video":
            read_video(path, found)
        elif fmt.file_type == "RAW" and head[0x19:0x20] == b"ARECOYK":
            read_kyocera(fh, found)
        else:
            _READERS.get(fmt.file_type, read_tiff_file)(fh, found)
    except _PARSE_ERRORS as exc:
        if found.width is None and found.make is None and not found.dates:
            raise CorruptFile(f"damaged {fmt.file_type} file: {exc}") from exc
        found.warnings.append(f"metadata partly unreadable: {exc}")
    return found


def _not_media(head: bytes, path: Path) -> Exception:
    what = _describe(head)
    ext = path.suffix.lower()
    if ext in MEDIA_EXTENSIONS:
        noun = "a video" if ext in VIDEO_EXTENSIONS else "an image"
        return CorruptFile(f"not {noun}: {what}")
    return UnsupportedFormat(f"not a photo or video: {what}")


def _describe(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:4] == b"%PDF":
        return "PDF document"
    if text[:4] == b"PK\x03\x04":
        return "ZIP archive"
    if b"<x:xmpmeta" in head or b"<rdf:RDF" in head:
        return "XMP metadata"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of head
            return "unrecognised binary data"
        decoded = head[: exc.start].decode("utf-8")
    if not all(c.isprintable() or c in "\t\r\n" for c in decoded):
        return "unrecognised binary data"
    if text[:1] in (b"{", b"["):
        return "JSON text"
    if text[:1] == b"<":
        return "XML/HTML text"
    return "plain text"


def _parse_packets(found: Found) -> XmpData | None:
    merged: XmpData | None = None
    for packet in found.xmp_packets:
        try:
            data = parse_xmp(packet)
        except (*_PARSE_ERRORS, RecursionError):
            found.warnings.append("unreadable XMP packet")
            continue
        if data is None:
            continue
        found.warnings.extend(data.warnings)
        if merged is None:
            merged = data
            continue
        for name, value in vars(data).items():
            if getattr(merged, name) in (None, (), []) and value not in (None, (), []):
                setattr(merged, name, value)
    return merged


def _merge_xmp(found: Found, xmp: XmpData) -> None:
    for name in ("make", "model", "lens", "orientation", "iso", "f_number"):
        found.set(name, getattr(xmp, name))
    found.set("exposure_time", xmp.exposure_time)
    found.set("focal_length", xmp.focal_length)
    found.set_position(xmp.latitude, xmp.longitude, xmp.altitude)
    found.dates.extend(xmp.dates)


def _pick_date(found: Found, path: Path, mtime: float) -> DateCandidate:
    candidates = list(found.dates)
    if found.gps_utc is not None:
        candidates.append(DateCandidate("gps", found.gps_utc, 0))
    from_name = date_from_filename(path.name)
    if from_name is not None:
        candidates.append(DateCandidate("filename", from_name, None))
    best = min(candidates, key=lambda c: _DATE_RANK.get(c.source, 99), default=None)
    if best is None:
        local = datetime.fromtimestamp(mtime).astimezone()
        delta = local.utcoffset()
        minutes = int(delta.total_seconds() // 60) if delta is not None else None
        return DateCandidate("mtime", local.replace(tzinfo=None, microsecond=0), minutes)
    if best.offset is None:
        same_time = [
            c.offset
            for c in candidates
            if c.offset is not None and c.source != "gps" and _same_second(c.value, best.value)
        ]
        offset = same_time[0] if same_time else None
        if offset is None and found.gps_utc is not None and best.source != "gps":
            offset = gps_offset(best.value, found.gps_utc)
        if offset is not None:
            best = DateCandidate(best.source, best.value, offset)
    return best


def _same_second(a: datetime, b: datetime) -> bool:
    return a.replace(microsecond=0) == b.replace(microsecond=0)


def _build(fmt: FileFormat, found: Found, path: Path, mtime: float) -> Metadata:
    if found.file_type == "MPO" and fmt.file_type == "JPEG":
        fmt = make_format("MPO")
    xmp = _parse_packets(found)
    if xmp is not None:
        _merge_xmp(found, xmp)
    taken = _pick_date(found, path, mtime)
    iptc = found.iptc
    keywords = (
        xmp.keywords if xmp and xmp.keywords else tuple(dict.fromkeys(iptc.get("keywords", [])))
    )
    return Metadata(
        format=fmt,
        width=found.width,
        height=found.height,
        orientation=found.orientation,
        taken_at=taken.value,
        taken_at_offset=taken.offset,
        taken_at_source=taken.source,
        make=found.make,
        model=found.model,
        lens=found.lens,
        iso=found.iso,
        f_number=found.f_number,
        exposure_time=found.exposure_time,
        focal_length=found.focal_length,
        latitude=found.latitude,
        longitude=found.longitude,
        altitude=found.altitude,
        duration=found.duration,
        rating=xmp.rating if xmp else None,
        title=(xmp.title if xmp else None) or next(iter(iptc.get("title", [])), None),
        description=(xmp.description if xmp else None) or next(iter(iptc.get("caption", [])), None),
        keywords=keywords,
        faces=xmp.faces if xmp else (),
        warnings=tuple(dict.fromkeys(found.warnings)),
    )


def sidecar_path(path: Path) -> Path | None:
    """Return the XMP sidecar of a media file if one exists (photo.xmp or photo.jpg.xmp)."""
    for candidate in (
        path.with_name(path.name + ".xmp"),
        path.with_name(path.name + ".XMP"),
        path.with_suffix(".xmp"),
        path.with_suffix(".XMP"),
    ):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> SidecarData:
    """Read an XMP sidecar file.

    Raises:
        CorruptFile: the file is empty, unreadable or holds no XMP.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(16 << 20)
    except OSError as exc:
        raise CorruptFile(f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise CorruptFile("empty file")
    xmp = parse_xmp(data)
    if xmp is None:
        raise CorruptFile(f"not an XMP sidecar: {_describe(data[:HEAD_SIZE])}")
    if xmp.warnings and not xmp.dates and xmp.rating is None and not xmp.keywords:
        raise CorruptFile(f"damaged XMP sidecar: {xmp.warnings[0]}")
    date = min(xmp.dates, key=lambda c: _DATE_RANK.get(c.source, 99), default=None)
    found = Found()
    found.set_position(xmp.latitude, xmp.longitude, xmp.altitude)
    return SidecarData(
        rating=xmp.rating,
        title=xmp.title,
        description=xmp.description,
        keywords=xmp.keywords,
        taken_at=date.value if date else None,
        taken_at_offset=date.offset if date else None,
        latitude=found.latitude,
        longitude=found.longitude,
        altitude=found.altitude,
        faces=xmp.faces,
    )
