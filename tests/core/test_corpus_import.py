"""End to end on real files: import the whole corpus, then compare `ls --json` with ExifTool."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from photodesk.cli.main import main

FIELDS = ("taken_at", "make", "model", "latitude", "longitude", "orientation", "width", "height")


def _manifest(corpus: Path, kind: str) -> list[str]:
    with open(corpus / "MANIFEST.tsv", newline="") as fh:
        return [row["file"] for row in csv.DictReader(fh, delimiter="\t") if row["kind"] == kind]


def _first(rec: dict[str, Any], *names: str) -> Any:
    for name in names:
        for key, value in rec.items():
            if key.split(":", 1)[-1] == name and value not in (None, ""):
                return value
    return None


def _gps(rec: dict[str, Any], axis: str) -> Any:
    for key in (f"Composite:GPS{axis}", f"XMP:GPS{axis}"):
        if rec.get(key) not in (None, ""):
            return rec[key]
    return None


def expected(rec: dict[str, Any]) -> dict[str, Any]:
    when = _first(rec, "DateTimeOriginal") or _first(rec, "CreateDate")
    when = str(when)[:19] if when else None
    if when and (when.startswith("0000") or len(when) < 19 or when[:4] >= "2090"):
        when = None  # zero, cut short, or a clock never set: not a date photodesk uses
    lat, lon = _gps(rec, "Latitude"), _gps(rec, "Longitude")
    if lat == 0 and lon == 0:
        lat = lon = None  # a receiver without a fix: not a place
    return {
        "taken_at": when,
        "make": _first(rec, "Make"),
        "model": _first(rec, "Model"),
        # GPS only in XMP (empty EXIF GPS tags): ExifTool's Composite stays empty, XMP has it.
        "latitude": lat,
        "longitude": lon,
        "orientation": _first(rec, "Orientation"),
        "width": rec.get("File:ImageWidth") or _first(rec, "ImageWidth"),
        "height": rec.get("File:ImageHeight") or _first(rec, "ImageHeight"),
    }


def actual(asset: dict[str, Any]) -> dict[str, Any]:
    got = {f: asset[f] for f in FIELDS}
    if got["taken_at"]:
        got["taken_at"] = got["taken_at"][:19].replace("-", ":").replace("T", " ")
    if asset["taken_at_source"] in ("mtime", "filename"):
        got["taken_at"] = None  # not a metadata value: ExifTool has nothing to compare with
    return got


def agrees(field: str, want: Any, got: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if field in ("latitude", "longitude"):
        return abs(float(want) - float(got)) < 1e-5
    if field in ("make", "model"):
        return str(want).strip() == str(got).strip()
    return str(want) == str(got)


@pytest.fixture(scope="module")
def imported(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    lib = str(tmp_path_factory.mktemp("corpus") / "lib")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--library", lib, "import", str(corpus), "--json"])
    report = json.loads(out.getvalue())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--library", lib, "ls", "--json", "--all"])
    assets = json.loads(out.getvalue())
    return {"report": report, "assets": assets}


def test_every_corpus_file_is_imported_or_reported(corpus: Path, imported: dict[str, Any]) -> None:
    report = imported["report"]
    media = [p for p in corpus.iterdir() if p.suffix.lower() not in (".json", ".tsv", ".md")]
    assert report["scanned"] == len(media)
    files = {Path(f).name for a in imported["assets"] for f in a["files"]}
    failed = {Path(f["path"]).name: f["error"] for f in report["failed"]}
    assert all(failed.values())
    assert files | set(failed) == {p.name for p in media}
    assert not files & set(failed)
    broken = set(_manifest(corpus, "broken"))
    # Every broken file is reported: refused, or imported with a warning saying what is wrong.
    warned = {Path(w["path"]).name for w in report["warnings"]}
    assert broken <= set(failed) | warned, broken - set(failed) - warned
    # Misnamed files are imported as what they really are.
    kinds = {Path(a["path"]).name: a for a in imported["assets"]}
    for name in _manifest(corpus, "misnamed"):
        assert kinds[name]["mime"] == "image/jpeg", name


def test_metadata_agrees_with_exiftool(corpus: Path, imported: dict[str, Any]) -> None:
    truth = {r["SourceFile"]: r for r in json.loads((corpus / "exiftool.json").read_text())}
    failed = {Path(f["path"]).name for f in imported["report"]["failed"]}
    broken = failed & set(_manifest(corpus, "broken"))
    by_file = {Path(f).name: a for a in imported["assets"] for f in a["files"]}
    pairs = 0
    wrong: list[str] = []
    for name, rec in sorted(truth.items()):
        want = expected(rec)
        asset = by_file.get(name)
        got = actual(asset) if asset else dict.fromkeys(FIELDS)
        if asset is None and not any(v is not None for v in want.values()):
            continue
        if asset is None and (rec.get("ExifTool:Error") or name in broken):
            continue  # a damaged file, refused and reported: there is nothing to compare
        for field in FIELDS:
            if want[field] is None and got[field] is None:
                continue
            pairs += 1
            if not agrees(field, want[field], got[field]):
                wrong.append(f"{name} {field}: exiftool={want[field]!r} photodesk={got[field]!r}")
    agreement = 1 - len(wrong) / pairs
    print(f"agreement with ExifTool: {agreement:.2%} of {pairs} values")
    assert pairs > 1000
    assert agreement >= 0.99, "\n".join(wrong)
