"""Composition root: opens the library for every front end and wires the ML models into it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from photodesk.core import Library, LibraryOptions, Models
from photodesk.settings import resolve_library_dir

if TYPE_CHECKING:
    from photodesk.core import FaceAnalyzer, ImageEmbedder, TextEmbedder

log = logging.getLogger(__name__)

DEFAULT_CLIP = "ViT-B-32__openai"
# PHOTODESK_ML=off opens libraries without smart search and faces (e.g. on a tiny NAS);
# PHOTODESK_CLIP_MODEL / PHOTODESK_FACE_MODEL pick the packs (faces: "auto", "dlib",
# "buffalo_l", ...).
ML_ENV = "PHOTODESK_ML"
# A postgresql:// URL: the catalog lives in that database (the server's [server] database).
DATABASE_ENV = "PHOTODESK_DATABASE_URL"


def database_url(configured: str | None = None) -> str | None:
    """The catalog database: the one configured, else ``PHOTODESK_DATABASE_URL``, else None
    (the library folder's SQLite catalog)."""
    return configured or os.environ.get(DATABASE_ENV) or None


def open_library(
    library: str | os.PathLike[str] | Path | None = None,
    *,
    ml: bool | None = None,
    options: LibraryOptions | None = None,
    database: str | None = None,
    create: bool = False,
) -> Library:
    """Open the library (``--library``, else $PHOTODESK_LIBRARY, else the default folder) for a
    front end: ``options`` say how it runs (the desktop's, the server's); the ML models are
    attached unless ``ml`` or $PHOTODESK_ML turns them off. A folder without a catalog is "no
    photodesk library at PATH" unless ``create`` (``init``, ``import``, ``watch add``, the
    first-run dialog, the server's first start): a mistyped path never becomes a new library."""
    lib = Library.open(
        resolve_library_dir(library),
        create=create,
        options=options,
        database=database_url(database),
    )
    from photodesk.remote.pairing import attach as attach_remote

    attach_remote(lib)  # a paired server's transport (HTTP), used by sync rounds and jobs
    if ml if ml is not None else os.environ.get(ML_ENV, "").lower() not in ("0", "off", "no"):
        attach_ml(lib)
    return lib


def attach_ml(
    lib: Library,
    *,
    clip: str | None = None,
    faces: str | None = None,
    providers: list[str] | None = None,
) -> None:
    """Attach a loader: the ML runtime is imported, and models found, only on first use (a
    search with text, a ``clip`` or ``faces`` job); the weights load later still, per model."""
    lib.attach_ml(
        loader=lambda: load_models(lib.models_dir, clip=clip, faces=faces, providers=providers)
    )


def load_models(
    models_dir: Path,
    *,
    clip: str | None = None,
    faces: str | None = None,
    providers: list[str] | None = None,
) -> Models:
    """The CLIP and face models found in ``models_dir`` (faces: dlib when installed, or an
    insightface pack); the best onnxruntime provider there is (CUDA, DirectML, CoreML, CPU)."""
    clip = clip or os.environ.get("PHOTODESK_CLIP_MODEL") or DEFAULT_CLIP
    faces = faces or os.environ.get("PHOTODESK_FACE_MODEL") or "auto"
    try:
        from photodesk.ml.backends import load_backends
    except ImportError as exc:
        return Models(
            missing=(f"the ML runtime is not installed ({exc}): pip install 'photodesk[ml]'",)
        )
    found = load_backends(models_dir, clip=clip, faces=faces, providers=providers)
    log.info("ML models: clip=%s faces=%s", _label(found.clip), _label(found.faces))
    return Models(
        image=cast("ImageEmbedder | None", found.clip),
        text=cast("TextEmbedder | None", found.clip),
        faces=cast("FaceAnalyzer | None", found.faces),
        missing=_notes(getattr(found, "missing", ())),
    )


def _label(model: object) -> str:
    """How a log line names a model: its name and where it runs, never an object's repr."""
    if model is None:
        return "none"
    name = getattr(model, "model_name", None) or type(model).__name__
    return f"{name} ({'worker process' if 'Isolated' in type(model).__name__ else 'in process'})"


def _notes(missing: Any) -> tuple[str, ...]:
    if isinstance(missing, dict):
        return tuple(f"{k}: {v}" for k, v in missing.items())
    if isinstance(missing, str):
        return (missing,)
    return tuple(str(m) for m in missing or ())
