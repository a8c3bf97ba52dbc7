"""The ML models the composition root attached to a library, resolved on first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photodesk.core.inference.ports import FaceAnalyzer, ImageEmbedder, TextEmbedder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Models:
    """What a loader found: each model or None, and why the missing ones are missing."""

    image: ImageEmbedder | None = None
    text: TextEmbedder | None = None
    faces: FaceAnalyzer | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)


Loader = Callable[[], Models]


class MLModels:
    """``lib.ml``: smart search and face models, or nothing (the core works without them).

    ``photodesk.bootstrap`` attaches a *loader*; it runs once, the first time a job or a search
    asks for a model, so opening a library never loads (or even imports) the ML runtime.
    """

    def __init__(self) -> None:
        self._loader: Loader | None = None
        self._models: Models | None = None
        self._lock = threading.Lock()
        self.remote: tuple[str, ...] = ()  # kinds queued for remote workers (photodesk worker)

    def attach(self, models: Models | None = None, *, loader: Loader | None = None) -> None:
        """Attach models now, or a loader to call on first use (``None`` twice: detach)."""
        with self._lock:
            self._models, self._loader = models, loader

    @property
    def attached(self) -> bool:
        """Whether anything was attached (without loading it)."""
        return self._models is not None or self._loader is not None

    def _resolve(self) -> Models:
        with self._lock:
            if self._models is None:
                if self._loader is None:
                    self._models = Models()
                else:
                    try:
                        self._models = self._loader()
                    except Exception as exc:  # a broken install must not break the library
                        log.warning("loading the ML models failed: %s", exc, exc_info=True)
                        self._models = Models(missing=(f"the ML models could not load: {exc}",))
            return self._models

    def image(self) -> ImageEmbedder | None:
        return self._resolve().image

    def text(self) -> TextEmbedder | None:
        return self._resolve().text

    def faces(self) -> FaceAnalyzer | None:
        return self._resolve().faces

    def image_if_attached(self) -> ImageEmbedder | None:
        """The image embedder, or None without loading anything when nothing is attached."""
        return self.image() if self.attached else None

    def faces_if_attached(self) -> FaceAnalyzer | None:
        """The face analyser, or None without loading anything when nothing is attached."""
        return self.faces() if self.attached else None

    def missing(self) -> tuple[str, ...]:
        """Human-readable notes on what is missing and how to get it."""
        return self._resolve().missing

    def after_import(self) -> list[str]:
        """The ML job kinds to queue for each new asset: those of attached models, and those
        left to remote workers (``remote``, e.g. on a server without local ML)."""
        kinds = []
        if self.attached:
            if self.image() is not None:
                kinds.append("clip")
            if self.faces() is not None:
                kinds.append("faces")
        return kinds + [k for k in self.remote if k not in kinds]
