"""CLIP image and text embeddings from an Immich/OpenCLIP ONNX pack (visual/ and textual/)."""

from __future__ import annotations

import json
import string
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from photodesk.ml.errors import ModelLoadError, ModelMissingError
from photodesk.ml.images import open_rgb
from photodesk.ml.model_store import CLIP, REQUIRED, PackInfo, verify
from photodesk.ml.runtime import LazyModel, LazySession, l2_normalize, run_batched

_RESAMPLING = {r.name.lower(): r for r in Image.Resampling}
_PUNCTUATION = str.maketrans("", "", string.punctuation)
# OpenAI CLIP and most OpenCLIP packs; multilingual packs name theirs in tokenizer_config.json.
_PAD_FALLBACKS = ("<|endoftext|>", "<pad>", "[PAD]")
#: Set in config.json by `photodesk models export-clip` when the text tower may run on fewer
#: positions than context_length (causal, pooled at end-of-text, dynamic sequence axis).
TRIM_KEY = "photodesk_text_trim"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object")
    return data


class ClipModel:
    """An OpenCLIP-style model in Immich's pack layout: ``embed_images`` and ``embed_text``.

    Both return float32 rows of length ``dim``, L2-normalised, so the cosine similarity of an
    image and a text is their dot product. Images are preprocessed as open_clip does (the pack's
    ``visual/preprocess_cfg.json``: shortest side resized with its interpolation, center crop,
    mean/std), text is tokenized with ``textual/tokenizer.json`` padded and truncated to the
    ``context_length`` of ``config.json``. Each tower loads on first use and unloads after
    ``idle_seconds`` unused; ``providers`` tells where each one runs.
    """

    def __init__(
        self,
        pack_dir: str | Path,
        providers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 16,
        idle_seconds: float | None = 300.0,
        threads: int | None = None,
        text_cache_size: int = 256,
    ) -> None:
        self.pack_dir = Path(pack_dir)
        self.model_name = self.pack_dir.name
        is_dir = self.pack_dir.is_dir()
        missing = verify(self.pack_dir, CLIP) if is_dir else REQUIRED[CLIP]
        if missing:
            info = PackInfo(self.model_name, CLIP, self.pack_dir if is_dir else None, missing)
            raise ModelMissingError(info.problem)
        self.batch_size = max(1, batch_size)
        self.config = _read_json(self.pack_dir / "config.json")
        self.text_cfg: dict[str, Any] = self.config.get("text_cfg") or {}
        pre = _read_json(self.pack_dir / "visual" / "preprocess_cfg.json")
        size = pre.get("size", 224)
        self.image_size = int(size[0] if isinstance(size, list | tuple) else size)
        self.mean = np.asarray(pre.get("mean", (0.48145466, 0.4578275, 0.40821073)), np.float32)
        self.std = np.asarray(pre.get("std", (0.26862954, 0.26130258, 0.27577711)), np.float32)
        interpolation = str(pre.get("interpolation", "bicubic")).lower()
        if interpolation not in _RESAMPLING:
            raise ModelLoadError(f"unknown interpolation {interpolation!r} in {self.pack_dir}")
        self.resample = _RESAMPLING[interpolation]
        self.resize_mode = pre.get("resize_mode", "shortest")
        if self.resize_mode not in ("shortest", "squash"):
            raise ModelLoadError(f"unsupported resize_mode {self.resize_mode!r} in {self.pack_dir}")
        self.context_length = int(self.text_cfg.get("context_length", 77))
        kwargs = self.text_cfg.get("tokenizer_kwargs") or {}
        self.canonicalize = kwargs.get("clean") == "canonicalize"
        self.trims_text = bool(self.config.get(TRIM_KEY))
        self.visual = LazySession(
            self.pack_dir / "visual" / "model.onnx",
            providers,
            idle_seconds=idle_seconds,
            threads=threads,
        )
        self.textual = LazySession(
            self.pack_dir / "textual" / "model.onnx",
            providers,
            idle_seconds=idle_seconds,
            threads=threads,
        )
        self._tokenizer: LazyModel[Any] = LazyModel(self._load_tokenizer, idle_seconds=None)
        self.text_cache_size = text_cache_size
        self._text_cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_lock = threading.Lock()
        embed_dim = self.config.get("embed_dim")
        self.dim = int(embed_dim) if embed_dim else self._dim_from_model()

    def _dim_from_model(self) -> int:
        with self.visual.use() as sess:
            shape = sess.get_outputs()[0].shape
        if not shape or not isinstance(shape[-1], int):
            raise ModelLoadError(f"{self.pack_dir}: no embed_dim in config.json")
        return int(shape[-1])

    @property
    def providers(self) -> dict[str, str | None]:
        """The execution provider each tower runs on (None until first used)."""
        return {"visual": self.visual.provider, "textual": self.textual.provider}

    def unload(self) -> None:
        """Free both sessions now; they load again on next use."""
        self.visual.unload()
        self.textual.unload()

    # -- images ---------------------------------------------------------------------------

    def preprocess(self, image: Image.Image) -> NDArray[np.float32]:
        """One upright image as the visual tower's (3, size, size) float32 input."""
        return self._normalize(self._resize(image))

    def _resize(self, image: Image.Image) -> Image.Image:
        if image.mode != "RGB":
            image = image.convert("RGB")
        s = self.image_size
        if self.resize_mode == "squash":
            return image.resize((s, s), resample=self.resample)
        # the arithmetic of torchvision's Resize(int) + CenterCrop, which open_clip trains with
        w, h = image.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(s * long / short)
        new = (s, new_long) if w <= h else (new_long, s)
        if new != (w, h):
            image = image.resize(new, resample=self.resample)
        left, top = round((new[0] - s) / 2.0), round((new[1] - s) / 2.0)
        return image.crop((left, top, left + s, top + s))

    def _normalize(self, image: Image.Image) -> NDArray[np.float32]:
        pixels = np.asarray(image, dtype=np.float32) * (1.0 / 255.0)
        pixels = (pixels - self.mean) / self.std
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))

    def embed_pil(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """One L2-normalised row per upright PIL image."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self.visual.use() as sess:
            info = sess.get_inputs()[0]
        crops = [self._resize(im) for im in images]
        if info.type == "tensor(uint8)":  # the model normalises itself (NHWC RGB bytes)
            batch: NDArray[Any] = np.stack([np.asarray(c, dtype=np.uint8) for c in crops])
        else:
            batch = np.stack([self._normalize(c) for c in crops])
        return l2_normalize(run_batched(self.visual, {info.name: batch}, self.batch_size))

    def embed_images(self, paths: Sequence[str | Path]) -> NDArray[np.float32]:
        """One L2-normalised row per image file, in order.

        Raises ImageReadError (naming the file) before running the model if any cannot be read.
        """
        images = [open_rgb(p, min_side=self.image_size) for p in paths]
        return self.embed_pil(images)

    # -- text -----------------------------------------------------------------------------

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        path = self.pack_dir / "textual" / "tokenizer.json"
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises plain Exception subclasses
            raise ModelLoadError(f"cannot load tokenizer {path}: {exc}") from exc
        pad_token, pad_id = self._pad_token(tokenizer)
        tokenizer.enable_padding(length=self.context_length, pad_id=pad_id, pad_token=pad_token)
        tokenizer.enable_truncation(max_length=self.context_length)
        return tokenizer

    def _pad_token(self, tokenizer: Any) -> tuple[str, int]:
        candidates: list[str] = []
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            path = self.pack_dir / "textual" / name
            if path.is_file():
                token = _read_json(path).get("pad_token")
                if isinstance(token, dict):
                    token = token.get("content")
                if isinstance(token, str):
                    candidates.append(token)
        for token in (*candidates, *_PAD_FALLBACKS):
            pad_id = tokenizer.token_to_id(token)
            if pad_id is not None:
                return token, int(pad_id)
        return "", 0

    def clean(self, text: str) -> str:
        """Whitespace collapsed (and punctuation and case dropped for canonicalizing packs)."""
        text = " ".join(text.split())
        return text.translate(_PUNCTUATION).lower() if self.canonicalize else text

    def tokenize(self, texts: Sequence[str]) -> dict[str, NDArray[np.int64]]:
        """Token ids (and attention mask), each (N, context_length) int64."""
        tokenizer = self._tokenizer.get()
        encodings = tokenizer.encode_batch([self.clean(t) for t in texts])
        return {
            "ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }

    def embed_text(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text, in order.

        The last ``text_cache_size`` distinct texts are remembered: search-as-you-type asks
        for the same query again after every backspace.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self.clean(t) for t in texts]
        with self._cache_lock:
            rows = {k: self._text_cache[k] for k in keys if k in self._text_cache}
            for k in rows:
                self._text_cache.move_to_end(k)
        todo = list(dict.fromkeys(k for k in keys if k not in rows))
        if todo:
            fresh = self._embed_text(todo)
            with self._cache_lock:
                for k, row in zip(todo, fresh, strict=True):
                    rows[k] = row
                    if self.text_cache_size > 0:
                        self._text_cache[k] = row
                while len(self._text_cache) > self.text_cache_size:
                    self._text_cache.popitem(last=False)
        return np.stack([rows[k] for k in keys]).astype(np.float32, copy=True)

    def _embed_text(self, texts: Sequence[str]) -> NDArray[np.float32]:
        tokens = self.tokenize(texts)
        with self.textual.use() as sess:
            inputs = {i.name: i for i in sess.get_inputs()}
        ids, mask = tokens["ids"], tokens["mask"]
        first = next(iter(inputs.values()))
        if self.trims_text and len(first.shape) == 2 and not isinstance(first.shape[1], int):
            keep = max(1, int(mask.sum(axis=1).max()))  # the padding after that changes nothing
            ids, mask = ids[:, :keep], mask[:, :keep]
        feeds: dict[str, NDArray[Any]] = {}
        for name, info in inputs.items():
            dtype = np.int32 if info.type == "tensor(int32)" else np.int64
            source = mask if name == "attention_mask" else ids
            feeds[name] = np.ascontiguousarray(source.astype(dtype, copy=False))
        return l2_normalize(run_batched(self.textual, feeds, self.batch_size))
