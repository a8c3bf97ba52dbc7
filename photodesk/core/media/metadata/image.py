"""Header walkers for JPEG, PNG, WebP, GIF, BMP and TIFF-based files (no pixel decoding)."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta
from typing import BinaryIO

from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.formats import mpf_image_count
from photodesk.core.media.metadata.dates import DateCandidate, from_unix, parse_exif_datetime
from photodesk.core.media.metadata.exif import Found, add_tiff, parse_photoshop_irb, read_exif_block
from photodesk.core.media.metadata.tiff import FileSource, read_tiff

_XMP_SIG = b"http://ns.adobe.com/xap/1.0/\x00"
# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def read_jpeg(fh: BinaryIO, found: Found) -> None:
    """Walk JPEG segments up to the first scan, collecting EXIF, XMP, IPTC and the frame size."""
    fh.seek(2)
    got_sof = got_sos = False
    exif_seen = False
    flir: list[bytes] = []
    while True:
        byte = fh.read(1)
        if not byte:
            break
        if byte != b"\xff":
            continue  # junk between segments: resync on the next marker, as ExifTool does
        marker = fh.read(1)
        while marker == b"\xff":
            marker = fh.read(1)
        if not marker:
            break
        code = marker[0]
        if code == 0xD9:
            break
        if code == 0x01 or 0xD0 <= code <= 0xD8:
            continue
        raw_len = fh.read(2)
        if len(raw_len) < 2:
            break
        (length,) = struct.unpack(">H", raw_len)
        if length < 2:
            break
        if code == 0xDA:
            got_sos = True
            break
        if code in _SOF:
            frame = fh.read(length - 2)
            if len(frame) >= 5 and not got_sof:
                height, width = struct.unpack_from(">HH", frame, 1)
                found.width, found.height = width or None, height or None
                got_sof = True
            continue
        if code in (0xE1, 0xE2, 0xEC, 0xED):
            payload = fh.read(length - 2)
            if code == 0xE1 and payload[:6] == b"Exif\x00\x00" and not exif_seen:
                exif_seen = True
                read_exif_block(payload, found)
            elif code == 0xE1 and payload[:5] == b"FLIR\x00":
                flir.append(payload[8:])
            elif code == 0xE1 and payload.startswith(_XMP_SIG):
                found.xmp_packets.append(payload[len(_XMP_SIG) :])
            elif code == 0xE2 and payload[:4] == b"MPF\x00" and mpf_image_count(payload[4:]) > 1:
                found.file_type = "MPO"
            elif code == 0xED and payload.startswith(b"Photoshop 3.0\x00"):
                parse_photoshop_irb(payload, found)
            elif code == 0xEC:
                _olympus_app12(payload, found)
            continue
        fh.seek(length - 2, 1)
    if flir:
        _flir_date(b"".join(flir), found)
    if not got_sof:
        raise CorruptFile("truncated JPEG: no image data")
    if not got_sos:
        found.warnings.append("truncated JPEG: image data missing")


_TIMEDATE_RE = re.compile(rb"\[picture info\].*?TimeDate=(\d+)", re.DOTALL)


def _olympus_app12(payload: bytes, found: Found) -> None:
    """Old Olympus/Agfa cameras keep the capture time as a Unix time in an APP12 text block."""
    m = _TIMEDATE_RE.search(payload[:2048])
    if m:
        dt = from_unix(int(m.group(1)))
        if dt is not None:
            found.dates.append(DateCandidate("makernotes:DateTimeOriginal", dt, None))


def _flir_date(fff: bytes, found: Found) -> None:
    """FLIR thermal cameras: the capture time sits in the CameraInfo record of an FFF block.

    The record directory is big-endian; CameraInfo holds, at 0x384, the Unix time, its
    milliseconds and the time zone in minutes west of UTC (little-endian on all samples).
    """
    if fff[:4] != b"FFF\x00" or len(fff) < 32:
        return
    directory, count = struct.unpack_from(">II", fff, 24)
    for i in range(min(count, 64)):
        entry = directory + 32 * i
        if entry + 20 > len(fff):
            return
        kind, _sub, _version, _id, offset, _length = struct.unpack_from(">HHIIII", fff, entry)
        if kind != 0x20 or offset + 0x38E > len(fff):
            continue
        for endian in "<>":
            seconds, _ms, west = struct.unpack_from(endian + "IIh", fff, offset + 0x384)
            utc = from_unix(seconds)
            if utc is not None and 1990 <= utc.year <= 2100 and abs(west) <= 14 * 60:
                local = utc - timedelta(minutes=west)
                found.dates.append(DateCandidate("makernotes:DateTimeOriginal", local, -west))
                return


def read_png(fh: BinaryIO, found: Found) -> None:
    """Walk PNG chunks: IHDR size, eXIf, XMP iTXt and ImageMagick "Raw profile" EXIF."""
    fh.seek(8)
    seen_ihdr = False
    while True:
        header = fh.read(8)
        if len(header) < 8:
            found.warnings.append("truncated PNG")
            break
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IEND":
            break
        if kind == b"IHDR":
            data = fh.read(length)
            if len(data) < 8:
                raise CorruptFile("truncated PNG header")
            found.width, found.height = struct.unpack_from(">II", data)
            seen_ihdr = True
        elif kind == b"eXIf" and length < 16 << 20:
            read_exif_block(fh.read(length), found)
        elif kind in (b"iTXt", b"tEXt", b"zTXt") and length < 16 << 20:
            _png_text(kind, fh.read(length), found)
        else:
            fh.seek(length, 1)
        if not seen_ihdr:
            raise CorruptFile("damaged PNG: no IHDR chunk")
        if len(fh.read(4)) < 4:  # CRC
            found.warnings.append("truncated PNG")
            break


def _png_text(kind: bytes, data: bytes, found: Found) -> None:
    keyword, _, rest = data.partition(b"\x00")
    try:
        if kind == b"iTXt":
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\x00")
            _translated, _, text = rest.partition(b"\x00")
            if compressed:
                text = zlib.decompress(text)
        elif kind == b"zTXt":
            text = zlib.decompress(rest[1:])
        else:
            text = rest
    except (zlib.error, IndexError):
        found.warnings.append("damaged PNG text chunk")
        return
    if keyword == b"XML:com.adobe.xmp":
        found.xmp_packets.append(text)
    elif keyword.lower() in (b"raw profile type exif", b"raw profile type app1"):
        parts = text.split(b"\n", 3)
        if len(parts) == 4:
            try:
                block = bytes.fromhex(parts[3].decode("ascii", "ignore"))
            except ValueError:
                return
            read_exif_block(block, found)


def read_webp(fh: BinaryIO, found: Found) -> None:
    """Walk RIFF chunks: canvas size (VP8X/VP8/VP8L), EXIF and XMP."""
    fh.seek(12)
    while True:
        header = fh.read(8)
        if len(header) < 8:
            break
        kind, length = struct.unpack("<4sI", header)
        padded = length + (length & 1)
        if kind in (b"VP8X", b"VP8 ", b"VP8L"):
            data = fh.read(min(length, 30))
            _webp_size(kind, data, found)
            fh.seek(padded - len(data), 1)
        elif kind == b"EXIF" and length < 16 << 20:
            read_exif_block(fh.read(length), found)
            fh.seek(padded - length, 1)
        elif kind == b"XMP " and length < 16 << 20:
            found.xmp_packets.append(fh.read(length))
            fh.seek(padded - length, 1)
        else:
            fh.seek(padded, 1)
    if found.width is None:
        raise CorruptFile("damaged WebP: no image header")


def _webp_size(kind: bytes, data: bytes, found: Found) -> None:
    if kind == b"VP8X" and len(data) >= 10:
        width = int.from_bytes(data[4:7], "little") + 1
        height = int.from_bytes(data[7:10], "little") + 1
        found.width, found.height = width, height
    elif found.width is not None:
        return
    elif kind == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 6)
        found.width, found.height = width & 0x3FFF, height & 0x3FFF
    elif kind == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        found.width, found.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def read_gif(fh: BinaryIO, found: Found) -> None:
    """Take the logical screen size of a GIF."""
    fh.seek(6)
    data = fh.read(4)
    if len(data) < 4:
        raise CorruptFile("truncated GIF header")
    found.width, found.height = struct.unpack("<HH", data)


def read_bmp(fh: BinaryIO, found: Found) -> None:
    """Take the size from a BMP info header (negative height means top-down rows)."""
    fh.seek(14)
    data = fh.read(12)
    if len(data) < 12:
        raise CorruptFile("truncated BMP header")
    (header_size,) = struct.unpack_from("<I", data)
    if header_size == 12:
        width, height = struct.unpack_from("<HH", data, 4)
    else:
        width, height = struct.unpack_from("<ii", data, 4)
    found.width, found.height = abs(width), abs(height)


def read_tiff_file(fh: BinaryIO, found: Found, base: int = 0, length: int | None = None) -> None:
    """Read a TIFF-based file (TIFF, DNG, CR2, NEF, ARW, ORF...) from its IFDs."""
    fh.seek(base)
    if fh.read(4) in (b"II+\x00", b"MM\x00+"):
        _read_bigtiff(fh, found, base)
        return
    dirs = read_tiff(FileSource(fh, base, length))
    if dirs is None:
        raise CorruptFile("damaged TIFF header")
    if not dirs.ifd0:
        raise CorruptFile("damaged TIFF: unreadable first directory")
    add_tiff(dirs, found, dims=True)
    jpg_from_raw = dirs.ifd0.get(0x002E)
    if jpg_from_raw is not None and dirs.reader.endian == "<":
        # Panasonic RW2/RWL: the Exif directory lives in the embedded JpgFromRaw
        preview = dirs.reader.source.read_at(jpg_from_raw[2], min(jpg_from_raw[1], 1 << 18))
        if preview[:3] == b"\xff\xd8\xff":
            _exif_of_embedded_jpeg(preview, found)


def _read_bigtiff(fh: BinaryIO, found: Found, base: int) -> None:
    """A BigTIFF (64-bit offsets, which our IFD reader does not walk): Pillow reads its size and
    its first directory's camera, orientation and date tags."""
    from PIL import Image, UnidentifiedImageError

    fh.seek(base)
    try:
        with Image.open(fh) as im:
            found.set_dims(*im.size)
            tags = im.getexif()
            exif = tags.get_ifd(0x8769)
    except (OSError, UnidentifiedImageError, ValueError, struct.error) as exc:
        raise CorruptFile(f"damaged BigTIFF: {exc}") from exc
    for name, tag in (("make", 0x010F), ("model", 0x0110)):
        value = tags.get(tag)
        if isinstance(value, str) and value.strip("\0 "):
            found.set(name, value.strip("\0 "))
    orientation = tags.get(0x0112)
    if isinstance(orientation, int) and 0 <= orientation <= 8:
        found.set("orientation", orientation)
    when = parse_exif_datetime(exif.get(0x9003) or tags.get(0x0132))
    if when is not None:
        found.dates.append(DateCandidate("exif:DateTimeOriginal", when, None))


def _exif_of_embedded_jpeg(jpeg: bytes, found: Found) -> None:
    """Add the EXIF of an embedded JPEG (RW2 JpgFromRaw) without taking its size."""
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        if jpeg[pos + 1] == 0xE1 and jpeg[pos + 4 : pos + 10] == b"Exif\x00\x00":
            read_exif_block(jpeg[pos + 4 : pos + 2 + length], found)
            return
        pos += 2 + length
