"""The ``photodesk watch`` command: add, remove and list watched folders, or run the watcher."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_SETTLE_S,
    FileService,
    Library,
    LibraryOptions,
    PhotodeskError,
    network_fs_type,
)


def add_parser(subparsers: Any) -> None:
    """Add ``watch`` and its actions to the ``photodesk`` sub-command parsers."""
    p = subparsers.add_parser(
        "watch", help="watched folders: import what lands in them, follow moves and deletions"
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = sub.add_parser("add", help="watch a folder (a local folder or a network share)")
    a.add_argument("path", metavar="PATH")
    a.add_argument(
        "--copy",
        action="store_true",
        help="copy new files into the library's originals/ (default: reference them in place)",
    )
    a.add_argument(
        "--poll",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="always (--poll) or never (--no-poll) poll this folder instead of using file-system "
        "events (default: poll network shares only)",
    )
    a.add_argument(
        "--user",
        metavar="EMAIL",
        help="make it this account's inbox: new files are copied in as that account's uploads "
        "(for Syncthing, Resilio or a share a phone app fills); the server runs it",
    )
    after = a.add_mutually_exclusive_group()
    after.add_argument(
        "--delete-after-import",
        action="store_true",
        help="with --user: remove each file from the inbox once its import is verified",
    )
    after.add_argument(
        "--keep",
        action="store_true",
        help="with --user: leave imported files in the inbox (the default)",
    )
    r = sub.add_parser("remove", help="stop watching a folder (its photos stay in the library)")
    r.add_argument("path", metavar="PATH")
    ls = sub.add_parser("list", help="list watched folders")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    run_p = sub.add_parser("run", help="watch until Ctrl-C or SIGTERM, logging what is imported")
    run_p.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_S,
        metavar="SECONDS",
        help=f"import a file once unchanged this long (default {DEFAULT_SETTLE_S:g})",
    )
    run_p.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_POLL_INTERVAL_S,
        metavar="SECONDS",
        help=f"polling interval for network shares (default {DEFAULT_POLL_INTERVAL_S:g})",
    )
    run_p.add_argument("--poll", action="store_true", help="poll every folder")
    run_p.add_argument(
        "--workers", type=int, default=None, help="import worker processes (default: automatic)"
    )


def library_options(args: argparse.Namespace) -> LibraryOptions | None:
    """``watch run`` opens the library with its watcher's settings."""
    if args.action != "run":
        return None
    return LibraryOptions(
        watch_settle_s=args.settle,
        watch_poll_interval_s=args.interval,
        watch_polling=True if args.poll else None,
        watch_workers=args.workers,
    )


def run(lib: Library, args: argparse.Namespace) -> int:
    """Run ``photodesk watch ACTION``; returns the exit status."""
    files = lib.files
    if args.action == "add" and args.user:
        return _add_inbox(lib, files, args)
    if args.action == "add":
        if args.delete_after_import:
            print("photodesk: --delete-after-import needs --user EMAIL (an inbox)", file=sys.stderr)
            return 2
        w = files.add_watched(args.path, copy=args.copy, polling=args.poll)
        fs = network_fs_type(w.path)
        how = (
            "polled"
            if w.polling or (w.polling is None and fs)
            else "followed through file-system events"
        )
        print(f"watching {w.path}{' (copying into the library)' if w.copy else ''}")
        print(f"  {f'network share ({fs}); ' if fs else ''}it will be {how}")
        print("  `photodesk watch run` (or the desktop app) imports what is there and what arrives")
        return 0
    if args.action == "remove":
        w = files.remove_watched(args.path)
        print(f"no longer watching {w.path} (its photos stay in the library)")
        return 0
    if args.action == "list":
        return _list(lib, files, as_json=args.json)
    return _run(lib, args)


def _add_inbox(lib: Library, files: FileService, args: argparse.Namespace) -> int:
    account = lib.accounts.by_email(args.user)
    w = files.add_watched(
        args.path,
        polling=args.poll,
        inbox_for=account.id,
        delete_after_import=args.delete_after_import,
    )
    after = "removed once imported" if w.delete_after_import else "kept after the import"
    print(f"inbox {w.path} for {account.email}: new photos and videos become theirs ({after})")
    print("  `photodesk serve` (or `photodesk watch run`) imports what is there and what arrives")
    return 0


def _owners(lib: Library) -> dict[int, str]:
    try:
        return {a.id: a.email for a in lib.accounts.list_users()}
    except PhotodeskError:
        return {}


def _list(lib: Library, files: FileService, *, as_json: bool) -> int:
    folders = files.watched()
    owners = _owners(lib) if any(w.inbox for w in folders) else {}
    if as_json:
        output.dump(
            [
                {
                    "path": w.path,
                    "copy": w.copy,
                    "enabled": w.enabled,
                    "polling": w.polling,
                    "network": network_fs_type(w.path),
                    "inbox_for": owners.get(w.owner_id) if w.inbox else None,
                    "delete_after_import": w.delete_after_import,
                    "last_scan_at": w.last_scan_at.isoformat(timespec="seconds")
                    if w.last_scan_at
                    else None,
                }
                for w in folders
            ]
        )
        return 0
    if not folders:
        print("no watched folders (add one with `photodesk watch add PATH`)")
    for w in folders:
        flags = [
            "copy" if w.copy else "reference",
            {True: "poll", False: "events", None: "auto"}[w.polling],
        ]
        if w.inbox:
            flags[0] = f"inbox of {owners.get(w.owner_id, w.owner_id)}"
            flags.append("delete after import" if w.delete_after_import else "keep")
        if not w.enabled:
            flags.append("disabled")
        scanned = w.last_scan_at.strftime("%Y-%m-%d %H:%M") if w.last_scan_at else "never"
        print(f"{w.path}  [{', '.join(flags)}]  last scan: {scanned}")
    return 0


def _run(lib: Library, args: argparse.Namespace) -> int:
    if not lib.files.watched():
        print(
            "photodesk: no watched folders (add one with `photodesk watch add PATH`)",
            file=sys.stderr,
        )
        return 1
    logger = logging.getLogger("photodesk.core.ingest.watch")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    watcher = lib.watch  # configured by library_options() when the library was opened
    lib.start_background(jobs=False)
    print("watching; Ctrl-C to stop", file=sys.stderr)
    try:
        while not stop.wait(0.5) and watcher.running:
            pass
    finally:
        lib.stop_background()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", file=sys.stderr)
    return 0


COMMAND = Command(("watch",), add_parser, run, library_options=library_options)
