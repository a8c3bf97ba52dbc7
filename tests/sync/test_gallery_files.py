"""Metadata-free copies (JPEG segments, MP4 boxes) and the streamed zip's file names."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from photodesk.sync.decoding import DecodeGate
from photodesk.sync.gallery_files import (
    NotStrippable,
    StrippedCache,
    strip_jpeg,
    strip_mp4,
    unique_names,
)
from tests.conftest import CORPUS
from tests.sync.test_shares_fixtures import GPS_PHOTOS, has_metadata


@pytest.mark.parametrize("name", GPS_PHOTOS)
def test_strip_jpeg_removes_exif_gps_and_xmp_and_keeps_the_pixels(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    assert has_metadata(data)  # the ground truth: these carry EXIF and GPS
    clean = strip_jpeg(data)
    assert has_metadata(clean) == []
    with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(clean)) as b:
        assert a.size == b.size
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()  # lossless


def test_strip_jpeg_refuses_what_is_not_a_jpeg() -> None:
    with pytest.raises(NotStrippable):
        strip_jpeg(b"\x89PNG\r\n\x1a\n")


def test_rotated_and_non_jpeg_photos_are_reencoded_upright(tmp_path: Path) -> None:
    cache = StrippedCache(tmp_path / "cache", DecodeGate(workers=1, max_pixels=50_000_000))
    src = CORPUS / "ianare__gps_DSCN0021.jpg"
    path, ext = cache.path_for(src, "ab" * 20, "jpeg", "photo", 6)
    assert ext == ".jpg" and has_metadata(path.read_bytes()) == []
    with Image.open(src) as orig, Image.open(path) as out:
        assert out.size == (orig.height, orig.width)  # turned as orientation 6 says
    png = CORPUS / "photoprism__this-is-a-jpeg.png"  # a JPEG with GPS under a .png name
    path, _ = cache.path_for(png, "cd" * 20, "png", "photo", 1)
    assert has_metadata(path.read_bytes()) == []
    # made once, then reused
    stamp = path.stat().st_mtime_ns
    assert cache.path_for(png, "cd" * 20, "png", "photo", 1)[0].stat().st_mtime_ns == stamp
    with pytest.raises(NotStrippable):
        cache.path_for(src, "ef" * 20, "avi", "video", None)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _mvhd(created: int) -> bytes:
    return _box(b"mvhd", b"\x00\x00\x00\x00" + struct.pack(">II", created, created) + bytes(88))


def test_strip_mp4_blanks_location_dates_and_xmp_but_keeps_the_layout(tmp_path: Path) -> None:
    gps = b"\xa9xyz" + b"+43.4672-005.3810/"
    udta = _box(b"udta", _box(b"\xa9xyz", gps) + _box(b"\xa9mak", b"Apple"))
    trak = _box(
        b"trak",
        _box(b"tkhd", b"\x00\x00\x00\x00" + struct.pack(">II", 7, 7) + bytes(72))
        + _box(b"meta", b"\x00\x00\x00\x00" + _box(b"hdlr", bytes(20))),
    )
    moov = _box(b"moov", _mvhd(3_800_000_000) + trak + udta)
    xmp = _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + b"<x:xmpmeta/>")
    mdat = _box(b"mdat", b"frames" * 100)
    data = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + moov + xmp + mdat
    src = tmp_path / "clip.mp4"
    src.write_bytes(data)
    dst = tmp_path / "clean.mp4"
    strip_mp4(src, dst)
    clean = dst.read_bytes()
    assert len(clean) == len(data)  # same offsets: sample tables still point at the frames
    assert clean.endswith(mdat)
    for leak in (b"+43.4672", b"Apple", b"xmpmeta", struct.pack(">I", 3_800_000_000)):
        assert leak in data and leak not in clean
    assert b"udta" not in clean and clean.count(b"free") == 3
    src.write_bytes(data[:-10])  # a truncated file is refused, not half served
    with pytest.raises(NotStrippable):
        strip_mp4(src, tmp_path / "bad.mp4")


def test_unique_names_in_a_zip() -> None:
    assert unique_names(["a.jpg", "A.jpg", "a.jpg", "b.mov"]) == [
        "a.jpg",
        "A (2).jpg",
        "a (3).jpg",
        "b.mov",
    ]
