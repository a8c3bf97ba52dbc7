"""Picks the CLIP model and face analyzer to use from a models folder; says what is missing."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from photodesk.ml.errors import MLError
from photodesk.ml.faces_dlib import dlib_status
from photodesk.ml.isolated import IsolatedDlibFaceAnalyzer
from photodesk.ml.model_store import CLIP, DLIB, FACE_PACKS, FACES, ModelStore

log = logging.getLogger(__name__)

#: The order in which faces="auto" tries installed insightface packs.
AUTO_FACE_PACKS = ("buffalo_l", "antelopev2", "buffalo_m", "buffalo_s")
_OFF = ("", "none", "off")
_NO_ORT = "onnxruntime is not installed: pip install 'photodesk[ml]' (or [gpu] / [directml])"


@dataclass
class Backends:
    """The models found: ``clip`` (image and text embedder) and ``faces`` (a face analyzer).

    Either is None when unavailable; ``missing`` then says why and how to fix it, one sentence
    per problem. ``providers`` lists the execution providers sessions will ask for, best first
    (each model reports the one it really got in its ``providers`` once loaded).
    """

    clip: object | None = None
    faces: object | None = None
    providers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _has_onnxruntime() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def load_backends(
    models_dir: Path,
    *,
    clip: str | None = "ViT-B-32__openai",
    faces: str = "auto",
    providers: str | Sequence[str] | None = None,
    idle_seconds: float | None = 300.0,
) -> Backends:
    """The CLIP model ``clip`` and the face backend ``faces`` from ``models_dir``.

    ``clip`` None or "none" turns smart search off. ``faces`` is "auto" (an installed
    insightface pack, buffalo_l first, else dlib when installed), "dlib", a pack name, or
    "none". Nothing is loaded yet: models load on first use. Never raises for a missing or
    incomplete model; it lands in ``missing``.
    """
    store = ModelStore(Path(models_dir))
    found = Backends()
    ort = _has_onnxruntime()
    if ort:
        from photodesk.ml.runtime import resolve_providers

        try:
            found.providers = resolve_providers(providers)
        except MLError as exc:
            found.missing.append(str(exc))
            return found

    if clip and clip.lower() not in _OFF:
        found.clip = _load_clip(store, clip, found, ort, idle_seconds)
    if faces and faces.lower() not in _OFF:
        found.faces = _load_faces(store, faces, found, ort, idle_seconds)
    for note in found.missing:
        log.info("ML: %s", note)
    return found


def _load_clip(
    store: ModelStore, name: str, found: Backends, ort: bool, idle: float | None
) -> object | None:
    if not ort:
        found.missing.append(f"smart search is off: {_NO_ORT}")
        return None
    from photodesk.ml.clip import ClipModel

    try:
        return ClipModel(store.require(name, CLIP), found.providers, idle_seconds=idle)
    except MLError as exc:
        found.missing.append(f"smart search is off: {exc}")
        return None


def _insight(store: ModelStore, name: str, found: Backends, idle: float | None) -> object:
    from photodesk.ml.faces_insight import InsightFaceAnalyzer

    return InsightFaceAnalyzer(store.require(name, FACES), found.providers, idle_seconds=idle)


def _load_faces(
    store: ModelStore, name: str, found: Backends, ort: bool, idle: float | None
) -> object | None:
    try:
        if name == DLIB:
            return IsolatedDlibFaceAnalyzer(idle_seconds=idle)
        if name != "auto":
            if not ort:
                found.missing.append(f"face recognition is off: {_NO_ORT}")
                return None
            return _insight(store, name, found, idle)
        if ort:
            for pack in AUTO_FACE_PACKS + tuple(p for p in FACE_PACKS if p not in AUTO_FACE_PACKS):
                if store.info(pack).ok:
                    return _insight(store, pack, found, idle)
        problem = dlib_status()
        if problem is None:
            return IsolatedDlibFaceAnalyzer(idle_seconds=idle)
        found.missing.append(
            f"face recognition is off: no insightface pack in {store.root} "
            f"(`photodesk models download buffalo_l`) and {problem}"
        )
        return None
    except MLError as exc:
        found.missing.append(f"face recognition is off: {exc}")
        return None
