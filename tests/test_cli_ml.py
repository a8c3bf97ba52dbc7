"""``photodesk search``, ``people`` and ``index``: the ML command lines, with and without models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.cli.main import main
from photodesk.core import Library

BEACH, SNOW, FOREST = (230, 200, 60), (245, 245, 250), (30, 140, 40)


def photo(path: Path, rgb: tuple[int, int, int], when: str, make: str = "Canon") -> Path:
    img = Image.new("RGB", (160, 120), rgb)
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = f"{make} X"
    exif.get_ifd(0x8769)[0x9003] = when
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def ids_by_name(out: str) -> list[str]:
    return [Path(a["path"]).name for a in json.loads(out)]


@pytest.fixture
def no_ml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTODESK_ML", "off")


def test_search_and_index_without_models(tmp_path: Path, capsys, no_ml):
    lib = str(tmp_path / "lib")
    photo(tmp_path / "src" / "beach.jpg", BEACH, "2021:07:01 10:00:00")
    photo(tmp_path / "src" / "snow.jpg", SNOW, "2022:01:01 10:00:00", make="NIKON")
    assert run(capsys, "--library", lib, "import", str(tmp_path / "src"))[0] == 0
    rc, out, err = run(capsys, "--library", lib, "search", "beach", "--json")
    assert rc == 0 and ids_by_name(out) == ["beach.jpg"]  # the file name still matches
    assert "smart search is off" in err
    rc, out, _ = run(capsys, "--library", lib, "search", "--camera", "nikon", "--json")
    assert ids_by_name(out) == ["snow.jpg"]
    rc, out, _ = run(capsys, "--library", lib, "search", "--from", "2022-01-01", "--json")
    assert ids_by_name(out) == ["snow.jpg"]
    rc, _, err = run(capsys, "--library", lib, "index")
    assert rc == 1 and "turned off" in err
    rc, out, _ = run(capsys, "--library", lib, "people", "--json")
    assert rc == 0 and json.loads(out) == []


def test_people_commands(tmp_path: Path, capsys, no_ml):
    root = tmp_path / "lib"
    for k in range(4):
        photo(tmp_path / "src" / f"p{k}.jpg", BEACH, f"2021:07:0{k + 1} 10:00:00")
    with Library.open(root) as library:
        library.importer.import_paths([tmp_path / "src"], workers=1)
        rng = np.random.default_rng(0)
        a, b = rng.normal(size=32), rng.normal(size=32)
        for aid in library.assets.ids():
            for centre, x in ((a, 0.1), (b, 0.6)):
                v = centre + rng.normal(scale=0.01, size=32)
                library.people.add_face(
                    aid, (x, 0.1, x + 0.3, 0.5), embedding=v / np.linalg.norm(v), model="test-model"
                )
    lib = str(root)
    rc, out, _ = run(capsys, "--library", lib, "people", "recluster")
    assert rc == 0 and "2 new people" in out
    people = json.loads(run(capsys, "--library", lib, "people", "--json")[1])
    assert sorted(p["photos"] for p in people) == [4, 4]
    first = people[0]["id"]
    assert run(capsys, "--library", lib, "people", "name", str(first), "Ada", "Lovelace")[0] == 0
    faces = json.loads(run(capsys, "--library", lib, "people", "faces", str(first), "--json")[1])
    rc, out, _ = run(capsys, "--library", lib, "people", "unassign", str(faces[0]["id"]))
    assert rc == 0 and f"person {first}" in out
    run(capsys, "--library", lib, "people", "recluster")
    people = {p["id"]: p for p in json.loads(run(capsys, "--library", lib, "people", "--json")[1])}
    assert people[first]["name"] == "Ada Lovelace" and people[first]["photos"] == 3
    rc, out, _ = run(capsys, "--library", lib, "search", "--person", "ada lovelace", "--json")
    assert len(json.loads(out)) == 3
    others = sorted((p for p in people.values() if not p["name"]), key=lambda p: p["photos"])
    rejected, other = others[0]["id"], others[1]["id"]
    assert [p["photos"] for p in others] == [1, 4]  # the face taken from Ada is someone else
    # merging that someone into Ada does not put the rejected face back
    rc, out, _ = run(capsys, "--library", lib, "people", "merge", str(rejected), str(first))
    assert rc == 0 and "moved 0 faces" in out
    # the other person's faces join Ada only where Ada has no face on the photo
    rc, out, _ = run(capsys, "--library", lib, "people", "merge", str(other), str(first))
    assert rc == 0 and "moved 1 faces" in out


def tiny_clip_pack(models: Path) -> str:
    """A CLIP pack (tiny ONNX towers) whose word "beach" embeds like a beach-coloured photo,
    and whose unknown words point where no photo is."""
    tiny = pytest.importorskip("tests.ml.tiny_models")
    pytest.importorskip("onnxruntime")
    pack = tiny.make_clip_pack(models, "ViT-Tiny__cli")
    weight = np.load(pack / "visual" / "weight.npy")

    def solid(rgb: tuple[int, int, int]) -> np.ndarray:
        value = (np.array(rgb, np.float32) / 255.0 - tiny.CLIP_MEAN) / tiny.CLIP_STD
        out = np.repeat(value, weight.shape[0] // 3) @ weight
        return out / np.linalg.norm(out)

    vocab = json.loads((pack / "textual" / "tokenizer.json").read_text())["model"]["vocab"]
    table = np.zeros((len(vocab), weight.shape[1]), dtype=np.float32)
    photos = np.stack([solid(c) for c in (BEACH, SNOW, FOREST)])
    q, _ = np.linalg.qr(photos.T, mode="complete")
    table[vocab["<|unk|>"]] = q[:, 3]  # orthogonal to every photo
    table[vocab["beach"]] = solid(BEACH)
    table[vocab["snow"]] = solid(SNOW)
    tiny.text_model(pack / "textual" / "model.onnx", table=table)
    return pack.name


def test_index_and_smart_search_with_a_clip_pack(tmp_path: Path, capsys, monkeypatch):
    root = tmp_path / "lib"
    monkeypatch.setenv("PHOTODESK_CLIP_MODEL", tiny_clip_pack(root / "models"))
    monkeypatch.setenv("PHOTODESK_FACE_MODEL", "none")
    src = tmp_path / "src"
    photo(src / "sand.jpg", BEACH, "2021:07:01 10:00:00")
    photo(src / "white.jpg", SNOW, "2022:01:01 10:00:00", make="NIKON")
    photo(src / "trees.jpg", FOREST, "2023:01:01 10:00:00")
    lib = str(root)
    assert run(capsys, "--library", lib, "import", str(src))[0] == 0
    rc, out, err = run(capsys, "--library", lib, "index", "--clip", "--until-idle", "--json")
    assert rc == 0, err
    assert json.loads(out)["models"]["clip"] == "ViT-Tiny__cli"
    rc, out, err = run(capsys, "--library", lib, "search", "beach", "--json")
    assert rc == 0 and ids_by_name(out)[0] == "sand.jpg" and "smart search" not in err
    assert ids_by_name(run(capsys, "--library", lib, "search", "qwxz", "--json")[1]) == []
    out = run(capsys, "--library", lib, "search", "snow", "--camera", "canon", "--json")[1]
    assert "white.jpg" not in ids_by_name(out)
    sand = json.loads(run(capsys, "--library", lib, "search", "beach", "--json")[1])[0]["id"]
    out = run(capsys, "--library", lib, "search", "--like", str(sand), "--json")[1]
    assert "sand.jpg" not in ids_by_name(out) and len(ids_by_name(out)) == 2


def test_index_faces_with_dlib(tmp_path: Path, capsys, corpus: Path, monkeypatch):
    faces_dlib = pytest.importorskip("photodesk.ml.faces_dlib")
    if faces_dlib.dlib_status():
        pytest.skip(faces_dlib.dlib_status())
    monkeypatch.setenv("PHOTODESK_FACE_MODEL", "dlib")
    monkeypatch.setenv("PHOTODESK_CLIP_MODEL", "none")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("facerec__obama.jpg", "facerec__obama2.jpg", "facerec__obama-480p.jpg"):
        shutil.copy(corpus / name, src / name)
    lib = str(tmp_path / "lib")
    with Library.open(lib) as library:  # imported before the models exist: index catches up
        library.importer.import_paths([src], workers=1)
    rc, out, err = run(capsys, "--library", lib, "index", "--faces", "--until-idle")
    assert rc == 0 and "faces: 3 photos queued (dlib-resnet-v1)" in out, err
    people = json.loads(run(capsys, "--library", lib, "people", "--json")[1])
    assert [p["photos"] for p in people] == [3]
