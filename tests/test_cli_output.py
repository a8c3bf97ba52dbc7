"""What the command line prints for people: labelled columns, words instead of Python reprs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from photodesk.bootstrap import _label
from photodesk.cli.index_cmd import failed_line
from photodesk.cli.main import main
from tests.conftest import DATA


def test_show_keeps_labels_and_values_apart(tmp_path: Path, capsys) -> None:
    shutil.copy(DATA / "camera_canon.jpg", tmp_path / "c.jpg")
    assert main(["--library", str(tmp_path / "lib"), "import", str(tmp_path / "c.jpg")]) == 0
    capsys.readouterr()
    assert main(["--library", str(tmp_path / "lib"), "show", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = dict(re.match(r"(\S+)\s+(.*)", line).groups() for line in lines)  # type: ignore[union-attr]
    assert rows["exposure"] == "ISO 400 f/5.6 1/250s 70 mm"  # was "exposureISO 400 ..."
    assert re.fullmatch(r"[0-9a-f]{40}", rows["checksum"])  # was "checksum96e0..."
    assert rows["camera"] == "Canon EOS 5D Mark III"  # the model already says Canon
    assert rows["size"] == "320×240, 7.4 KB, orientation 6"  # not "0.0 MB"
    # Every value starts in the same column.
    starts = {len(line) - len(line[line.index(" ") :].lstrip()) for line in lines}
    assert len(starts) == 1, lines


def test_failed_jobs_are_words() -> None:
    line = failed_line({"faces": 3, "clip": 1})
    assert line == "photodesk: failed jobs: 3 in faces, 1 in clip (see `photodesk jobs`)"


def test_models_are_named_in_logs_not_repr() -> None:
    class IsolatedDlibFaceAnalyzer:
        model_name = "dlib-resnet-v1"

    class Clip:
        model_name = "ViT-B-32__openai"

    assert _label(IsolatedDlibFaceAnalyzer()) == "dlib-resnet-v1 (worker process)"
    assert _label(Clip()) == "ViT-B-32__openai (in process)"
    assert _label(None) == "none"
    assert "object at 0x" not in _label(object())


def test_show_json_keeps_what_was_not_used(tmp_path: Path, capsys) -> None:
    shutil.copy(DATA / "implausible.jpg", tmp_path / "i.jpg")
    lib = str(tmp_path / "lib")
    assert main(["--library", lib, "import", str(tmp_path / "i.jpg")]) == 0
    assert "implausible date 2099-01-01" in capsys.readouterr().out  # the import says it too
    assert main(["--library", lib, "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["exposure_time"] is None and shown["taken_at_source"] == "mtime"
    assert shown["metadata_warnings"] == [
        "implausible date 2099-01-01 00:00:00 (exif:DateTimeOriginal) ignored",
        "implausible exposure time 4294967295 s ignored",
    ]
    assert main(["--library", lib, "ls", "--from", "2090-01-01"]) == 0
    assert capsys.readouterr().out == ""  # the 2099 date does not filter in
