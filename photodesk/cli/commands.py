"""The CLI's subcommands, each a few lines over the core's public API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from photodesk.cli import output
from photodesk.core import DEFAULT_TEMPLATE, AssetQuery, ImportPayload, JobName, Library


def cmd_import(lib: Library, args: argparse.Namespace) -> int:
    """Queue an import job and run it in the foreground: a crash leaves it to resume later."""
    lib.jobs.recover()
    payload = ImportPayload(
        paths=[os.path.abspath(p) for p in args.paths],
        copy=args.copy,
        template=args.template or DEFAULT_TEMPLATE,
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
        )
        for f in report["failed"]:
            print(f"  failed: {f['path']}: {f['error']}")
        for w in report["warnings"]:
            print(f"  warning: {w['path']}: {w['warning']}")
    nothing = not (report["imported"] or report["unchanged"] or report["duplicates"])
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
    if args.json:
        output.dump(output.asset_json(a))
    else:
        print(output.asset_detail(a))
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


def cmd_album(lib: Library, args: argparse.Namespace) -> int:
    if args.action == "create":
        album_id = lib.albums.create(args.name, args.description)
        print(album_id)
    elif args.action == "add":
        lib.albums.add(args.album, args.ids)
    elif args.action == "remove":
        lib.albums.remove(args.album, args.ids)
    elif args.action == "rename":
        lib.albums.rename(args.album, args.new_name)
    elif args.action == "delete":
        lib.albums.delete(args.album)
    else:
        albums = lib.albums.list()
        if args.json:
            output.dump(
                [
                    {
                        "id": a.id,
                        "name": a.name,
                        "description": a.description,
                        "count": a.asset_count,
                        "cover": a.cover_asset_id,
                    }
                    for a in albums
                ]
            )
        else:
            for a in albums:
                print(f"{a.id:>5}  {a.name} ({a.asset_count})")
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
    if cmd == "jobs":
        from photodesk.cli import jobs_cmd

        return jobs_cmd.run(lib, args)
    if cmd == "watch":
        from photodesk.cli import watch_cmd

        return watch_cmd.run(lib, args)
    if cmd in ("check", "backup"):
        from photodesk.cli import check_cmd

        return check_cmd.run(lib, args)
    handlers: dict[str, Callable[[Library, argparse.Namespace], int]] = {
        "import": cmd_import,
        "ls": cmd_ls,
        "show": cmd_show,
        "stats": cmd_stats,
        "errors": cmd_errors,
        "tag": cmd_tag,
        "album": cmd_album,
    }
    return handlers[cmd](lib, args)
