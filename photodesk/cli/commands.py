"""The CLI's subcommands, each a few lines over the core's public API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from photodesk.cli import output
from photodesk.cli.args import count_arg, name_arg, positive_arg
from photodesk.cli.registry import Command
from photodesk.core import (
    DEFAULT_TEMPLATE,
    AssetQuery,
    ImportPayload,
    JobName,
    Library,
    check_template,
)


def cmd_import(lib: Library, args: argparse.Namespace) -> int:
    """Queue an import job and run it in the foreground: a crash leaves it to resume later."""
    template = check_template(args.template or DEFAULT_TEMPLATE)  # before a job is queued
    lib.jobs.recover()
    payload = ImportPayload(
        paths=[os.path.abspath(p) for p in args.paths],
        copy=args.copy,
        template=template,
        album=args.album,
        _workers=args.workers,
    )
    job_id = lib.jobs.enqueue(JobName.IMPORT, None, payload, priority=10)
    progress, close = output.progress_bar(not args.json and sys.stderr.isatty())
    try:
        info = lib.jobs.run(job_id, progress)
    finally:
        close()
    if info.state != "done" or info.result is None:
        print(f"photodesk: import failed: {info.last_error}", file=sys.stderr)
        return 1
    report = info.result
    lib.maintenance.backup_if_due()  # the daily automatic backup, now that the catalog changed
    if args.json:
        output.dump({k: v for k, v in report.items() if k != "asset_count"})
    else:
        print(
            f"scanned {report['scanned']}: imported {report['imported']}, "
            f"duplicates {report['duplicates']}, unchanged {report['unchanged']}, "
            f"relinked {report['relinked']}, failed {len(report['failed'])}"
            + (f", copied in {report['copied']}" if report.get("copied") else "")
        )
        for f in report["failed"]:
            print(f"  failed: {f['path']}: {f['error']}")
        for w in report["warnings"]:
            print(f"  warning: {w['path']}: {w['warning']}")
    nothing = not (
        report["imported"] or report["unchanged"] or report["duplicates"] or report.get("copied")
    )
    return 1 if report["failed"] and nothing else 0


def cmd_ls(lib: Library, args: argparse.Namespace) -> int:
    query = AssetQuery(
        kind=args.kind,
        taken_from=args.taken_from,
        taken_to=args.taken_to,
        tag=args.tag,
        album=args.album,
        favorite=True if args.favorite else None,
        min_rating=args.rating,
        make=args.make,
        model=args.model,
        country=args.country,
        city=args.city,
        path_prefix=args.path_prefix,
        archived=True if args.archived else (None if args.all or args.trashed else False),
        trashed=args.trashed,
        limit=args.limit,
        newest_first=not args.oldest_first,
    )
    assets = lib.assets.list(query)
    if args.json:
        output.dump([output.asset_json(a) for a in assets])
    else:
        for a in assets:
            print(output.asset_line(a))
    return 0


def cmd_show(lib: Library, args: argparse.Namespace) -> int:
    a = lib.assets.get(args.id)
    notes = lib.assets.metadata_warnings(a.id)
    if args.json:
        output.dump({**output.asset_json(a), "metadata_warnings": notes})
    else:
        print(output.asset_detail(a))
        for note in notes:
            print(f"warning   {note}")
    return 0


def cmd_stats(lib: Library, args: argparse.Namespace) -> int:
    s = lib.assets.stats()
    if args.json:
        from dataclasses import asdict

        output.dump(asdict(s))
    else:
        print(f"library      {lib.root}")
        print(output.stats_text(s))
    return 0


def cmd_errors(lib: Library, args: argparse.Namespace) -> int:
    errors = lib.assets.import_errors()
    if args.json:
        output.dump([{"path": p, "error": e} for p, e in errors])
    else:
        for p, e in errors:
            print(f"{p}: {e}")
    return 0


def cmd_tag(lib: Library, args: argparse.Namespace) -> int:
    if args.action == "add":
        lib.tags.add(args.ids, args.tag)
    elif args.action == "remove":
        lib.tags.remove(args.ids, args.tag)
    elif args.action == "delete":
        lib.tags.delete(args.tag)
    else:
        nodes = lib.tags.tree()
        if args.json:
            output.dump([{"path": n.path, "name": n.name, "count": n.asset_count} for n in nodes])
        else:
            for n in nodes:
                depth = n.path.count("/")
                print(f"{'  ' * depth}{n.name} ({n.asset_count})")
    return 0


def _shared_album(lib: Library, album: str) -> int | None:
    """The id of an album another account shared with this one, named by id or name, when no
    own album has that id or name (own albums come first)."""
    own = lib.albums.list()
    if any(str(a.id) == album or a.name == album for a in own):
        return None
    shared = [a for a in lib.shares.albums_for(lib.owner_id) if a.role != "owner"]
    found = [a.id for a in shared if str(a.id) == album] or [
        a.id for a in shared if a.name == album
    ]
    return found[0] if found else None


def cmd_album(lib: Library, args: argparse.Namespace) -> int:
    if args.action == "create":
        album_id = lib.albums.create(args.name, args.description)
        print(album_id)
    elif args.action in ("add", "remove"):
        theirs = _shared_album(lib, args.album)
        if theirs is None:  # one of this account's albums (NotFound if none)
            change = lib.albums.add if args.action == "add" else lib.albums.remove
            change(args.album, args.ids)
        elif args.action == "add":  # an album shared with this account: an editor's rules
            lib.shares.add_to_album(lib.owner_id, theirs, args.ids)
        else:
            lib.shares.remove_from_album(lib.owner_id, theirs, args.ids)
    elif args.action == "rename":
        lib.albums.rename(args.album, args.new_name)
    elif args.action == "delete":
        lib.albums.delete(args.album)
    else:
        albums = lib.albums.list()
        # albums other accounts shared with this one (synced from the paired server)
        shared = [a for a in lib.shares.albums_for(lib.owner_id) if a.role != "owner"]
        if args.json:
            output.dump(
                [
                    {
                        "id": a.id,
                        "name": a.name,
                        "description": a.description,
                        "count": a.asset_count,
                        "cover": a.cover_asset_id,
                        "shared_by": None,
                        "role": "owner",
                    }
                    for a in albums
                ]
                + [
                    {
                        "id": a.id,
                        "name": a.name,
                        "description": a.description,
                        "count": a.asset_count,
                        "cover": a.cover_asset_id,
                        "shared_by": {"email": a.owner_email, "name": a.owner_name or None},
                        "role": a.role,
                    }
                    for a in shared
                ]
            )
        else:
            for a in albums:
                print(f"{a.id:>5}  {a.name} ({a.asset_count})")
            for s in shared:
                by = s.owner_name or s.owner_email
                print(f"{s.id:>5}  {s.name} ({s.asset_count})  shared by {by}, {s.role}")
    return 0


def dispatch(lib: Library, args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "rate":
        lib.assets.set_rating(args.ids, args.rating)
        return 0
    if cmd == "favorite":
        lib.assets.set_favorite(args.ids, not args.off)
        return 0
    if cmd == "archive":
        lib.assets.set_archived(args.ids, not args.off)
        return 0
    if cmd == "trash":
        lib.assets.trash(args.ids)
        return 0
    if cmd == "restore":
        lib.assets.restore(args.ids)
        return 0
    if cmd == "empty-trash":
        print(f"removed {lib.assets.purge_trash(older_than_days=args.days)} assets")
        return 0
    return COMMANDS[cmd](lib, args)


COMMANDS: dict[str, Callable[[Library, argparse.Namespace], int]] = {
    "import": cmd_import,
    "ls": cmd_ls,
    "show": cmd_show,
    "stats": cmd_stats,
    "errors": cmd_errors,
    "tag": cmd_tag,
    "album": cmd_album,
}


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc


def _ids(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", type=int, metavar="ID", help="asset ids (see `photodesk ls`)")


def add_parser(sub: Any) -> None:
    """Import, listing, tags, albums and the flags of assets."""
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
    p.add_argument("--album", type=name_arg, help="also add the imported photos to this album")
    p.add_argument(
        "--workers", type=positive_arg, default=None, help="worker processes (default: all cores)"
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
    p.add_argument(
        "--rating", type=int, choices=range(6), metavar="N", help="at least N stars (0-5)"
    )
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
    p.add_argument("--limit", type=count_arg)

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
    p.add_argument("--days", type=count_arg, default=30)


COMMAND = Command(
    (
        "import",
        "ls",
        "show",
        "stats",
        "errors",
        "tag",
        "album",
        "rate",
        "favorite",
        "archive",
        "trash",
        "restore",
        "empty-trash",
    ),
    add_parser,
    dispatch,
    creates=lambda args: args.command == "import",
)
