"""Tests for the metadata reader: agreement with ExifTool on the corpus, plus synthetic files."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import struct
import time
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.media.formats import make_format
from photodesk.core.media.metadata import read_metadata, read_sidecar, sidecar_path
from photodesk.core.media.metadata.dates import date_from_filename, parse_iso_datetime

FIELDS = ("taken_at", "make", "model", "latitude", "longitude", "orientation", "width", "height")


@pytest.fixture(scope="module")
def truth(photo_set: Path) -> list[dict[str, Any]]:
    """ExifTool 12.57's records (-n -G) for every file of the set."""
    records: list[dict[str, Any]] = json.loads((photo_set / "exiftool.json").read_text())
    return records


@pytest.fixture(scope="module")
def manifest(photo_set: Path) -> dict[str, dict[str, str]]:
    """MANIFEST.tsv rows by file name."""
    with open(photo_set / "MANIFEST.tsv", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


# --- what ExifTool says -------------------------------------------------------------------

_DATE_GROUPS = ("EXIF", "Composite", "XMP", "MakerNotes")
_SIZE_GROUPS = ("File", "PNG", "GIF", "RIFF", "SigmaRaw", "EXIF", "MakerNotes", "QuickTime", "XMP")


def _tags(rec: dict[str, Any], name: str, groups: tuple[str, ...] = ("EXIF",)) -> list[Any]:
    """Values of a tag in any group, the listed groups first, empty values left out."""
    keys = [k for k in rec if k.split(":", 1)[-1] == name]
    keys.sort(key=lambda k: groups.index(k.split(":")[0]) if k.split(":")[0] in groups else 99)
    return [rec[k] for k in keys if rec[k] not in (None, "")]


def expected(rec: dict[str, Any]) -> dict[str, Any]:
    """ExifTool's answer for each compared field.

    Values outside a field's domain count as absent: a zero date ("0000:00:00") or one in
    the future (a clock never set), an orientation outside 0-8, a zero dimension and GPS
    exactly 0,0 (a receiver without a fix). GPS is the signed
    Composite position, or XMP's (also signed) when EXIF's is empty.
    """
    when = None
    for name in ("DateTimeOriginal", "CreateDate"):
        for value in _tags(rec, name, _DATE_GROUPS):
            text = str(value)
            if len(text) >= 19 and not text.startswith("0000") and text[:4] < "2090":
                when = text[:19]
                break
        if when:
            break
    orientation = next(iter(_tags(rec, "Orientation")), None)
    lat, lon = rec.get("Composite:GPSLatitude"), rec.get("Composite:GPSLongitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        lat, lon = rec.get("XMP:GPSLatitude"), rec.get("XMP:GPSLongitude")
    if lat == 0 and lon == 0:
        lat = lon = None
    size = {}
    for dim in ("Width", "Height"):
        values = [rec[f"{g}:Image{dim}"] for g in _SIZE_GROUPS if f"{g}:Image{dim}" in rec]
        size[dim] = values[0] if values and values[0] else None
    return {
        "taken_at": when,
        "make": next(iter(_tags(rec, "Make")), None),
        "model": next(iter(_tags(rec, "Model")), None),
        "latitude": lat if isinstance(lat, int | float) else None,
        "longitude": lon if isinstance(lon, int | float) else None,
        "orientation": orientation if orientation in range(0, 9) else None,
        "width": size["Width"],
        "height": size["Height"],
    }


def actual(path: Path) -> dict[str, Any]:
    """photodesk's answer; the file-system mtime fallback has no ExifTool counterpart."""
    try:
        meta = read_metadata(path)
    except (CorruptFile, UnsupportedFormat):
        return dict.fromkeys(FIELDS)
    taken = meta.taken_at
    return {
        "taken_at": taken.strftime("%Y:%m:%d %H:%M:%S")
        if taken and meta.taken_at_source != "mtime"
        else None,
        "make": meta.make,
        "model": meta.model,
        "latitude": meta.latitude,
        "longitude": meta.longitude,
        "orientation": meta.orientation,
        "width": meta.width,
        "height": meta.height,
    }


def agrees(field: str, want: Any, got: Any) -> bool:
    """Whether one (file, field) pair agrees."""
    if want is None or got is None:
        return want is None and got is None
    if field in ("latitude", "longitude"):
        return abs(float(want) - float(got)) < 1e-5
    if field in ("make", "model"):
        return str(want).strip() == str(got)
    return bool(want == got)


# --- the corpus -----------------------------------------------------------------------------


def test_agreement_with_exiftool(photo_set: Path, truth: list[dict[str, Any]]) -> None:
    pairs = dict.fromkeys(FIELDS, 0)
    good = dict.fromkeys(FIELDS, 0)
    wrong: list[str] = []
    for rec in truth:
        want, got = expected(rec), actual(photo_set / rec["SourceFile"])
        for field in FIELDS:
            if want[field] is None and got[field] is None:
                continue
            pairs[field] += 1
            if agrees(field, want[field], got[field]):
                good[field] += 1
            else:
                wrong.append(
                    f"{rec['SourceFile']} {field}: exiftool={want[field]!r} "
                    f"photodesk={got[field]!r}"
                )
    total = sum(pairs.values())
    agreement = sum(good.values()) / total
    print(f"\nagreement with ExifTool: {agreement:.2%} of {total} (file, field) pairs")
    for field in FIELDS:
        print(f"  {field:12s} {good[field]:4d}/{pairs[field]:4d}")
    print("disagreements:\n  " + "\n  ".join(wrong))
    assert total > (1000 if len(truth) > 200 else 60)  # the corpus, or tests/data
    assert agreement >= 0.99, "\n".join(wrong)


def test_broken_files(
    photo_set: Path, truth: list[dict[str, Any]], manifest: dict[str, dict[str, str]]
) -> None:
    """Files ExifTool cannot read are refused; damaged ones it can read stay readable."""
    by_name = {rec["SourceFile"]: rec for rec in truth}
    broken = [name for name, row in manifest.items() if row["kind"] == "broken"]
    assert len(broken) == (3 if photo_set.name == "data" else 9)
    for name in broken:
        rec = by_name[name]
        if rec.get("ExifTool:Error"):
            with pytest.raises((CorruptFile, UnsupportedFormat)):
                read_metadata(photo_set / name)
        elif "File:ImageWidth" in rec or "PNG:ImageWidth" in rec:
            meta = read_metadata(photo_set / name)
            assert meta.width == rec.get("File:ImageWidth", rec.get("PNG:ImageWidth")), name


def test_error_messages(corpus: Path) -> None:
    with pytest.raises(CorruptFile, match="empty file"):
        read_metadata(corpus / "photoprism__empty.jpg")
    with pytest.raises(CorruptFile, match="not an image: JSON text"):
        read_metadata(corpus / "filetype__fixture-json.webp")
    with pytest.raises(CorruptFile, match="damaged HEIF"):
        read_metadata(corpus / "pillowheif__heif_corrupted_corrupted.heic")
    truncated = read_metadata(corpus / "pillow__truncated_image.png")
    assert truncated.width == 640
    assert "truncated PNG" in truncated.warnings


def test_misnamed_files_are_read_as_what_they_are(
    photo_set: Path, manifest: dict[str, dict[str, str]]
) -> None:
    misnamed = [name for name, row in manifest.items() if row["kind"] == "misnamed"]
    assert misnamed
    for name in misnamed:
        assert read_metadata(photo_set / name).format == make_format("JPEG"), name


def test_known_values_of_the_repository_photos(data: Path) -> None:
    canon = read_metadata(data / "camera_canon.jpg")
    assert (canon.make, canon.model, canon.lens) == (
        "Canon",
        "Canon EOS 5D Mark III",
        "EF24-105mm f/4L IS USM",
    )
    assert (canon.iso, canon.f_number, canon.focal_length, canon.orientation) == (400, 5.6, 70.0, 6)
    assert canon.exposure_time == pytest.approx(1 / 250)
    assert canon.taken_at == datetime(2021, 6, 12, 14, 3, 27) and canon.taken_at_offset == 120
    assert (canon.latitude, canon.longitude, canon.altitude) == pytest.approx(
        (48.858222, 2.2945, 35)
    )
    south_west = read_metadata(data / "phone_south_west.jpg")
    assert (south_west.latitude, south_west.longitude) == pytest.approx((-33.8568, -151.2153))
    heic = read_metadata(data / "phone.heic")
    assert (heic.format, heic.model, heic.width) == (make_format("HEIC"), "iPhone 15 Pro", 256)
    assert heic.latitude == pytest.approx(35.6586)
    big = read_metadata(data / "big.tif")
    assert (big.format, big.width, big.height, big.make) == (make_format("TIFF"), 48, 32, "EPSON")


def test_implausible_values_are_not_used_but_said(data: Path) -> None:
    """A date in 2099 and an exposure of 2**32-1 s: the file keeps them, the timeline and the
    filters do not use them, and the warnings say what was ignored."""
    meta = read_metadata(data / "implausible.jpg")
    assert meta.taken_at_source == "mtime" and meta.exposure_time is None
    assert meta.iso == 100  # the rest is read as usual
    assert meta.warnings == (
        "implausible date 2099-01-01 00:00:00 (exif:DateTimeOriginal) ignored",
        "implausible exposure time 4294967295 s ignored",
    )
    zero = read_metadata(data / "gps_zero.jpg")
    assert (zero.latitude, zero.longitude, zero.taken_at) == (None, None, datetime(2019, 3, 1, 8))


def test_known_corpus_values(corpus: Path) -> None:
    apple = read_metadata(corpus / "exiftool__Apple.jpg")
    assert (apple.make, apple.model, apple.iso, apple.f_number) == ("Apple", "iPhone 7", 40, 1.8)
    assert apple.exposure_time == pytest.approx(0.05)
    assert apple.focal_length == pytest.approx(3.99)
    assert apple.lens == "iPhone 7 back camera 3.99mm f/1.8"
    assert apple.longitude == pytest.approx(-1.45667777777778)
    assert apple.altitude == pytest.approx(72.36649215)
    assert apple.taken_at_source == "exif:DateTimeOriginal"
    assert apple.taken_at_offset == 60  # from the GPS time stamp: BST
    gopro = read_metadata(corpus / "exiftool__GoPro.jpg")
    assert gopro.altitude == pytest.approx(-3.983)  # below sea level
    cr3 = read_metadata(corpus / "filetype__fixture.cr3")
    assert (cr3.format.file_type, cr3.make, cr3.model) == ("CR3", "Canon", "Canon EOS R")
    assert (cr3.width, cr3.height, cr3.orientation) == (6720, 4480, 6)
    assert cr3.lens == "EF24-105mm f/4L IS USM"
    heic = read_metadata(corpus / "photoprism__iphone_15_pro.heic")
    assert (heic.width, heic.height, heic.orientation) == (4032, 3024, 6)
    assert heic.taken_at is not None
    assert heic.taken_at.replace(microsecond=0) == datetime(2023, 10, 31, 11, 44, 43)
    assert heic.taken_at.microsecond > 0  # SubSecTimeOriginal
    assert heic.taken_at_offset == 60  # OffsetTimeOriginal +01:00
    crw = read_metadata(corpus / "exiftool__CanonRaw.crw")
    assert crw.taken_at_source == "makernotes:DateTimeOriginal"
    avif = read_metadata(corpus / "pillow__avif_xmp_tags_orientation.avif")
    assert avif.orientation == 3  # XMP tiff:Orientation
    zero = read_metadata(corpus / "mei__Samsung_GT-I9000_Galaxy_S.jpg")
    assert (zero.latitude, zero.longitude) == (None, None)  # 0,0 tags: no fix, not a place
    assert "GPS position 0,0 (no fix) ignored" in zero.warnings
    garbage = read_metadata(corpus / "pillow__exif_gps.jpg")
    assert garbage.latitude is None
    xmp_gps = read_metadata(corpus / "mei__Nikon_D5000.jpg")  # EXIF GPS empty, XMP has it
    assert xmp_gps.latitude == pytest.approx(48.8887263666667)
    assert xmp_gps.longitude == pytest.approx(21.0432511666667)
    assert read_metadata(corpus / "pillow__frozenpond.mpo").format == make_format("MPO")


def test_corpus_reading_is_fast(corpus: Path) -> None:
    """Only headers are read: a few hundred microseconds per JPEG (bound is very lenient)."""
    files = sorted(corpus.glob("*.jpg"))
    start = time.perf_counter()
    for path in files:
        try:
            read_metadata(path)
        except (CorruptFile, UnsupportedFormat):
            pass
    per_file = (time.perf_counter() - start) / len(files)
    print(f"\nread_metadata: {per_file * 1e3:.3f} ms per corpus JPEG")
    assert per_file < 0.01


def test_damaged_copies_raise_only_photodesk_errors(corpus: Path, tmp_path: Path) -> None:
    names = [
        "exiftool__Apple.jpg",
        "exiftool__CanonRaw.cr2",
        "exiftool__CanonRaw.cr3",
        "exiftool__CanonRaw.crw",
        "exiftool__Sigma.x3f",
        "exiftool__Minolta.mrw",
        "exiv2__IMG_1361.dng",
        "pillow__exif.png",
        "pillow__flower.webp",
        "pillow__avif_exif.avif",
        "mei__heic_IMG_1034.heic",
        "mei__FLIR_iPhone_device.jpg",
    ]
    rnd = random.Random(1234)
    for name in names:
        original = (corpus / name).read_bytes()
        for i in range(40):
            data = bytearray(original)
            if i % 3 == 0:
                data = data[: rnd.randrange(1, len(data))]
            else:
                for _ in range(rnd.randint(1, 12)):
                    data[rnd.randrange(min(len(data), 70000))] = rnd.randrange(256)
            path = tmp_path / f"damaged{Path(name).suffix}"
            path.write_bytes(bytes(data))
            try:
                read_metadata(path)
            except (CorruptFile, UnsupportedFormat):
                pass


# --- synthetic files ------------------------------------------------------------------------


def _exif(
    *,
    when: str | None = None,
    offset: str | None = None,
    create: str | None = None,
    gps: tuple[float, float] | None = None,
    gps_refs: tuple[str, str] = ("N", "E"),
    orientation: int | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TestMake\0\0  "
    exif[0x0110] = "  TestModel "
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if when is not None:
        sub[0x9003] = when
    if offset is not None:
        sub[0x9011] = offset
    if create is not None:
        sub[0x9004] = create
    if gps is not None:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[3] = gps_refs
        ifd[2] = tuple(Fraction(v).limit_denominator(10**6) for v in (abs(gps[0]), 0, 0))
        ifd[4] = tuple(Fraction(v).limit_denominator(10**6) for v in (abs(gps[1]), 0, 0))
    return exif


def _save(path: Path, fmt: str = "JPEG", size: tuple[int, int] = (40, 30), **kw: Any) -> Path:
    Image.new("RGB", size, "gray").save(path, fmt, **kw)
    return path


_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmp:Rating="{rating}"
    exif:GPSLatitude="53,22.97N"
    exif:GPSLongitude="6,15.5W"
    exif:GPSAltitude="1500/10"
    exif:GPSAltitudeRef="1"
    photoshop:DateCreated="2021-05-06T07:08:09+05:30">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Boats at dusk</rdf:li></rdf:Alt>
   </dc:description>
   <dc:subject><rdf:Bag><rdf:li>Dublin</rdf:li><rdf:li>boats</rdf:li></rdf:Bag></dc:subject>
   {hierarchy}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

_HIERARCHY = """
   <lr:hierarchicalSubject><rdf:Bag>
    <rdf:li>Places|Ireland|Dublin</rdf:li><rdf:li>Subjects|Boats</rdf:li>
   </rdf:Bag></lr:hierarchicalSubject>
   <digiKam:TagsList><rdf:Seq>
    <rdf:li>Places/Ireland/Dublin</rdf:li><rdf:li>People/Ann</rdf:li>
   </rdf:Seq></digiKam:TagsList>"""


def _xmp(rating: str = "3", hierarchy: bool = True) -> str:
    return _XMP.format(rating=rating, hierarchy=_HIERARCHY if hierarchy else "")


def test_offset_time_original(tmp_path: Path) -> None:
    exif = _exif(when="2023:07:04 10:15:00", offset="+02:00", create="2023:07:04 10:15:05")
    meta = read_metadata(_save(tmp_path / "a.jpg", exif=exif))
    assert meta.taken_at == datetime(2023, 7, 4, 10, 15)
    assert meta.taken_at_offset == 120
    assert meta.taken_at_source == "exif:DateTimeOriginal"
    assert (meta.make, meta.model) == ("TestMake", "TestModel")  # NULs and spaces trimmed


def test_impossible_dates_fall_through(tmp_path: Path) -> None:
    exif = _exif(when="0000:00:00 00:00:00", create="2019:01:02 03:04:05")
    meta = read_metadata(_save(tmp_path / "a.jpg", exif=exif))
    assert (meta.taken_at, meta.taken_at_source) == (
        datetime(2019, 1, 2, 3, 4, 5),
        "exif:CreateDate",
    )
    exif = _exif(when="    :  :     :  :  ", create="1700:01:01 00:00:00")
    meta = read_metadata(_save(tmp_path / "IMG_20230704_101500.jpg", exif=exif))
    assert (meta.taken_at, meta.taken_at_source) == (datetime(2023, 7, 4, 10, 15), "filename")


def test_date_from_file_name_without_exif(tmp_path: Path) -> None:
    meta = read_metadata(_save(tmp_path / "IMG_20230704_101500.jpg"))
    assert meta.taken_at == datetime(2023, 7, 4, 10, 15)
    assert meta.taken_at_source == "filename"
    assert meta.taken_at_offset is None


def test_mtime_is_the_last_resort(tmp_path: Path) -> None:
    path = _save(tmp_path / "holiday.jpg")
    os.utime(path, (1_600_000_000, 1_600_000_000))
    meta = read_metadata(path)
    assert meta.taken_at_source == "mtime"
    assert meta.taken_at == datetime.fromtimestamp(1_600_000_000)


@pytest.mark.parametrize(
    ("name", "when"),
    [
        ("IMG_20230704_101500.jpg", datetime(2023, 7, 4, 10, 15)),
        ("VID_20230704_101500.mp4", datetime(2023, 7, 4, 10, 15)),
        ("PXL_20230704_101500123.jpg", datetime(2023, 7, 4, 10, 15)),
        ("PXL_20230704_101500123.MP.jpg", datetime(2023, 7, 4, 10, 15)),
        ("20230704_101500.jpg", datetime(2023, 7, 4, 10, 15)),
        ("Screenshot_2023-07-04-10-15-00.png", datetime(2023, 7, 4, 10, 15)),
        ("Screenshot 2023-07-04 at 10.15.00.png", datetime(2023, 7, 4, 10, 15)),
        ("2023-07-04 10.15.00.jpg", datetime(2023, 7, 4, 10, 15)),
        ("photo_2023-07-04_10-15-00.jpg", datetime(2023, 7, 4, 10, 15)),
        ("IMG-20230704-WA0001.jpg", datetime(2023, 7, 4)),
        ("VID-20230704-WA0012.mp4", datetime(2023, 7, 4)),
        ("holiday 2023-07-04.jpg", datetime(2023, 7, 4)),
        ("IMG_1234.jpg", None),
        ("DSC_20231399_101500.jpg", None),  # month 13
        ("a1b2c3d4e5f60718293a4b5c6d7e8f90.jpg", None),
        ("12345678901234567890.jpg", None),
    ],
)
def test_file_name_patterns(name: str, when: datetime | None) -> None:
    assert date_from_filename(name) == when


@pytest.mark.parametrize(
    ("text", "value", "offset"),
    [
        ("2010-04-13T09:37:22+02:00", datetime(2010, 4, 13, 9, 37, 22), 120),
        ("2011-09-23T12:43:03Z", datetime(2011, 9, 23, 12, 43, 3), 0),
        ("2018-10-27T13:27:23.53", datetime(2018, 10, 27, 13, 27, 23, 530000), None),
        ("2012-12-31", datetime(2012, 12, 31), None),
        ("2005:12:17 22:03:32-05:00", datetime(2005, 12, 17, 22, 3, 32), -300),
    ],
)
def test_xmp_dates(text: str, value: datetime, offset: int | None) -> None:
    assert parse_iso_datetime(text) == (value, offset)


def test_gps_zero_present_versus_absent(tmp_path: Path) -> None:
    zero = read_metadata(_save(tmp_path / "zero.jpg", exif=_exif(gps=(0.0, 0.0))))
    assert (zero.latitude, zero.longitude) == (None, None)  # present, and not a place
    assert "GPS position 0,0 (no fix) ignored" in zero.warnings
    absent = read_metadata(_save(tmp_path / "absent.jpg", exif=_exif()))
    assert (absent.latitude, absent.longitude) == (None, None)
    exif = _exif()
    exif.get_ifd(0x8825)[0] = b"\x02\x02\x00\x00"  # a GPS IFD with only GPSVersionID
    empty = read_metadata(_save(tmp_path / "empty.jpg", exif=exif))
    assert (empty.latitude, empty.longitude) == (None, None)


def test_gps_signs_and_range(tmp_path: Path) -> None:
    south_west = _exif(gps=(33.5, 70.25), gps_refs=("S", "W"))
    meta = read_metadata(_save(tmp_path / "sw.jpg", exif=south_west))
    assert meta.latitude == pytest.approx(-33.5)
    assert meta.longitude == pytest.approx(-70.25)
    bad = read_metadata(_save(tmp_path / "bad.jpg", exif=_exif(gps=(95.0, 10.0))))
    assert (bad.latitude, bad.longitude) == (None, None)
    assert any("GPS" in w for w in bad.warnings)
    bad_lon = read_metadata(_save(tmp_path / "bad2.jpg", exif=_exif(gps=(45.0, 181.0))))
    assert bad_lon.latitude is None


def test_embedded_xmp_in_jpeg_png_webp(tmp_path: Path) -> None:
    xmp = _xmp().encode()
    png_info = PngImagePlugin.PngInfo()
    png_info.add_itxt("XML:com.adobe.xmp", _xmp())
    files = [
        _save(tmp_path / "a.jpg", xmp=xmp),
        _save(tmp_path / "a.webp", "WEBP", xmp=xmp),
        _save(tmp_path / "a.png", "PNG", pnginfo=png_info),
    ]
    for path in files:
        meta = read_metadata(path)
        assert meta.rating == 3, path
        assert (meta.title, meta.description) == ("Harbour", "Boats at dusk")
        assert meta.keywords == ("Places/Ireland/Dublin", "Subjects/Boats", "People/Ann")
        assert meta.latitude == pytest.approx(53 + 22.97 / 60)
        assert meta.longitude == pytest.approx(-(6 + 15.5 / 60))
        assert meta.altitude == pytest.approx(-150)
        assert meta.taken_at == datetime(2021, 5, 6, 7, 8, 9)
        assert (meta.taken_at_source, meta.taken_at_offset) == ("xmp:DateCreated", 330)


def test_exif_beats_xmp(tmp_path: Path) -> None:
    exif = _exif(when="2020:01:01 12:00:00", gps=(10.0, 20.0), orientation=6)
    meta = read_metadata(_save(tmp_path / "a.jpg", exif=exif, xmp=_xmp().encode()))
    assert meta.taken_at == datetime(2020, 1, 1, 12)
    assert (meta.latitude, meta.longitude, meta.orientation) == (10.0, 20.0, 6)
    assert meta.rating == 3


def test_sidecar(tmp_path: Path) -> None:
    photo = _save(tmp_path / "IMG_0001.jpg")
    assert sidecar_path(photo) is None
    side = tmp_path / "IMG_0001.jpg.xmp"
    side.write_text(_xmp(rating="-1"))
    assert sidecar_path(photo) == side
    data = read_sidecar(side)
    assert data.rating == 0  # rejected (-1) folds to 0
    assert data.keywords == ("Places/Ireland/Dublin", "Subjects/Boats", "People/Ann")
    assert (data.title, data.description) == ("Harbour", "Boats at dusk")
    assert data.taken_at == datetime(2021, 5, 6, 7, 8, 9)
    assert data.taken_at_offset == 330
    assert data.latitude == pytest.approx(53.382833, abs=1e-5)
    assert data.altitude == pytest.approx(-150)


def test_sidecar_plain_subjects_and_rating_clamp(tmp_path: Path) -> None:
    side = tmp_path / "a.xmp"
    side.write_text(_xmp(rating="7", hierarchy=False))
    data = read_sidecar(side)
    assert data.keywords == ("Dublin", "boats")
    assert data.rating == 5


def test_sidecar_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xmp"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFile, match="empty file"):
        read_sidecar(empty)
    text = tmp_path / "text.xmp"
    text.write_text("just some notes\n")
    with pytest.raises(CorruptFile, match="not an XMP sidecar"):
        read_sidecar(text)
    with pytest.raises(CorruptFile):
        read_sidecar(tmp_path / "missing.xmp")


def test_hostile_xmp_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:title="&c;"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    side = tmp_path / "bomb.xmp"
    side.write_text(bomb)
    with pytest.raises(CorruptFile):
        read_sidecar(side)
    photo = _save(tmp_path / "bomb.jpg", xmp=bomb.encode())
    meta = read_metadata(photo)  # the photo is fine; its XMP is ignored
    assert meta.title is None
    assert meta.width == 40


def test_garbage_exif_is_not_corruption(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.jpg", exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff garbage")
    meta = read_metadata(path)
    assert (meta.width, meta.height) == (40, 30)
    assert meta.warnings


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(data, "JPEG")
    raw = data.getvalue()
    sos = raw.index(b"\xff\xda")
    head_only = tmp_path / "head.jpg"
    head_only.write_bytes(raw[:sos])
    meta = read_metadata(head_only)  # the header parses: still importable, with a warning
    assert (meta.width, meta.height) == (64, 48)
    assert any("truncated" in w for w in meta.warnings)
    no_frame = tmp_path / "noframe.jpg"
    no_frame.write_bytes(raw[:20])
    with pytest.raises(CorruptFile, match="truncated JPEG: no image data"):
        read_metadata(no_frame)


def test_not_media(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(UnsupportedFormat, match="plain text"):
        read_metadata(notes)
    fake = tmp_path / "fake.jpg"
    fake.write_text('{"a": 1}')
    with pytest.raises(CorruptFile, match="not an image: JSON text"):
        read_metadata(fake)
    with pytest.raises(CorruptFile):
        read_metadata(tmp_path / "missing.jpg")


def test_tiff_and_heif_orientation_tags(tmp_path: Path) -> None:
    meta = read_metadata(
        _save(tmp_path / "a.tif", "TIFF", size=(50, 20), exif=_exif(orientation=8))
    )
    assert (meta.format.file_type, meta.width, meta.height, meta.orientation) == ("TIFF", 50, 20, 8)
    assert meta.make == "TestMake"


def _make_video(path: Path, **metadata: str) -> bool:
    import av

    if "mpeg4" not in av.codecs_available:
        return False
    options = {"movflags": "use_metadata_tags"} if path.suffix == ".mov" else {}
    with av.open(str(path), "w", options=options) as container:
        container.metadata.update(metadata)
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48)))
        for _ in range(20):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return True


def test_video(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    made = _make_video(
        path, creation_time="2023-07-04T08:15:00.000000Z", location="+48.8577+002.2950/"
    )
    if not made:
        pytest.skip("no MPEG-4 encoder in this PyAV build")
    meta = read_metadata(path)
    assert (meta.format.file_type, meta.format.kind) == ("MP4", "video")
    assert (meta.width, meta.height) == (64, 48)
    assert meta.duration == pytest.approx(2.0, abs=0.2)
    assert (meta.taken_at, meta.taken_at_offset) == (datetime(2023, 7, 4, 8, 15), 0)
    assert meta.taken_at_source == "quicktime:CreateDate"
    assert (meta.latitude, meta.longitude) == (pytest.approx(48.8577), pytest.approx(2.295))


def test_apple_video_local_time(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.mov"
    made = _make_video(
        path,
        creation_time="2023-07-04T08:15:00.000000Z",
        **{"com.apple.quicktime.creationdate": "2023-07-04T10:15:00+0200"},
    )
    if not made:
        pytest.skip("no MPEG-4 encoder in this PyAV build")
    meta = read_metadata(path)
    assert meta.format.file_type == "MOV"
    if meta.taken_at_source != "quicktime:CreationDate":
        pytest.skip("this FFmpeg build does not write QuickTime metadata keys")
    assert (meta.taken_at, meta.taken_at_offset) == (datetime(2023, 7, 4, 10, 15), 120)


def test_damaged_video(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(struct.pack(">I", 24) + b"ftypisom\0\0\0\0isommp41" + b"\0" * 64)
    with pytest.raises(CorruptFile):
        read_metadata(path)


def _jpeg_bytes(**save: Any) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buf, "JPEG", **save)
    return buf.getvalue()


def test_panasonic_rw2_reads_exif_from_jpg_from_raw(tmp_path: Path) -> None:
    preview = _jpeg_bytes(exif=_exif(when="2022:02:03 04:05:06", offset="-03:00"))
    make = b"Panasonic\0"
    count = 7
    data_at = 8 + 2 + 12 * count + 4
    entries = [
        (0x0004, 3, 1, struct.pack("<HH", 8, 0)),  # sensor top border
        (0x0005, 3, 1, struct.pack("<HH", 10, 0)),  # left
        (0x0006, 3, 1, struct.pack("<HH", 3008, 0)),  # bottom
        (0x0007, 3, 1, struct.pack("<HH", 4010, 0)),  # right
        (0x002E, 7, len(preview), struct.pack("<I", data_at + len(make))),
        (0x010F, 2, len(make), struct.pack("<I", data_at)),
        (0x0112, 3, 1, struct.pack("<HH", 1, 0)),
    ]
    ifd = struct.pack("<H", count) + b"".join(struct.pack("<HHI", *e[:3]) + e[3] for e in entries)
    raw = b"IIU\x00" + struct.pack("<I", 8) + ifd + b"\0" * 4 + make + preview
    path = tmp_path / "P1000001.RW2"
    path.write_bytes(raw)
    meta = read_metadata(path)
    assert meta.format == make_format("RW2")
    assert (meta.make, meta.orientation, meta.width, meta.height) == ("Panasonic", 1, 4000, 3000)
    assert meta.taken_at == datetime(2022, 2, 3, 4, 5, 6)
    assert meta.taken_at_offset == -180


def test_png_imagemagick_raw_exif_profile(tmp_path: Path) -> None:
    block = _exif(when="2001:02:03 04:05:06").tobytes()
    hexdata = block.hex()
    lines = "\n".join(hexdata[i : i + 72] for i in range(0, len(hexdata), 72))
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", f"\nexif\n{len(block):8d}\n{lines}\n", zip=True)
    meta = read_metadata(_save(tmp_path / "a.png", "PNG", pnginfo=info))
    assert meta.taken_at == datetime(2001, 2, 3, 4, 5, 6)
    assert meta.make == "TestMake"


# --- Canon maker notes ----------------------------------------------------------------------


def _canon_exif(settings: list[int], shot: list[int], lens: str, notes_order: str = ">") -> bytes:
    """An EXIF block (big-endian) whose maker note is a Canon directory in ``notes_order``:
    CameraSettings (0x0001), ShotInfo (0x0004) and LensModel (0x0095), offsets from the TIFF
    header as Canon writes them."""
    e, m = ">", notes_order
    make = b"Canon\0"
    lens_b = lens.encode() + b"\0"
    ifd0_at, make_at = 8, 8 + 2 + 2 * 12 + 4
    exif_at = make_at + len(make)
    notes_at = exif_at + 2 + 12 + 4
    settings_at = notes_at + 2 + 3 * 12 + 4
    shot_at = settings_at + 2 * len(settings)
    lens_at = shot_at + 2 * len(shot)
    notes = struct.pack(m + "H", 3)
    notes += struct.pack(m + "HHII", 0x0001, 3, len(settings), settings_at)
    notes += struct.pack(m + "HHII", 0x0004, 3, len(shot), shot_at)
    notes += struct.pack(m + "HHII", 0x0095, 2, len(lens_b), lens_at)
    notes += b"\0\0\0\0"
    notes += struct.pack(m + f"{len(settings)}H", *settings)
    notes += struct.pack(m + f"{len(shot)}H", *shot) + lens_b
    tiff = b"MM\0*" + struct.pack(e + "I", ifd0_at)
    tiff += struct.pack(e + "H", 2)
    tiff += struct.pack(e + "HHII", 0x010F, 2, len(make), make_at)
    tiff += struct.pack(e + "HHII", 0x8769, 4, 1, exif_at) + b"\0\0\0\0" + make
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x927C, 7, len(notes), notes_at)
    tiff += b"\0\0\0\0" + notes
    return b"Exif\0\0" + tiff


def _settings(iso_code: int) -> list[int]:
    values = [0] * 40
    values[0] = 2 * len(values)  # Canon's block starts with its size in bytes
    values[16] = iso_code & 0xFFFF
    return values


@pytest.mark.parametrize(
    ("settings", "shot", "iso"),
    [
        (_settings(16), [], 50),  # CameraISO code 16: ISO 50
        (_settings(17), [], 100),
        (_settings(0x4000 | 640), [], 640),  # the value itself, flagged 0x4000
        (_settings(15), [0, 0, 160], 100),  # Auto: BaseISO 2**(160/32) * 100/32 = 100
        (_settings(0), [0, 0, 140], 65),  # ExifTool: 64.84...
        ([9] + [0] * 20, [0, 0, 160], 100),  # a settings block of the wrong size is not read
    ],
)
def test_canon_maker_note_iso_and_lens(tmp_path: Path, settings, shot, iso) -> None:
    for order in (">", "<"):  # some bodies write the notes little-endian in big-endian EXIF
        path = _save(
            tmp_path / "canon.jpg", exif=_canon_exif(settings, shot, "EF50mm f/1.8 STM", order)
        )
        meta = read_metadata(path)
        assert (meta.make, meta.iso, meta.lens) == ("Canon", iso, "EF50mm f/1.8 STM"), order


def test_canon_iso_agrees_with_exiftool_on_the_corpus(corpus: Path) -> None:
    """ExifTool's Composite:ISO from Canon maker notes (photodesk read nothing before)."""
    want = {
        "ianare__Canon_DIGITAL_IXUS_400.jpg": 50,
        "ianare__Canon_PowerShot_S40.jpg": 100,
        "ianare__exif-org_canon-ixus.jpg": 65,  # 64.84
        "ianare__tests_22-canon_tags.jpg": 50,
        "mei__Canon_IXUS_v3.jpg": 50,
        "pillow__flower.webp": 100,
    }
    assert {name: read_metadata(corpus / name).iso for name in want} == want
