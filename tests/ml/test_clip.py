"""ClipModel on tiny packs with Immich's layout: preprocessing, tokenization, batching, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.ml.clip import ClipModel
from photodesk.ml.errors import ImageReadError, ModelMissingError
from tests.ml.tiny_models import CLIP_MEAN, CLIP_STD, TensorProto, make_clip_pack

pytest.importorskip("onnxruntime")


def _solid(path: Path, color: tuple[int, int, int], size=(300, 200), **save) -> Path:
    Image.new("RGB", size, color).save(path, **save)
    return path


def _expected_solid(pack: Path, color: tuple[int, int, int]) -> np.ndarray:
    """The tiny visual tower's output for a one-colour image, computed without Pillow."""
    weight = np.load(pack / "visual" / "weight.npy")
    value = (np.array(color, np.float32) / 255.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    cells = np.repeat(value, weight.shape[0] // 3)  # channel-major, like Flatten of NCHW
    out = cells @ weight
    return out / np.linalg.norm(out)


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return make_clip_pack(tmp_path / "models")


def test_image_embeddings_are_normalised_and_match_the_model(tmp_path: Path, pack: Path) -> None:
    model = ClipModel(pack)
    assert model.model_name == "ViT-Tiny__test"
    assert model.dim == 16
    colors = [(200, 30, 30), (20, 180, 60), (10, 20, 230)]
    paths = [str(_solid(tmp_path / f"c{i}.png", c)) for i, c in enumerate(colors)]
    emb = model.embed_images(paths)
    assert emb.shape == (3, 16)
    assert emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    for row, color in zip(emb, colors, strict=True):
        assert np.allclose(row, _expected_solid(pack, color), atol=2e-3)
    assert model.providers["visual"] == "CPUExecutionProvider"


def test_resize_shortest_side_then_center_crop(tmp_path: Path, pack: Path) -> None:
    """A 2:1 image whose middle half is blue embeds like a blue image: the sides are cropped."""
    img = Image.new("RGB", (800, 400), (10, 20, 230))
    img.paste((250, 0, 0), (0, 0, 200, 400))
    img.paste((0, 250, 0), (600, 0, 800, 400))
    img.save(tmp_path / "wide.png")
    tall = img.transpose(Image.Transpose.ROTATE_90)
    tall.save(tmp_path / "tall.png")
    model = ClipModel(pack)
    emb = model.embed_images([str(tmp_path / "wide.png"), str(tmp_path / "tall.png")])
    blue = _expected_solid(pack, (10, 20, 230))
    assert np.allclose(emb[0], blue, atol=5e-3)
    assert np.allclose(emb[1], blue, atol=5e-3)
    crop = model.preprocess(img)
    assert crop.shape == (3, 224, 224)
    assert crop.dtype == np.float32


def test_exif_orientation_is_applied(tmp_path: Path, pack: Path) -> None:
    upright = Image.new("RGB", (400, 300), (240, 240, 240))
    upright.paste((200, 0, 0), (0, 0, 400, 100))  # red band on top
    upright.paste((0, 0, 200), (150, 100, 250, 300))
    upright.save(tmp_path / "upright.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; display needs 90 degrees clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "stored.jpg", exif=exif, quality=95
    )
    model = ClipModel(pack)
    a, b = model.embed_images([str(tmp_path / "upright.jpg"), str(tmp_path / "stored.jpg")])
    plain = model.embed_pil([upright.transpose(Image.Transpose.ROTATE_90)])[0]
    assert float(a @ b) > 0.999
    assert float(a @ plain) < 0.99  # the model does see orientation


def test_batches_give_the_same_rows_as_single_images(tmp_path: Path, pack: Path) -> None:
    rng = np.random.default_rng(3)
    paths = []
    for i in range(7):
        arr = rng.integers(0, 255, (120 + 10 * i, 160, 3), dtype=np.uint8)
        paths.append(str(tmp_path / f"r{i}.png"))
        Image.fromarray(arr).save(paths[-1])
    batched = ClipModel(pack, batch_size=3).embed_images(paths)
    single = np.vstack([ClipModel(pack, batch_size=1).embed_images([p]) for p in paths])
    assert np.allclose(batched, single, atol=1e-5)
    assert ClipModel(pack).embed_images([]).shape == (0, 16)


def test_fixed_batch_models_are_fed_their_batch_size(tmp_path: Path) -> None:
    pack = make_clip_pack(tmp_path / "m", "fixed", fixed_batch=2)
    free = make_clip_pack(tmp_path / "m", "free")
    paths = [str(_solid(tmp_path / f"s{i}.png", (30 * i, 100, 200 - 20 * i))) for i in range(5)]
    assert np.allclose(
        ClipModel(pack).embed_images(paths), ClipModel(free).embed_images(paths), atol=1e-5
    )
    texts = ["a dog", "a cat", "snow"]
    assert np.allclose(
        ClipModel(pack).embed_text(texts), ClipModel(free).embed_text(texts), atol=1e-5
    )


def _expected_text(pack: Path, ids: list[int]) -> np.ndarray:
    table = np.load(pack / "textual" / "table.npy")
    out = table[ids].mean(axis=0)
    return out / np.linalg.norm(out)


def test_tokenization_pads_with_end_of_text_to_the_context_length(pack: Path) -> None:
    model = ClipModel(pack)
    tokens = model.tokenize(["A dog  in the\tsnow", "cat"])
    ids = tokens["ids"]
    assert ids.shape == (2, 77)
    # vocab: <|unk|>=0 <|startoftext|>=1 <|endoftext|>=2 a=3 dog=4 cat=5 in=6 the=7 snow=8
    assert ids[0, :7].tolist() == [1, 3, 4, 6, 7, 8, 2]
    assert (ids[0, 7:] == 2).all()  # padded with the pad token of tokenizer_config.json
    assert ids[1, :3].tolist() == [1, 5, 2]
    assert tokens["mask"][1].tolist() == [1, 1, 1] + [0] * 74
    long = model.tokenize(["dog " * 200])["ids"][0]
    assert len(long) == 77 and long[0] == 1 and long[-1] == 2  # truncated, still ends with EOT


@pytest.mark.parametrize("dtype", [TensorProto.INT32, TensorProto.INT64])
def test_text_embeddings_follow_the_input_type(tmp_path: Path, dtype: int) -> None:
    pack = make_clip_pack(tmp_path / "m", f"t{dtype}", text_dtype=dtype)
    model = ClipModel(pack)
    emb = model.embed_text(["a dog", "photo of the beach at sunset"])
    assert emb.shape == (2, 16)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert np.allclose(emb[0], _expected_text(pack, [1, 3, 4, 2] + [2] * 73), atol=1e-5)
    assert np.allclose(model.embed_text(["a dog"])[0], emb[0], atol=1e-6)
    assert model.providers["textual"] == "CPUExecutionProvider"


def test_multilingual_pack_gets_ids_and_attention_mask(tmp_path: Path) -> None:
    pack = make_clip_pack(tmp_path / "m", "XLM-Tiny", multilingual=True)
    model = ClipModel(pack)
    tokens = model.tokenize(["dog in snow"])
    # <s>=0 <pad>=1 </s>=2 <unk>=3 a=4 dog=5 cat=6 in=7 the=8 snow=9
    assert tokens["ids"][0, :6].tolist() == [0, 5, 7, 9, 2, 1]
    emb = model.embed_text(["dog in snow"])
    table = np.load(pack / "textual" / "table.npy")
    expected = table[[0, 5, 7, 9, 2]].sum(axis=0)  # the mask drops the padding
    assert np.allclose(emb[0], expected / np.linalg.norm(expected), atol=1e-5)


def test_missing_files_say_how_to_get_them(tmp_path: Path, pack: Path) -> None:
    (pack / "textual" / "model.onnx").unlink()
    with pytest.raises(ModelMissingError) as err:
        ClipModel(pack)
    message = str(err.value)
    assert "ViT-Tiny__test" in message and "textual/model.onnx" in message
    assert "photodesk models download ViT-Tiny__test" in message
    assert "photodesk models import" in message
    shutil.rmtree(pack)
    with pytest.raises(ModelMissingError, match="is not installed"):
        ClipModel(pack)


def test_unreadable_image_is_named(tmp_path: Path, pack: Path) -> None:
    good = _solid(tmp_path / "ok.png", (1, 2, 3))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(ImageReadError, match=r"bad\.jpg"):
        ClipModel(pack).embed_images([str(good), str(bad)])


def test_models_unload_and_reload(tmp_path: Path, pack: Path) -> None:
    model = ClipModel(pack, idle_seconds=None, text_cache_size=0)
    first = model.embed_text(["snow"])
    assert model.textual.loaded and not model.visual.loaded
    model.unload()
    assert not model.textual.loaded
    assert np.allclose(model.embed_text(["snow"]), first)
    assert model.textual.loads == 2


def test_text_cache_returns_the_same_rows_without_running_the_model(pack: Path) -> None:
    model = ClipModel(pack, idle_seconds=None, text_cache_size=2)
    first = model.embed_text(["a dog", "snow", "a dog"])
    assert np.allclose(first[0], first[2])
    first[0][:] = 0  # callers own what they get back
    model.unload()
    again = model.embed_text(["a  dog", "snow"])  # same text once whitespace is collapsed
    assert not model.textual.loaded  # both came from the cache
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)
    assert np.allclose(again, ClipModel(pack, text_cache_size=0).embed_text(["a dog", "snow"]))
    model.embed_text(["cat"])  # evicts the least recently used ("a dog")
    model.unload()
    model.embed_text(["snow", "cat"])
    assert not model.textual.loaded
    model.embed_text(["a dog"])
    assert model.textual.loaded


def test_trimmable_text_towers_get_only_the_positions_in_use(tmp_path: Path) -> None:
    """Packs from `photodesk models export-clip` skip the padding after the longest text."""
    import json

    from tests.ml.tiny_models import length_revealing_text_model

    pack = make_clip_pack(tmp_path / "m", "trim")
    table = np.load(pack / "textual" / "table.npy")
    length_revealing_text_model(pack / "textual" / "model.onnx", table=table)

    def expected(top: int, length: int) -> np.ndarray:
        row = table[top].copy()
        row[0] += length
        return row / np.linalg.norm(row)

    # vocab: <|unk|>=0 <|startoftext|>=1 <|endoftext|>=2 a=3 dog=4 cat=5 in=6 the=7 snow=8
    plain = ClipModel(pack, text_cache_size=0).embed_text(["a dog in the snow", "cat"])
    assert np.allclose(plain[1], expected(5, 77), atol=1e-5)  # no flag: padded to 77
    config = json.loads((pack / "config.json").read_text())
    config["photodesk_text_trim"] = True
    (pack / "config.json").write_text(json.dumps(config))
    model = ClipModel(pack, text_cache_size=0)
    both = model.embed_text(["a dog in the snow", "cat"])
    assert np.allclose(both[0], expected(8, 7), atol=1e-5)  # 5 words + start + end
    assert np.allclose(both[1], expected(5, 7), atol=1e-5)  # padded to the longest only
    assert np.allclose(model.embed_text(["cat"])[0], expected(5, 3), atol=1e-5)
