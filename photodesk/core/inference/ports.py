"""Protocols through which the core reaches machine learning; ``photodesk.ml`` satisfies them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class DetectedFace:
    """A face box and landmarks relative to the upright image (0-1), with its embedding."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[float, ...]
    embedding: NDArray[np.float32]


class ImageEmbedder(Protocol):
    model_name: str
    dim: int

    def embed_images(self, paths: list[str]) -> NDArray[np.float32]:
        """One L2-normalised row per image."""
        ...


class TextEmbedder(Protocol):
    model_name: str
    dim: int

    def embed_text(self, texts: list[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text, comparable with the image embedder's rows."""
        ...


class FaceAnalyzer(Protocol):
    """Detects faces and embeds them; ``metric`` ("euclidean" or "cosine") and
    ``match_distance`` say how close two embeddings of one person are (dlib: euclidean 0.6 on
    raw 128-d vectors; ArcFace: cosine distance 0.5 on normalised 512-d vectors)."""

    model_name: str
    metric: str
    match_distance: float

    def analyze(self, path: str) -> list[DetectedFace]: ...
