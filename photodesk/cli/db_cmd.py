"""``photodesk db migrate-to URL``: move the catalog from SQLite into PostgreSQL."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import Library


def add_parser(sub: Any) -> None:
    p = sub.add_parser("db", help="the catalog database")
    dsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    mp = dsub.add_parser(
        "migrate-to",
        help="copy this library's SQLite catalog into an empty PostgreSQL database "
        "(resumable: run it again after an interruption; verified by counts and checksums)",
    )
    mp.add_argument("url", metavar="URL", help="postgresql://USER:PASSWORD@HOST/DATABASE")
    mp.add_argument("--json", action="store_true", help="print one JSON object with the outcome")


def run(lib: Library, args: argparse.Namespace) -> int:
    update, close = output.progress_bar(not args.json and sys.stderr.isatty())

    def step(table: str, done: int, total: int) -> None:
        if update is not None:
            update(done, total)

    try:
        report = lib.maintenance.migrate_to(args.url, step)
    finally:
        close()
    if args.json:
        output.dump(
            {
                "resumed": report.resumed,
                "verified": report.verified,
                "copied": report.copied,
                "tables": {
                    c.table: {"rows": c.target_rows, "source_rows": c.source_rows, "same": c.same}
                    for c in report.checks
                },
            }
        )
        return 0 if report.verified else 1
    total = sum(c.source_rows for c in report.checks)
    print(
        f"{'resumed: ' if report.resumed else ''}copied {sum(report.copied.values())} rows "
        f"({total} in {len(report.checks)} tables)"
    )
    for c in report.checks:
        if not c.same:
            print(f"  {c.table}: {c.source_rows} rows here, {c.target_rows} there, contents differ")
    if not report.verified:
        print("photodesk: the copy differs from this catalog; run it again", file=sys.stderr)
        return 1
    print("verified: the same row counts and checksums in every table")
    print("serve from it with: PHOTODESK_DATABASE_URL=<the URL> photodesk --library DIR serve")
    return 0


COMMAND = Command(("db",), add_parser, run)
