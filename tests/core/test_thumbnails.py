"""Thumbnail and preview rendering: sizes, orientation, formats, broken files, atomic writes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw, JpegImagePlugin

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.media.thumbnails import PREVIEW_SIZE, THUMB_SIZE, RenderResult, ThumbnailStore
from photodesk.core.media.thumbnails import color as thumbnails_color
from photodesk.core.media.thumbnails import decode as thumbnails_decode

CHECKSUM = "0123456789abcdef0123456789abcdef01234567"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> ThumbnailStore:
    return ThumbnailStore(tmp_path / "thumbs", tmp_path / "previews")


Render = Callable[..., tuple[RenderResult, Image.Image, Image.Image]]


@pytest.fixture
def render(store: ThumbnailStore, request: pytest.FixtureRequest) -> Render:
    """Render a corpus file (or a path) and return the result with the opened preview and thumb.
    Only a corpus name needs the corpus (and skips without it); a path always renders."""
    counter = iter(range(1, 1_000_000))

    def _render(
        name: str | Path, file_type: str, kind: str = "photo", orientation: int | None = 1
    ) -> tuple[RenderResult, Image.Image, Image.Image]:
        src = name if isinstance(name, Path) else request.getfixturevalue("corpus") / name
        checksum = f"{next(counter):040x}"
        result = store.render(src, checksum, file_type, kind, orientation)
        preview = Image.open(store.preview_path(checksum))
        thumb = Image.open(store.thumb_path(checksum))
        assert preview.size == result.preview_size
        assert thumb.size == result.thumb_size
        return result, preview, thumb

    return _render


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6000x4000 (24 MP) JPEG with some structure, as a camera would write it."""
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    im = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    draw = ImageDraw.Draw(im)
    draw.rectangle((500, 500, 2500, 2000), fill=(200, 40, 40))
    draw.ellipse((3500, 1500, 5500, 3500), fill=(40, 160, 60))
    im.save(path, "JPEG", quality=90)
    return path


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _distance(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey-level difference after scaling both to 64x64 (0 = same picture)."""
    a = a.convert("L").resize((64, 64), Image.Resampling.BOX)
    b = b.convert("L").resize((64, 64), Image.Resampling.BOX)
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


def _assert_same_picture(out: Image.Image, ref: Image.Image) -> None:
    """out shows ref the right way up: close to it, and much closer than any other orientation."""
    assert out.size == ref.size
    d = _distance(out, ref)
    wrong = [
        _distance(out, ref.transpose(t))
        for t in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180)
    ]
    assert d < 8, d
    assert d * 3 < min(wrong), (d, wrong)


# --- paths and the store ------------------------------------------------------------------------


def test_paths_are_sharded_by_the_checksum(store: ThumbnailStore, tmp_path: Path) -> None:
    assert store.thumb_path(CHECKSUM) == tmp_path / "thumbs" / "01" / f"{CHECKSUM}.jpg"
    assert store.preview_path(CHECKSUM) == tmp_path / "previews" / "01" / f"{CHECKSUM}.jpg"
    with pytest.raises(ValueError, match="checksum"):
        store.thumb_path("../../etc/passwd")


def test_has_and_delete(store: ThumbnailStore, data: Path) -> None:
    assert not store.has(CHECKSUM)
    store.render(data / "hopper.jpg", CHECKSUM, "JPEG", "photo", 1)
    assert store.has(CHECKSUM)
    store.preview_path(CHECKSUM).unlink()
    assert not store.has(CHECKSUM)  # both or nothing
    store.delete(CHECKSUM)
    store.delete(CHECKSUM)  # deleting twice is fine
    assert not store.thumb_path(CHECKSUM).exists()


# --- JPEG: one reduced decode, sizes, output format ---------------------------------------------


def test_a_24mp_jpeg_is_decoded_at_quarter_scale(
    big_jpeg: Path, store: ThumbnailStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[int, int] | None, tuple[int, int]]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> object:
        result = original(self, mode, size)
        calls.append((size, self.size))  # requested size, size that will be decoded
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = store.render(big_jpeg, CHECKSUM, "JPEG", "photo", 1)
    assert calls == [((1440, 960), (1500, 1000))]  # DCT scaling 1/4, not a 24 MP decode
    assert result == RenderResult((256, 171), (1440, 960), "jpeg-draft")


def test_outputs_are_baseline_jpegs_without_metadata(render: Render, store: ThumbnailStore) -> None:
    result, preview, thumb = render("recurser__Portrait_7.jpg", "JPEG", orientation=7)
    assert result.preview_size == (960, PREVIEW_SIZE)  # portrait once upright
    assert result.thumb_size == (171, THUMB_SIZE)
    for im in (preview, thumb):
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        assert "exif" not in im.info
        assert "icc_profile" not in im.info
        assert "progressive" not in im.info
        assert "progression" not in im.info
    assert not [p for p in _files(store.thumbs_dir.parent) if p.suffix != ".jpg"]  # no temp left


def test_small_images_are_not_upscaled(render: Render) -> None:
    result, _, _ = render("pillow__hopper.jpg", "JPEG")
    assert result == RenderResult((128, 128), (128, 128), "jpeg")
    result, _, _ = render("ianare__exif-org_canon-ixus.jpg", "JPEG")  # 640x480
    assert result.preview_size == (640, 480)
    assert result.thumb_size == (256, 192)


# --- orientation --------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(2, 9))
def test_all_eight_orientations_come_out_upright(render: Render, orientation: int) -> None:
    _, ref, ref_thumb = render("ianare__orientation_landscape_1.jpg", "JPEG", orientation=1)
    name = f"ianare__orientation_landscape_{orientation}.jpg"
    _, out, thumb = render(name, "JPEG", orientation=orientation)
    _assert_same_picture(out, ref)
    _assert_same_picture(thumb, ref_thumb)


@pytest.mark.parametrize(
    ("name", "reference", "orientation"),
    [
        ("recurser__Landscape_3.jpg", "recurser__Landscape_1.jpg", 3),
        ("recurser__Landscape_4.jpg", "recurser__Landscape_1.jpg", 4),
        ("recurser__Landscape_6.jpg", "recurser__Landscape_1.jpg", 6),
        ("recurser__Landscape_8.jpg", "recurser__Landscape_1.jpg", 8),
        ("recurser__Landscape_0.jpg", "recurser__Landscape_1.jpg", 0),  # 0 is read as 1
        ("recurser__Portrait_2.jpg", "recurser__Portrait_0.jpg", 2),
        ("recurser__Portrait_7.jpg", "recurser__Portrait_0.jpg", 7),
    ],
)
def test_downscaled_jpegs_are_turned_after_the_resize(
    render: Render, name: str, reference: str, orientation: int
) -> None:
    _, ref, _ = render(reference, "JPEG", orientation=1)
    result, out, _ = render(name, "JPEG", orientation=orientation)
    assert max(result.preview_size) == PREVIEW_SIZE  # 1800x1200 stored, resized, then turned
    _assert_same_picture(out, ref)


def test_missing_orientation_is_read_from_the_file(render: Render) -> None:
    _, ref, _ = render("ianare__orientation_landscape_6.jpg", "JPEG", orientation=6)
    _, out, _ = render("ianare__orientation_landscape_6.jpg", "JPEG", orientation=None)
    assert _distance(out, ref) < 1


# --- HEIF / AVIF: the decoder applies irot/imir, the EXIF tag is not applied again ----------------


def test_iphone_heic_is_upright_and_not_rotated_twice(render: Render) -> None:
    # ExifTool reports Orientation 6 for this portrait shot; libheif already applied irot.
    result, preview, _ = render("photoprism__iphone_15_pro.heic", "HEIC", orientation=6)
    assert result.source == "heif"
    assert result.preview_size == (1080, 1440)
    assert preview.mode == "RGB"


def test_sony_hif_orientations_all_come_out_upright(render: Render) -> None:
    _, top_left, _ = render("exiv2__issue_9292_sony_1_top_left.HIF", "HEIF", orientation=None)
    _, bottom_right, _ = render(
        "exiv2__issue_9292_sony_3_bottom_right.HIF", "HEIF", orientation=None
    )
    _, left_bottom, _ = render("exiv2__issue_9292_sony_8_left-bottom.HIF", "HEIF", orientation=None)
    assert top_left.size == bottom_right.size == (1440, 960)
    assert left_bottom.size == (960, 1440)  # stored rotated: shown as a portrait
    # Two shots of the same scene: upright, the second is far closer to the first than turned.
    d = _distance(bottom_right, top_left)
    for t in (Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT):
        assert d < 0.7 * _distance(bottom_right.transpose(t), top_left)


@pytest.mark.parametrize("variant", ["0mir0", "0mir1", "1mir1", "2mir0", "2mir1", "3mir0"])
def test_avif_irot_imir_are_applied_once(render: Render, variant: str) -> None:
    _, ref, _ = render("pillow__avif_rot0mir1.avif", "AVIF", orientation=None)
    # A wrong orientation argument must not matter: irot/imir are what count in AVIF.
    result, out, _ = render(f"pillow__avif_rot{variant}.avif", "AVIF", orientation=3)
    assert result.source == "avif"
    assert out.size == (640, 427)
    _assert_same_picture(out, ref)
    pixels = np.asarray(out, np.int16)
    sky, ground = pixels[:60].mean(axis=(0, 1)), pixels[-60:].mean(axis=(0, 1))
    assert sky[2] > ground[2] + 40  # blue sky on top: really upright, not just consistent


# --- other formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_type", "preview_size"),
    [
        ("mei__webp_Photo_1.webp", "WEBP", (1024, 772)),
        ("mei__webp_Animation_Lossy.webp", "WEBP", (320, 240)),
        ("pillow__hopper.png", "PNG", (128, 128)),
        ("facerec__32bit.png", "PNG", (626, 1200)),
        ("pillow__itxt_chunks.png", "PNG", (1440, 1200)),
        ("pillow__hopper.tif", "TIFF", (128, 128)),
        ("pillow__tiff_strip_ycbcr_jpeg_2x2_sampling.tif", "TIFF", (480, 360)),
        ("mei__gif_Issue_201.gif", "GIF", (500, 375)),
        ("pillow__iss634.gif", "GIF", (245, 245)),
        ("pillow__frozenpond.mpo", "MPO", (640, 480)),
        ("filetype__fixture-yuv420-8bit.avif", "AVIF", (1440, 603)),
        ("pillowheif__heif_L_8_128x128.heif", "HEIC", (128, 128)),
        ("pillowheif__heif_RGB_10_128x128.heif", "HEIC", (128, 128)),
    ],
)
def test_formats_render(
    render: Render, name: str, file_type: str, preview_size: tuple[int, int]
) -> None:
    result, preview, thumb = render(name, file_type, orientation=None)
    assert result.preview_size == preview_size
    assert max(result.thumb_size) == min(THUMB_SIZE, max(preview_size))
    assert preview.mode in ("RGB", "L")
    assert np.asarray(thumb).std() > 5  # a picture, not a blank


def test_gif_uses_the_first_frame(render: Render, corpus: Path) -> None:
    _, preview, _ = render("pillow__iss634.gif", "GIF", orientation=None)
    with Image.open(corpus / "pillow__iss634.gif") as gif:
        first = gif.convert("RGB")
        gif.seek(getattr(gif, "n_frames", 1) - 1)
        last = gif.convert("RGB")
    assert _distance(preview, first) < 3
    assert _distance(preview, first) < _distance(preview, last)


def test_16bit_tiff_is_scaled_not_clipped(render: Render) -> None:
    _, preview, _ = render("pillow__16bit.cropped.tif", "TIFF", orientation=None)
    pixels = np.asarray(preview.convert("L"))
    assert 20 < pixels.mean() < 235  # Pillow's convert("L") would clip it to pure white
    assert pixels.std() > 3


def test_cmyk_jpeg_matches_its_rgb_twin(render: Render) -> None:
    _, cmyk, _ = render("pillow__pil_sample_cmyk.jpg", "JPEG")
    _, rgb, _ = render("pillow__pil_sample_rgb.jpg", "JPEG")
    assert cmyk.mode == "RGB"
    assert _distance(cmyk, rgb) < 6


def test_transparency_is_flattened_on_white(render: Render, tmp_path: Path) -> None:
    src = tmp_path / "alpha.png"
    im = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    im.paste((200, 20, 20, 255), (0, 0, 200, 200))
    im.save(src)
    _, preview, _ = render(src, "PNG")
    pixels = np.asarray(preview)
    assert pixels[100, 100, 0] > 180  # the opaque red half
    assert pixels[100, 300].min() >= 250  # the transparent half: white, not black


def test_non_srgb_profiles_are_converted_and_srgb_ones_skipped(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[str] = []
    original = ImageCms.applyTransform

    def spy(im: Image.Image, transform: ImageCms.ImageCmsTransform) -> Image.Image | None:
        applied.append(transform.input_mode)
        return original(im, transform)

    monkeypatch.setattr(thumbnails_color.ImageCms, "applyTransform", spy)
    render("immich__webp_denali.webp", "WEBP")  # tagged sRGB
    render("pillow__hopper.jpg", "JPEG")  # untagged
    assert applied == []
    render("ianare__heic_IMG_5195.HEIC", "HEIC")  # Display P3
    assert applied == ["RGB"]


# --- RAW ----------------------------------------------------------------------------------------


def test_dng_renders_by_demosaicing(render: Render) -> None:
    # Its embedded preview (1024 px) is smaller than the picture (1224 px): demosaic instead.
    result, preview, _ = render("photoprism__canon_eos_6d.dng", "DNG", kind="raw")
    assert result == RenderResult((256, 171), (1224, 816), "raw-demosaic")
    assert np.asarray(preview).std() > 10


def test_raw_embedded_preview_is_used_when_big_enough(corpus: Path) -> None:
    decoded = thumbnails_decode.decode(
        corpus / "photoprism__canon_eos_6d.dng", "DNG", "raw", None, target=1000
    )
    assert decoded.source == "raw-embedded"
    assert decoded.image.size == (1024, 683)
    assert decoded.orientation == 1
    decoded.image.close()


@pytest.mark.parametrize(
    ("name", "file_type"),
    [
        ("exiftool__CanonRaw.cr2", "CR2"),
        ("exiftool__CanonRaw.cr3", "CR3"),
        ("exiftool__DNG.dng", "DNG"),  # LibRaw "decodes" it to all zeros
        ("exiv2__IMG_1361.dng", "DNG"),
        ("exiv2__Canon-R6-pruned.CR3", "CR3"),
        ("filetype__fixture-Leica-M10.dng", "DNG"),
        ("exiftool__Sigma.x3f", "X3F"),
    ],
)
def test_header_only_raws_are_corrupt(
    store: ThumbnailStore, corpus: Path, tmp_path: Path, name: str, file_type: str
) -> None:
    with pytest.raises(CorruptFile, match=r"RAW|LibRaw"):
        store.render(corpus / name, CHECKSUM, file_type, "raw", 1)
    assert _files(tmp_path) == []


# --- video --------------------------------------------------------------------------------------


def _make_video(
    path: Path, frames: int, size: tuple[int, int], paint: Callable[[int], Image.Image], **kw: int
) -> Path:
    import av

    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=24)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if "rotation" in kw:
            stream.set_display_rotation(kw["rotation"])
        for i in range(frames):
            frame = av.VideoFrame.from_image(paint(i))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _red_over_blue(_: int) -> Image.Image:
    im = Image.new("RGB", (320, 240), (20, 20, 230))
    im.paste((230, 20, 20), (0, 0, 320, 120))
    return im


def test_video_renders_a_frame(render: Render, tmp_path: Path) -> None:
    src = _make_video(tmp_path / "clip.mp4", 32, (320, 240), _red_over_blue)
    result, preview, _ = render(src, "MP4", kind="video", orientation=None)
    assert result == RenderResult((256, 192), (320, 240), "video-frame")
    pixels = np.asarray(preview)
    assert pixels[40, 160, 0] > 180  # red on top
    assert pixels[200, 160, 2] > 180  # blue below


def test_video_frame_is_taken_near_one_second(render: Render, tmp_path: Path) -> None:
    def fade_in(i: int) -> Image.Image:  # black for half a second, then white
        return Image.new("RGB", (160, 120), (0, 0, 0) if i < 12 else (255, 255, 255))

    src = _make_video(tmp_path / "fade.mp4", 72, (160, 120), fade_in)
    _, preview, _ = render(src, "MP4", kind="video", orientation=None)
    assert np.asarray(preview).mean() > 200


def test_video_display_rotation_is_applied(render: Render, tmp_path: Path) -> None:
    # 90° counter-clockwise (FFmpeg's display matrix convention): the top edge goes to the left.
    src = _make_video(tmp_path / "rot.mp4", 32, (320, 240), _red_over_blue, rotation=90)
    result, preview, _ = render(src, "MP4", kind="video", orientation=None)
    assert result.preview_size == (240, 320)
    pixels = np.asarray(preview)
    assert pixels[160, 40, 0] > 180  # red on the left
    assert pixels[160, 200, 2] > 180  # blue on the right


def test_large_video_frames_are_scaled_while_converting(render: Render, tmp_path: Path) -> None:
    def paint(_: int) -> Image.Image:
        return Image.new("RGB", (1600, 900), (30, 200, 90))

    src = _make_video(tmp_path / "hd.mp4", 6, (1600, 900), paint)
    result, preview, _ = render(src, "MOV", kind="video", orientation=None)
    assert result == RenderResult((256, 144), (1440, 810), "video-frame")
    assert abs(int(np.asarray(preview)[405, 720, 1]) - 200) < 12


# --- broken files, bombs, atomic writes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_type"),
    [
        ("photoprism__empty.jpg", "JPEG"),
        ("pillow__truncated_jpeg.jpg", "JPEG"),
        ("pillow__truncated_image.png", "PNG"),
        ("pillowheif__heif_corrupted_empty.heic", "HEIC"),
        ("pillowheif__heif_corrupted_corrupted.heic", "HEIC"),
        ("filetype__fixture-json.webp", "WEBP"),
    ],
)
def test_broken_files_raise_corrupt_and_leave_nothing(
    store: ThumbnailStore, corpus: Path, tmp_path: Path, name: str, file_type: str
) -> None:
    with pytest.raises(CorruptFile) as excinfo:
        store.render(corpus / name, CHECKSUM, file_type, "photo", None)
    assert str(excinfo.value)  # a reason a person can read
    assert _files(tmp_path) == []


def test_broken_video_is_corrupt(store: ThumbnailStore, tmp_path: Path) -> None:
    src = tmp_path / "bad.mp4"
    src.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    with pytest.raises(CorruptFile):
        store.render(src, CHECKSUM, "MP4", "video", None)
    assert not store.has(CHECKSUM)


def test_unknown_kinds_and_types_are_unsupported(store: ThumbnailStore, tmp_path: Path) -> None:
    src = tmp_path / "x.svg"
    src.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    with pytest.raises(UnsupportedFormat):
        store.render(src, CHECKSUM, "SVG", "photo", None)
    with pytest.raises(UnsupportedFormat):
        store.render(src, CHECKSUM, "SVG", "document", None)


def test_decompression_bombs_are_refused(store: ThumbnailStore, tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    src = tmp_path / "bomb.png"  # claims 20000x20000 = 400 MP
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    src.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    with pytest.raises(CorruptFile, match=r"too large|limit"):
        store.render(src, CHECKSUM, "PNG", "photo", None)
    assert not store.has(CHECKSUM)


def test_a_failed_write_leaves_no_half_pair(
    store: ThumbnailStore, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Image.Image.save
    saved: list[object] = []

    def failing_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        if saved:  # the preview is written, the thumbnail fails (disk full)
            raise OSError(28, "No space left on device")
        saved.append(fp)
        original(self, fp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        store.render(data / "hopper.jpg", CHECKSUM, "JPEG", "photo", 1)
    assert _files(tmp_path) == []


def test_rerender_replaces_files_in_place(store: ThumbnailStore, data: Path) -> None:
    store.render(data / "hopper.jpg", CHECKSUM, "JPEG", "photo", 1)
    before = Image.open(store.thumb_path(CHECKSUM)).copy()
    store.render(data / "hopper.jpg", CHECKSUM, "JPEG", "photo", 3)
    after = Image.open(store.thumb_path(CHECKSUM))
    assert _distance(after.rotate(180), before) < 3
    assert len(_files(store.thumbs_dir)) == 1
