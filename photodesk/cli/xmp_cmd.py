"""``photodesk edit`` (title, description, date, location) and ``photodesk xmp`` (write-back)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import InvalidInput, Library, parse_coordinates


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "edit", help="set the title, description, capture date or location of assets"
    )
    p.add_argument("ids", nargs="+", type=int, metavar="ID", help="asset ids (see `photodesk ls`)")
    p.add_argument("--title", help='a one-line title ("" clears it)')
    p.add_argument("--description", help='a description ("" clears it)')
    p.add_argument(
        "--date",
        metavar="ISO",
        help="capture time, local, with the UTC offset when known: 2024-07-04T10:15:00+02:00",
    )
    p.add_argument(
        "--location",
        metavar="LAT,LON|PLACE",
        help='coordinates ("48.8584, 2.2945", 48°51\'30"N 2°17\'40"E) or a place name '
        '("Paris" or "Paris, Texas"); "" clears it',
    )

    p = sub.add_parser("xmp", help="XMP sidecars: write photodesk's edits, re-read other apps'")
    xsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("write", "write the sidecars of these assets now (whatever the setting)"),
        ("read", "re-read these assets' sidecars and merge them (newer side wins per field)"),
    ):
        a = xsub.add_parser(name, help=text)
        a.add_argument("ids", nargs="*", type=int, metavar="ID")
        a.add_argument("--all", action="store_true", help="every asset of the library")
        a.add_argument("--json", action="store_true", help="print the outcome per asset as JSON")
    m = xsub.add_parser(
        "mode", help="show or set metadata.write_xmp: sidecar (default), embedded or off"
    )
    m.add_argument("mode", nargs="?", choices=["sidecar", "embedded", "off"])


def parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"not a date: {text!r} (use ISO 8601, e.g. 2024-07-04T10:15:00+02:00)"
        ) from exc


def run_edit(lib: Library, args: argparse.Namespace) -> int:
    if (
        args.title is None
        and args.description is None
        and args.date is None
        and (args.location is None)
    ):
        print("photodesk: edit needs --title, --description, --date or --location", file=sys.stderr)
        return 2
    location: tuple[float | None, float | None] | None = None
    if args.location is not None:
        text = args.location.strip()
        if not text:
            location = (None, None)
        else:
            coords = parse_coordinates(text)
            if coords is None:
                places = lib.edits.find_places(text, limit=1)
                if not places:
                    raise InvalidInput(f"no place called {text!r} (or give LAT,LON)")
                coords = (places[0].latitude, places[0].longitude)
            location = coords
    when = parse_date(args.date) if args.date is not None else None
    if args.title is not None:
        lib.edits.set_title(args.ids, args.title)
    if args.description is not None:
        lib.edits.set_description(args.ids, args.description)
    if when is not None:
        lib.edits.set_taken_at(args.ids, when)
    if location is not None:
        lib.edits.set_location(args.ids, *location)
    return 0


def run_xmp(lib: Library, args: argparse.Namespace) -> int:
    if args.action == "mode":
        if args.mode:
            lib.xmp.set_mode(args.mode)
        print(lib.xmp.mode())
        return 0
    if not args.ids and not args.all:
        print(f"photodesk: xmp {args.action} needs asset ids or --all", file=sys.stderr)
        return 2
    ids = None if args.all else args.ids
    results: dict[int, Any]
    if args.action == "write":
        results = lib.xmp.write(ids)
        failed = [i for i, r in results.items() if r.startswith("failed")]
        lines = [f"{i}: {r}" for i, r in results.items()]
    else:
        results = lib.xmp.read(ids)
        failed = [i for i, r in results.items() if "error" in r]
        lines = [f"{i}: {_read_line(r)}" for i, r in results.items()]
    if args.json:
        output.dump({str(i): r for i, r in results.items()})
    else:
        print("\n".join(lines))
    return 1 if failed and len(failed) == len(results) else 0


def _read_line(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"failed: {r['error']}"
    if not r.get("read", True):
        return "no sidecar"
    took = ", ".join(r.get("from_sidecar", [])) or "nothing new"
    return f"from the sidecar: {took}"


def run(lib: Library, args: argparse.Namespace) -> int:
    return run_edit(lib, args) if args.command == "edit" else run_xmp(lib, args)


COMMAND = Command(("edit", "xmp"), add_parser, run)
