"""``photodesk search``: free text (smart search when the models are there) and filters."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import DUPLICATE_BITS, Library, SearchQuery


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="search photos by text (smart search with the CLIP model) and filters",
        description="Free text matches file names, titles, descriptions, tags and places, and, "
        'when a CLIP model is installed, what the photos show ("beach at sunset"). Filters '
        "narrow the results; the desktop's search view makes the same call.",
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help='words; "quoted phrase"')
    p.add_argument("--person", help="a person's name")
    p.add_argument("--place", help="a city, region or country name, or an ISO country code")
    p.add_argument("--camera", help="part of the make or model")
    p.add_argument("--lens", help="part of the lens name")
    p.add_argument("--from", dest="taken_from", type=_date, metavar="DATE", help="taken on/after")
    p.add_argument("--to", dest="taken_to", type=_date, metavar="DATE", help="taken before")
    p.add_argument("--type", dest="kind", choices=["photo", "raw", "video"])
    p.add_argument("--album", help="album name")
    p.add_argument("--tag", help="tag path; includes the tags below it")
    p.add_argument("--favorite", action="store_true", help="only favourites")
    p.add_argument("--rating", type=int, metavar="N", help="at least N stars")
    p.add_argument("--archived", action="store_true", help="include archived photos")
    p.add_argument(
        "--sort",
        choices=["date", "relevance"],
        default=None,
        help="default: relevance with text, date without",
    )
    p.add_argument("--oldest-first", action="store_true")
    p.add_argument("--no-smart", action="store_true", help="text matching only (no CLIP)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--like", type=int, metavar="ID", help="photos that look like this one")
    p.add_argument(
        "--duplicates",
        type=float,
        nargs="?",
        const=0.01,
        metavar="DISTANCE",
        help="near-duplicate groups: perceptual hashes at most DISTANCE bits apart (1-8, "
        "default 4); with smart search on, a DISTANCE below 1 is a CLIP cosine distance "
        "(default 0.01)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array of assets")


def run(lib: Library, args: argparse.Namespace) -> int:
    search = lib.search
    if args.duplicates is not None:
        if search.semantic_available and args.duplicates < 1:
            groups = search.near_duplicates(args.duplicates)
        else:  # no model needed: perceptual hashes (the keeper first in each group)
            hashes = lib.duplicates
            hashes.backfill()  # photos imported before hashing existed
            bits = round(args.duplicates) if args.duplicates >= 1 else DUPLICATE_BITS
            groups = hashes.groups(bits)  # type: ignore[assignment]
        if args.json:
            output.dump([[int(i) for i in g] for g in groups])
        else:
            for g in groups:
                print(" ".join(str(i) for i in g))
        return 0
    if args.like is not None:
        ids = search.similar(args.like, args.limit or 50)
    else:
        text = " ".join(args.query)
        query = SearchQuery(
            text=text,
            person=args.person,
            place=args.place,
            camera=args.camera,
            lens=args.lens,
            taken_from=args.taken_from,
            taken_to=args.taken_to,
            kind=args.kind,
            album=args.album,
            tag=args.tag,
            favorite=True if args.favorite else None,
            min_rating=args.rating,
            archived=None if args.archived else False,
            sort=args.sort or ("relevance" if text.strip() else "date"),
            newest_first=not args.oldest_first,
            semantic=not args.no_smart,
            limit=args.limit,
        )
        ids = search.search(query)
        if text.strip() and not args.no_smart and not search.semantic_available:
            _note_smart(lib)
    records = [lib.assets.get(i) for i in ids]
    if args.json:
        output.dump([output.asset_json(a) for a in records])
    else:
        for a in records:
            print(output.asset_line(a))
    return 0


def _note_smart(lib: Library) -> None:
    notes = [n for n in lib.ml.missing() if "smart search" in n] if lib.ml.attached else []
    if lib.ml.attached and lib.ml.text() is not None:
        notes = ["smart search has nothing indexed yet: run `photodesk index --clip --until-idle`"]
    why = "; ".join(notes) or "smart search is off (no ML models attached)"
    print(f"photodesk: {why}; searched names, titles, tags and places only", file=sys.stderr)


COMMAND = Command(("search",), add_parser, run)
