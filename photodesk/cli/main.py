"""Argument parsing and dispatch of the ``photodesk`` command, through the command registry."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence

from photodesk import __version__
from photodesk.cli import (
    check_cmd,
    commands,
    db_cmd,
    gui_cmd,
    index_cmd,
    init_cmd,
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
    workers_cmd,
    xmp_cmd,
)
from photodesk.cli.registry import Command

# Every command, in the order ``photodesk --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    init_cmd.COMMAND,
    commands.COMMAND,
    jobs_cmd.COMMAND,
    check_cmd.COMMAND,
    db_cmd.COMMAND,
    watch_cmd.COMMAND,
    serve_cmd.COMMAND,
    workers_cmd.COMMAND,
    workers_cmd.WORKER,
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
        "--debug", action="store_true", help="log everything; show the traceback of a failure"
    )
    parser.add_argument(
        "--version", action="version", version=f"photodesk {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The one dispatch point: every failure becomes one line on stderr and exit status 1 (2 for
    usage, from argparse), never a traceback unless ``--debug``."""
    # Starting allocates hundreds of thousands of objects that live as long as the process
    # (modules, classes, the catalog's schema): the cyclic collector's passes over them cost a
    # tenth of the start. It runs again once the command starts its work (the desktop app: once
    # its first screen is up, photodesk.ui.app).
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from photodesk.core import PhotodeskError

    try:
        status = _execute(args)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return status
    except PhotodeskError as exc:
        _fail(str(exc), args)
    except KeyboardInterrupt:
        print("photodesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`photodesk ls | head`): nothing to report, and Python must not
        # complain again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", args)
    except Exception as exc:  # a bug: still one line, the traceback with --debug
        _fail(f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)", args)
    return 1


def _fail(message: str, args: argparse.Namespace) -> None:
    if args.debug:
        raise  # the exception being handled, with its traceback
    print(f"photodesk: {message}", file=sys.stderr)


def _execute(args: argparse.Namespace) -> int:
    command = BY_NAME[args.command or "gui"]
    if command is not gui_cmd.COMMAND:
        gc.enable()
    if command.run_alone is not None:
        return command.run_alone(args)
    assert command.run is not None, f"{command.names} runs neither alone nor on a library"
    from photodesk.bootstrap import open_library

    options = command.library_options(args) if command.library_options else None
    create = command.creates(args) if command.creates else False
    library = open_library(args.library, options=options, create=create)
    try:
        rc = command.run(library, args)
        # Edits queue XMP write-backs: do them now, as the app or daemon would in the background.
        library.xmp.flush()
        return rc
    finally:
        library.close()
