"""InsightFace packs (buffalo_l, antelopev2...): SCRFD detection, 5-point alignment, ArcFace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from photodesk.ml.errors import ModelLoadError, ModelMissingError
from photodesk.ml.faces_types import Face
from photodesk.ml.images import open_rgb
from photodesk.ml.model_store import FACES, REQUIRED, PackInfo, verify
from photodesk.ml.runtime import LazySession, l2_normalize, run_batched

#: Where ArcFace expects the five landmarks in its 112x112 input (insightface's template).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],  # left eye (as seen in the image)
        [73.5318, 51.5014],  # right eye
        [56.0252, 71.7366],  # nose tip
        [41.5493, 92.3655],  # left mouth corner
        [70.7299, 92.2041],  # right mouth corner
    ],
    dtype=np.float32,
)
ALIGNED_SIZE = 112
SCRFD_STRIDES = (8, 16, 32)


def similarity_transform(src: NDArray[Any], dst: NDArray[Any]) -> NDArray[np.float64]:
    """The 2x3 rotation+scale+translation that best maps points ``src`` onto ``dst``.

    Least squares (Umeyama 1991), reflections excluded.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(s) @ sign) / variance) if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_face(
    image: Image.Image, landmarks: NDArray[Any], size: int = ALIGNED_SIZE
) -> Image.Image:
    """The size x size crop in which the five pixel ``landmarks`` sit on the ArcFace template."""
    template = ARCFACE_TEMPLATE * (size / ALIGNED_SIZE)
    matrix = similarity_transform(np.asarray(landmarks).reshape(5, 2), template)
    # Pillow wants the inverse map: output pixel -> input pixel.
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    return image.transform(
        (size, size),
        Image.Transform.AFFINE,
        tuple(inverse.ravel()),
        resample=Image.Resampling.BILINEAR,
    )


def nms(boxes: NDArray[Any], scores: NDArray[Any], threshold: float) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression (IoU above threshold)."""
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= threshold]
    return keep


def anchor_centers(height: int, width: int, stride: int, anchors: int) -> NDArray[np.float32]:
    """(x, y) of each anchor of a feature map, row-major, ``anchors`` per cell."""
    ys, xs = np.mgrid[:height, :width]
    centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centers, anchors, axis=0)


def _heads(outputs: Sequence[NDArray[Any]]) -> tuple[list[Any], list[Any], list[Any]]:
    """SCRFD outputs grouped as (scores, boxes, keypoints), finest stride first.

    Exports differ in output order and in a leading batch axis; the last axis (1, 4 or 10)
    and the row count (more rows for finer strides) identify each head unambiguously.
    """
    groups: dict[int, list[NDArray[Any]]] = {1: [], 4: [], 10: []}
    for out in outputs:
        arr = np.asarray(out, dtype=np.float32)
        last = arr.shape[-1] if arr.ndim else 0
        if last not in groups:
            raise ModelLoadError(f"unexpected SCRFD output shape {arr.shape}")
        groups[last].append(arr.reshape(-1, last))
    n = len(SCRFD_STRIDES)
    if len(groups[1]) != n or len(groups[4]) != n or len(groups[10]) not in (0, n):
        shapes = [np.shape(o) for o in outputs]
        raise ModelLoadError(f"not an SCRFD detector with strides 8/16/32: outputs {shapes}")
    ordered = [sorted(g, key=len, reverse=True) for g in (groups[1], groups[4], groups[10])]
    return ordered[0], ordered[1], ordered[2]


class ScrfdDetector:
    """SCRFD (insightface's detection/model.onnx): boxes, scores and 5 landmarks in pixels."""

    def __init__(
        self,
        session: LazySession,
        *,
        input_size: int = 640,
        min_score: float = 0.7,
        nms_threshold: float = 0.4,
    ) -> None:
        self.session = session
        self.input_size = input_size
        self.min_score = min_score
        self.nms_threshold = nms_threshold

    def _size(self, sess: Any) -> tuple[int, int]:
        shape = sess.get_inputs()[0].shape
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            return int(shape[3]), int(shape[2])  # a fixed-size export
        return self.input_size, self.input_size

    def detect(
        self, image: Image.Image
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """(boxes (K, 4) x1 y1 x2 y2, scores (K,), landmarks (K, 5, 2)) in image pixels."""
        with self.session.use() as sess:
            width, height = self._size(sess)
            scale = min(width / image.width, height / image.height)
            new = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            canvas = np.zeros((height, width, 3), dtype=np.float32)
            resized = image.convert("RGB").resize(new, Image.Resampling.BILINEAR)
            canvas[: new[1], : new[0]] = np.asarray(resized, dtype=np.float32)
            blob = ((canvas - 127.5) / 128.0).transpose(2, 0, 1)[None]
            outputs = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(blob)})
        scores_l, boxes_l, kps_l = _heads(outputs)
        all_scores, all_boxes, all_kps = [], [], []
        for level, stride in enumerate(SCRFD_STRIDES):
            fh, fw = -(-height // stride), -(-width // stride)
            scores = scores_l[level][:, 0]
            anchors = max(1, len(scores) // (fh * fw))
            centers = anchor_centers(fh, fw, stride, anchors)
            if len(centers) != len(scores):
                raise ModelLoadError(
                    f"SCRFD stride {stride}: {len(scores)} scores for a {fw}x{fh} map"
                )
            keep = np.nonzero(scores >= self.min_score)[0]
            if keep.size == 0:
                continue
            c = centers[keep]
            dist = boxes_l[level][keep] * stride
            all_boxes.append(np.hstack([c - dist[:, :2], c + dist[:, 2:]]))
            all_scores.append(scores[keep])
            if kps_l:
                offsets = kps_l[level][keep].reshape(-1, 5, 2) * stride
                all_kps.append(c[:, None, :] + offsets)
            else:
                all_kps.append(np.repeat(c[:, None, :], 5, axis=1))
        if not all_scores:
            empty = np.zeros((0,), np.float32)
            return empty.reshape(0, 4), empty, empty.reshape(0, 5, 2)
        boxes = np.concatenate(all_boxes) / scale
        scores = np.concatenate(all_scores)
        kps = np.concatenate(all_kps) / scale
        keep_idx = nms(boxes, scores, self.nms_threshold)
        return (
            boxes[keep_idx].astype(np.float32),
            scores[keep_idx].astype(np.float32),
            kps[keep_idx].astype(np.float32),
        )


class ArcFaceEmbedder:
    """ArcFace (insightface's recognition/model.onnx): aligned 112x112 crops -> unit vectors."""

    def __init__(self, session: LazySession, *, batch_size: int = 16) -> None:
        self.session = session
        self.batch_size = max(1, batch_size)

    def embed(self, crops: Sequence[Image.Image]) -> NDArray[np.float32]:
        """One L2-normalised row per aligned RGB crop."""
        if not crops:
            return np.zeros((0, 0), dtype=np.float32)
        with self.session.use() as sess:
            info = sess.get_inputs()[0]
        pixels = np.stack([np.asarray(c.convert("RGB"), dtype=np.uint8) for c in crops])
        if info.type == "tensor(uint8)":  # a model that normalises itself takes NHWC bytes
            blob: NDArray[Any] = pixels
        else:
            scaled = (pixels.astype(np.float32) - 127.5) / 127.5
            blob = np.ascontiguousarray(scaled.transpose(0, 3, 1, 2))
        return l2_normalize(run_batched(self.session, {info.name: blob}, self.batch_size))


class InsightFaceAnalyzer:
    """Faces from an insightface pack: SCRFD boxes and landmarks, ArcFace embeddings.

    Embeddings are L2-normalised float32 (512-d for buffalo_l/antelopev2): compare them with
    the cosine distance (1 - dot product). ``match_distance`` = 0.5 is Immich's default
    maximum distance for "same person". ``score`` is SCRFD's face probability; faces under
    ``min_score`` (Immich's default 0.7) or smaller than ``min_size`` pixels in the analysed
    image (at most ``max_side`` pixels) are dropped. Landmarks follow ``landmark_names``.
    """

    metric = "cosine"
    match_distance = 0.5
    landmark_names = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

    def __init__(
        self,
        pack_dir: str | Path,
        providers: str | Sequence[str] | None = None,
        *,
        max_side: int = 1440,
        det_size: int = 640,
        min_score: float = 0.7,
        min_size: int = 20,
        nms_threshold: float = 0.4,
        batch_size: int = 16,
        idle_seconds: float | None = 300.0,
        threads: int | None = None,
    ) -> None:
        self.pack_dir = Path(pack_dir)
        self.model_name = self.pack_dir.name
        is_dir = self.pack_dir.is_dir()
        missing = verify(self.pack_dir, FACES) if is_dir else REQUIRED[FACES]
        if missing:
            info = PackInfo(self.model_name, FACES, self.pack_dir if is_dir else None, missing)
            raise ModelMissingError(info.problem)
        self.max_side = max_side
        self.min_size = min_size
        options: dict[str, Any] = {"idle_seconds": idle_seconds, "threads": threads}
        self.detector = ScrfdDetector(
            LazySession(self.pack_dir / "detection" / "model.onnx", providers, **options),
            input_size=det_size,
            min_score=min_score,
            nms_threshold=nms_threshold,
        )
        self.recognizer = ArcFaceEmbedder(
            LazySession(self.pack_dir / "recognition" / "model.onnx", providers, **options),
            batch_size=batch_size,
        )

    @property
    def dim(self) -> int:
        with self.recognizer.session.use() as sess:
            shape = sess.get_outputs()[0].shape
        return int(shape[-1]) if isinstance(shape[-1], int) else 512

    @property
    def providers(self) -> dict[str, str | None]:
        """The execution provider each model runs on (None until first used)."""
        return {
            "detection": self.detector.session.provider,
            "recognition": self.recognizer.session.provider,
        }

    def unload(self) -> None:
        self.detector.session.unload()
        self.recognizer.session.unload()

    def analyze(self, path: str) -> list[Face]:
        """Faces in the image at ``path``, biggest first."""
        return self.analyze_image(open_rgb(path, self.max_side))

    def analyze_image(self, image: Image.Image) -> list[Face]:
        """Faces in an upright image; it is shrunk to ``max_side`` first when bigger."""
        if image.mode != "RGB":
            image = image.convert("RGB")
        if max(image.size) > self.max_side:
            image = image.copy()
            image.thumbnail((self.max_side, self.max_side), Image.Resampling.BILINEAR)
        boxes, scores, kps = self.detector.detect(image)
        sizes = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        keep = [i for i in range(len(boxes)) if sizes[i] >= self.min_size]
        if not keep:
            return []
        crops = [align_face(image, kps[i]) for i in keep]
        embeddings = self.recognizer.embed(crops)
        w, h = image.size
        faces = []
        for row, i in enumerate(keep):
            x1, y1, x2, y2 = (float(v) for v in boxes[i])
            box = (
                min(max(x1 / w, 0.0), 1.0),
                min(max(y1 / h, 0.0), 1.0),
                min(max(x2 / w, 0.0), 1.0),
                min(max(y2 / h, 0.0), 1.0),
            )
            landmarks = tuple(float(v) for x, y in kps[i] for v in (x / w, y / h))
            faces.append(Face(box, float(scores[i]), landmarks, embeddings[row]))
        faces.sort(key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)
        return faces
