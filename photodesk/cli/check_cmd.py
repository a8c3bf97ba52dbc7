"""``photodesk check`` (catalog and file integrity, crash leftovers) and ``photodesk backup``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import DEFAULT_BACKUPS_KEPT as DEFAULT_KEEP
from photodesk.core import CheckReport, FileIssue, Library

SHOWN = 20  # per kind of finding in the text output; --json lists everything


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="check the catalog, the photos' files and crash leftovers")
    p.add_argument(
        "--verify", action="store_true", help="also re-read every file and compare its SHA-1"
    )
    p.add_argument(
        "--fix",
        action="store_true",
        help="remove leftover temp files and unused thumbnails, mark missing files offline "
        "(never deletes photos or catalog entries)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object with the findings")
    p = sub.add_parser("backup", help="back up the catalog into the library's backups/ folder")
    p.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"keep the newest N backups (default {DEFAULT_KEEP})",
    )


def run(lib: Library, args: argparse.Namespace) -> int:
    if args.command == "backup":
        if args.keep < 1:
            print("photodesk: --keep must be at least 1", file=sys.stderr)
            return 2
        print(lib.maintenance.backup(keep=args.keep))
        return 0
    progress, close = output.progress_bar(not args.json and sys.stderr.isatty())
    try:
        report = lib.maintenance.check(
            verify_checksums=args.verify, fix=args.fix, progress=progress
        )
    finally:
        close()
    if args.json:
        output.dump(report.as_dict())
    else:
        _print(report)
    return 0 if report.unresolved() == 0 else 1


def _print(r: CheckReport) -> None:
    if not r.catalog_ok:
        print("catalog: DAMAGED (restore a backup from the library's backups/ folder)")
        for line in (*r.integrity, *r.foreign_keys)[:SHOWN]:
            print(f"  {line}")
        if r.integrity:
            return
    else:
        print("catalog: ok")
    print(
        f"files checked: {r.files_checked}" + (" (SHA-1 verified)" if r.verified_checksums else "")
    )
    _issues("missing", r.missing)
    _issues("changed since import", r.changed)
    _issues("content differs from the catalog", r.checksum_mismatches)
    _issues("back on disk", r.reappeared)
    _paths("unused thumbnails and previews", r.orphan_derivatives)
    _paths("temp files left by a crash", r.temp_files)
    _paths("files in originals/ that no photo uses", r.untracked_copies)
    if r.assets_without_original:
        ids = " ".join(str(i) for i in r.assets_without_original[:SHOWN])
        print(f"photos without an original file: {len(r.assets_without_original)}: {ids}")
    if r.fixed:
        print(
            f"fixed: removed {len(r.removed)} files, marked {r.marked_missing} files missing, "
            f"{len(r.marked_offline)} photos offline, {len(r.back_online)} back online"
        )
    elif not r.ok:
        print("run `photodesk check --fix` to clean up leftovers and mark missing files")
    if r.ok:
        print("no problems found")


def _issues(title: str, issues: tuple[FileIssue, ...]) -> None:
    if not issues:
        return
    print(f"{title}: {len(issues)}")
    for i in issues[:SHOWN]:
        print(f"  [{i.asset_id}] {i.path} ({i.role}: {i.detail})")
    if len(issues) > SHOWN:
        print(f"  ... and {len(issues) - SHOWN} more (--json lists all)")


def _paths(title: str, paths: tuple[str, ...]) -> None:
    if not paths:
        return
    print(f"{title}: {len(paths)}")
    for p in paths[:SHOWN]:
        print(f"  {p}")
    if len(paths) > SHOWN:
        print(f"  ... and {len(paths) - SHOWN} more (--json lists all)")


COMMAND = Command(("check", "backup"), add_parser, run)
