"""Tiny ONNX models and packs with the inputs, outputs and layout of the real Immich packs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 17
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
WORDS = ["a", "dog", "cat", "in", "the", "snow", "beach", "at", "sunset", "photo", "of"]
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _batch(fixed: int | None) -> int | str:
    return fixed if fixed else "batch"


def pooled_linear(
    path: Path,
    *,
    input_name: str,
    output_name: str,
    size: int,
    pool: int,
    weight: np.ndarray,
    fixed_batch: int | None = None,
) -> Path:
    """[N,3,size,size] float -> average pool (pool x pool) -> flatten -> @ weight -> [N,D]."""
    cells = 3 * (size // pool) ** 2
    assert weight.shape[0] == cells
    nodes = [
        helper.make_node(
            "AveragePool", [input_name], ["pooled"], kernel_shape=[pool, pool], strides=[pool, pool]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weight"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes,
        "pooled_linear",
        [
            helper.make_tensor_value_info(
                input_name, TensorProto.FLOAT, [_batch(fixed_batch), 3, size, size]
            )
        ],
        [
            helper.make_tensor_value_info(
                output_name, TensorProto.FLOAT, [_batch(fixed_batch), weight.shape[1]]
            )
        ],
        [numpy_helper.from_array(weight.astype(np.float32), "weight")],
    )
    return _save(graph, path)


def pooled_linear_reference(batch: np.ndarray, pool: int, weight: np.ndarray) -> np.ndarray:
    """What pooled_linear computes, in numpy: (N,3,S,S) -> (N,D)."""
    n, c, s, _ = batch.shape
    k = s // pool
    pooled = batch.reshape(n, c, k, pool, k, pool).mean(axis=(3, 5))
    return pooled.reshape(n, -1) @ weight


def uint8_front(path: Path, inner: Path, *, size: int) -> Path:
    """``inner`` (float NCHW, normalised) behind a uint8 NHWC input that it normalises itself,
    like the models Immich exports with the normalisation built in."""
    model = onnx.load(str(inner))
    graph = model.graph
    old_input = graph.input[0].name
    nodes = [
        helper.make_node("Cast", ["bytes"], ["asfloat"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["asfloat"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Sub", ["nchw", "half"], ["centred"]),
        helper.make_node("Div", ["centred", "half"], [old_input]),
    ]
    new_graph = helper.make_graph(
        nodes + list(graph.node),
        "uint8_front",
        [helper.make_tensor_value_info("bytes", TensorProto.UINT8, ["batch", size, size, 3])],
        list(graph.output),
        [*graph.initializer, numpy_helper.from_array(np.array(127.5, np.float32), "half")],
    )
    return _save(new_graph, path)


def text_model(
    path: Path,
    *,
    table: np.ndarray,
    context_length: int = 77,
    dtype: int = TensorProto.INT32,
    multilingual: bool = False,
    fixed_batch: int | None = None,
) -> Path:
    """Token ids [N,L] -> mean of table rows (masked when multilingual) -> "embedding" [N,D]."""
    dim = table.shape[1]
    shape = [_batch(fixed_batch), context_length]
    inits = [numpy_helper.from_array(table.astype(np.float32), "table")]
    if multilingual:
        inputs = [
            helper.make_tensor_value_info("input_ids", dtype, shape),
            helper.make_tensor_value_info("attention_mask", dtype, shape),
        ]
        nodes = [
            helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
            helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
            helper.make_node("Mul", ["rows", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis1"], ["embedding"], keepdims=0),
        ]
        inits += [
            numpy_helper.from_array(np.array([2], np.int64), "axis2"),
            numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        ]
    else:
        inputs = [helper.make_tensor_value_info("text", dtype, shape)]
        nodes = [
            helper.make_node("Gather", ["table", "text"], ["rows"], axis=0),
            helper.make_node("ReduceMean", ["rows"], ["embedding"], axes=[1], keepdims=0),
        ]
    graph = helper.make_graph(
        nodes,
        "text",
        inputs,
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [_batch(fixed_batch), dim])],
        inits,
    )
    return _save(graph, path)


def make_tokenizer(path: Path, *, multilingual: bool = False) -> dict[str, int]:
    """A word-level tokenizer.json in the shape of CLIP's (bos/eos template) or XLM-R's."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    if multilingual:
        specials = ["<s>", "<pad>", "</s>", "<unk>"]
        bos, eos, unk = "<s>", "</s>", "<unk>"
    else:
        specials = ["<|unk|>", BOS, EOS]
        bos, eos, unk = BOS, EOS, "<|unk|>"
    vocab = {tok: i for i, tok in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, vocab[bos]), (eos, vocab[eos])]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return vocab


def make_clip_pack(
    root: Path,
    name: str = "ViT-Tiny__test",
    *,
    dim: int = 16,
    size: int = 224,
    pool: int = 32,
    text_dtype: int = TensorProto.INT32,
    multilingual: bool = False,
    fixed_batch: int | None = None,
    seed: int = 0,
) -> Path:
    """A complete CLIP pack: config.json, visual/ and textual/ as Immich publishes them."""
    rng = np.random.default_rng(seed)
    pack = root / name
    (pack / "visual").mkdir(parents=True, exist_ok=True)
    weight = rng.standard_normal((3 * (size // pool) ** 2, dim)).astype(np.float32)
    pooled_linear(
        pack / "visual" / "model.onnx",
        input_name="image",
        output_name="embedding",
        size=size,
        pool=pool,
        weight=weight,
        fixed_batch=fixed_batch,
    )
    np.save(pack / "visual" / "weight.npy", weight)
    (pack / "visual" / "preprocess_cfg.json").write_text(
        json.dumps(
            {
                "size": [size, size],
                "mode": "RGB",
                "mean": CLIP_MEAN,
                "std": CLIP_STD,
                "interpolation": "bicubic",
                "resize_mode": "shortest",
                "fill_color": 0,
            }
        )
    )
    vocab = make_tokenizer(pack / "textual" / "tokenizer.json", multilingual=multilingual)
    table = rng.standard_normal((len(vocab), dim)).astype(np.float32)
    np.save(pack / "textual" / "table.npy", table)
    text_model(
        pack / "textual" / "model.onnx",
        table=table,
        dtype=text_dtype,
        multilingual=multilingual,
        fixed_batch=fixed_batch,
    )
    pad = "<pad>" if multilingual else EOS
    (pack / "textual" / "tokenizer_config.json").write_text(json.dumps({"pad_token": pad}))
    (pack / "textual" / "special_tokens_map.json").write_text(json.dumps({"pad_token": pad}))
    (pack / "config.json").write_text(
        json.dumps(
            {
                "embed_dim": dim,
                "vision_cfg": {"image_size": size},
                "text_cfg": {"context_length": 77, "vocab_size": len(vocab)},
            }
        )
    )
    return pack


# -- insightface -----------------------------------------------------------------------------


def scrfd_model(path: Path, heads: list[np.ndarray], size: int = 640) -> Path:
    """An SCRFD-shaped detector (input "input.1", 9 outputs) whose outputs are ``heads``.

    The heads are constants in insightface's order: scores, boxes, keypoints for strides
    8, 16, 32. The image is still an input (multiplied by zero and added) so it must be fed.
    """
    nodes, outputs, inits = [], [], []
    nodes.append(helper.make_node("ReduceMean", ["input.1"], ["m"], keepdims=0))
    nodes.append(helper.make_node("Mul", ["m", "zero"], ["z"]))
    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    for i, head in enumerate(heads):
        inits.append(numpy_helper.from_array(head.astype(np.float32), f"head{i}"))
        nodes.append(helper.make_node("Add", [f"head{i}", "z"], [f"out{i}"]))
        outputs.append(helper.make_tensor_value_info(f"out{i}", TensorProto.FLOAT, head.shape))
    graph = helper.make_graph(
        nodes,
        "scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, size, size])],
        outputs,
        inits,
    )
    return _save(graph, path)


def scrfd_heads(size: int = 640, planted: list[dict] | None = None) -> list[np.ndarray]:
    """Nine zero heads (scores 0) with ``planted`` anchors set.

    Each planted dict has stride, row, col, anchor, score, dist (4 stride units), kps (10).
    """
    strides = (8, 16, 32)
    scores = [np.zeros(((size // s) ** 2 * 2, 1), np.float32) for s in strides]
    boxes = [np.zeros(((size // s) ** 2 * 2, 4), np.float32) for s in strides]
    kps = [np.zeros(((size // s) ** 2 * 2, 10), np.float32) for s in strides]
    for p in planted or []:
        level = strides.index(p["stride"])
        idx = (p["row"] * (size // p["stride"]) + p["col"]) * 2 + p["anchor"]
        scores[level][idx, 0] = p["score"]
        boxes[level][idx] = p["dist"]
        kps[level][idx] = p["kps"]
    return scores + boxes + kps


def make_face_pack(
    root: Path,
    name: str = "buffalo_l",
    *,
    heads: list[np.ndarray] | None = None,
    dim: int = 512,
    seed: int = 1,
) -> Path:
    """A face pack: detection/model.onnx (SCRFD-shaped) and recognition/model.onnx (ArcFace)."""
    pack = root / name
    scrfd_model(pack / "detection" / "model.onnx", heads or scrfd_heads())
    weight = np.random.default_rng(seed).standard_normal((3 * 7 * 7, dim)).astype(np.float32)
    pooled_linear(
        pack / "recognition" / "model.onnx",
        input_name="input.1",
        output_name="683",
        size=112,
        pool=16,
        weight=weight,
    )
    np.save(pack / "recognition_weight.npy", weight)
    return pack


def length_revealing_text_model(path: Path, *, table: np.ndarray) -> Path:
    """Text [N, sequence] int32 with a dynamic sequence axis -> table[max id] + sequence * e0.

    Padding with the largest id (CLIP's end-of-text) leaves the first term unchanged; the
    second tells the test how many positions the model was given.
    """
    dim = table.shape[1]
    unit = np.zeros(dim, np.float32)
    unit[0] = 1.0
    nodes = [
        helper.make_node("ReduceMax", ["text"], ["top"], axes=[1], keepdims=0),
        helper.make_node("Gather", ["table", "top"], ["rows"], axis=0),
        helper.make_node("Shape", ["text"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["seq"], axis=0),
        helper.make_node("Cast", ["seq"], ["seqf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["seqf", "unit"], ["bump"]),
        helper.make_node("Add", ["rows", "bump"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "trimmable_text",
        [helper.make_tensor_value_info("text", TensorProto.INT32, ["batch", "sequence"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dim])],
        [
            numpy_helper.from_array(table.astype(np.float32), "table"),
            numpy_helper.from_array(np.array(1, np.int64), "one"),
            numpy_helper.from_array(unit, "unit"),
        ],
    )
    return _save(graph, path)
