"""``photodesk edit`` and ``photodesk xmp``: edits from the command line land in the sidecars."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from photodesk.cli.main import main
from tests.conftest import make_jpeg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_edit_and_xmp_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg", seed=1)
    make_jpeg(photos / "b.jpg", seed=2)
    assert run(capsys, "--library", lib, "import", str(photos))[0] == 0
    _, out, _ = run(capsys, "--library", lib, "ls", "--json")
    ids = {Path(a["path"]).name: str(a["id"]) for a in json.loads(out)}
    a, b = ids["a.jpg"], ids["b.jpg"]

    _, out, _ = run(capsys, "--library", lib, "show", a, "--json")
    assert json.loads(out)["xmp_written_at"] is None
    code, _, _ = run(
        capsys,
        "--library",
        lib,
        "edit",
        a,
        "--title",
        "Sunset",
        "--description",
        "From the pier",
        "--date",
        "2024-07-04T21:15:00-07:00",
        "--location",
        "34.0086, -118.4986",
    )
    assert code == 0
    assert run(capsys, "--library", lib, "edit", b, "--location", "Reykjavik")[0] == 0
    assert run(capsys, "--library", lib, "tag", "add", "Trips/USA", a)[0] == 0

    _, out, _ = run(capsys, "--library", lib, "show", a, "--json")
    shown = json.loads(out)
    assert shown["title"] == "Sunset" and shown["taken_at"] == "2024-07-04T21:15:00-07:00"
    assert shown["xmp_written_at"] is not None  # the write-back ran before the command ended
    _, out, _ = run(capsys, "--library", lib, "show", b, "--json")
    assert json.loads(out)["country"] == "IS"
    assert (photos / "a.jpg.xmp").is_file() and (photos / "b.jpg.xmp").is_file()
    if shutil.which("exiftool"):
        raw = subprocess.run(
            ["exiftool", "-json", "-n", "-G1", str(photos / "a.jpg.xmp")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        t = json.loads(raw)[0]
        assert t["XMP-dc:Title"] == "Sunset" and t["XMP-dc:Description"] == "From the pier"
        assert t["XMP-exif:DateTimeOriginal"] == "2024:07:04 21:15:00-07:00"
        assert t["XMP-exif:GPSLongitude"] == pytest.approx(-118.4986, abs=1e-6)
        assert t["XMP-lr:HierarchicalSubject"] == "Trips|USA"

    # another app edits the sidecar; `xmp read` merges it
    side = photos / "a.jpg.xmp"
    side.write_text(side.read_text("utf-8").replace("Sunset", "Dusk"), "utf-8")
    code, out, _ = run(capsys, "--library", lib, "xmp", "read", a)
    assert code == 0 and "title" in out
    _, out, _ = run(capsys, "--library", lib, "show", a, "--json")
    assert json.loads(out)["title"] == "Dusk"

    (photos / "b.jpg.xmp").unlink()
    code, out, _ = run(capsys, "--library", lib, "xmp", "write", "--all")
    assert code == 0 and f"{b}: written" in out and (photos / "b.jpg.xmp").is_file()
    assert run(capsys, "--library", lib, "xmp", "mode", "off")[1].strip() == "off"
    assert run(capsys, "--library", lib, "xmp", "mode")[1].strip() == "off"


def test_bad_edit_input_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lib = str(tmp_path / "lib")
    make_jpeg(tmp_path / "photos" / "a.jpg")
    run(capsys, "--library", lib, "import", str(tmp_path / "photos"))
    for args, message in (
        (["--date", "yesterday"], "not a date"),
        (["--location", "Nowhereville Xq"], "no place called"),
        (["--location", "95, 10"], "latitude 95 is not between -90 and 90"),
        ([], "edit needs"),
    ):
        code, _, err = run(capsys, "--library", lib, "edit", "1", *args)
        assert code != 0 and message in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "--library", lib, "xmp", "write")
    assert code == 2 and "needs asset ids or --all" in err
