"""Model packs on disk in Immich's Hugging Face layout: list, verify, import, download, remove."""

from __future__ import annotations

import builtins
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from photodesk.ml.errors import MLError, ModelMissingError

log = logging.getLogger(__name__)

CLIP = "clip"
FACES = "faces"
DLIB = "dlib"

#: Files a pack of each kind must have (relative to the pack folder).
REQUIRED = {
    CLIP: (
        "config.json",
        "visual/model.onnx",
        "visual/preprocess_cfg.json",
        "textual/model.onnx",
        "textual/tokenizer.json",
    ),
    FACES: ("detection/model.onnx", "recognition/model.onnx"),
}
#: InsightFace packs Immich publishes; every other name is taken for a CLIP pack.
FACE_PACKS = ("buffalo_l", "buffalo_m", "buffalo_s", "antelopev2")
DEFAULT_CLIP = "ViT-B-32__openai"
HF_ORG = "immich-app"
# What a download fetches: the fp32 ONNX files and their configs (not the fp16/, rknpu/ or
# armnn variants). "model.onnx*" also takes external weights (model.onnx_data) of big models.
_DOWNLOAD_PATTERNS = [
    "config.json",
    "visual/model.onnx*",
    "visual/preprocess_cfg.json",
    "textual/model.onnx*",
    "textual/*.json",
    "textual/*.txt",
    "detection/model.onnx*",
    "recognition/model.onnx*",
]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_TEMP_PREFIX = ".partial-"


def kind_for_name(name: str) -> str:
    """The kind of pack a name refers to before it is on disk (dlib, faces or clip)."""
    if name == DLIB:
        return DLIB
    return FACES if name in FACE_PACKS else CLIP


def check_name(name: str) -> str:
    """``name`` if it is a safe pack folder name, else MLError (no paths, no dot files)."""
    if not _NAME.match(name) or name in {".", ".."}:
        raise MLError(
            f"invalid model name {name!r}: use letters, digits and . _ + - "
            "(e.g. ViT-B-32__openai or buffalo_l)"
        )
    return name


def how_to_get(name: str) -> str:
    """The commands that install pack ``name``."""
    if name == DLIB:
        return "run `pip install 'photodesk[faces]'` (dlib-bin and face-recognition-models)"
    return f"run `photodesk models download {name}` or `photodesk models import DIR_OR_ZIP`"


@dataclass(frozen=True)
class PackInfo:
    """What is on disk for one model pack."""

    name: str
    kind: str  # "clip", "faces" or "dlib"
    path: Path | None
    missing: tuple[str, ...]
    size_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def problem(self) -> str | None:
        """None when usable, else one sentence: what is missing and how to get it."""
        if self.ok:
            return None
        label = "CLIP pack" if self.kind == CLIP else "face pack"
        if self.kind == DLIB:
            return f"the dlib face backend is not installed: {how_to_get(DLIB)}"
        if self.path is None or not self.path.is_dir():
            return f"{label} {self.name} is not installed: {how_to_get(self.name)}"
        return f"{label} {self.name} is missing {', '.join(self.missing)}: {how_to_get(self.name)}"


def detect_kind(folder: Path) -> str | None:
    """'clip' or 'faces' when ``folder`` looks like a pack of that kind, else None."""
    if (folder / "visual").is_dir() or (folder / "textual").is_dir():
        return CLIP
    if (folder / "detection").is_dir() or (folder / "recognition").is_dir():
        return FACES
    return None


def verify(folder: Path, kind: str) -> tuple[str, ...]:
    """The required files of a ``kind`` pack that ``folder`` lacks (empty or unreadable count)."""
    missing = []
    for rel in REQUIRED[kind]:
        path = folder / rel
        try:
            if not path.is_file() or path.stat().st_size == 0:
                missing.append(rel)
                continue
            if rel.endswith(".json"):
                json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(f"{rel} (unreadable)")
    return tuple(missing)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _find_packs(folder: Path, depth: int = 3) -> Iterator[Path]:
    """Pack folders at or under ``folder`` (an Immich cache, a zip's top folder, the pack...)."""
    if detect_kind(folder):
        yield folder
        return
    if depth == 0:
        return
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            yield from _find_packs(child, depth - 1)


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return "a path outside the archive"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return None


def safe_extract(archive: Path, target: Path) -> None:
    """Extract a zip into ``target``, refusing it whole if any entry would escape ``target``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for info in members:
                why = _unsafe_member(info)
                if why:
                    raise MLError(f"refusing {archive}: entry {info.filename!r} is {why}")
            root = target.resolve()
            for info in members:
                dest = (target / info.filename.replace("\\", "/")).resolve()
                if not dest.is_relative_to(root):
                    raise MLError(f"refusing {archive}: entry {info.filename!r} escapes the folder")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise MLError(f"{archive} is not a valid zip file: {exc}") from exc


class ModelStore:
    """The model packs in one folder (a library's ``models`` folder), one sub-folder per pack.

    Packs have Immich's layout, so a folder copied from Immich's model cache or downloaded from
    huggingface.co/immich-app works unchanged. Every change is atomic: a pack is assembled in a
    hidden temporary folder beside the others and renamed into place only once it is complete.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def info(self, name: str) -> PackInfo:
        """The state of pack ``name``; the built-in ``dlib`` backend included."""
        if name == DLIB:
            from photodesk.ml.faces_dlib import dlib_models_dir, dlib_status

            problem = dlib_status()
            where = dlib_models_dir()
            return PackInfo(DLIB, DLIB, where, (problem,) if problem else ())
        folder = self.path(name)
        kind = (detect_kind(folder) if folder.is_dir() else None) or kind_for_name(name)
        if not folder.is_dir():
            return PackInfo(name, kind, None, REQUIRED[kind])
        return PackInfo(name, kind, folder, verify(folder, kind), _size(folder))

    def list(self) -> list[PackInfo]:
        """Every pack folder here (complete or not), then the built-in dlib backend."""
        packs = []
        if self.root.is_dir():
            for child in sorted(self.root.iterdir(), key=lambda p: p.name.lower()):
                visible = not child.name.startswith(".") and _NAME.match(child.name)
                if visible and child.is_dir() and detect_kind(child):
                    packs.append(self.info(child.name))
        packs.append(self.info(DLIB))
        return packs

    def require(self, name: str, kind: str) -> Path:
        """The folder of a complete ``kind`` pack, else ModelMissingError saying how to get it."""
        info = self.info(name)
        if info.path is not None and info.kind != kind:
            raise ModelMissingError(f"{name} in {self.root} is a {info.kind} pack, not {kind}")
        if info.problem:
            raise ModelMissingError(info.problem)
        assert info.path is not None
        return info.path

    # -- changes ------------------------------------------------------------------------------

    def temp_dir(self, name: str) -> Path:
        """A new hidden folder in the store (same filesystem, so renames out of it are atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{name}-", dir=self.root))

    def install(self, staged: Path, name: str, *, replace: bool = False) -> PackInfo:
        """Rename a complete staged pack into place (swapping out an old one when replace)."""
        kind = detect_kind(staged)
        if kind is None:
            raise MLError(f"{name}: not a model pack (no visual/, textual/, detection/ folders)")
        missing = verify(staged, kind)
        if missing:
            raise ModelMissingError(
                f"{name} is incomplete, it lacks {', '.join(missing)}; nothing was installed"
            )
        final = self.path(name)
        old: Path | None = None
        if final.exists():
            if not replace:
                raise MLError(f"model {name} is already installed (use --replace to overwrite it)")
            old = self.temp_dir(f"old-{name}")
            os.replace(final, old / name)
        os.replace(staged, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.info(name)

    def import_pack(
        self, source: Path, name: str | None = None, *, replace: bool = False
    ) -> builtins.list[PackInfo]:
        """Copy the pack(s) in a folder or zip into the store; returns what was installed.

        ``source`` may be a pack folder, a folder holding pack folders (e.g. Immich's model
        cache) or a zip of either. ``name`` renames a single pack. Every pack is checked
        before anything is installed; a zip with unsafe entries is refused whole.
        """
        source = Path(source)
        if not source.exists():
            raise MLError(f"{source} does not exist")
        work = self.temp_dir("import")
        try:
            if source.is_file():
                if not zipfile.is_zipfile(source):
                    raise MLError(f"{source} is neither a folder nor a zip file")
                safe_extract(source, work / "x")
                base = work / "x"
                default = source.stem
            else:
                base = source
                default = source.name
            packs = list(_find_packs(base))
            if not packs:
                raise MLError(
                    f"no model pack found in {source}: a CLIP pack has visual/ and textual/ "
                    "folders, a face pack detection/ and recognition/"
                )
            if name is not None and len(packs) > 1:
                raise MLError(f"{source} holds {len(packs)} packs; import them without a name")
            names = []
            for pack in packs:
                pack_name = name or (default if pack == base else pack.name)
                check_name(pack_name)
                kind = detect_kind(pack)
                assert kind is not None
                missing = verify(pack, kind)
                if missing:
                    raise ModelMissingError(
                        f"{pack_name} in {source} lacks {', '.join(missing)}; nothing was imported"
                    )
                if self.path(pack_name).exists() and not replace:
                    raise MLError(
                        f"model {pack_name} is already installed (use --replace to overwrite it)"
                    )
                names.append((pack, pack_name))
            installed = []
            for i, (pack, pack_name) in enumerate(names):
                staged = work / f"pack{i}"
                if pack.is_relative_to(work):
                    os.replace(pack, staged)
                else:
                    shutil.copytree(pack, staged, symlinks=False)
                installed.append(self.install(staged, pack_name, replace=replace))
            return installed
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def remove(self, name: str) -> None:
        """Delete pack ``name`` (it disappears at once; its files are deleted after)."""
        if name == DLIB:
            raise MLError("dlib is built in: uninstall it with `pip uninstall dlib-bin`")
        folder = self.path(name)
        if not folder.is_dir():
            raise MLError(f"model {name} is not installed in {self.root}")
        trash = self.temp_dir(f"rm-{name}")
        os.replace(folder, trash / name)
        shutil.rmtree(trash, ignore_errors=True)

    def download(
        self,
        name: str,
        *,
        replace: bool = False,
        tqdm_class: Any = None,
        revision: str | None = None,
    ) -> PackInfo:
        """Fetch ``immich-app/<name>`` from Hugging Face (fp32 ONNX only) and install it.

        ``tqdm_class`` is passed to huggingface_hub for progress bars. Needs the network and
        the huggingface_hub package; the pack is installed only once complete.
        """
        check_name(name)
        if name == DLIB:
            raise MLError(f"dlib needs no download: {how_to_get(DLIB)}")
        if self.path(name).exists() and not replace:
            raise MLError(f"model {name} is already installed (use --replace to download again)")
        try:
            from huggingface_hub import snapshot_download
        except ImportError as exc:
            raise MLError(
                "downloading needs huggingface_hub: pip install 'photodesk[ml]' "
                f"(or get the files elsewhere and `photodesk models import`): {exc}"
            ) from exc
        work = self.temp_dir(name)
        try:
            staged = work / name
            try:
                snapshot_download(
                    repo_id=f"{HF_ORG}/{name}",
                    revision=revision,
                    local_dir=staged,
                    allow_patterns=_DOWNLOAD_PATTERNS,
                    tqdm_class=tqdm_class,
                )
            except Exception as exc:  # network, 404, disk: all end the same way
                reason = " ".join(str(exc).split()).rstrip(".")
                raise MLError(
                    f"cannot download {HF_ORG}/{name} from Hugging Face ({reason}). Offline? "
                    "Copy the pack from a machine that has it (e.g. Immich's model cache) and run "
                    "`photodesk models import DIR_OR_ZIP`"
                ) from exc
            shutil.rmtree(staged / ".cache", ignore_errors=True)  # huggingface_hub's metadata
            return self.install(staged, name, replace=replace)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def clean_partial(self) -> int:
        """Delete temporary folders left by an interrupted import or download; returns how many."""
        count = 0
        if self.root.is_dir():
            for child in self.root.iterdir():
                if child.is_dir() and child.name.startswith(_TEMP_PREFIX):
                    shutil.rmtree(child, ignore_errors=True)
                    count += 1
        return count
