"""ISO base media (HEIF/HEIC, AVIF, CR3) box walking: image size, EXIF and XMP items, dates."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.metadata.dates import DateCandidate, from_mac_epoch
from photodesk.core.media.metadata.exif import Found, add_tiff, read_exif_block
from photodesk.core.media.metadata.tiff import BytesSource, read_tiff

_MAX_META = 32 << 20
_CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


def iter_boxes(
    data: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, payload end) for the boxes in data[start:end]."""
    end = len(data) if end is None else min(end, len(data))
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size


def _top_level(fh: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload offset, payload size) of top-level boxes, reading headers only."""
    fh.seek(0, 2)
    file_size = fh.tell()
    pos = 0
    while pos + 8 <= file_size:
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            return
        size, kind = struct.unpack_from(">I4s", header)
        head_len = 8
        if size == 1 and len(header) >= 16:
            (size,) = struct.unpack_from(">Q", header, 8)
            head_len = 16
        elif size == 0:
            size = file_size - pos
        if size < head_len:
            return
        yield kind, pos + head_len, min(size, file_size - pos) - head_len
        pos += size


@dataclass
class _Meta:
    primary: int | None = None
    items: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # id -> (type, mime)
    locations: dict[int, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)
    properties: list[tuple[bytes, bytes]] = field(default_factory=list)
    associations: dict[int, list[int]] = field(default_factory=dict)
    idat: bytes = b""


def _read_uint(data: bytes, pos: int, size: int) -> int:
    if size == 0:
        return 0
    return int.from_bytes(data[pos : pos + size], "big")


def _parse_iinf(data: bytes, start: int, end: int, meta: _Meta) -> None:
    version = data[start]
    pos = start + 4 + (2 if version == 0 else 4)
    for kind, b_start, b_end in iter_boxes(data, pos, end):
        if kind != b"infe" or b_end - b_start < 8:
            continue
        infe_version = data[b_start]
        if infe_version < 2:
            continue
        p = b_start + 4
        if infe_version == 2:
            (item_id,) = struct.unpack_from(">H", data, p)
            p += 2
        else:
            (item_id,) = struct.unpack_from(">I", data, p)
            p += 4
        item_type = data[p + 2 : p + 6]
        p += 6
        name_end = data.find(b"\x00", p, b_end)
        mime = ""
        if item_type == b"mime" and name_end >= 0:
            mime_end = data.find(b"\x00", name_end + 1, b_end)
            mime = data[name_end + 1 : mime_end if mime_end >= 0 else b_end].decode(
                "ascii", "replace"
            )
        meta.items[item_id] = (item_type, mime)


_UINT = {0: "", 4: "I", 8: "Q"}


def _parse_iloc(data: bytes, start: int, end: int, meta: _Meta) -> None:
    version = data[start]
    pos = start + 4
    offset_size, length_size = data[pos] >> 4, data[pos] & 15
    base_size, index_size = data[pos + 1] >> 4, (data[pos + 1] & 15) if version else 0
    if any(size not in _UINT for size in (offset_size, length_size, base_size, index_size)):
        return
    pos += 2
    id_fmt = "I" if version == 2 else "H"
    (count,) = struct.unpack_from(">" + id_fmt, data, pos)
    pos += struct.calcsize(id_fmt)
    method_fmt = "H" if version in (1, 2) else ""
    item = struct.Struct(">" + id_fmt + method_fmt + "H" + _UINT[base_size] + "H")
    extent = struct.Struct(">" + _UINT[index_size] + _UINT[offset_size] + _UINT[length_size])
    for _ in range(count):
        if pos + item.size > end:
            return
        fields = item.unpack_from(data, pos)
        pos += item.size
        item_id, extent_count = fields[0], fields[-1]
        method = fields[1] & 15 if method_fmt else 0
        base = fields[-2] if base_size else 0
        if pos + extent_count * extent.size > end:
            return
        extents = []
        for _ in range(extent_count):
            values = extent.unpack_from(data, pos)[1 if index_size else 0 :]
            pos += extent.size
            offset = values[0] if offset_size else 0
            length = values[-1] if length_size else 0
            extents.append((base + offset, length))
        meta.locations[item_id] = (method, extents)


def _parse_iprp(data: bytes, start: int, end: int, meta: _Meta) -> None:
    for kind, b_start, b_end in iter_boxes(data, start, end):
        if kind == b"ipco":
            for prop, p_start, p_end in iter_boxes(data, b_start, b_end):
                meta.properties.append((prop, data[p_start:p_end]))
        elif kind == b"ipma":
            version, flags = data[b_start], data[b_start + 3]
            (count,) = struct.unpack_from(">I", data, b_start + 4)
            pos = b_start + 8
            id_size = 2 if version < 1 else 4
            index_size = 2 if flags & 1 else 1
            for _ in range(count):
                if pos + id_size + 1 > b_end:
                    break
                item_id = int.from_bytes(data[pos : pos + id_size], "big")
                n = data[pos + id_size]
                pos += id_size + 1
                if meta.primary is None or item_id == meta.primary:
                    raw = data[pos : pos + n * index_size]
                    if index_size == 2:
                        indexes = [v & 0x7FFF for v in struct.unpack(f">{len(raw) // 2}H", raw)]
                    else:
                        indexes = [v & 0x7F for v in raw]
                    meta.associations.setdefault(item_id, indexes)
                pos += n * index_size


def _parse_meta(data: bytes) -> _Meta:
    meta = _Meta()
    for kind, start, end in iter_boxes(data, 4):  # meta is a FullBox
        try:
            if kind == b"pitm":
                meta.primary = _read_uint(data, start + 4, 2 if data[start] == 0 else 4)
            elif kind == b"iinf":
                _parse_iinf(data, start, end, meta)
            elif kind == b"iloc":
                _parse_iloc(data, start, end, meta)
            elif kind == b"iprp":
                _parse_iprp(data, start, end, meta)
            elif kind == b"idat":
                meta.idat = data[start:end]
        except (IndexError, struct.error):
            continue
    return meta


def _item_data(fh: BinaryIO, meta: _Meta, item_id: int, limit: int = 8 << 20) -> bytes:
    method, extents = meta.locations.get(item_id, (0, []))
    chunks = []
    for offset, length in extents[:64]:
        if method == 1:
            chunks.append(meta.idat[offset : offset + (length or len(meta.idat))])
        elif method == 0:
            fh.seek(offset)
            chunks.append(fh.read(min(length, limit) if length else limit))
    return b"".join(chunks)


def read_heif(fh: BinaryIO, found: Found) -> None:
    """Read a HEIF/HEIC/AVIF file: primary image size, EXIF and XMP items, movie date."""
    meta_box: bytes | None = None
    for kind, offset, size in _top_level(fh):
        if kind == b"meta" and meta_box is None:
            fh.seek(offset)
            meta_box = fh.read(min(size, _MAX_META))
        elif kind == b"moov":
            fh.seek(offset)
            _read_moov(fh.read(min(size, _MAX_META)), found)
    if meta_box is None:
        if found.width is None:
            raise CorruptFile("damaged HEIF: no image metadata box")
        return
    meta = _parse_meta(meta_box)
    exif_items = [i for i, (t, _) in meta.items.items() if t == b"Exif"]
    for item_id in exif_items[:1]:
        data = _item_data(fh, meta, item_id)
        if len(data) >= 4:
            (skip,) = struct.unpack_from(">I", data)
            read_exif_block(data[4 + skip :] if skip < len(data) else data[4:], found)
    for item_id, (item_type, mime) in meta.items.items():
        if item_type == b"mime" and "rdf+xml" in mime:
            found.xmp_packets.append(_item_data(fh, meta, item_id))
    width, height = _primary_size(meta)
    missing = _missing_bytes(fh, meta)
    if missing:
        found.warnings.append(
            f"truncated HEIF: {missing} bytes of image data are missing (the picture is incomplete)"
        )
    if not meta.associations:
        found.warnings.append("damaged HEIF: no item property associations")
    if width is not None:
        found.width, found.height = width, height
    if found.width is None and not exif_items:
        raise CorruptFile("damaged HEIF: no primary image")


def _missing_bytes(fh: BinaryIO, meta: _Meta) -> int:
    """How many bytes the items' extents reach past the end of the file (0: all there). A file
    cut short still has its metadata, and decoders fill in what is missing without a word."""
    fh.seek(0, 2)
    size = fh.tell()
    end = max(
        (offset + length for method, extents in meta.locations.values() if method == 0
         for offset, length in extents),
        default=0,
    )  # fmt: skip
    return max(0, end - size)


def _primary_size(meta: _Meta) -> tuple[int | None, int | None]:
    sizes = {
        index: struct.unpack_from(">II", payload, 4)
        for index, (kind, payload) in enumerate(meta.properties, 1)
        if kind == b"ispe" and len(payload) >= 12
    }
    if meta.primary is not None:
        for index in meta.associations.get(meta.primary, []):
            if index in sizes:
                return sizes[index]
    if sizes and not meta.associations:
        # no property associations (damaged file): like ExifTool, the last size seen wins
        return sizes[max(sizes)]
    return None, None


def _read_moov(moov: bytes, found: Found) -> None:
    for kind, start, end in iter_boxes(moov):
        if kind == b"mvhd" and end - start >= 20:
            version = moov[start]
            seconds = _read_uint(moov, start + 4, 8 if version == 1 else 4)
            dt = from_mac_epoch(seconds)
            if dt is not None:
                found.dates.append(DateCandidate("quicktime:CreateDate", dt, 0))


def read_cr3(fh: BinaryIO, found: Found) -> None:
    """Canon CR3: TIFF blocks CMT1 (IFD0), CMT2 (Exif), CMT4 (GPS) in a moov uuid box."""
    for kind, offset, size in _top_level(fh):
        if kind != b"moov":
            continue
        fh.seek(offset)
        moov = fh.read(min(size, _MAX_META))
        for box, start, end in iter_boxes(moov):
            if box == b"uuid" and moov[start : start + 16] == _CANON_UUID:
                _read_canon_boxes(moov, start + 16, end, found)
            elif box == b"mvhd":
                _read_moov(moov[start - 8 : end], found)
        return
    raise CorruptFile("damaged CR3: no movie box")


def _read_canon_boxes(data: bytes, start: int, end: int, found: Found) -> None:
    blocks = {kind: data[s:e] for kind, s, e in iter_boxes(data, start, end)}
    ifd0 = read_tiff(BytesSource(blocks.get(b"CMT1", b"")), follow_chain=False)
    exif = read_tiff(BytesSource(blocks.get(b"CMT2", b"")), follow_chain=False)
    gps = read_tiff(BytesSource(blocks.get(b"CMT4", b"")), follow_chain=False)
    if ifd0 is None:
        raise CorruptFile("damaged CR3: no IFD0 block")
    if exif is not None:
        ifd0.exif, ifd0.exif_reader = exif.ifd0, exif.reader
    if gps is not None:
        ifd0.gps, ifd0.gps_reader = gps.ifd0, gps.reader
    add_tiff(ifd0, found, dims=True)
