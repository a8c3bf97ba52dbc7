"""Headless Chromium for the web-page tests: Debian's browser driven by Playwright (no download)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest


def chromium_path() -> str | None:
    """Debian's chromium binary (or one on PATH); never a Playwright download."""
    for candidate in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module (skips where no chromium is installed)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the dev extra")
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium executable (apt-get install chromium; .ci/run installs it)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=args)
        try:
            yield b
        finally:
            b.close()
