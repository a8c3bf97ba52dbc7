"""Tests for content-based format detection (photodesk.core.media.formats)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from PIL import Image

from photodesk.core.media.formats import MEDIA_EXTENSIONS, make_format, sniff, sniff_path


def _jpeg(**save: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 8), "red").save(buf, "JPEG", **save)
    return buf.getvalue()


def _tiff(make: str | None = None, dng: bool = False) -> bytes:
    """A minimal little-endian TIFF header with an IFD0 holding Make and/or DNGVersion."""
    entries: list[tuple[int, int, int, bytes]] = [(0x0100, 4, 1, struct.pack("<I", 16))]
    extra = b""
    count = 1 + (make is not None) + dng
    data_at = 8 + 2 + 12 * count + 4
    if make is not None:
        raw = make.encode() + b"\0"
        entries.append((0x010F, 2, len(raw), struct.pack("<I", data_at)))
        extra += raw
    if dng:
        entries.append((0xC612, 1, 4, bytes([1, 4, 0, 0])))
    body = b"".join(struct.pack("<HHI", t, typ, n) + v for t, typ, n, v in sorted(entries))
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", count) + body + b"\0" * 4 + extra


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\0" * 32


def test_file_types_match_exiftool(photo_set: Path) -> None:
    records = json.loads((photo_set / "exiftool.json").read_text())
    mismatches: list[tuple[str, str, object]] = []
    for record in records:
        expected = record.get("File:FileType")
        if expected is None or record.get("ExifTool:Error"):
            continue  # ExifTool could not identify it either (empty or damaged)
        fmt = sniff_path(photo_set / record["SourceFile"])
        if expected in ("JSON", "TXT"):  # text under a photo name: not media
            if fmt is not None:
                mismatches.append((record["SourceFile"], expected, fmt))
            continue
        expected = "WEBP" if expected == "Extended WEBP" else expected
        mime = record["File:MIMEType"]
        if expected == "BTF":  # BigTIFF: a TIFF with 64-bit offsets, filed as TIFF
            expected, mime = "TIFF", "image/tiff"
        got = (fmt.file_type, fmt.mime) if fmt else None
        if got != (expected, mime):
            mismatches.append((record["SourceFile"], expected, got))
    assert not mismatches, mismatches


def test_bigtiff_is_a_tiff() -> None:
    for head in (b"II+\x00\x08\x00\x00\x00", b"MM\x00+\x00\x08\x00\x00"):
        assert sniff(head + b"\0" * 8, "scan.tif") == make_format("TIFF")
        assert sniff(head + b"\0" * 8, "scan.bin") == make_format("TIFF")  # by content


def test_corpus_misnamed_files_are_detected_by_content(corpus: Path) -> None:
    nef = sniff_path(corpus / "mei__nef_Issue_247-1.nef")
    png = sniff_path(corpus / "photoprism__this-is-a-jpeg.png")
    assert nef is not None and nef.file_type == "JPEG"
    assert png is not None and png.file_type == "JPEG"


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "a.png", "PNG"),
        (b"GIF89a" + b"\0" * 10, "a.gif", "GIF"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "a.webp", "WEBP"),
        (b"RIFF\0\0\0\0AVI LIST", "a.avi", "AVI"),
        (b"BM" + b"\0" * 4 + b"\0\0\0\0" + b"\0" * 20, "a.bmp", "BMP"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\0" * 20, "x.cr2", "CR2"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\0" * 20, "x.tif", "CR2"),
        (b"IIRO\x08\x00\x00\x00" + b"\0" * 20, "x.orf", "ORF"),
        (b"IIU\x00\x08\x00\x00\x00" + b"\0" * 20, "x.rw2", "RW2"),
        (b"IIU\x00\x08\x00\x00\x00" + b"\0" * 20, "x.rwl", "RWL"),
        (b"II*\x00\x08\x00\x00\x00IIII" + b"\0" * 20, "x.iiq", "IIQ"),
        (b"FUJIFILMCCD-RAW 0201" + b"\0" * 20, "x.raf", "RAF"),
        (b"II\x1a\x00\x00\x00HEAPCCDR" + b"\0" * 20, "x.crw", "CRW"),
        (b"FOVb\x00\x02\x02\x00" + b"\0" * 20, "x.x3f", "X3F"),
        (b"\x00MRM\x00\x00\x0a\x0c" + b"\0" * 20, "x.mrw", "MRW"),
        (b"\0" * 0x19 + b"ARECOYK" + b"\0" * 30, "x.raw", "RAW"),
        (_ftyp(b"heic", b"mif1", b"heic"), "a.heic", "HEIC"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "a.heic", "HEIF"),
        (_ftyp(b"heix", b"mif1", b"heix"), "a.hif", "HEIF"),
        (_ftyp(b"msf1", b"msf1", b"hevc"), "a.heic", "HEIFS"),
        (_ftyp(b"avif", b"avif", b"mif1"), "a.avif", "AVIF"),
        (_ftyp(b"crx ", b"crx ", b"isom"), "a.cr3", "CR3"),
        (_ftyp(b"qt  ", b"qt  "), "a.mov", "MOV"),
        (_ftyp(b"isom", b"isom", b"mp41"), "a.mp4", "MP4"),
        (_ftyp(b"mp42", b"isom"), "a.mov", "MOV"),
        (_ftyp(b"M4V ", b"M4V ", b"mp42"), "a.m4v", "M4V"),
        (_ftyp(b"3gp5", b"3gp5"), "a.3gp", "3GP"),
        (b"\0\0\0\x08wide\0\0\0\0mdat", "a.mov", "MOV"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "a.webm", "WEBM"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "a.mkv", "MKV"),
        ((b"\x47" + b"\0" * 187) * 4, "a.mts", "M2TS"),
        ((b"\0" * 4 + b"\x47" + b"\0" * 187) * 4, "a.m2ts", "M2TS"),
        (b"\0\0\x01\xba" + b"\0" * 20, "a.mpg", "MPEG"),
    ],
)
def test_signatures(head: bytes, name: str, expected: str) -> None:
    fmt = sniff(head, name)
    assert fmt is not None
    assert fmt.file_type == expected


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"", "a.jpg"),
        (b"{}", "a.jpg"),
        (b'{"WEBP": {}}\n', "fixture.webp"),
        (b"hello world, not an image\n", "a.png"),
        (b"%PDF-1.7\n" + b"\0" * 20, "a.pdf"),
        (_ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "a.m4a"),
    ],
)
def test_non_media_is_none(head: bytes, name: str) -> None:
    assert sniff(head, name) is None


def test_jpeg_is_jpeg_whatever_its_name() -> None:
    data = _jpeg()
    for name in ("a.jpg", "a.png", "a.nef", "a.heic", "a.mp4", "noextension"):
        fmt = sniff(data, name)
        assert fmt is not None
        assert (fmt.file_type, fmt.mime, fmt.kind) == ("JPEG", "image/jpeg", "photo")


def test_mpo_needs_an_mpf_segment(tmp_path: Path) -> None:
    ifd = struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0xB001, 4, 1, 2) + b"\0" * 4
    mpf = b"\xff\xe2" + struct.pack(">H", 2 + 8 + len(ifd)) + b"MPF\x00II*\x00" + ifd
    single = mpf.replace(
        struct.pack("<HHII", 0xB001, 4, 1, 2), struct.pack("<HHII", 0xB001, 4, 1, 1)
    )
    data = _jpeg()
    mpo = data[:2] + mpf + data[2:]
    fmt = sniff(mpo, "a.jpg")
    assert fmt is not None and (fmt.file_type, fmt.mime) == ("MPO", "image/jpeg")
    # ExifTool calls a JPEG whose MPF lists a single image a JPEG
    assert sniff(data[:2] + single + data[2:], "a.jpg") == make_format("JPEG")
    # an MPF segment after a large APP1 lies beyond the first 4 KiB: sniff_path reads on
    big_app1 = b"\xff\xe1" + struct.pack(">H", 2 + 9000) + b"X" * 9000
    far = data[:2] + big_app1 + mpf + data[2:]
    path = tmp_path / "far.jpg"
    path.write_bytes(far)
    assert sniff(far[:4096], "far.jpg") == make_format("JPEG")
    assert sniff_path(path) == make_format("MPO")


def test_tiff_raw_subtypes_need_matching_content() -> None:
    assert sniff(_tiff(make="NIKON CORPORATION"), "DSC_0001.NEF") == make_format("NEF")
    assert sniff(_tiff(make="NIKON CORPORATION"), "scan.tif") == make_format("TIFF")
    assert sniff(_tiff(make="NIKON CORPORATION"), "noext") == make_format("TIFF")
    # a plain TIFF renamed to a RAW extension stays a TIFF
    assert sniff(_tiff(), "photo.nef") == make_format("TIFF")
    assert sniff(_tiff(make="Canon"), "photo.arw") == make_format("TIFF")
    assert sniff(_tiff(make="SONY"), "DSC00001.ARW") == make_format("ARW")
    assert sniff(_tiff(make="PENTAX Corporation"), "IMGP0001.PEF") == make_format("PEF")
    # DNG is recognised from its DNGVersion tag, whatever the name
    assert sniff(_tiff(make="Apple", dng=True), "IMG_0001.tif") == make_format("DNG")


def test_media_extensions() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in MEDIA_EXTENSIONS)
    for ext in (".jpg", ".jpeg", ".heic", ".avif", ".png", ".dng", ".cr3", ".nef", ".mp4", ".mov"):
        assert ext in MEDIA_EXTENSIONS
    assert ".txt" not in MEDIA_EXTENSIONS
    assert ".xmp" not in MEDIA_EXTENSIONS


def test_kinds_and_mimes() -> None:
    assert make_format("CR3").kind == "raw"
    assert make_format("CR3").mime == "image/x-canon-cr3"
    assert make_format("MOV") == make_format("MOV")
    assert make_format("MOV").mime == "video/quicktime"
    assert make_format("MP4").kind == "video"
    assert make_format("HEIC").kind == "photo"
    with pytest.raises(KeyError):
        make_format("DOCX")
