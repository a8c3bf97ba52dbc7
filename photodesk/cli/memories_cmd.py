"""``photodesk memories`` and ``photodesk events``: what the library remembers, and its events."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import InvalidInput, Library


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser("memories", help='"on this day" and "this week N years ago"')
    p.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="instead of today")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("events", help="photos grouped into events by time and place")
    p.add_argument(
        "--gap", type=float, default=8.0, metavar="HOURS", help="hours that split events"
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def run(lib: Library, args: argparse.Namespace) -> int:
    """``memories`` or ``events``."""
    if args.command == "memories":
        memories = lib.memories.memories(args.date)
        if args.json:
            output.dump([m.to_json() for m in memories])
        elif not memories:
            print("no memories for this day")
        for m in [] if args.json else memories:
            print(f"{m.title} ({m.day:%d %b %Y}): {len(m.asset_ids)} photos")
        return 0
    if args.gap <= 0:
        raise InvalidInput("--gap must be a positive number of hours")
    events = lib.event_groups.events(args.gap)
    if args.json:
        output.dump([e.to_json() for e in events])
    else:
        for e in events:
            print(f"{e.start:%Y-%m-%d}  {e.title}: {len(e.asset_ids)} photos")
    return 0


COMMAND = Command(("memories", "events"), add_parser, run)
