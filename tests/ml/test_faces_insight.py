"""InsightFace packs on tiny models: SCRFD decoding, NMS, alignment and ArcFace embeddings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from photodesk.ml.errors import ModelLoadError, ModelMissingError
from photodesk.ml.faces_insight import (
    ARCFACE_TEMPLATE,
    InsightFaceAnalyzer,
    align_face,
    nms,
    similarity_transform,
)
from tests.ml.tiny_models import make_face_pack, pooled_linear_reference, scrfd_heads

pytest.importorskip("onnxruntime")

# In the 640x640 letterbox of a 1280x960 image (scale 0.5, image in the top 480 rows).
FACE = {  # stride 16, cell (row 10, col 20) -> anchor centre (320, 160)
    "stride": 16,
    "row": 10,
    "col": 20,
    "anchor": 1,
    "score": 0.9,
    "dist": [2.0, 3.0, 2.5, 3.5],  # left, top, right, bottom in strides
    "kps": [-1.0, -1.0, 1.0, -1.0, 0.0, 0.5, -0.8, 2.0, 0.8, 2.0],
}
DUPLICATE = {**FACE, "anchor": 0, "score": 0.8, "dist": [2.1, 3.0, 2.4, 3.4]}
SMALL = {  # stride 8, cell (row 30, col 10) -> centre (80, 240)
    "stride": 8,
    "row": 30,
    "col": 10,
    "anchor": 0,
    "score": 0.75,
    "dist": [1.0, 1.0, 1.0, 1.0],
    "kps": [0.0] * 10,
}
WEAK = {**SMALL, "row": 5, "col": 60, "score": 0.3}


def _analyzer(tmp_path: Path, planted: list[dict], **kw) -> InsightFaceAnalyzer:
    pack = make_face_pack(tmp_path / "models", heads=scrfd_heads(planted=planted))
    return InsightFaceAnalyzer(pack, **kw)


def test_scrfd_decoding_letterbox_nms_and_threshold(tmp_path: Path) -> None:
    analyzer = _analyzer(tmp_path, [FACE, DUPLICATE, SMALL, WEAK], max_side=2000)
    image = Image.new("RGB", (1280, 960), (128, 100, 90))
    faces = analyzer.analyze_image(image)
    assert len(faces) == 2  # DUPLICATE suppressed by NMS, WEAK under min_score
    big, small = faces
    # letterbox (288, 112, 360, 216) / 0.5 = (576, 224, 720, 432) in image pixels
    assert np.allclose(big.box, (576 / 1280, 224 / 960, 720 / 1280, 432 / 960), atol=1e-6)
    assert big.score == pytest.approx(0.9)
    expected_kps = []
    for dx, dy in zip(FACE["kps"][0::2], FACE["kps"][1::2], strict=True):
        expected_kps += [(320 + dx * 16) / 0.5 / 1280, (160 + dy * 16) / 0.5 / 960]
    assert np.allclose(big.landmarks, expected_kps, atol=1e-6)
    # (72, 232, 88, 248) / 0.5
    assert np.allclose(small.box, (144 / 1280, 464 / 960, 176 / 1280, 496 / 960), atol=1e-6)
    assert small.score == pytest.approx(0.75)
    assert big.embedding.shape == (512,) and big.embedding.dtype == np.float32
    assert np.linalg.norm(big.embedding) == pytest.approx(1.0, abs=1e-5)
    assert analyzer.dim == 512
    assert analyzer.providers["detection"] == "CPUExecutionProvider"


def test_thresholds_are_configurable(tmp_path: Path) -> None:
    image = Image.new("RGB", (1280, 960))
    assert len(_analyzer(tmp_path / "a", [FACE, WEAK], min_score=0.2).analyze_image(image)) == 2
    # the small face is 32 px in the analysed image
    assert len(_analyzer(tmp_path / "b", [FACE, SMALL], min_size=40).analyze_image(image)) == 1
    assert _analyzer(tmp_path / "c", []).analyze_image(image) == []


def test_relative_coordinates_survive_downscaling(tmp_path: Path) -> None:
    """max_side shrinks the image first; relative boxes do not change."""
    image = Image.new("RGB", (1280, 960))
    full = _analyzer(tmp_path / "a", [FACE], max_side=2000).analyze_image(image)
    half = _analyzer(tmp_path / "b", [FACE], max_side=640).analyze_image(image)
    assert np.allclose(full[0].box, half[0].box, atol=1e-6)


def test_tall_images_are_letterboxed_on_the_height(tmp_path: Path, tmp_path_factory) -> None:
    # 480x960: scale 640/960, letterboxed width 320; the anchor at (320,160) is at its edge
    face = {**FACE, "col": 10}  # centre (160, 160)
    analyzer = _analyzer(tmp_path, [face], max_side=2000)
    path = tmp_path / "tall.png"
    Image.new("RGB", (480, 960)).save(path)
    faces = analyzer.analyze(str(path))
    scale = 640 / 960
    assert np.allclose(
        faces[0].box,
        (
            (160 - 32) / scale / 480,
            (160 - 48) / scale / 960,
            (160 + 40) / scale / 480,
            (160 + 56) / scale / 960,
        ),
        atol=1e-6,
    )


def _dots(size: tuple[int, int], points: np.ndarray) -> Image.Image:
    img = Image.new("RGB", size, (0, 0, 0))
    draw = ImageDraw.Draw(img)
    for x, y in points:
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(255, 255, 255))
    return img


def _blob_centres(crop: Image.Image) -> np.ndarray:
    """Centroid of the bright pixels nearest each template point."""
    arr = np.asarray(crop.convert("L"), dtype=np.float64)
    ys, xs = np.nonzero(arr > 60)
    weights = arr[ys, xs]
    pts = np.column_stack([xs, ys]).astype(np.float64)
    centres = []
    for t in ARCFACE_TEMPLATE:
        near = np.linalg.norm(pts - t, axis=1) < 6
        centres.append((pts[near] * weights[near, None]).sum(0) / weights[near].sum())
    return np.array(centres)


def test_alignment_puts_landmarks_on_the_arcface_template() -> None:
    angle = math.radians(25)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    landmarks = (ARCFACE_TEMPLATE - 56) @ rot.T * 2.5 + np.array([300, 260])
    image = _dots((640, 520), landmarks)
    matrix = similarity_transform(landmarks, ARCFACE_TEMPLATE)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(mapped, ARCFACE_TEMPLATE, atol=1e-3)
    crop = align_face(image, landmarks)
    assert crop.size == (112, 112)
    assert np.allclose(_blob_centres(crop), ARCFACE_TEMPLATE, atol=1.0)


def test_similarity_transform_never_mirrors() -> None:
    mirrored = ARCFACE_TEMPLATE * np.array([-1, 1]) + np.array([112, 0])
    matrix = similarity_transform(mirrored, ARCFACE_TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_embeddings_are_arcface_of_the_aligned_crop(tmp_path: Path) -> None:
    analyzer = _analyzer(tmp_path, [FACE, SMALL], max_side=2000, batch_size=1)
    rng = np.random.default_rng(5)
    image = Image.fromarray(rng.integers(0, 255, (960, 1280, 3), dtype=np.uint8))
    faces = analyzer.analyze_image(image)
    weight = np.load(tmp_path / "models" / "buffalo_l" / "recognition_weight.npy")
    for face in faces:
        kps = np.array(face.landmarks).reshape(5, 2) * (1280, 960)
        crop = np.asarray(align_face(image, kps), dtype=np.float32)
        blob = ((crop - 127.5) / 127.5).transpose(2, 0, 1)[None]
        out = pooled_linear_reference(blob, 16, weight)[0]
        assert np.allclose(face.embedding, out / np.linalg.norm(out), atol=1e-4)
    batched = _analyzer(tmp_path / "b", [FACE, SMALL], max_side=2000, batch_size=8)
    for a, b in zip(faces, batched.analyze_image(image), strict=True):
        assert np.allclose(a.embedding, b.embedding, atol=1e-5)


def test_recognition_models_with_built_in_normalisation_take_bytes(tmp_path: Path) -> None:
    from tests.ml.tiny_models import uint8_front

    image = Image.fromarray(np.random.default_rng(2).integers(0, 255, (960, 1280, 3), np.uint8))
    float_faces = _analyzer(tmp_path / "f", [FACE], max_side=2000).analyze_image(image)
    bytes_pack = make_face_pack(tmp_path / "b" / "models", heads=scrfd_heads(planted=[FACE]))
    recognition = bytes_pack / "recognition" / "model.onnx"
    uint8_front(recognition, recognition, size=112)
    byte_faces = InsightFaceAnalyzer(bytes_pack, max_side=2000).analyze_image(image)
    assert np.allclose(float_faces[0].embedding, byte_faces[0].embedding, atol=1e-5)


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    assert nms(boxes, np.array([0.8, 0.9, 0.5]), 0.4) == [1, 2]


def test_incomplete_pack_and_wrong_model(tmp_path: Path) -> None:
    pack = make_face_pack(tmp_path / "models", "antelopev2")
    (pack / "recognition" / "model.onnx").unlink()
    with pytest.raises(ModelMissingError, match=r"antelopev2 is missing recognition/model\.onnx"):
        InsightFaceAnalyzer(pack)
    # a detector with the wrong outputs gives a clear error, not a crash
    other = make_face_pack(tmp_path / "models", "buffalo_s")
    heads = scrfd_heads()
    from tests.ml.tiny_models import scrfd_model

    scrfd_model(other / "detection" / "model.onnx", heads[:3] + heads[6:])
    with pytest.raises(ModelLoadError, match="SCRFD"):
        InsightFaceAnalyzer(other).analyze_image(Image.new("RGB", (64, 64)))
