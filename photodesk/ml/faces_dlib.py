"""Face detection and 128-d embeddings with dlib (HOG detector, ResNet descriptor): no download."""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photodesk.ml.errors import ModelLoadError, ModelMissingError
from photodesk.ml.faces_types import Face
from photodesk.ml.images import open_rgb

_PREDICTOR = "shape_predictor_5_face_landmarks.dat"
_RECOGNIZER = "dlib_face_recognition_resnet_model_v1.dat"
_INSTALL_HINT = "pip install 'photodesk[faces]' (dlib-bin and face-recognition-models)"


def dlib_models_dir() -> Path | None:
    """Where face-recognition-models keeps dlib's weights, or None when it is not installed.

    Found without importing the package (its ``__init__`` needs the deprecated pkg_resources).
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        models = Path(location) / "models"
        if (models / _PREDICTOR).is_file() and (models / _RECOGNIZER).is_file():
            return models
    return None


def dlib_status() -> str | None:
    """None when the dlib backend can run, else why not and how to fix it."""
    if importlib.util.find_spec("dlib") is None:
        return f"dlib is not installed: {_INSTALL_HINT}"
    if dlib_models_dir() is None:
        return f"face-recognition-models (dlib's weights) is not installed: {_INSTALL_HINT}"
    return None


class DlibFaceAnalyzer:
    """dlib's HOG face detector, 5-point shape predictor and ResNet face descriptor.

    Embeddings are dlib's raw 128-d descriptors (float32), NOT L2-normalised: compare them with
    the euclidean distance. Two faces of the same person are usually closer than
    ``match_distance`` = 0.6 (dlib's documented threshold, 99.38% on LFW); different people are
    usually farther apart. Descriptors are not unit length (norms are about 1.3-1.5), so cosine
    distances are on another scale: use ``metric`` and ``match_distance``.

    ``score`` is the HOG detector's SVM margin squashed to 0-1 (``1 / (1 + exp(-margin))``), so
    dlib's own decision threshold (margin 0) is 0.5. Faces under ``min_score`` and smaller than
    ``min_size`` pixels (in the analysed, at most ``max_side`` pixels image) are dropped here.

    Landmarks are the predictor's five points in image order: left eye outer corner, left eye
    inner corner, right eye inner corner, right eye outer corner, nose base ("left" and "right"
    as seen in the image), see ``landmark_names``.

    Thread-safe: dlib's networks keep per-call state, so calls are serialised under a lock.
    """

    model_name = "dlib-resnet-v1"
    metric = "euclidean"
    match_distance = 0.6
    dim = 128
    landmark_names = (
        "left_eye_outer",
        "left_eye_inner",
        "right_eye_inner",
        "right_eye_outer",
        "nose",
    )

    def __init__(
        self,
        *,
        max_side: int = 1440,
        upsample: int | None = None,
        min_score: float = 0.5,
        min_size: int = 20,
        num_jitters: int = 1,
    ) -> None:
        """``upsample`` None picks the number of detector upsamplings from the image size.

        HOG finds faces of about 80 pixels and more; each upsampling halves that. By default a
        1440 px image is upsampled once (faces from about 40 px) and images under 720 px twice.
        """
        problem = dlib_status()
        if problem:
            raise ModelMissingError(problem)
        self.max_side = max_side
        self.upsample = upsample
        self.min_score = min_score
        self.min_size = min_size
        self.num_jitters = num_jitters
        self._lock = threading.Lock()
        self._models: tuple[Any, Any, Any] | None = None

    def _load(self) -> tuple[Any, Any, Any]:
        if self._models is None:
            import dlib

            models = dlib_models_dir()
            assert models is not None  # checked in __init__
            try:
                self._models = (
                    dlib.get_frontal_face_detector(),
                    dlib.shape_predictor(str(models / _PREDICTOR)),
                    dlib.face_recognition_model_v1(str(models / _RECOGNIZER)),
                )
            except RuntimeError as exc:
                raise ModelLoadError(f"dlib cannot load its models from {models}: {exc}") from exc
        return self._models

    def _upsample_for(self, size: tuple[int, int]) -> int:
        if self.upsample is not None:
            return self.upsample
        return 2 if max(size) < 720 else 1

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
        pixels = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        width, height = image.size
        with self._lock:
            detector, predictor, recognizer = self._load()
            rects, margins, _ = detector.run(pixels, self._upsample_for(image.size), 0.0)
            found = []
            for rect, margin in zip(rects, margins, strict=True):
                score = 1.0 / (1.0 + math.exp(-float(margin)))
                if score < self.min_score or min(rect.width(), rect.height()) < self.min_size:
                    continue
                shape = predictor(pixels, rect)
                descriptor = recognizer.compute_face_descriptor(pixels, shape, self.num_jitters)
                found.append((rect, score, shape, np.asarray(descriptor, dtype=np.float32)))
        faces = []
        for rect, score, shape, embedding in found:
            box = (
                max(rect.left(), 0) / width,
                max(rect.top(), 0) / height,
                min(rect.right() + 1, width) / width,
                min(rect.bottom() + 1, height) / height,
            )
            # dlib's order: right eye (outer, inner), left eye (outer, inner), nose; in image
            # terms points 0-1 are on the right and 2-3 on the left.
            points = [shape.part(i) for i in (2, 3, 1, 0, 4)]
            landmarks = tuple(v for p in points for v in (p.x / width, p.y / height))
            faces.append(Face(box=box, score=score, landmarks=landmarks, embedding=embedding))
        faces.sort(key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)
        return faces
