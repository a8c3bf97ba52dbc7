"""load_backends: which CLIP model and face analyzer a models folder gives, and why not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.ml.backends import load_backends
from photodesk.ml.faces_dlib import dlib_status
from photodesk.ml.faces_insight import InsightFaceAnalyzer
from photodesk.ml.isolated import IsolatedDlibFaceAnalyzer
from tests.ml.tiny_models import make_clip_pack, make_face_pack

pytest.importorskip("onnxruntime")


def test_empty_models_folder(tmp_path: Path) -> None:
    found = load_backends(tmp_path / "models")
    assert found.clip is None
    assert any(
        "ViT-B-32__openai" in m and "photodesk models download ViT-B-32__openai" in m
        for m in found.missing
    )
    assert found.providers[-1] == "CPUExecutionProvider"
    if dlib_status() is None:
        assert isinstance(found.faces, IsolatedDlibFaceAnalyzer)
    else:
        assert found.faces is None


def test_installed_packs_are_used(tmp_path: Path) -> None:
    models = tmp_path / "models"
    make_clip_pack(models, "ViT-B-32__openai")
    make_face_pack(models, "buffalo_s")
    make_face_pack(models, "buffalo_l")
    found = load_backends(models, providers="cuda,cpu")
    assert found.missing == []
    assert found.clip.model_name == "ViT-B-32__openai"
    assert found.clip.embed_text(["a dog"]).shape == (1, found.clip.dim)
    assert isinstance(found.faces, InsightFaceAnalyzer)
    assert found.faces.model_name == "buffalo_l"
    assert found.faces.analyze_image(Image.new("RGB", (64, 64))) == []
    assert found.providers == ["CPUExecutionProvider"]


def test_explicit_choices(tmp_path: Path) -> None:
    models = tmp_path / "models"
    make_clip_pack(models, "XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k")
    found = load_backends(
        models, clip="XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k", faces="antelopev2"
    )
    assert found.clip is not None and found.faces is None
    assert any("antelopev2" in m and "download antelopev2" in m for m in found.missing)
    off = load_backends(models, clip=None, faces="none")
    assert off.clip is None and off.faces is None and off.missing == []
    bad = load_backends(models, providers="quantum")
    assert bad.clip is None and "unknown execution provider" in bad.missing[0]


@pytest.mark.skipif(dlib_status() is not None, reason="dlib is not installed")
def test_dlib_by_name(tmp_path: Path) -> None:
    found = load_backends(tmp_path, clip=None, faces="dlib")
    assert isinstance(found.faces, IsolatedDlibFaceAnalyzer)
    assert found.faces.analyze_image(Image.fromarray(np.zeros((50, 50, 3), np.uint8))) == []
