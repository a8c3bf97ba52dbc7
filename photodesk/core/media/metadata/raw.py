"""Header readers for RAW formats that are not plain TIFF: CRW, MRW, X3F, RAF, Kyocera RAW."""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.metadata.dates import DateCandidate, from_unix, parse_exif_datetime
from photodesk.core.media.metadata.exif import Found, add_tiff
from photodesk.core.media.metadata.image import read_jpeg
from photodesk.core.media.metadata.tiff import FileSource, read_tiff

_MAKER_DATE = "makernotes:DateTimeOriginal"


def read_crw(fh: BinaryIO, found: Found) -> None:
    """Canon CRW (CIFF heaps): make and model, capture time and image size records."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(2)
    (header_len,) = struct.unpack("<I", fh.read(4))
    if size > 64 << 20:
        raise CorruptFile("CRW file too large to be a CIFF header")
    fh.seek(0)
    data = fh.read()
    _ciff_heap(data, header_len, size, found, depth=0)
    if found.make is None and found.width is None:
        raise CorruptFile("damaged CRW: no camera records")


def _ciff_heap(data: bytes, start: int, end: int, found: Found, depth: int) -> None:
    if depth > 4 or end - start < 6 or end > len(data):
        return
    (table,) = struct.unpack_from("<I", data, end - 4)
    table += start
    if table + 2 > end:
        return
    (count,) = struct.unpack_from("<H", data, table)
    for i in range(min(count, 512)):
        pos = table + 2 + 10 * i
        if pos + 10 > end:
            return
        tag, length, offset = struct.unpack_from("<HII", data, pos)
        kind = tag & 0x3FFF
        if tag & 0xC000 == 0x4000:  # value stored in the directory entry itself
            value = data[pos + 2 : pos + 10]
        else:
            value = data[start + offset : start + offset + length]
        if kind & 0x3800 in (0x2800, 0x3000):  # sub-heap
            _ciff_heap(data, start + offset, start + offset + length, found, depth + 1)
        elif kind == 0x080A:  # make and model, NUL separated
            parts = value.split(b"\0")
            if len(parts) >= 2:
                found.set("make", parts[0].decode("latin-1").strip() or None)
                found.set("model", parts[1].decode("latin-1").strip() or None)
        elif kind == 0x180E and len(value) >= 4:  # capture time (Unix seconds)
            dt = from_unix(struct.unpack_from("<I", value)[0])
            if dt is not None:
                found.dates.append(DateCandidate(_MAKER_DATE, dt, None))
        elif kind == 0x1810 and len(value) >= 8:  # image width, height
            found.set_dims(*struct.unpack_from("<II", value))


def read_mrw(fh: BinaryIO, found: Found) -> None:
    """Minolta MRW: a block list whose TTW block is a TIFF with the EXIF."""
    fh.seek(4)
    (data_offset,) = struct.unpack(">I", fh.read(4))
    pos = 8
    while pos + 8 <= data_offset + 8:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            break
        kind, length = struct.unpack(">4sI", header)
        if kind == b"\0TTW":
            dirs = read_tiff(FileSource(fh, pos + 8, length))
            if dirs is not None:
                add_tiff(dirs, found, dims=True)
        pos += 8 + length
    if found.make is None:
        raise CorruptFile("damaged MRW: no TIFF block")


def read_x3f(fh: BinaryIO, found: Found) -> None:
    """Sigma X3F: image size in the header, make/model/time in the PROP section."""
    header = fh.read(40)
    if len(header) < 40:
        raise CorruptFile("truncated X3F header")
    width, height = struct.unpack_from("<II", header, 28)
    found.set_dims(width, height)
    fh.seek(-4, 2)
    (directory,) = struct.unpack("<I", fh.read(4))
    fh.seek(directory)
    head = fh.read(12)
    if head[:4] != b"SECd":
        return
    (count,) = struct.unpack_from("<I", head, 8)
    entries = fh.read(12 * min(count, 64))
    for i in range(len(entries) // 12):
        offset, length, kind = struct.unpack_from("<II4s", entries, 12 * i)
        if kind == b"PROP":
            fh.seek(offset)
            _x3f_props(fh.read(min(length, 1 << 20)), found)


def _x3f_props(data: bytes, found: Found) -> None:
    if data[:4] != b"SECp" or len(data) < 24:
        return
    (count,) = struct.unpack_from("<I", data, 8)
    count = min(count, (len(data) - 24) // 8)
    chars = data[24 + 8 * count :]
    props: dict[str, str] = {}
    for i in range(count):
        name_at, value_at = struct.unpack_from("<II", data, 24 + 8 * i)
        props[_utf16_at(chars, name_at)] = _utf16_at(chars, value_at)
    found.set("make", props.get("CAMMANUF") or None)
    found.set("model", props.get("CAMMODEL") or None)
    if props.get("TIME", "").isdigit():
        dt = from_unix(int(props["TIME"]))
        if dt is not None:
            found.dates.append(DateCandidate(_MAKER_DATE, dt, None))


def _utf16_at(chars: bytes, index: int) -> str:
    start = 2 * index
    end = start
    while end + 1 < len(chars) and chars[end : end + 2] != b"\0\0":
        end += 2
    return chars[start:end].decode("utf-16-le", "replace")


def read_kyocera(fh: BinaryIO, found: Found) -> None:
    """Kyocera RAW: make, model and time stored as byte-reversed strings in the header."""
    header = fh.read(0x34)[::-1]
    if len(header) < 0x34:
        raise CorruptFile("truncated Kyocera RAW header")
    found.set("make", header[0x14:0x1B].decode("latin-1").strip("\0 ") or None)
    found.set("model", header[0x1F:0x28].decode("latin-1").strip("\0 ") or None)
    dt = parse_exif_datetime(header[0x00:0x14].strip(b"\0 "))
    if dt is not None:
        found.dates.append(DateCandidate(_MAKER_DATE, dt, None))


def read_raf(fh: BinaryIO, found: Found) -> None:
    """Fujifilm RAF: EXIF and size come from the embedded full-size JPEG preview."""
    fh.seek(84)
    data = fh.read(8)
    if len(data) < 8:
        raise CorruptFile("truncated RAF header")
    jpeg_offset, jpeg_length = struct.unpack(">II", data)
    fh.seek(jpeg_offset)
    preview = fh.read(min(jpeg_length, 1 << 20))
    try:
        read_jpeg(io.BytesIO(preview), found)
    except CorruptFile:
        found.warnings.append("RAF preview unreadable")
    if found.exif_image_size is not None:  # the developed size, not the preview's
        found.width, found.height = found.exif_image_size
