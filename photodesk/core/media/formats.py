"""Recognise photo, RAW and video formats from a file's first bytes, as ExifTool names them."""

from __future__ import annotations

import struct
from pathlib import Path

from photodesk.core.media.mediatypes import FileFormat

HEAD_SIZE = 4096

_PHOTO_MIME = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # ExifTool 12.57 reports MPO files as image/jpeg
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "HEIC": "image/heic",
    "HEIF": "image/heif",
    "HEICS": "image/heic-sequence",
    "HEIFS": "image/heif-sequence",
    "AVIF": "image/avif",
}

_RAW_MIME = {
    "3FR": "image/x-hasselblad-3fr",
    "ARW": "image/x-sony-arw",
    "CR2": "image/x-canon-cr2",
    "CR3": "image/x-canon-cr3",
    "CRW": "image/x-canon-crw",
    "DCR": "image/x-kodak-dcr",
    "DNG": "image/x-adobe-dng",
    "ERF": "image/x-epson-erf",
    "FFF": "image/x-hasselblad-fff",
    "IIQ": "image/x-raw",
    "KDC": "image/x-kodak-kdc",
    "MEF": "image/x-mamiya-mef",
    "MOS": "image/x-raw",
    "MRW": "image/x-minolta-mrw",
    "NEF": "image/x-nikon-nef",
    "NRW": "image/x-nikon-nrw",
    "ORF": "image/x-olympus-orf",
    "PEF": "image/x-pentax-pef",
    "RAF": "image/x-fujifilm-raf",
    "RAW": "image/x-raw",
    "RW2": "image/x-panasonic-rw2",
    "RWL": "image/x-leica-rwl",
    "SR2": "image/x-sony-sr2",
    "SRF": "image/x-sony-srf",
    "SRW": "image/x-samsung-srw",
    "X3F": "image/x-sigma-x3f",
}

_VIDEO_MIME = {
    "MP4": "video/mp4",
    "MOV": "video/quicktime",
    "M4V": "video/x-m4v",
    "3GP": "video/3gpp",
    "3G2": "video/3gpp2",
    "AVI": "video/x-msvideo",
    "MKV": "video/x-matroska",
    "WEBM": "video/webm",
    "M2TS": "video/m2ts",
    "MPEG": "video/mpeg",
    "WMV": "video/x-ms-wmv",
}

# TIFF-based RAW formats that only the extension (checked against the camera make) tells apart
_TIFF_RAW_BY_EXT: dict[str, tuple[str, tuple[str, ...]]] = {
    ".nef": ("NEF", ("NIKON",)),
    ".nrw": ("NRW", ("NIKON",)),
    ".arw": ("ARW", ("SONY",)),
    ".sr2": ("SR2", ("SONY",)),
    ".srf": ("SRF", ("SONY",)),
    ".pef": ("PEF", ("PENTAX", "RICOH", "ASAHI")),
    ".srw": ("SRW", ("SAMSUNG",)),
    ".3fr": ("3FR", ("HASSELBLAD",)),
    ".fff": ("FFF", ("HASSELBLAD", "IMACON")),
    ".erf": ("ERF", ("SEIKO EPSON", "EPSON")),
    ".kdc": ("KDC", ("KODAK", "EASTMAN KODAK")),
    ".dcr": ("DCR", ("KODAK", "EASTMAN KODAK")),
    ".mos": ("MOS", ("LEAF",)),
    ".mef": ("MEF", ("MAMIYA",)),
    ".iiq": ("IIQ", ("PHASE ONE", "LEAF")),
    ".cr2": ("CR2", ("CANON",)),
}

PHOTO_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".gif", ".webp", ".tif", ".tiff",
        ".bmp", ".heic", ".heif", ".hif", ".heics", ".heifs", ".avif", ".avifs",
    }
)  # fmt: skip
RAW_EXTENSIONS = frozenset(
    {
        ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".sr2", ".srf", ".raf", ".rw2",
        ".rwl", ".orf", ".pef", ".srw", ".x3f", ".mrw", ".iiq", ".3fr", ".fff", ".erf", ".kdc",
        ".dcr", ".mos", ".mef", ".raw",
    }
)  # fmt: skip
VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2", ".avi", ".mkv", ".webm", ".mts", ".m2ts",
        ".mpg", ".mpeg", ".wmv", ".insv", ".lrv",
    }
)  # fmt: skip
MEDIA_EXTENSIONS: frozenset[str] = PHOTO_EXTENSIONS | RAW_EXTENSIONS | VIDEO_EXTENSIONS


def make_format(file_type: str) -> FileFormat:
    """Return the FileFormat for an ExifTool file type name such as "JPEG" or "CR3"."""
    if file_type in _PHOTO_MIME:
        return FileFormat(file_type, _PHOTO_MIME[file_type], "photo")
    if file_type in _RAW_MIME:
        return FileFormat(file_type, _RAW_MIME[file_type], "raw")
    if file_type in _VIDEO_MIME:
        return FileFormat(file_type, _VIDEO_MIME[file_type], "video")
    raise KeyError(file_type)


def sniff_path(path: Path) -> FileFormat | None:
    """Detect the format of the file at path from its first bytes (None when not media).

    For a JPEG whose metadata segments run past the first 4 KiB, up to 1 MiB is read to
    find an MPF segment (MPO).
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_SIZE)
        if head[:3] == b"\xff\xd8\xff" and _jpeg_has_mpf(head) is None:
            head += f.read(1 << 20)
    return sniff(head, Path(path).name)


def sniff(head: bytes, name: str = "") -> FileFormat | None:
    """Detect a media format from the first bytes of a file.

    The name is only used to pick the subtype of TIFF-based RAW files and of a few
    containers that share one signature (RW2/RWL/RAW, MP4/M4V); content never
    becomes RAW, photo or video because of its name alone.
    """
    ext = Path(name).suffix.lower()
    file_type = _sniff_type(head, ext)
    return make_format(file_type) if file_type else None


def _sniff_type(head: bytes, ext: str) -> str | None:
    if len(head) < 4:
        return None
    if head[:3] == b"\xff\xd8\xff":
        return "MPO" if _jpeg_has_mpf(head) else "JPEG"  # None (undecided) counts as JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "WEBP", b"AVI ": "AVI"}.get(head[8:12])
    if head[:4] in (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00"):
        return _sniff_tiff(head, ext)
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return "TIFF"  # BigTIFF (64-bit offsets): scans and scientific images, never a RAW
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head, ext)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot") and head[:2] == b"\0\0":
        return "MOV"
    return _sniff_other(head, ext)


def _sniff_other(head: bytes, ext: str) -> str | None:
    if head[:16] == b"FUJIFILMCCD-RAW ":
        return "RAF"
    if head[:4] == b"FOVb":
        return "X3F"
    if head[:4] == b"\x00MRM":
        return "MRW"
    if head[:2] == b"II" and head[6:14] == b"HEAPCCDR":
        return "CRW"
    if head[0x19:0x20] == b"ARECOYK":  # Kyocera stores its strings byte-reversed
        return "RAW"
    if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\0\0\0\0":
        return "BMP"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WEBM" if b"webm" in head[:64] else "MKV"
    if head[:16] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c":
        return "WMV"
    if head[:4] == b"\x00\x00\x01\xba":
        return "MPEG"
    # MPEG transport streams: a 0x47 sync byte every 188 bytes (192 with M2TS time codes)
    if len(head) > 580 and all(head[i] == 0x47 for i in (0, 188, 376, 564)):
        return "M2TS"
    if len(head) > 580 and all(head[i] == 0x47 for i in (4, 196, 388, 580)):
        return "M2TS"
    return None


def _jpeg_has_mpf(head: bytes) -> bool | None:
    """Whether an APP2 "MPF" segment listing several images precedes the image data.

    None when head ends before the first frame header, so the answer is unknown.
    """
    pos = 2
    while pos + 8 <= len(head):
        if head[pos] != 0xFF:
            return False
        marker = head[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA or (0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)):
            return False
        (length,) = struct.unpack_from(">H", head, pos + 2)
        if marker == 0xE2 and head[pos + 4 : pos + 8] == b"MPF\x00":
            if pos + 2 + length > len(head):
                return None
            return mpf_image_count(head[pos + 8 : pos + 2 + length]) > 1
        pos += 2 + length
    return None


def mpf_image_count(mpf: bytes) -> int:
    """Return NumberOfImages (tag 0xB001) from the TIFF-structured body of an MPF segment."""
    if mpf[:4] not in (b"II*\x00", b"MM\x00*"):
        return 0
    endian = "<" if mpf[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(endian + "I", mpf, 4)
        (count,) = struct.unpack_from(endian + "H", mpf, offset)
        for i in range(min(count, 64)):
            tag, typ, _n, value = struct.unpack_from(endian + "HHII", mpf, offset + 2 + 12 * i)
            if tag == 0xB001 and typ == 4:
                return int(value)
    except struct.error:
        return 0
    return 0


def _sniff_tiff(head: bytes, ext: str) -> str | None:
    magic = head[:4]
    if magic in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if magic == b"IIU\x00":
        return {".rwl": "RWL", ".raw": "RAW"}.get(ext, "RW2")
    if head[8:11] == b"CR\x02":
        return "CR2"
    if head[8:12] == b"IIII":
        return "IIQ"
    tags = _ifd0_tags(head)
    if 0xC612 in tags:  # DNGVersion
        return "DNG"
    entry = _TIFF_RAW_BY_EXT.get(ext)
    make = tags.get(0x010F, "").upper()
    if entry and make.startswith(entry[1]):
        return entry[0]
    return "TIFF"


def _ifd0_tags(head: bytes) -> dict[int, str]:
    """Return the IFD0 tags found in head: DNGVersion presence and the Make string."""
    endian = "<" if head[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(endian + "I", head, 4)
        (count,) = struct.unpack_from(endian + "H", head, offset)
    except struct.error:
        return {}
    found: dict[int, str] = {}
    for i in range(min(count, 512)):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(head):
            break
        tag, typ, n = struct.unpack_from(endian + "HHI", head, pos)
        if tag == 0xC612:
            found[tag] = ""
        elif tag == 0x010F and typ == 2:
            if n <= 4:
                raw = head[pos + 8 : pos + 8 + n]
            else:
                (value_at,) = struct.unpack_from(endian + "I", head, pos + 8)
                raw = head[value_at : value_at + n]
            found[tag] = raw.split(b"\0", 1)[0].decode("latin-1").strip()
    return found


_FTYP_BRANDS = {
    b"heic": "HEIC",
    b"heix": "HEIF",
    b"heim": "HEIF",
    b"heis": "HEIF",
    b"mif1": "HEIF",
    b"mif2": "HEIF",
    b"hevc": "HEICS",
    b"hevx": "HEICS",
    b"msf1": "HEIFS",
    b"avif": "AVIF",
    b"avis": "AVIF",
    b"crx ": "CR3",
    b"qt  ": "MOV",
    b"M4V ": "M4V",
    b"M4VH": "M4V",
    b"M4VP": "M4V",
    b"3g2a": "3G2",
    b"3g2b": "3G2",
    b"3g2c": "3G2",
}
_VIDEO_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"mp41", b"mp42", b"avc1",
        b"dash", b"mmp4", b"MSNV", b"NDAS", b"XAVC", b"f4v ", b"CAEP", b"MiHE",
    }
)  # fmt: skip


def _sniff_ftyp(head: bytes, ext: str) -> str | None:
    (size,) = struct.unpack_from(">I", head, 0)
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    if major in _FTYP_BRANDS:
        return _FTYP_BRANDS[major]
    if major in (b"M4A ", b"M4B ", b"M4P "):
        return None  # audio
    if major[:3] == b"3gp" or major[:3] == b"3ge" or major[:3] == b"3gg":
        return "3GP"
    if major in _VIDEO_BRANDS or any(b in _VIDEO_BRANDS for b in compatible):
        if ext == ".m4v":
            return "M4V"
        return "MOV" if ext in (".mov", ".qt") else "MP4"
    for brand in compatible:
        if brand in _FTYP_BRANDS and _FTYP_BRANDS[brand] not in ("MOV", "M4V", "3G2"):
            return _FTYP_BRANDS[brand]
    return None
