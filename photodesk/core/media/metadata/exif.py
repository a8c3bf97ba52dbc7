"""Turning EXIF/TIFF directories (and IPTC records) into photo fields, ExifTool style."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from photodesk.core.media.metadata.dates import (
    DateCandidate,
    make_datetime,
    parse_exif_datetime,
    parse_offset,
    parse_subsec,
)
from photodesk.core.media.metadata.tiff import (
    TAG_IPTC,
    TAG_MAKERNOTE,
    TAG_XMP,
    BytesSource,
    Ifd,
    TiffDirs,
    TiffReader,
    read_tiff,
)


@dataclass
class Found:
    """Everything gathered from one file's metadata blocks, before priorities are applied.

    Scalar fields keep the first value set: readers add sources in priority order.
    """

    file_type: str | None = None  # a refinement of the sniffed type (JPEG -> MPO)
    width: int | None = None
    height: int | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    orientation: int | None = None
    iso: int | None = None
    f_number: float | None = None
    exposure_time: float | None = None
    focal_length: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    gps_utc: datetime | None = None
    exif_image_size: tuple[int, int] | None = None  # ExifImageWidth/Height (RAF previews)
    duration: float | None = None
    dates: list[DateCandidate] = field(default_factory=list)
    xmp_packets: list[bytes] = field(default_factory=list)
    iptc: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def set(self, name: str, value: object) -> None:
        """Set a field unless an earlier (higher-priority) source already did."""
        if value is not None and value != "" and getattr(self, name) is None:
            setattr(self, name, value)

    def set_dims(self, width: int | None, height: int | None) -> None:
        """Set both dimensions together, once."""
        if self.width is None and self.height is None and width and height:
            self.width, self.height = int(width), int(height)

    def set_position(self, lat: float | None, lon: float | None, alt: float | None) -> None:
        """Set a validated GPS position, once."""
        if self.latitude is not None or lat is None or lon is None:
            return
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            self.warnings.append("GPS position out of range ignored")
            return
        if lat == 0 and lon == 0:  # what a receiver without a fix writes: not a place
            self.warnings.append("GPS position 0,0 (no fix) ignored")
            return
        self.latitude, self.longitude = lat, lon
        if alt is not None and math.isfinite(alt) and abs(alt) <= 100_000:
            self.altitude = alt
        elif alt is not None:
            self.warnings.append("GPS altitude out of range ignored")


def read_exif_block(data: bytes, found: Found, *, dims: bool = False) -> TiffDirs | None:
    """Read an EXIF block (a TIFF stream, optionally behind "Exif\\0\\0") into found."""
    if data[:6] == b"Exif\x00\x00":
        data = data[6:]
    elif data[:4] == b"Exif" and data[4:6] in (b"II", b"MM"):
        data = data[4:]
    dirs = read_tiff(BytesSource(data), follow_chain=dims)
    if dirs is None:
        found.warnings.append("unreadable EXIF block")
        return None
    add_tiff(dirs, found, dims=dims)
    return dirs


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\0", "").strip()
    return text or None


def add_tiff(dirs: TiffDirs, found: Found, *, dims: bool = False) -> None:
    """Add the fields of a TIFF/EXIF structure to found (dims: also take the image size)."""
    r, ifd0, exif = dirs.reader, dirs.ifd0, dirs.exif
    found.warnings.extend(dirs.warnings)
    # like ExifTool, fall back to the thumbnail directory (IFD1) for tags IFD0 lacks
    found.set("make", _clean(r.string(ifd0, 0x010F) or r.string(dirs.ifd1, 0x010F)))
    found.set("model", _clean(r.string(ifd0, 0x0110) or r.string(dirs.ifd1, 0x0110)))
    orientation = r.get_int(ifd0, 0x0112)
    if orientation is None:
        orientation = r.get_int(dirs.ifd1, 0x0112)
    if orientation is not None:
        if 0 <= orientation <= 8:  # 0 ("undefined") is kept as written, as ExifTool reports it
            found.set("orientation", orientation)
        else:
            found.warnings.append(f"invalid EXIF orientation {orientation}")
    er = dirs.exif_reader or r
    _add_dates(er, r, ifd0, exif, found)
    exif_width, exif_height = er.get_int(exif, 0xA002), er.get_int(exif, 0xA003)
    if exif_width and exif_height and found.exif_image_size is None:
        found.exif_image_size = (exif_width, exif_height)
    isos = [v for v in er.ints(exif, 0x8827, 4) + er.ints(exif, 0x8833, 1) if 0 < v < 10_000_000]
    found.set("iso", isos[0] if isos else None)
    found.set("f_number", _positive(er.get_float(exif, 0x829D)))
    found.set("exposure_time", _positive(er.get_float(exif, 0x829A)))
    found.set("focal_length", _positive(er.get_float(exif, 0x920A)))
    found.set("lens", _clean(er.string(exif, 0xA434)))
    if (found.make or "").upper().startswith("CANON"):
        _add_canon(er, exif, found)
    if dirs.gps:
        _add_gps(dirs.gps_reader or r, dirs.gps, found)
    xmp = r.raw(ifd0, TAG_XMP)
    if xmp:
        found.xmp_packets.append(xmp)
    iptc = r.raw(ifd0, TAG_IPTC)
    if iptc:
        parse_iptc(iptc, found)
    if dims:
        found.set_dims(*image_dims(dirs))


def _positive(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and value > 0 else None


def _add_dates(er: TiffReader, r: TiffReader, ifd0: Ifd, exif: Ifd, found: Found) -> None:
    for tag, offset_tags, subsec_tag, source in (
        (0x9003, (0x9011, 0x9010), 0x9291, "exif:DateTimeOriginal"),
        (0x9004, (0x9012, 0x9010), 0x9292, "exif:CreateDate"),
    ):
        raw = er.raw(exif, tag, 64) or r.raw(ifd0, tag, 64)
        dt = parse_exif_datetime(raw)
        if dt is None:
            continue
        offset = None
        for offset_tag in offset_tags:
            offset = parse_offset(er.string(exif, offset_tag) or r.string(ifd0, offset_tag))
            if offset is not None:
                break
        dt = dt.replace(microsecond=parse_subsec(er.string(exif, subsec_tag)))
        found.dates.append(DateCandidate(source, dt, offset))


def _dms(values: list[float | None]) -> float | None:
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    parts = [v for v in values if v is not None][:3]
    total = 0.0
    for value, scale in zip(parts, (1, 60, 3600), strict=False):
        total += value / scale
    return total


def _add_gps(r: TiffReader, gps: Ifd, found: Found) -> None:
    lat = _dms(r.floats(gps, 2, 3))
    lon = _dms(r.floats(gps, 4, 3))
    if lat is not None and lon is not None:
        lat_ref = (r.string(gps, 1) or "").upper()[:1]
        lon_ref = (r.string(gps, 3) or "").upper()[:1]
        if not lat_ref or not lon_ref:
            found.warnings.append("GPS reference missing, assumed north/east")
        lat = -lat if lat_ref == "S" else lat
        lon = -lon if lon_ref == "W" else lon
        alt = r.get_float(gps, 6)
        if alt is not None and r.get_int(gps, 5) == 1:
            alt = -alt
        found.set_position(lat, lon, alt)
    stamp = r.string(gps, 29)
    time = r.floats(gps, 7, 3)
    day = parse_exif_datetime(stamp) if stamp else None
    if day is not None and len(time) == 3 and all(t is not None for t in time):
        h, m, s = (float(t) for t in time if t is not None)
        if 0 <= h < 24 and 0 <= m < 60 and 0 <= s < 61:
            found.set("gps_utc", day + timedelta(hours=h, minutes=m, seconds=int(s)))


def _canon_notes(r: TiffReader, exif: Ifd) -> tuple[TiffReader, Ifd] | None:
    """Canon's maker-note directory, in whichever byte order it was written (some bodies write
    it little-endian inside a big-endian EXIF block, as ExifTool also allows)."""
    entry = exif.get(TAG_MAKERNOTE)
    if entry is None:
        return None
    for reader in (r, TiffReader(r.source, "<" if r.endian == ">" else ">", r.first_ifd)):
        got = reader.read_ifd(entry[2])
        if got and (0x0001 in got[0] or 0x0095 in got[0] or 0x0004 in got[0]):
            return reader, got[0]
    return None


def _signed16(values: list[int]) -> list[int]:
    return [v - 0x10000 if v >= 0x8000 else v for v in values]


# CameraSettings[16] (CameraISO) codes for fixed ISO settings; 15 is "Auto" (ExifTool's table).
_CANON_ISO_CODES = {16: 50, 17: 100, 18: 200, 19: 400, 20: 800}


def _add_canon(r: TiffReader, exif: Ifd, found: Found) -> None:
    """ISO and lens from Canon maker notes, as ExifTool's Composite:ISO and LensModel do:
    CameraSettings' CameraISO when it is a number, else ShotInfo's BaseISO * AutoISO / 100."""
    notes = _canon_notes(r, exif)
    if notes is None:
        return
    mr, mn = notes
    if found.lens is None:
        found.set("lens", _clean(mr.string(mn, 0x0095)))
    if found.iso is not None:
        return
    settings = _signed16(mr.ints(mn, 0x0001, 32))
    iso: float | None = None
    # The first value is the block's size in bytes: anything else is a maker note whose offsets
    # moved when an editor rewrote the file (ExifTool then guesses a new base; we leave it).
    if len(settings) > 16 and settings[0] == 2 * mn[0x0001][1]:
        code = settings[16]
        if code in _CANON_ISO_CODES:
            iso = _CANON_ISO_CODES[code]
        elif code > 0 and code & 0x4000 and 0 < code & 0x3FFF < 1_000_000:
            iso = code & 0x3FFF
    shot = _signed16(mr.ints(mn, 0x0004, 8))
    if iso is None and len(shot) > 2 and shot[2] > 0:
        base = math.exp(shot[2] / 32 * math.log(2)) * 100 / 32
        auto = math.exp(shot[1] / 32 * math.log(2)) * 100
        iso = base * auto / 100
    if iso is not None and 0 < iso < 10_000_000:
        found.set("iso", round(iso))


def image_dims(dirs: TiffDirs) -> tuple[int | None, int | None]:
    """Size of the main image: the first directory marked full-resolution (NewSubfileType 0)."""
    r = dirs.reader
    for ifd in dirs.image_dirs:
        if r.get_int(ifd, 0x00FE) in (None, 0) and 0x0100 in ifd and 0x0101 in ifd:
            return r.get_int(ifd, 0x0100), r.get_int(ifd, 0x0101)
    if 0x0100 in dirs.ifd0:
        return r.get_int(dirs.ifd0, 0x0100), r.get_int(dirs.ifd0, 0x0101)
    # Panasonic RW2 IFD0: sensor size and borders instead of ImageWidth/ImageLength
    top, left, bottom, right = (r.get_int(dirs.ifd0, tag) for tag in (4, 5, 6, 7))
    if top is not None and left is not None and bottom and right and right > left and bottom > top:
        return right - left, bottom - top
    return r.get_int(dirs.ifd0, 0x0002), r.get_int(dirs.ifd0, 0x0003)


def parse_photoshop_irb(data: bytes, found: Found) -> None:
    """Find the IPTC record (resource 0x0404) in a Photoshop APP13 block."""
    if data.startswith(b"Photoshop 3.0\x00"):
        data = data[14:]
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == b"8BIM":
        (rid,) = struct.unpack_from(">H", data, pos + 4)
        name_len = data[pos + 6]
        pos += 7 + name_len + ((name_len + 1) % 2)
        if pos + 4 > len(data):
            return
        (size,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if rid == 0x0404:
            parse_iptc(data[pos : pos + size], found)
            return
        pos += size + (size % 2)


_IPTC_FIELDS = {55: "date", 60: "time", 25: "keywords", 5: "title", 120: "caption"}


def parse_iptc(data: bytes, found: Found) -> None:
    """Read dates, keywords, title and caption from IPTC-IIM records."""
    pos = 0
    utf8 = False
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        record, dataset = data[pos + 1], data[pos + 2]
        (size,) = struct.unpack_from(">H", data, pos + 3)
        pos += 5
        if size & 0x8000:  # extended length: rare, skip the rest
            return
        value = data[pos : pos + size]
        pos += size
        if record == 1 and dataset == 90:
            utf8 = b"\x1b%G" in value
        elif record == 2 and dataset in _IPTC_FIELDS:
            text = value.decode("utf-8" if utf8 else "latin-1", "replace").strip("\0 ")
            if text:
                found.iptc.setdefault(_IPTC_FIELDS[dataset], []).append(text)
    date = (found.iptc.get("date") or [""])[0]
    if len(date) == 8 and date.isdigit():
        clock = (found.iptc.get("time") or [""])[0]
        hms = clock[:6] if clock[:6].isdigit() else "000000"
        dt = make_datetime(
            int(date[:4]),
            int(date[4:6]),
            int(date[6:8]),
            int(hms[:2]),
            int(hms[2:4]),
            int(hms[4:6]),
        )
        if dt is not None:
            found.dates.append(DateCandidate("iptc:DateCreated", dt, parse_offset(clock[6:])))
