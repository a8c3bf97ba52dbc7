"""Model packs on disk: list, verify, import (folder, zip, unsafe zip), download, remove."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from photodesk.ml.errors import MLError, ModelMissingError
from photodesk.ml.model_store import DLIB, ModelStore, check_name
from tests.ml.tiny_models import make_clip_pack, make_face_pack


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "lib" / "models")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "downloads"
    make_clip_pack(src, "ViT-B-32__openai")
    make_face_pack(src, "buffalo_l")
    return src


def _zip(folder: Path, dest: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return dest


def _leftovers(store: ModelStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir() if p.name.startswith("."))


def test_list_reports_missing_packs_and_dlib(store: ModelStore) -> None:
    packs = store.list()
    assert [p.name for p in packs] == [DLIB]
    info = store.info("ViT-B-32__openai")
    assert not info.ok and info.kind == "clip" and info.path is None
    assert "photodesk models download ViT-B-32__openai" in info.problem
    assert store.info("buffalo_l").kind == "faces"
    with pytest.raises(ModelMissingError, match="CLIP pack ViT-B-32__openai is not installed"):
        store.require("ViT-B-32__openai", "clip")


def test_import_a_pack_folder_and_a_folder_of_packs(store: ModelStore, source: Path) -> None:
    [clip] = store.import_pack(source / "ViT-B-32__openai")
    assert clip.ok and clip.kind == "clip" and clip.size_bytes > 0
    assert (store.root / "ViT-B-32__openai" / "textual" / "tokenizer.json").is_file()
    assert (source / "ViT-B-32__openai").is_dir()  # the source is copied, not moved
    with pytest.raises(MLError, match="already installed"):
        store.import_pack(source / "ViT-B-32__openai")
    installed = store.import_pack(source, replace=True)
    assert sorted(p.name for p in installed) == ["ViT-B-32__openai", "buffalo_l"]
    assert [p.name for p in store.list()] == ["buffalo_l", "ViT-B-32__openai", DLIB]
    assert store.require("buffalo_l", "faces") == store.root / "buffalo_l"
    with pytest.raises(ModelMissingError, match="not clip"):
        store.require("buffalo_l", "clip")
    assert _leftovers(store) == []


def test_import_zip_with_and_without_top_folder(store: ModelStore, source: Path, tmp_path) -> None:
    flat = _zip(source / "buffalo_l", tmp_path / "buffalo_s.zip")
    [faces] = store.import_pack(flat)
    assert faces.name == "buffalo_s" and faces.ok
    nested = _zip(source / "ViT-B-32__openai", tmp_path / "x.zip", prefix="ViT-B-32__openai/")
    [clip] = store.import_pack(nested)
    assert clip.name == "ViT-B-32__openai" and clip.ok
    [renamed] = store.import_pack(nested, name="my-clip")
    assert renamed.name == "my-clip" and renamed.ok
    assert _leftovers(store) == []


@pytest.mark.parametrize("evil", ["../escape.txt", "/abs/path.txt", "pack/../../up.txt"])
def test_zip_with_unsafe_entries_is_refused_whole(store, source, tmp_path, evil) -> None:
    archive = _zip(source / "buffalo_l", tmp_path / "evil.zip", prefix="buffalo_l/")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(evil, "gotcha")
    with pytest.raises(MLError, match="refusing"):
        store.import_pack(archive)
    assert not (store.root / "buffalo_l").exists()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "lib" / "up.txt").exists()
    assert _leftovers(store) == []


def test_zip_with_a_symlink_is_refused(store, source, tmp_path) -> None:
    archive = _zip(source / "buffalo_l", tmp_path / "link.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        info = zipfile.ZipInfo("detection/evil")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(MLError, match="symbolic link"):
        store.import_pack(archive)


def test_incomplete_pack_is_not_imported(store: ModelStore, source: Path, tmp_path) -> None:
    (source / "ViT-B-32__openai" / "visual" / "preprocess_cfg.json").unlink()
    with pytest.raises(ModelMissingError, match=r"lacks visual/preprocess_cfg\.json"):
        store.import_pack(source / "ViT-B-32__openai")
    (source / "buffalo_l" / "recognition" / "model.onnx").write_bytes(b"")
    with pytest.raises(ModelMissingError, match=r"recognition/model\.onnx"):
        store.import_pack(_zip(source / "buffalo_l", tmp_path / "b.zip"))
    assert [p.name for p in store.list()] == [DLIB]
    assert _leftovers(store) == []


def test_not_a_pack(store: ModelStore, tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    with pytest.raises(MLError, match="no model pack found"):
        store.import_pack(tmp_path / "junk")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(MLError, match="neither a folder nor a zip"):
        store.import_pack(tmp_path / "file.txt")


def test_verify_reports_a_broken_file(store: ModelStore, source: Path) -> None:
    store.import_pack(source / "ViT-B-32__openai")
    (store.root / "ViT-B-32__openai" / "textual" / "model.onnx").unlink()
    (store.root / "ViT-B-32__openai" / "config.json").write_text("{not json")
    info = store.info("ViT-B-32__openai")
    assert info.missing == ("config.json (unreadable)", "textual/model.onnx")
    assert info.problem == (
        "CLIP pack ViT-B-32__openai is missing config.json (unreadable), textual/model.onnx: "
        "run `photodesk models download ViT-B-32__openai` or "
        "`photodesk models import DIR_OR_ZIP`"
    )


def test_remove(store: ModelStore, source: Path) -> None:
    store.import_pack(source / "buffalo_l")
    store.remove("buffalo_l")
    assert not (store.root / "buffalo_l").exists()
    with pytest.raises(MLError, match="not installed"):
        store.remove("buffalo_l")
    with pytest.raises(MLError, match="built in"):
        store.remove(DLIB)
    assert _leftovers(store) == []


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", ".hidden", "", "x" * 200])
def test_names_cannot_be_paths(bad: str) -> None:
    with pytest.raises(MLError, match="invalid model name"):
        check_name(bad)


def test_download_installs_only_complete_packs(store, source, monkeypatch) -> None:
    """huggingface_hub is replaced by a local copy: no network in tests."""
    hub = pytest.importorskip("huggingface_hub")
    calls = []

    def fake_snapshot(repo_id, *, local_dir, allow_patterns, **kw):
        calls.append((repo_id, allow_patterns))
        shutil.copytree(source / repo_id.split("/")[1], local_dir)
        (Path(local_dir) / ".cache").mkdir()
        return str(local_dir)

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    info = store.download("buffalo_l")
    assert info.ok and calls[0][0] == "immich-app/buffalo_l"
    assert "detection/model.onnx*" in calls[0][1]
    assert not (store.root / "buffalo_l" / ".cache").exists()

    def offline(repo_id, **kw):
        raise OSError("network is unreachable")

    monkeypatch.setattr(hub, "snapshot_download", offline)
    with pytest.raises(MLError, match="photodesk models import"):
        store.download("ViT-B-32__openai")
    assert not (store.root / "ViT-B-32__openai").exists()

    (source / "ViT-B-32__openai" / "textual" / "tokenizer.json").unlink()
    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    with pytest.raises(ModelMissingError, match="incomplete"):
        store.download("ViT-B-32__openai")
    assert not (store.root / "ViT-B-32__openai").exists()
    assert _leftovers(store) == []


def test_clean_partial(store: ModelStore) -> None:
    (store.root / ".partial-x-123").mkdir(parents=True)
    assert store.clean_partial() == 1
    assert _leftovers(store) == []
