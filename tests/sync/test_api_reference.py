"""The README's API reference is the route table: a route added or removed fails this test."""

from __future__ import annotations

from pathlib import Path

from photodesk.sync import api_reference
from tests.sync.conftest import ROOT

README = ROOT / "README.md"


def test_the_readme_lists_every_photodesk_route(server) -> None:
    table = api_reference.markdown(server.app)
    text = README.read_text(encoding="utf-8")
    assert api_reference.replace_block(text, table) == text, (
        "README.md's API reference differs from the route table: "
        "run python -m photodesk.sync.api_reference --write README.md"
    )
    documented = {line.split("`")[1] for line in table.splitlines()[2:]}
    routes = {
        r.resource.canonical
        for r in server.app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/photodesk/")
    }
    assert documented == routes
    assert all(summary for _m, _p, summary in api_reference.routes(server.app)), (
        "every /api/photodesk route needs a docstring (its line in the README)"
    )


def test_check_fails_when_the_readme_drifts(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("| GET | `/api/photodesk/me`"))
    stale.write_text(text.replace(line + "\n", ""), encoding="utf-8")
    assert api_reference.main(["--check", str(stale)]) == 1
    assert api_reference.main(["--write", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text
    assert api_reference.main(["--check", str(stale)]) == 0
