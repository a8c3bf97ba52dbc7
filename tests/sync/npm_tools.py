"""Node.js packages for the tests (Immich CLI, oidc-provider): installed from npm once, cached."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

_UNREACHABLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH")


def cache_dir(name: str) -> Path:
    base = os.environ.get("PHOTODESK_TEST_CACHE") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "photodesk" / name


def node_of(cache: Path) -> Path:
    """Node 22 from npm's ``node`` package (the machine's own Node may be older)."""
    return cache / "node_modules" / "node" / "bin" / "node"


def npm_install(name: str, packages: tuple[str, ...], *marks: str) -> Path:
    """The cache folder ``name`` with ``packages`` installed (``marks``: files, relative to it,
    whose presence means the install is done). Skips when npm or its registry is out of reach."""
    cache = cache_dir(name)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers install once
        if not (node_of(cache).exists() and all((cache / m).exists() for m in marks)):
            npm = shutil.which("npm")
            if npm is None:
                pytest.skip(f"npm is not installed, so {', '.join(packages)} cannot be installed")
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                 str(cache), *packages],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                if any(code in done.stdout + done.stderr for code in _UNREACHABLE):
                    pytest.skip(f"the npm registry is unreachable: cannot install {packages}")
                pytest.fail(f"npm install failed:\n{done.stdout}\n{done.stderr}")
    return cache
