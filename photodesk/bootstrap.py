"""Composition root: opens the library for every front end (and, later, wires ML providers in)."""

from __future__ import annotations

import os
from pathlib import Path

from photodesk.core import Library
from photodesk.settings import resolve_library_dir


def open_library(library: str | os.PathLike[str] | Path | None = None) -> Library:
    return Library.open(resolve_library_dir(library))
