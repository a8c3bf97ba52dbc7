"""'No metadata' links strip every carrier, in thumbnails, previews, originals and the zip."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from photodesk.core import neutral_icc
from photodesk.sync.gallery_files import strip_jpeg, strip_mp4
from tests.sync.hostile import add_photo, album_with
from tests.sync.test_shares_fixtures import get

SECRET = "home at 48.85,2.29"


def leaks(data: bytes) -> list[str]:
    """How the secret shows in ``data`` (ASCII, UTF-8, UTF-16 as in ICC mluc, or XML-escaped)."""
    forms = {
        "ascii": SECRET.encode(),
        "utf-16-be": SECRET.encode("utf-16-be"),
        "utf-16-le": SECRET.encode("utf-16-le"),
        "part": b"48.85,2.29",
    }
    return [name for name, raw in forms.items() if raw in data]


def icc_with_secret() -> bytes:
    """sRGB whose description and copyright tags, and device model, carry the secret."""
    base = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    text = SECRET.encode() + b"\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(78)
    cprt = b"text" + bytes(4) + text
    count = struct.unpack(">I", base[128:132])[0]
    for i in range(count):
        at = 132 + 12 * i
        sig = bytes(base[at : at + 4])
        body = {b"desc": desc, b"cprt": cprt}.get(sig)
        if body is not None:
            base += bytes(-len(base) % 4)
            base[at + 4 : at + 12] = struct.pack(">II", len(base), len(body))
            base += body
    base[52:56] = b"SECR"
    base[0:4] = struct.pack(">I", len(base))
    return bytes(base)


def exif_with_secret(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SECRET  # ImageDescription
    exif[0x0112] = orientation
    return exif.tobytes()


XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:description>{SECRET}</dc:description></x:xmpmeta>'


def _picture(size: tuple[int, int] = (160, 120)) -> Image.Image:
    im = Image.new("RGB", size, "orange")
    im.paste((20, 40, 200), (10, 10, 80, 60))
    return im


def _iptc() -> bytes:
    record = b"\x1c\x02\x78" + struct.pack(">H", len(SECRET)) + SECRET.encode()  # 2:120 caption
    block = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    body = b"Photoshop 3.0\x00" + block
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def _com(text: str) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text.encode()


def jpeg_every_carrier(orientation: int = 1) -> bytes:
    """A progressive JPEG: EXIF, XMP, IPTC, an ICC profile with words, COM before the first scan
    and COM and APP segments between its scans, bytes after EOI."""
    buf = io.BytesIO()
    _picture().save(
        buf,
        "JPEG",
        exif=exif_with_secret(orientation),
        xmp=XMP.encode(),
        icc_profile=icc_with_secret(),
        comment=SECRET,
        progressive=True,
    )
    data = buf.getvalue()
    first_sos = data.index(b"\xff\xda")
    second_sos = data.index(b"\xff\xda", first_sos + 2)
    app9 = b"\xff\xe9" + struct.pack(">H", len(SECRET) + 2) + SECRET.encode()
    data = data[:second_sos] + _com(SECRET) + app9 + data[second_sos:]
    data = data[:first_sos] + _iptc() + data[first_sos:]
    return data + SECRET.encode()


def gif_every_carrier() -> bytes:
    buf = io.BytesIO()
    _picture().convert("P").save(buf, "GIF", comment=SECRET)
    data = buf.getvalue()
    # an application extension (as XMP in GIF is stored) right after the header and palette
    ext = b"\x21\xff\x0bSECRETAP1.0" + bytes([len(SECRET)]) + SECRET.encode() + b"\x00"
    at = data.index(b"\x21\xfe")  # before the comment extension
    return data[:at] + ext + data[at:]


def png_every_carrier() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", SECRET)  # Pillow would make this a JPEG COM
    info.add_text("Description", SECRET, zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP)  # iTXt
    buf = io.BytesIO()
    _picture().save(
        buf, "PNG", pnginfo=info, exif=exif_with_secret(), icc_profile=icc_with_secret()
    )
    return buf.getvalue()


def webp_every_carrier() -> bytes:
    buf = io.BytesIO()
    _picture().save(
        buf, "WEBP", exif=exif_with_secret(), xmp=XMP.encode(), icc_profile=icc_with_secret()
    )
    return buf.getvalue()


def heif_every_carrier(fmt: str) -> bytes:
    if fmt == "HEIF":
        pillow_heif = pytest.importorskip("pillow_heif")
        pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    try:
        _picture().save(buf, fmt, exif=exif_with_secret(), xmp=XMP.encode(), quality=80)
    except (KeyError, OSError, ValueError) as exc:
        pytest.skip(f"no {fmt} encoder here: {exc}")
    return buf.getvalue()


SOURCES = {
    "jpeg.jpg": lambda: jpeg_every_carrier(1),
    "jpeg-rotated.jpg": lambda: jpeg_every_carrier(6),
    "gif.gif": gif_every_carrier,
    "png.png": png_every_carrier,
    "webp.webp": webp_every_carrier,
    "heic.heic": lambda: heif_every_carrier("HEIF"),
    "avif.avif": lambda: heif_every_carrier("AVIF"),
}
WITH_PROFILE = {"jpeg.jpg", "jpeg-rotated.jpg", "png.png", "webp.webp"}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_no_metadata_links_strip_every_carrier(server, make_user, name: str) -> None:
    data = SOURCES[name]()
    assert leaks(data), "the source must carry the secret (ground truth)"
    uid = make_user()[0]
    aid = add_photo(server.lib, uid, data, name)
    album = album_with(server.lib, uid, "Trip", [aid])
    link = server.lib.shares.create_link(
        uid, album_id=album, allow_download=True, show_metadata=False
    )
    base = f"{server.url}/share/{link.key}"
    for route in ("thumb", "preview", "original"):
        r = get(f"{base}/{route}/{aid}")
        assert r.status_code == 200, (route, r.text[:200])
        assert leaks(r.content) == [], (route, leaks(r.content))
        assert SECRET.encode() not in r.content
    original = get(f"{base}/original/{aid}").content
    with Image.open(io.BytesIO(original)) as im:
        assert im.format == "JPEG" and not im.info.get("comment") and not im.getexif()
        profile = im.info.get("icc_profile")
    if name in WITH_PROFILE:  # the colour profile stays, without its words
        assert profile, "the colour profile was dropped"
        parsed = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        assert SECRET not in ImageCms.getProfileDescription(parsed)
        assert b"SECR" not in profile
    zipped = get(f"{base}/zip")
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
        [entry] = zf.infolist()
        assert leaks(zf.read(entry)) == []
    assert leaks(zipped.content) == []


def test_strip_jpeg_keeps_the_picture_and_a_wordless_profile() -> None:
    data = jpeg_every_carrier(1)
    clean = strip_jpeg(data)
    assert leaks(clean) == []
    with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(clean)) as b:
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()  # lossless
        assert b.info.get("icc_profile")


def test_neutral_icc_keeps_the_colour_tags() -> None:
    dirty = icc_with_secret()
    clean = neutral_icc(dirty)
    assert clean is not None and leaks(clean) == [] and b"SECR" not in clean
    a = ImageCms.ImageCmsProfile(io.BytesIO(dirty))
    b = ImageCms.ImageCmsProfile(io.BytesIO(clean))
    im = _picture()
    srgb = ImageCms.createProfile("sRGB")
    for profile in (a, b):  # both convert the same pixels the same way
        out = ImageCms.profileToProfile(im, profile, srgb)
        assert out is not None
    assert (
        ImageCms.profileToProfile(im, a, srgb).tobytes()
        == ImageCms.profileToProfile(im, b, srgb).tobytes()
    )
    assert neutral_icc(b"not a profile") is None


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_strip_mp4_blanks_udta_and_meta_at_every_level(tmp_path: Path) -> None:
    secret = SECRET.encode()
    trak = _box(
        b"trak",
        _box(b"tkhd", bytes(4) + bytes(80))
        + _box(b"udta", _box(b"\xa9nam", secret))
        + _box(b"mdia", _box(b"udta", secret) + _box(b"minf", _box(b"meta", secret))),
    )
    moov = _box(b"moov", _box(b"mvhd", bytes(100)) + trak + _box(b"meta", secret))
    data = (
        _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
        + moov
        + _box(b"meta", secret)
        + _box(b"udta", secret)
        + _box(b"uuid", bytes(16) + secret)
        + _box(b"mdat", b"frames" * 50)
    )
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    src.write_bytes(data)
    strip_mp4(src, dst)
    clean = dst.read_bytes()
    assert len(clean) == len(data) and secret not in clean and b"frames" * 50 in clean
