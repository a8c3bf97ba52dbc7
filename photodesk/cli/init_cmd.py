"""``photodesk init``: create a library (the one command besides ``import`` and ``watch add``
that makes one where there is none)."""

from __future__ import annotations

import argparse
from typing import Any

from photodesk.cli.registry import Command


def add_parser(sub: Any) -> None:
    sub.add_parser("init", help="create a library (--library DIR, else the default folder)")


def run(args: argparse.Namespace) -> int:
    from photodesk.bootstrap import open_library
    from photodesk.core import LibraryError
    from photodesk.settings import resolve_library_dir

    root = resolve_library_dir(args.library).expanduser().resolve()
    try:
        open_library(root, ml=False).close()
        said = "a photodesk library is already at"
    except LibraryError:  # none there (or unusable: creating it says why in one line)
        open_library(root, ml=False, create=True).close()
        said = "created a library at"
    print(f"{said} {root}")
    return 0


COMMAND = Command(("init",), add_parser, run_alone=run)
