"""Argument parsing and dispatch of the ``photodesk`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from photodesk import __version__
from photodesk.cli import (
    check_cmd,
    db_cmd,
    index_cmd,
    jobs_cmd,
    models_cmd,
    people_cmd,
    search_cmd,
    serve_cmd,
    share_cmd,
    users_cmd,
    watch_cmd,
    workers_cmd,
    xmp_cmd,
)


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc


def _ids(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", type=int, metavar="ID", help="asset ids (see `photodesk ls`)")


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

    p = sub.add_parser("import", help="import photos and videos from files and folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "--copy",
        action="store_true",
        help="copy into the library's originals/ folder (default: reference files where they are)",
    )
    p.add_argument(
        "--template",
        default=None,
        help="storage template for --copy (default: {year}/{month}/{filename}; also "
        "{day} {stem} {ext} {make} {model} {checksum})",
    )
    p.add_argument("--album", help="also add the imported photos to this album")
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")

    p = sub.add_parser("ls", help="list assets")
    p.add_argument("--json", action="store_true", help="print a JSON array of assets")
    p.add_argument("--kind", choices=["photo", "raw", "video"])
    p.add_argument(
        "--from", dest="taken_from", type=_date, metavar="DATE", help="taken on or after"
    )
    p.add_argument("--to", dest="taken_to", type=_date, metavar="DATE", help="taken before")
    p.add_argument("--tag", help="tag path; includes the tags below it")
    p.add_argument("--album")
    p.add_argument("--favorite", action="store_true", help="only favourites")
    p.add_argument("--rating", type=int, metavar="N", help="at least N stars")
    p.add_argument("--make")
    p.add_argument("--model")
    p.add_argument("--country", help="ISO code or name")
    p.add_argument("--city")
    p.add_argument("--path", dest="path_prefix", help="only files under this folder")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--archived", action="store_true", help="only archived assets")
    shown.add_argument("--trashed", action="store_true", help="only assets in the trash")
    shown.add_argument("--all", action="store_true", help="archived ones too")
    p.add_argument("--oldest-first", action="store_true")
    p.add_argument("--limit", type=int)

    p = sub.add_parser("show", help="show one asset")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("stats", help="library statistics")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("errors", help="files that could not be imported, and why")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("tag", help="hierarchical tags")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("add", "tag assets"), ("remove", "untag assets")):
        tp = tsub.add_parser(name, help=text)
        tp.add_argument("tag", help="tag path, e.g. Places/France/Paris")
        _ids(tp)
    tp = tsub.add_parser("list", help="the tag tree with counts")
    tp.add_argument("--json", action="store_true")
    tp = tsub.add_parser("delete", help="delete a tag and the tags below it")
    tp.add_argument("tag")

    p = sub.add_parser("album", help="albums")
    asub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ap = asub.add_parser("create", help="create an album")
    ap.add_argument("name")
    ap.add_argument("--description", default="")
    ap = asub.add_parser("list", help="list albums")
    ap.add_argument("--json", action="store_true")
    for name, text in (("add", "add assets"), ("remove", "remove assets")):
        ap = asub.add_parser(name, help=text)
        ap.add_argument("album", help="album name or id")
        _ids(ap)
    ap = asub.add_parser("rename", help="rename an album")
    ap.add_argument("album")
    ap.add_argument("new_name")
    ap = asub.add_parser("delete", help="delete an album (its photos stay)")
    ap.add_argument("album")

    jobs_cmd.add_parser(sub)
    check_cmd.add_parser(sub)
    db_cmd.add_parser(sub)
    workers_cmd.add_parser(sub)
    watch_cmd.add_parser(sub)
    serve_cmd.add_parser(sub)
    users_cmd.add_parser(sub)
    share_cmd.add_parser(sub)
    models_cmd.add_parser(sub)
    search_cmd.add_parser(sub)
    people_cmd.add_parser(sub)
    index_cmd.add_parser(sub)
    xmp_cmd.add_parser(sub)

    p = sub.add_parser("gui", help="open the desktop app (or render it to a PNG and exit)")
    p.add_argument(
        "--screenshot", metavar="FILE.png", help="render offscreen to this file and exit"
    )
    p.add_argument(
        "--view",
        default="timeline",
        help="timeline, viewer, map, people, search, "
        "albums, tags, folders, favourites, archive or trash",
    )
    p.add_argument("--size", default="1400x900", help="window size, WIDTHxHEIGHT")

    p = sub.add_parser("rate", help="set the star rating (0-5)")
    p.add_argument("rating", type=int, choices=range(6), metavar="STARS")
    _ids(p)
    for name, text in (
        ("favorite", "mark as favourite"),
        ("archive", "archive (hide from the timeline)"),
    ):
        p = sub.add_parser(name, help=text)
        _ids(p)
        p.add_argument("--off", action="store_true", help="undo")
    p = sub.add_parser("trash", help="move to the trash (kept 30 days)")
    _ids(p)
    p = sub.add_parser("restore", help="take out of the trash")
    _ids(p)
    p = sub.add_parser("empty-trash", help="forget what has been in the trash for 30 days")
    p.add_argument("--days", type=int, default=30)
    return parser


def _run(library: Any, args: argparse.Namespace) -> int:
    if args.command in ("users", "apikeys"):
        return users_cmd.run(library, args)
    if args.command == "share":
        return share_cmd.run(library, args)
    if args.command == "db":
        return db_cmd.run(library, args)
    if args.command == "workers":
        return workers_cmd.run(library, args)
    if args.command == "edit":
        return xmp_cmd.run_edit(library, args)
    if args.command == "xmp":
        return xmp_cmd.run_xmp(library, args)
    ml_commands = {"search": search_cmd, "people": people_cmd, "index": index_cmd}
    if args.command in ml_commands:
        return int(ml_commands[args.command].run(library, args))
    from photodesk.cli import commands

    return commands.dispatch(library, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "models":  # needs the library folder, not an open library
        return models_cmd.run(args)
    from photodesk.bootstrap import open_library
    from photodesk.core import PhotodeskError

    if args.command == "gui" and args.screenshot:
        from pathlib import Path

        from photodesk.ui.screenshot import screenshot

        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"photodesk: bad --size {args.size!r} (use 1400x900)", file=sys.stderr)
            return 2
        try:
            return screenshot(
                args.library, Path(args.screenshot), args.view.lower(), (width, height)
            )
        except PhotodeskError as exc:
            print(f"photodesk: {exc}", file=sys.stderr)
            return 1
    if args.command == "serve":
        return serve_cmd.run(args)  # opens the library itself (its config file may name it)
    if args.command == "worker":  # a remote worker opens no library
        return workers_cmd.run_worker(args)
    try:
        library = open_library(args.library)
    except PhotodeskError as exc:
        print(f"photodesk: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command in (None, "gui"):
            from photodesk.ui.app import run

            return run(library)
        rc = _run(library, args)
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
