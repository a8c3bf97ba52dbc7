"""``photodesk people``: list people, name, merge, unassign faces, re-cluster."""

from __future__ import annotations

import argparse
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import Library


def add_parser(sub: Any) -> None:
    p = sub.add_parser("people", help="people found by face recognition")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="hidden people too")
    psub = p.add_subparsers(dest="action", metavar="ACTION")
    a = psub.add_parser("name", help="name a person (an empty name unnames it)")
    a.add_argument("person", type=int, metavar="ID")
    a.add_argument("name", nargs="+", metavar="NAME")
    a = psub.add_parser("merge", help="merge person A into person B (A's faces move to B)")
    a.add_argument("source", type=int, metavar="A")
    a.add_argument("into", type=int, metavar="B")
    a = psub.add_parser("unassign", help='"this is not them": take a face from its person')
    a.add_argument("face", type=int, metavar="FACE")
    a = psub.add_parser("faces", help="the faces of a person (ids for `people unassign`)")
    a.add_argument("person", type=int, metavar="ID")
    a.add_argument("--json", action="store_true", help="print JSON")
    a = psub.add_parser("hide", help="hide a person (--off shows them again)")
    a.add_argument("person", type=int, metavar="ID")
    a.add_argument("--off", action="store_true")
    psub.add_parser("recluster", help="group faces again; names and your decisions are kept")


def run(lib: Library, args: argparse.Namespace) -> int:
    people = lib.people
    if args.action == "name":
        people.rename(args.person, " ".join(args.name))
        return 0
    if args.action == "merge":
        moved = people.merge(args.source, args.into)
        print(f"moved {moved} faces into person {args.into}")
        return 0
    if args.action == "unassign":
        was = people.remove_face(args.face)
        print(f"face {args.face} taken from person {was}" if was else "face had no person")
        return 0
    if args.action == "hide":
        people.hide(args.person, not args.off)
        return 0
    if args.action == "faces":
        faces = people.faces(person_id=args.person)
        if args.json:
            output.dump(
                [
                    {
                        "id": int(f.id),
                        "asset_id": int(f.asset_id),
                        "box": list(f.box),
                        "score": f.score,
                        "assigned_by_user": f.assigned_by_user,
                    }
                    for f in faces
                ]
            )
        else:
            for f in faces:
                by = "  (by you)" if f.assigned_by_user else ""
                print(f"{f.id:>7}  photo {f.asset_id:<7} score {f.score:.2f}{by}")
        return 0
    if args.action == "recluster":
        report = people.recluster()
        print(
            f"{report.faces} faces: {report.placed} placed, {report.new_people} new people, "
            f"{report.waiting} waiting for more photos of them"
        )
        return 0
    listed = people.list(include_hidden=args.all)
    if args.json:
        output.dump(
            [
                {
                    "id": int(p.id),
                    "name": p.name,
                    "faces": p.face_count,
                    "photos": p.photo_count,
                    "cover_face_id": p.cover_face_id,
                    "hidden": p.hidden,
                }
                for p in listed
            ]
        )
        return 0
    if not listed:
        print("no people yet (run `photodesk index --faces --until-idle`)")
    for p in listed:
        name = p.name or "(unnamed)"
        hidden = "  hidden" if p.hidden else ""
        print(f"{p.id:>6}  {name:<30} {p.photo_count:>6} photos{hidden}")
    return 0


COMMAND = Command(("people",), add_parser, run)
