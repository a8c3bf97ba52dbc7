"""Export any OpenCLIP model to an Immich-layout pack (needs the ``export`` extra: torch)."""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from photodesk.ml.clip import TRIM_KEY
from photodesk.ml.errors import MLError
from photodesk.ml.model_store import ModelStore, PackInfo, check_name

log = logging.getLogger(__name__)

_NEEDS = (
    "exporting needs PyTorch and open-clip-torch: pip install 'photodesk[export]' "
    "(on Linux without a GPU, `pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu` first avoids a multi-GB CUDA build)"
)
SOT, EOT = "<|startoftext|>", "<|endoftext|>"
# The pre-tokenizer split of OpenAI's CLIP tokenizer (as in Hugging Face's CLIP tokenizer.json).
_CLIP_SPLIT = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)


def _imports() -> tuple[Any, Any]:
    try:
        import open_clip
        import torch
    except ImportError as exc:
        raise MLError(f"{_NEEDS} ({exc})") from exc
    return torch, open_clip


def _trimmable(open_clip: Any, model: Any) -> bool:
    """Whether the text tower is OpenAI-style (causal mask, pooled at the end-of-text token)
    and built from the plain blocks that TrimmableTextual writes out."""
    if type(model) is not open_clip.CLIP or getattr(model, "attn_mask", None) is None:
        return False
    if getattr(model, "text_pool_type", None) not in ("argmax", "eos"):
        return False
    transformer = model.transformer
    plain = open_clip.transformer.ResidualAttentionBlock
    return getattr(transformer, "batch_first", False) and all(
        type(b) is plain and not hasattr(b, "ln_1_kv") and b.attn.batch_first
        for b in transformer.resblocks
    )


def _attention(torch: Any, attn: Any, x: Any, mask: Any) -> Any:
    """nn.MultiheadAttention(x, x, x, attn_mask=mask) for batch-first x, length kept dynamic."""
    heads = attn.num_heads
    q, k, v = torch.nn.functional.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)
    q, k, v = (t.unflatten(-1, (heads, -1)).transpose(1, 2) for t in (q, k, v))
    scores = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5) + mask
    out = (scores.softmax(-1) @ v).transpose(1, 2).flatten(2)
    return attn.out_proj(out)


def bpe_tokenizer_json(simple_tokenizer: Any) -> str:
    """A ``tokenizers`` tokenizer.json equivalent to open_clip's SimpleTokenizer (OpenAI BPE)."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    ranks = sorted(simple_tokenizer.bpe_ranks.items(), key=lambda kv: kv[1])
    sot, eot = int(simple_tokenizer.sot_token_id), int(simple_tokenizer.eot_token_id)
    # open_clip calls them <start_of_text>/<end_of_text>; Immich's and OpenAI's packs <|...|>
    vocab = {t: i for t, i in simple_tokenizer.encoder.items() if i not in (sot, eot)}
    vocab[SOT], vocab[EOT] = sot, eot
    bpe = models.BPE(
        vocab=vocab,
        merges=[pair for pair, _ in ranks],
        unk_token=EOT,
        continuing_subword_prefix="",
        end_of_word_suffix="</w>",
    )
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(
        (EOT, eot), (SOT, sot), trim_offsets=False, add_prefix_space=False
    )
    tok.add_special_tokens([SOT, EOT])
    return str(tok.to_str())


def _write_tokenizer(tokenizer: Any, textual: Path) -> None:
    if hasattr(tokenizer, "bpe_ranks") and hasattr(tokenizer, "sot_token_id"):
        (textual / "tokenizer.json").write_text(bpe_tokenizer_json(tokenizer), encoding="utf-8")
        special = {"bos_token": SOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT}
        (textual / "tokenizer_config.json").write_text(json.dumps(special, indent=2))
        (textual / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
        return
    hf = getattr(tokenizer, "tokenizer", None)  # open_clip's HFTokenizer wraps transformers'
    if hf is not None and hasattr(hf, "save_pretrained"):
        hf.save_pretrained(str(textual))
        if (textual / "tokenizer.json").is_file():
            return
    raise MLError(f"cannot export the tokenizer {type(tokenizer).__name__} to tokenizer.json")


def export_clip(
    arch: str,
    pretrained: str,
    models_dir: Path,
    *,
    name: str | None = None,
    random_weights: bool = False,
    replace: bool = False,
    opset: int = 17,
    report: Callable[[str], None] = log.info,
) -> PackInfo:
    """Write OpenCLIP ``arch`` with weights ``pretrained`` as a pack into ``models_dir``.

    Both towers go to ONNX with Immich's names (visual input "image" float32 NCHW, textual
    input "text" int32, outputs "embedding", dynamic batch), plus config.json,
    preprocess_cfg.json and the tokenizer files. ``random_weights`` skips the download of
    the weights (same compute: for benchmarks). The export is checked against PyTorch on a
    test image and text before the pack is installed.
    """
    torch, open_clip = _imports()
    pack_name = check_name(name or f"{arch}__{'random' if random_weights else pretrained}")
    store = ModelStore(models_dir)
    if store.path(pack_name).exists() and not replace:
        raise MLError(f"model {pack_name} is already installed (use --replace to overwrite it)")
    if arch not in open_clip.list_models():
        close = [m for m in open_clip.list_models() if arch.lower() in m.lower()][:8]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise MLError(
            f"unknown OpenCLIP architecture {arch!r}{hint}; all of them: "
            "python -c 'import open_clip; print(open_clip.list_models())'"
        )
    report(f"creating {arch} ({'random weights' if random_weights else pretrained})")
    try:
        model = open_clip.create_model(arch, pretrained=None if random_weights else pretrained)
        tokenizer = open_clip.get_tokenizer(arch)
    except Exception as exc:  # unknown arch, download failure...
        reason = " ".join(str(exc).split())[:300]
        raise MLError(f"open_clip cannot create {arch} / {pretrained}: {reason}") from exc
    model.eval()
    config = open_clip.get_model_config(arch) or {}
    pre = dict(getattr(model.visual, "preprocess_cfg", None) or {})
    size = pre.get("size") or config.get("vision_cfg", {}).get("image_size", 224)
    size = tuple(size) if isinstance(size, list | tuple) else (size, size)
    pre = {
        "size": list(size),
        "mode": pre.get("mode", "RGB"),
        "mean": list(pre.get("mean", open_clip.OPENAI_DATASET_MEAN)),
        "std": list(pre.get("std", open_clip.OPENAI_DATASET_STD)),
        "interpolation": pre.get("interpolation", "bicubic"),
        "resize_mode": pre.get("resize_mode", "shortest"),
        "fill_color": pre.get("fill_color", 0),
    }
    context = int(getattr(tokenizer, "context_length", None) or 77)
    config.setdefault("text_cfg", {})["context_length"] = context

    class Visual(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, image: Any) -> Any:
            return self.model.encode_image(image)

    class Textual(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, text: Any) -> Any:
            return self.model.encode_text(text)

    trimmable = _trimmable(open_clip, model)

    class TrimmableTextual(torch.nn.Module):  # type: ignore[misc, name-defined]
        """CLIP's causal text tower for any sequence length up to context_length.

        With a causal mask and pooling at the end-of-text token, tokens after it change
        nothing, so a 5-token query can run on 5 positions instead of 77 (much faster).
        Attention is written out here: nn.MultiheadAttention traces the length as a constant.
        """

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, text: Any) -> Any:
            m = self.model
            positions = torch.arange(text.shape[1])
            cast = m.transformer.get_cast_dtype()
            x = m.token_embedding(text).to(cast)
            x = x + m.positional_embedding.index_select(0, positions).to(cast)
            mask = m.attn_mask.index_select(0, positions).index_select(1, positions)
            for block in m.transformer.resblocks:
                x = x + block.ls_1(_attention(torch, block.attn, block.ln_1(x), mask))
                x = x + block.ls_2(block.mlp(block.ln_2(x)))
            x = m.ln_final(x)
            eos = getattr(m, "text_eos_id", None)
            x = open_clip.transformer.text_global_pool(x, text, m.text_pool_type, eos_token_id=eos)
            projection = m.text_projection
            if projection is None:
                return x
            return projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection

    work = store.temp_dir(f"export-{pack_name}")
    try:
        staged = work / pack_name
        (staged / "visual").mkdir(parents=True)
        (staged / "textual").mkdir()
        image = torch.randn(1, 3, size[0], size[1])
        text = tokenizer(["a photo of a dog"]).to(torch.int32)
        # the fused attention fast path (used under no_grad) has no ONNX export
        torch.backends.mha.set_fastpath_enabled(False)
        with warnings.catch_warnings():
            # tracer chatter; the TorchScript exporter is deprecated but needs no onnxscript
            warnings.simplefilter("ignore")
            report("exporting the visual tower")
            torch.onnx.export(
                Visual(),
                (image,),
                str(staged / "visual" / "model.onnx"),
                input_names=["image"],
                output_names=["embedding"],
                dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
                opset_version=opset,
                dynamo=False,
            )
            report("exporting the textual tower")
            textual = staged / "textual" / "model.onnx"

            def export_text(trim: bool) -> None:
                axes = {0: "batch", 1: "sequence"} if trim else {0: "batch"}
                torch.onnx.export(
                    TrimmableTextual() if trim else Textual(),
                    (text,),
                    str(textual),
                    input_names=["text"],
                    output_names=["embedding"],
                    dynamic_axes={"text": axes, "embedding": {0: "batch"}},
                    opset_version=opset,
                    dynamo=False,
                )

            export_text(trimmable)
            if trimmable and not _trims_like_torch(torch, model, tokenizer, textual):
                report("the text tower cannot run on fewer positions; exporting it padded")
                trimmable = False
                export_text(False)
        if trimmable:
            # read by ClipModel: it may drop the padding after the longest text of a batch
            config[TRIM_KEY] = True
        (staged / "visual" / "preprocess_cfg.json").write_text(json.dumps(pre, indent=2))
        (staged / "config.json").write_text(json.dumps(config, indent=2))
        _write_tokenizer(tokenizer, staged / "textual")
        report("checking the ONNX models against PyTorch")
        _check(torch, open_clip, model, tokenizer, staged)
        info = store.install(staged, pack_name, replace=replace)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(f"installed {pack_name} in {info.path}")
    return info


def _trims_like_torch(torch: Any, model: Any, tokenizer: Any, path: Path) -> bool:
    """The trimmable text model gives PyTorch's embeddings for full and shortened inputs."""
    import onnxruntime as ort

    texts = ["a photo of a dog", "cat", "a much longer sentence about a beach at sunset"]
    ids = tokenizer(texts)
    with torch.no_grad():
        want = model.encode_text(ids).numpy()
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        longest = int((ids != 0).sum(dim=1).max())
        for n in (ids.shape[1], longest):
            feed = {"text": ids[:, :n].numpy().astype(np.int32)}
            got = session.run(None, feed)[0]
            if not np.allclose(got, want, atol=1e-3 * max(1.0, float(np.abs(want).max()))):
                return False
    except Exception as exc:  # onnxruntime's own error types
        log.info("trimmed text model failed: %s", exc)
        return False
    return True


def _check(torch: Any, open_clip: Any, model: Any, tokenizer: Any, pack: Path) -> None:
    """The pack, with photodesk's preprocessing and tokenizer, embeds a test image and texts
    like open_clip's own transform, tokenizer and PyTorch model do (cosine > 0.999)."""
    from PIL import Image

    from photodesk.ml.clip import ClipModel

    onnx_model = ClipModel(pack, "cpu", idle_seconds=None)
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    texts = ["a photo of a dog", "Beach at sunset!", "zzz"]
    got_image = onnx_model.embed_pil([image])
    got_text = onnx_model.embed_text(texts)
    if onnx_model.trims_text:  # the trimmed run must equal the full-length one
        onnx_model.trims_text = False
        full = onnx_model._embed_text(texts)
        onnx_model.trims_text = True
        if not np.allclose(full, got_text, atol=1e-4):
            raise MLError("the exported text tower depends on padding: cannot trim it")
    transform = open_clip.image_transform(
        onnx_model.image_size,
        is_train=False,
        mean=tuple(onnx_model.mean.tolist()),
        std=tuple(onnx_model.std.tolist()),
        resize_mode=onnx_model.resize_mode,
        interpolation=onnx_model.resample.name.lower(),
    )
    pixels = transform(image)[None]
    with torch.no_grad():
        want_image = model.encode_image(pixels).numpy()
        want_text = model.encode_text(tokenizer(texts)).numpy()
    for got, want, what in ((got_image, want_image, "image"), (got_text, want_text, "text")):
        want = want / np.linalg.norm(want, axis=1, keepdims=True)
        cosine = (got * want).sum(axis=1)
        if not np.all(cosine > 0.999):
            raise MLError(f"the exported {what} tower disagrees with PyTorch (cosine {cosine})")
    onnx_model.unload()
