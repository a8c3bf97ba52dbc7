"""``photodesk gui`` (and no command at all): the desktop app, or a screenshot of one view."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from photodesk.cli.registry import Command
from photodesk.core import Library, LibraryOptions


def add_parser(sub: Any) -> None:
    p = sub.add_parser("gui", help="open the desktop app (or render it to a PNG and exit)")
    p.add_argument(
        "--screenshot", metavar="FILE.png", help="render offscreen to this file and exit"
    )
    p.add_argument(
        "--view",
        default="timeline",
        help="timeline, memories, events, viewer, map, people, search, "
        "albums, tags, folders, duplicates, favourites, archive or trash",
    )
    p.add_argument("--size", default="1400x900", help="window size, WIDTHxHEIGHT")
    p.add_argument(
        "--theme", default="light", choices=("light", "dark", "system"), help="for --screenshot"
    )


def library_options(args: argparse.Namespace) -> LibraryOptions | None:
    """The desktop's options (import workers yield to the GUI); none for a screenshot."""
    if getattr(args, "screenshot", None):
        return None
    from photodesk.ui.app import LIBRARY_OPTIONS

    return LIBRARY_OPTIONS


def run(library: Library, args: argparse.Namespace) -> int:
    if getattr(args, "screenshot", None):
        from photodesk.ui.screenshot import screenshot

        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"photodesk: bad --size {args.size!r} (use 1400x900)", file=sys.stderr)
            return 2
        return screenshot(
            library, Path(args.screenshot), args.view.lower(), (width, height), args.theme
        )
    from photodesk.ui.app import run as run_app

    return run_app(library)


COMMAND = Command(("gui",), add_parser, run, library_options=library_options)
