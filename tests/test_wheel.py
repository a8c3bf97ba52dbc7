"""The built wheel works on its own: every runtime file inside, installed and driven in a new venv.

Builds the sdist and wheel from a copy of the source (``python -m build --no-isolation``, so no
network), installs the wheel with ``--no-deps`` into an empty virtualenv whose only link to this
environment is a ``.pth`` line naming the site-packages that hold the dependencies (never the
source tree: the editable install's finder is not activated by it), then runs
``installers/smoke.py`` against the installed ``photodesk`` command.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import photodesk

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SOURCE_FILES = ("pyproject.toml", "README.md")


def _runtime_files() -> list[str]:
    """Every file of the photodesk package in the source tree, relative to the repo."""
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / "photodesk").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        pytest.fail("the `build` package is missing: install the dev extra (.[dev])")
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(
        REPO / "photodesk", src / "photodesk", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, src / name)
    out = src / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_sdist_and_wheel_carry_every_runtime_file(dist: Path):
    wheels = list(dist.glob("photodesk-*-py3-none-any.whl"))
    sdists = list(dist.glob("photodesk-*.tar.gz"))
    assert len(wheels) == 1, list(dist.iterdir())
    assert len(sdists) == 1, list(dist.iterdir())
    assert wheels[0].name == f"photodesk-{photodesk.__version__}-py3-none-any.whl"
    in_wheel = set(zipfile.ZipFile(wheels[0]).namelist())
    with tarfile.open(sdists[0]) as tar:
        prefix = f"photodesk-{photodesk.__version__}/"
        in_sdist = {n.removeprefix(prefix) for n in tar.getnames()}
    expected = _runtime_files()
    # The data files the program reads at run time must be among them.
    for needed in (
        "photodesk/core/media/data/countries.tsv",
        "photodesk/core/catalog/db/migrations/script.py.mako",
        "photodesk/sync/static/index.html",
        "photodesk/sync/templates/share_gallery.html",
        "photodesk/ui/resources/basemap/ne_50m_land.json",
        "photodesk/ui/resources/icons/photodesk-256.png",
    ):
        assert needed in expected
    assert any(f.startswith("photodesk/core/catalog/db/migrations/versions/") for f in expected)
    assert [f for f in expected if f not in in_wheel] == []
    assert [f for f in expected if f not in in_sdist] == []
    assert not [n for n in in_wheel if "__pycache__" in n or n.endswith(".pyc")]
    entry_points = (
        zipfile.ZipFile(wheels[0])
        .read(f"photodesk-{photodesk.__version__}.dist-info/entry_points.txt")
        .decode()
    )
    assert "photodesk = photodesk.cli.main:main" in entry_points


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its ``photodesk`` command."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    # Nothing of the source tree may leak in: a PYTHONPATH naming it (and a photodesk.egg-info
    # left there by a build) would make pip think photodesk is installed already.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    wheel = next(dist.glob("*.whl"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    # The dependencies come from this environment's site-packages (a path line, no source tree).
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "_photodesk_test_deps.pth").write_text("\n".join(deps) + "\n")
    command = venv / ("Scripts/photodesk.exe" if os.name == "nt" else "bin/photodesk")
    assert command.is_file()
    return command


def test_the_installed_package_comes_from_the_venv_not_the_source(installed: Path, tmp_path):
    venv = installed.parent.parent
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONNOUSERSITE": "1"}
    out = subprocess.run(
        [
            str(installed.parent / "python"),
            "-c",
            "import photodesk, photodesk.ui.identity as i; print(photodesk.__file__); "
            "print(i.ICONS); print(sorted(p.name for p in i.ICONS.iterdir()))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(venv), out
    assert not Path(out[0]).is_relative_to(REPO)
    assert Path(out[1]).is_relative_to(venv)
    assert "photodesk-512.png" in out[2]


def test_the_installed_program_imports_lists_serves_and_renders(installed: Path, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "installers" / "smoke.py"),
            "--program",
            str(installed),
            "--version",
            photodesk.__version__,
            "--serve",
            "--screenshot",
            "--work",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "smoke: all steps passed" in proc.stdout
    assert (tmp_path / "timeline.png").is_file()
