"""Argument parsing and dispatch of the ``photodesk`` command, through the command registry."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from photodesk import __version__
from photodesk.cli import (
    check_cmd,
    commands,
    gui_cmd,
    index_cmd,
    jobs_cmd,
    memories_cmd,
    models_cmd,
    people_cmd,
    remote_cmd,
    search_cmd,
    serve_cmd,
    share_cmd,
    users_cmd,
    watch_cmd,
    xmp_cmd,
)
from photodesk.cli.registry import Command

# Every command, in the order ``photodesk --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    commands.COMMAND,
    jobs_cmd.COMMAND,
    check_cmd.COMMAND,
    watch_cmd.COMMAND,
    serve_cmd.COMMAND,
    users_cmd.COMMAND,
    share_cmd.COMMAND,
    models_cmd.COMMAND,
    search_cmd.COMMAND,
    people_cmd.COMMAND,
    index_cmd.COMMAND,
    xmp_cmd.COMMAND,
    remote_cmd.COMMAND,

    memories_cmd.COMMAND,
    gui_cmd.COMMAND,
)
BY_NAME: dict[str, Command] = {name: c for c in COMMANDS for name in c.names}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photodesk",
        description="A fast, offline photo manager. With no command, opens the desktop app.",
    )
    parser.add_argument(
        "--library",
        metavar="DIR",
        help="library folder (default: $PHOTODESK_LIBRARY or the platform's user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument(
        "--version", action="version", version=f"photodesk {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command = BY_NAME[args.command or "gui"]
    if command.run_alone is not None:
        return command.run_alone(args)
    assert command.run is not None, f"{command.names} runs neither alone nor on a library"
    from photodesk.bootstrap import open_library
    from photodesk.core import PhotodeskError

    options = command.library_options(args) if command.library_options else None
    try:
        library = open_library(args.library, options=options)
    except PhotodeskError as exc:
        print(f"photodesk: {exc}", file=sys.stderr)
        return 2
    try:
        rc = command.run(library, args)
        # Edits queue XMP write-backs: do them now, as the app or daemon would in the background.
        library.xmp.flush()
        return rc
    except PhotodeskError as exc:
        print(f"photodesk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("photodesk: interrupted", file=sys.stderr)
        return 130
    finally:
        library.close()
