"""installers/desktop/: the PyInstaller spec and hooks, the Linux tarball and its install script.

The bundle takes minutes to build: ``make bundle && make bundle-test`` (not in ``make test``).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from photodesk import __version__

REPO = Path(__file__).resolve().parents[1]
DESKTOP = REPO / "installers" / "desktop"
APP_ID = "org.photodesk.Photodesk"


def test_spec_and_hooks_are_python_and_cover_the_native_packages():
    ast.parse((DESKTOP / "photodesk.spec").read_text())
    hooks = {p.stem.removeprefix("hook-") for p in (DESKTOP / "hooks").glob("hook-*.py")}
    for hook in (DESKTOP / "hooks").glob("hook-*.py"):
        ast.parse(hook.read_text())
    # Ours, for what PyInstaller and its contrib hooks do not cover ...
    assert {"photodesk", "dlib", "face_recognition_models", "pillow_heif", "sqlite_vec"} <= hooks
    # ... and theirs for PySide6, onnxruntime, rawpy and av.
    pyinstaller = pytest.importorskip("PyInstaller")
    contrib = pytest.importorskip("_pyinstaller_hooks_contrib")
    known = {p.name for p in Path(pyinstaller.__file__).parent.glob("hooks/hook-*.py")}
    known |= {p.name for p in Path(contrib.__file__).parent.rglob("hook-*.py")}
    for package in ("PySide6", "onnxruntime", "rawpy", "av"):
        assert f"hook-{package}.py" in known, package
    spec = (DESKTOP / "photodesk.spec").read_text()
    assert '"torch"' in spec and '"open_clip"' in spec  # the export extra stays out


def test_entry_point_supports_worker_processes():
    entry = (DESKTOP / "entry.py").read_text()
    assert entry.index("multiprocessing.freeze_support()") < entry.index("from photodesk")


def test_release_workflow_builds_every_platform():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    assert {"wheel", "linux", "windows", "macos", "container", "release"} <= set(workflow["jobs"])
    for script in ("windows/build.ps1", "windows/photodesk.iss", "macos/build.sh"):
        assert (DESKTOP / script).is_file()
    subprocess.run(["sh", "-n", str(DESKTOP / "macos" / "build.sh")], check=True)


@pytest.mark.skipif(os.name == "nt", reason="the Linux tarball is built on Linux")
def test_tarball_installs_the_program_menu_entry_and_icons(tmp_path: Path):
    # A stand-in for the PyInstaller folder: the packing and installing are what is tested here.
    bundle = tmp_path / "dist" / "photodesk"
    (bundle / "_internal").mkdir(parents=True)
    program = bundle / "photodesk"
    program.write_text(f"#!/bin/sh\necho 'photodesk {__version__}'\n")
    program.chmod(0o755)
    proc = subprocess.run(
        [sys.executable, str(DESKTOP / "linux" / "make_tarball.py"), str(bundle)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarballs = list((tmp_path / "dist").glob(f"photodesk-{__version__}-linux-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (root,) = (tmp_path / "unpacked").iterdir()

    home = tmp_path / "home"
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    proc = subprocess.run(
        [str(root / "install.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"photodesk {__version__} installed" in proc.stdout
    installed = home / ".local" / "opt" / "photodesk" / "photodesk"
    assert installed.is_file()
    assert (home / ".local" / "bin" / "photodesk").resolve() == installed.resolve()
    desktop = home / ".local" / "share" / "applications" / f"{APP_ID}.desktop"
    assert f"Exec={installed} gui %U" in desktop.read_text().splitlines()
    icon = home / ".local/share/icons/hicolor/256x256/apps" / f"{APP_ID}.png"
    assert icon.is_file()
    assert (home / ".local/share/metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(desktop)], check=True)

    proc = subprocess.run(
        [str(root / "install.sh"), "--uninstall"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert not installed.exists() and not desktop.exists() and not icon.exists()
