"""A small, defensive TIFF/EXIF directory reader over bytes or a file (headers only, no pixels)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

# tag -> (type, count, absolute offset of the value in the source)
Ifd = dict[int, tuple[int, int, int]]

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_INT_FMT = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I"}
_MAX_ENTRIES = 1000

TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_SUB_IFDS = 0x014A
TAG_XMP = 0x02BC
TAG_IPTC = 0x83BB
TAG_MAKERNOTE = 0x927C


class ByteSource(Protocol):
    """Random access to the bytes a TIFF structure lives in."""

    def read_at(self, offset: int, size: int) -> bytes:
        """Return up to size bytes starting at offset (short at the end of the data)."""
        ...

    def size(self) -> int:
        """Return the total number of bytes available."""
        ...


class BytesSource:
    """A ByteSource over an in-memory block (e.g. a JPEG APP1 payload)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read_at(self, offset: int, size: int) -> bytes:
        """Return a slice of the block."""
        if offset < 0:
            return b""
        return self._data[offset : offset + size]

    def size(self) -> int:
        """Return the block length."""
        return len(self._data)


class FileSource:
    """A ByteSource over an open file, cached in 64 KiB pages so IFD walks stay cheap."""

    _PAGE = 65536

    def __init__(self, fh: BinaryIO, base: int = 0, length: int | None = None) -> None:
        self._fh = fh
        self._base = base
        if length is None:
            fh.seek(0, 2)
            length = fh.tell() - base
        self._length = max(0, length)
        self._pages: dict[int, bytes] = {}

    def _page(self, index: int) -> bytes:
        page = self._pages.get(index)
        if page is None:
            start = index * self._PAGE
            self._fh.seek(self._base + start)
            page = self._fh.read(min(self._PAGE, self._length - start))
            self._pages[index] = page
        return page

    def read_at(self, offset: int, size: int) -> bytes:
        """Return bytes from the file, relative to the base offset."""
        if offset < 0 or offset >= self._length or size <= 0:
            return b""
        size = min(size, self._length - offset)
        first, last = offset // self._PAGE, (offset + size - 1) // self._PAGE
        if first == last:
            start = offset - first * self._PAGE
            return self._page(first)[start : start + size]
        if size > 4 * self._PAGE:
            self._fh.seek(self._base + offset)
            return self._fh.read(size)
        chunk = b"".join(self._page(i) for i in range(first, last + 1))
        start = offset - first * self._PAGE
        return chunk[start : start + size]

    def size(self) -> int:
        """Return the number of bytes after the base offset."""
        return self._length


@dataclass
class TiffDirs:
    """The directories of one TIFF structure that carry photo metadata."""

    reader: TiffReader
    ifd0: Ifd = field(default_factory=dict)
    ifd1: Ifd = field(default_factory=dict)  # the thumbnail directory; a fallback for IFD0 tags
    exif: Ifd = field(default_factory=dict)
    gps: Ifd = field(default_factory=dict)
    gps_present: bool = False
    image_dirs: list[Ifd] = field(default_factory=list)  # IFD0, SubIFDs, IFD2+ (not IFD1)
    warnings: list[str] = field(default_factory=list)
    exif_reader: TiffReader | None = None  # CR3 keeps Exif and GPS in separate TIFF blocks
    gps_reader: TiffReader | None = None


class TiffReader:
    """Decodes IFDs and tag values of a TIFF structure that starts at offset 0 of a source."""

    def __init__(self, source: ByteSource, endian: str, first_ifd: int) -> None:
        self.source = source
        self.endian = endian
        self.first_ifd = first_ifd
        self._size = source.size()

    @classmethod
    def open(cls, source: ByteSource) -> TiffReader | None:
        """Parse the 8-byte header; None when it is not a TIFF (or ORF/RW2) header."""
        head = source.read_at(0, 8)
        if len(head) < 8:
            return None
        if head[:2] == b"II":
            endian = "<"
        elif head[:2] == b"MM":
            endian = ">"
        else:
            return None
        magic, first = struct.unpack(endian + "HI", head[2:8])
        if magic not in (42, 0x4F52, 0x5352, 0x55):
            return None
        return cls(source, endian, first)

    def read_ifd(self, offset: int) -> tuple[Ifd, int] | None:
        """Read one directory: its entries and the offset of the next one (None if bad)."""
        if offset < 8 or offset + 2 > self._size:
            return None
        raw = self.source.read_at(offset, 2)
        if len(raw) < 2:
            return None
        (count,) = struct.unpack(self.endian + "H", raw)
        if count == 0 or count > _MAX_ENTRIES:
            return None
        body = self.source.read_at(offset + 2, 12 * count + 4)
        if len(body) < 12 * count:
            return None
        entries: Ifd = {}
        unpack = struct.Struct(self.endian + "HHI").unpack_from
        for i in range(count):
            pos = 12 * i
            tag, typ, n = unpack(body, pos)
            size = _TYPE_SIZE.get(typ)
            if size is None or n == 0:
                continue
            total = size * n
            if total <= 4:
                value_at = offset + 2 + pos + 8
            else:
                (value_at,) = struct.unpack_from(self.endian + "I", body, pos + 8)
                if value_at + total > self._size:
                    continue
            entries.setdefault(tag, (typ, n, value_at))
        nxt = 0
        if len(body) >= 12 * count + 4:
            (nxt,) = struct.unpack_from(self.endian + "I", body, 12 * count)
        return entries, nxt

    def raw(self, ifd: Ifd, tag: int, limit: int = 1 << 20) -> bytes | None:
        """Return the raw bytes of a tag (at most limit bytes)."""
        entry = ifd.get(tag)
        if entry is None:
            return None
        typ, n, at = entry
        return self.source.read_at(at, min(_TYPE_SIZE[typ] * n, limit))

    def string(self, ifd: Ifd, tag: int) -> str | None:
        """Return an ASCII tag as text, trimmed of NULs and spaces like ExifTool does."""
        entry = ifd.get(tag)
        if entry is None or entry[0] not in (1, 2, 7):
            return None
        data = self.raw(ifd, tag, 4096) or b""
        data = data.split(b"\0", 1)[0]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        return text.strip() or None

    def ints(self, ifd: Ifd, tag: int, limit: int = 64) -> list[int]:
        """Return the integer values of a tag (empty when absent or not an integer type)."""
        entry = ifd.get(tag)
        if entry is None or entry[0] not in _INT_FMT:
            return []
        typ, n, at = entry
        n = min(n, limit)
        data = self.source.read_at(at, _TYPE_SIZE[typ] * n)
        if len(data) < _TYPE_SIZE[typ] * n:
            return []
        return list(struct.unpack(self.endian + _INT_FMT[typ] * n, data))

    def get_int(self, ifd: Ifd, tag: int) -> int | None:
        """Return the first integer value of a tag."""
        values = self.ints(ifd, tag, 1)
        return values[0] if values else None

    def floats(self, ifd: Ifd, tag: int, limit: int = 16) -> list[float | None]:
        """Return numeric values (rationals as floats; None for a zero denominator)."""
        entry = ifd.get(tag)
        if entry is None:
            return []
        typ, n, at = entry
        n = min(n, limit)
        if typ in (5, 10):
            data = self.source.read_at(at, 8 * n)
            if len(data) < 8 * n:
                return []
            fmt = "I" if typ == 5 else "i"
            parts = struct.unpack(self.endian + fmt * (2 * n), data)
            return [parts[i] / parts[i + 1] if parts[i + 1] else None for i in range(0, 2 * n, 2)]
        if typ in (11, 12):
            size = _TYPE_SIZE[typ]
            data = self.source.read_at(at, size * n)
            if len(data) < size * n:
                return []
            return list(struct.unpack(self.endian + ("f" if typ == 11 else "d") * n, data))
        return [float(v) for v in self.ints(ifd, tag, limit)]

    def get_float(self, ifd: Ifd, tag: int) -> float | None:
        """Return the first numeric value of a tag."""
        values = self.floats(ifd, tag, 1)
        return values[0] if values else None

    def pointer(self, ifd: Ifd, tag: int) -> list[int]:
        """Return the offsets held by a directory pointer tag (only integer formats count)."""
        entry = ifd.get(tag)
        if entry is None or entry[0] not in (4, 13, 3, 9):
            return []
        return [v for v in self.ints(ifd, tag, 32) if v > 0]


def read_tiff(source: ByteSource, *, follow_chain: bool = True) -> TiffDirs | None:
    """Read IFD0, the Exif and GPS directories, SubIFDs and chained IFDs of a TIFF stream."""
    reader = TiffReader.open(source)
    if reader is None:
        return None
    dirs = TiffDirs(reader)
    first = reader.read_ifd(reader.first_ifd)
    if first is None:
        dirs.warnings.append("bad IFD0 directory")
        return dirs
    dirs.ifd0, nxt = first
    dirs.image_dirs.append(dirs.ifd0)
    seen = {reader.first_ifd}
    for off in reader.pointer(dirs.ifd0, TAG_EXIF_IFD)[:1]:
        got = reader.read_ifd(off)
        if got is None:
            dirs.warnings.append("bad Exif directory")
        else:
            dirs.exif = got[0]
    if TAG_EXIF_IFD in dirs.ifd0 and not reader.pointer(dirs.ifd0, TAG_EXIF_IFD):
        dirs.warnings.append("wrong format for the ExifOffset tag")
    for off in reader.pointer(dirs.ifd0, TAG_GPS_IFD)[:1]:
        dirs.gps_present = True
        got = reader.read_ifd(off)
        if got is not None:
            dirs.gps = got[0]
    for off in reader.pointer(dirs.ifd0, TAG_SUB_IFDS)[:8]:
        if off not in seen:
            seen.add(off)
            got = reader.read_ifd(off)
            if got is not None:
                dirs.image_dirs.append(got[0])
    index = 1
    while nxt and nxt not in seen and index < (8 if follow_chain else 2):
        seen.add(nxt)
        got = reader.read_ifd(nxt)
        if got is None:
            break
        if index == 1:
            dirs.ifd1 = got[0]
        else:  # IFD1 is the EXIF thumbnail; later ones can be the main image (CR2)
            dirs.image_dirs.append(got[0])
        nxt = got[1]
        index += 1
    return dirs
