"""The face record every face backend returns (same fields as core.ports.DetectedFace)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Face:
    """One detected face.

    ``box`` is (x1, y1, x2, y2) and ``landmarks`` five flat (x, y) pairs, all relative (0-1) to
    the upright image (EXIF orientation applied). ``score`` is the detector's confidence in 0-1.
    ``embedding`` is float32; its distance semantics are the backend's ``metric`` and
    ``match_distance``.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[float, ...]
    embedding: NDArray[np.float32]
