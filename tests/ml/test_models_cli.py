"""``photodesk models``: list, import, remove, download errors and export-clip, end to end."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from photodesk.cli.main import main
from tests.ml.tiny_models import make_clip_pack, make_face_pack


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_import_remove(tmp_path: Path, capsys) -> None:
    lib = str(tmp_path / "lib")
    code, out, _ = _run(capsys, "--library", lib, "models", "list")
    assert code == 0
    assert "photodesk models download ViT-B-32__openai" in out
    assert "execution providers:" in out

    src = tmp_path / "src"
    make_clip_pack(src, "ViT-B-32__openai")
    make_face_pack(src, "buffalo_l")
    archive = tmp_path / "packs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    code, out, _ = _run(capsys, "--library", lib, "models", "import", str(archive))
    assert code == 0 and "installed ViT-B-32__openai" in out and "installed buffalo_l" in out

    code, out, _ = _run(capsys, "--library", lib, "models", "--json")
    listing = json.loads(out)
    packs = {p["name"]: p for p in listing["packs"]}
    assert packs["ViT-B-32__openai"]["ok"] and packs["buffalo_l"]["kind"] == "faces"
    assert "CPUExecutionProvider" in listing["providers"]["used"]

    (tmp_path / "lib" / "models" / "buffalo_l" / "detection" / "model.onnx").unlink()
    code, out, _ = _run(capsys, "--library", lib, "models", "list")
    assert "MISSING" in out and "buffalo_l is missing detection/model.onnx" in out

    code, out, _ = _run(capsys, "--library", lib, "models", "remove", "buffalo_l")
    assert code == 0 and not (tmp_path / "lib" / "models" / "buffalo_l").exists()
    code, _, err = _run(capsys, "--library", lib, "models", "remove", "buffalo_l")
    assert code == 1 and "not installed" in err


def test_import_errors_are_reported(tmp_path: Path, capsys) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.txt", "x")
    code, _, err = _run(capsys, "--library", str(tmp_path / "lib"), "models", "import", str(evil))
    assert code == 1 and "refusing" in err
    assert not (tmp_path / "outside.txt").exists()
    code, _, err = _run(capsys, "--library", str(tmp_path), "models", "remove", "../etc")
    assert code == 1 and "invalid model name" in err


def test_export_clip_writes_a_pack_that_loads(tmp_path: Path, capsys) -> None:
    pytest.importorskip("open_clip", reason="the export extra (open-clip-torch) is not installed")
    lib = str(tmp_path / "lib")
    code, out, err = _run(
        capsys, "--library", lib, "models", "export-clip", "ViT-S-32", "openai", "--random-weights"
    )
    assert code == 0, err
    assert "installed ViT-S-32__random" in out
    from photodesk.ml.clip import ClipModel

    model = ClipModel(tmp_path / "lib" / "models" / "ViT-S-32__random")
    assert model.dim == 384 and model.image_size == 224 and model.context_length == 77
    text = model.embed_text(["a dog", "a cat"])
    assert text.shape == (2, 384)
    assert np.allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    ids = model.tokenize(["a dog"])["ids"][0]
    assert ids[:4].tolist() == [49406, 320, 1929, 49407] and ids[4] == 49407
    # the causal text tower was exported for any length: queries skip the padding, same result
    assert model.trims_text
    model.trims_text = False
    assert np.allclose(model._embed_text(["a dog", "a cat"]), text, atol=1e-4)
