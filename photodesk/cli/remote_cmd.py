"""``photodesk remote add|status|remove|fetch`` and ``photodesk sync``: a library and its server."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import InvalidInput, Library
from photodesk.core.sync import RemoteRefused, RemoteUnavailable, SyncReport


def add_parser(sub: Any) -> None:
    p = sub.add_parser("remote", help="pair this library with a photodesk server")
    rsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = rsub.add_parser("add", help="pair with a server account (the library becomes theirs)")
    a.add_argument("url", help="the server, e.g. http://nas.local:2283")
    a.add_argument("--email", help="the account to sign in as")
    how = a.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    how.add_argument(
        "--api-key-stdin",
        action="store_true",
        help="read an API key from standard input (accounts with two factors or single sign-on)",
    )
    how.add_argument(
        "--browser",
        action="store_true",
        help="sign in in the web browser (two factors, single sign-on): it hands this device a key",
    )
    a.add_argument("--device", help="this device's name on the server (default: the host name)")
    a.add_argument("--json", action="store_true")
    s = rsub.add_parser("status", help="server, account, last sync, pending changes, errors")
    s.add_argument("--json", action="store_true")
    s.add_argument("--offline", action="store_true", help="do not ask the server")
    rsub.add_parser("remove", help="unpair (photos and edits stay in this library)")
    w = rsub.add_parser(
        "worker",
        help="let this computer analyse the server's photos (faces, smart search) in the "
        "background while the app runs (the account must be the server's administrator)",
    )
    w.add_argument("state", choices=["on", "off", "status"])
    c = rsub.add_parser(
        "settings", help="previews always / on demand; originals on demand, per album or all"
    )
    c.add_argument("--previews", choices=("always", "on_demand"))
    c.add_argument(
        "--originals",
        choices=("on_demand", "albums", "all"),
        help="on_demand: fetched when opened 1:1 or exported; albums: kept offline for the "
        "--offline-album albums; all: every original kept offline",
    )
    c.add_argument(
        "--offline-album", action="append", metavar="NAME",
        help="an album whose originals are kept offline (repeat; replaces the list)",
    )  # fmt: skip
    c.add_argument("--json", action="store_true")
    k = rsub.add_parser("conflicts", help="the latest conflicts sync decided")
    k.add_argument("--json", action="store_true")
    f = rsub.add_parser("fetch", help="download the originals of photos that are on the server")
    f.add_argument("ids", nargs="+", type=int, metavar="ID")

    p = sub.add_parser("sync", help="one two-way sync round with the paired server")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput(f"no {what} on standard input")
    return line


def _browser_opener(url: str) -> None:
    import webbrowser

    print("Sign in on the server's page to pair this device; if no browser opens, visit:",
          file=sys.stderr)  # fmt: skip
    print(f"  {url}", file=sys.stderr)
    sys.stderr.flush()
    webbrowser.open(url)


def run(lib: Library, args: argparse.Namespace) -> int:
    from photodesk.remote import pairing

    try:
        if args.command == "sync":
            return _sync(lib, args)
        if args.action == "add":
            password = key = None
            opener = None
            if args.browser:
                if args.email:
                    raise InvalidInput("--browser signs in on the server's page: leave out --email")
                opener = _browser_opener
            elif args.api_key_stdin:
                key = _stdin_line("API key")
            elif args.password_stdin:
                if not args.email:
                    raise InvalidInput("--password-stdin needs --email")
                password = _stdin_line("password")
            elif args.email:
                import getpass

                if not sys.stdin.isatty():
                    raise InvalidInput("standard input is not a terminal: use --password-stdin")
                password = getpass.getpass(f"Password for {args.email}: ")
            made = pairing.add(
                lib, args.url, email=args.email, password=password, api_key=key,
                device=args.device, browser=opener,
            )  # fmt: skip
            if args.json:
                output.dump(pairing.pairing_json(made))
            else:
                print(f"paired with {made.url} as {made.email} (device {made.device!r})")
                print("run `photodesk sync` to sync now")
            return 0
        if args.action == "status":
            info = pairing.status(lib, check=not args.offline)
            if args.json:
                output.dump(info)
            elif not info["paired"]:
                print("not paired (photodesk remote add URL)")
            else:
                print(f"server:    {info['server']} ({info['state']})")
                print(f"account:   {info['account']}")
                print(f"device:    {info['device']}")
                print(f"last sync: {info['last_sync'] or 'never'}")
                print(f"pending:   {info['pending']}")
                for err in info["errors"]:
                    print(f"error:     {err}")
            return 0 if not info.get("errors") else 1
        if args.action == "remove":
            gone = pairing.remove(lib)
            print(f"unpaired from {gone.url}")
            return 0
        if args.action == "worker":
            if args.state != "status":
                lib.sync.allow_worker(args.state == "on")
            on = lib.sync.worker_allowed()
            print(
                "working for the server: "
                + ("on (the app, or `photodesk jobs run`, works its ML jobs)" if on else "off")
            )
            return 0
        if args.action == "settings":
            now = lib.sync.set_settings(
                previews=args.previews, originals=args.originals,
                offline_albums=args.offline_album,
            )  # fmt: skip
            if args.json:
                output.dump(now.as_json())
            else:
                print(f"previews:  {now.previews}")
                print(f"originals: {now.originals}")
                if now.offline_albums:
                    print(f"offline albums: {', '.join(now.offline_albums)}")
            return 0
        if args.action == "conflicts":
            decided = lib.sync.conflicts()
            if args.json:
                output.dump([c.as_json() for c in decided])
            for c in [] if args.json else decided:
                if c.field == "same person":  # two names for people that share faces
                    print(f"{c.kept!r} and {c.dropped!r} share faces: both kept "
                          "(people merge A B if they are one person)")  # fmt: skip
                    continue
                print(f"{c.checksum[:12]}  {c.field}: kept {c.kept!r} ({c.winner}), "
                      f"dropped {c.dropped!r}")  # fmt: skip
            return 0
        if args.action == "fetch":
            for asset_id in args.ids:
                print(pairing.fetch_original(lib, asset_id))
            return 0
    except RemoteUnavailable as exc:
        print(f"photodesk: offline: {exc}", file=sys.stderr)
        return 1
    except RemoteRefused as exc:
        print(f"photodesk: {exc}", file=sys.stderr)
        return 1
    raise AssertionError(args)


def _sync(lib: Library, args: argparse.Namespace) -> int:
    from photodesk.remote import pairing

    started = time.monotonic()
    show = not args.json and sys.stderr.isatty()
    current = [""]

    def progress(step: str, done: int, total: int) -> None:
        nonlocal started
        if step != current[0]:  # each step has its own rate
            current[0], started = step, time.monotonic()
        if show and total:
            rate = done / max(time.monotonic() - started, 1e-3)
            eta = f", {(total - done) / rate:.0f} s left" if rate > 0 and total > done else ""
            sys.stderr.write(f"\r{step}: {done} of {total} ({rate:.0f}/s{eta})   ")
            sys.stderr.flush()

    report: SyncReport = pairing.sync(lib, progress)
    if show:
        sys.stderr.write("\n")
    if args.json:
        output.dump(report.as_json())
    else:
        print(
            f"pulled {report.pulled}, pushed {report.pushed}, uploaded {report.uploaded}, "
            f"thumbnails {report.thumbnails}, conflicts {len(report.conflicts)}"
            + (f", originals {report.originals}" if report.originals else "")
            + (f", previews {report.previews}" if report.previews else "")
        )
        for err in report.errors:
            print(f"error: {err}", file=sys.stderr)
    return 0 if not report.errors else 1


# Pairing may start a library: a new laptop's first step can be `remote add`, then `sync`.
COMMAND = Command(
    ("remote", "sync"),
    add_parser,
    run,
    creates=lambda args: args.command == "remote" and getattr(args, "action", None) == "add",
)
