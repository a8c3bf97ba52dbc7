"""The README's list of ``/api/photodesk/...`` routes, generated from the route table.

``python -m photodesk.sync.api_reference`` prints the list; ``--write README.md`` puts it between
the ``<!-- api-reference:start -->`` and ``<!-- api-reference:end -->`` lines, and ``--check
README.md`` exits 1 when what is there differs from the route table (a test runs that check).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

PREFIX = "/api/photodesk/"
START = "<!-- api-reference:start (generated: python -m photodesk.sync.api_reference) -->"
END = "<!-- api-reference:end -->"


def routes(app: Any) -> list[tuple[str, str, str]]:
    """``(method, path, summary)`` of every route under PREFIX, sorted by path then method; the
    summary is the first line of the handler's docstring."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if not path.startswith(PREFIX) or route.method == "HEAD":
            continue
        doc = (getattr(route.handler, "__doc__", None) or "").strip()
        summary = " ".join(doc.split("\n\n")[0].split()).replace("``", "`")
        found.add((route.method, path, summary))
    order = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
    return sorted(found, key=lambda r: (r[1], order.get(r[0], 9), r[0]))


def markdown(app: Any) -> str:
    lines = ["| Method | Path | What it does |", "|---|---|---|"]
    for method, path, summary in routes(app):
        lines.append(f"| {method} | `{path}` | {summary.replace('|', '/')} |")
    return "\n".join(lines)


def _app_markdown() -> str:
    from photodesk.core import Library
    from photodesk.sync.app import make_app
    from photodesk.sync.config import ServerConfig

    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        return markdown(make_app(lib, ServerConfig(jobs=False)))


def replace_block(text: str, table: str) -> str:
    """``text`` with the generated block replaced by ``table``; ValueError without markers."""
    if START not in text or END not in text:
        raise ValueError(f"the markers {START!r} and {END!r} are missing")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m photodesk.sync.api_reference")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="README", help="update the list in this file")
    group.add_argument("--check", metavar="README", help="exit 1 if this file's list is stale")
    args = parser.parse_args(argv)
    table = _app_markdown()
    target = args.write or args.check
    if target is None:
        sys.stdout.write(table + "\n")
        return 0
    text = Path(target).read_text(encoding="utf-8")
    try:
        updated = replace_block(text, table)
    except ValueError as exc:
        sys.stderr.write(f"api_reference: {target}: {exc}\n")
        return 1
    if args.check:
        if updated != text:
            sys.stderr.write(f"api_reference: {target} is stale; run with --write\n")
            return 1
        return 0
    Path(target).write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
