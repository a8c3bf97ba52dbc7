"""``photodesk gui`` (and no command at all): the desktop app, or a screenshot of one view."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from photodesk.cli.registry import Command


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


def run_alone(args: argparse.Namespace) -> int:
    """The app checks the display and finds (or, on the first run, creates) its library before
    any is opened; a screenshot renders an existing library and never makes one."""
    from photodesk.bootstrap import open_library

    if getattr(args, "screenshot", None):
        from photodesk.ui.screenshot import screenshot

        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"photodesk: bad --size {args.size!r} (use 1400x900)", file=sys.stderr)
            return 2
        library = open_library(args.library)  # create=False: a typo is an error, not a library
        try:
            return screenshot(
                library, Path(args.screenshot), args.view.lower(), (width, height), args.theme
            )
        finally:
            library.close()
    from photodesk.ui.launch import launch

    return launch(args.library, open_library)


COMMAND = Command(("gui",), add_parser, run_alone=run_alone)
