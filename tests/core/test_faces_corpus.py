"""Acceptance: real faces (dlib backend) on the corpus become the right people."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from photodesk.core import Library
from photodesk.core.inference.models import Models

pytest.importorskip("dlib")
faces_dlib = pytest.importorskip("photodesk.ml.faces_dlib")
if faces_dlib.dlib_status():
    pytest.skip(faces_dlib.dlib_status(), allow_module_level=True)


def identities(corpus: Path) -> dict[str, set[str]]:
    """file -> the people on it, for the corpus files that have an identity."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {r["file"]: set(r["identity"].split(";")) for r in rows if r["identity"]}


def test_corpus_identities_become_people(library: Library, corpus: Path, tmp_path: Path):
    who = identities(corpus)
    src = tmp_path / "faces"
    src.mkdir()
    for name in who:
        shutil.copy(corpus / name, src / name)
    library.attach_ml(Models(faces=faces_dlib.DlibFaceAnalyzer()))
    library.jobs.run(library.jobs.enqueue("import", None, {"paths": [str(src)]}))
    assert library.jobs.run_until_idle(timeout=500)

    file_of = {int(a): Path(library.assets.get(a).path).name for a in library.assets.ids()}
    people = {
        p.id: {file_of[a] for a in library.people.photos(p.id)} for p in library.people.list()
    }
    # No person mixes two identities: one identity is on every photo of each person.
    label = {}
    for pid, files in people.items():
        common = set.intersection(*(who[f] for f in files))
        assert common, f"person {pid} mixes identities: {sorted(files)}"
        label[pid] = common
    # Every identity with at least three photos is exactly one person.
    counts: dict[str, int] = {}
    for names in who.values():
        for n in names:
            counts[n] = counts.get(n, 0) + 1
    frequent = sorted(n for n, c in counts.items() if c >= 3)
    assert {"Barack Obama", "Grace Hopper", "Joe Biden"} <= set(frequent)
    for ident in frequent:
        theirs = [pid for pid, common in label.items() if common == {ident}]
        assert len(theirs) == 1, f"{ident} is {len(theirs)} people"
    # Obama and Biden in one photo stay two people.
    for name, names in who.items():
        if names == {"Barack Obama", "Joe Biden"}:
            aid = next(a for a, f in file_of.items() if f == name)
            placed = [f.person_id for f in library.people.faces(asset_id=aid) if f.person_id]
            assert len(placed) == len(set(placed)) >= 2, name
