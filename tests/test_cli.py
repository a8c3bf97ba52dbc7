"""The command line contract that the desktop, the daemon and scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photodesk.cli.main import main
from tests.conftest import make_jpeg

LS_FIELDS = {
    "id",
    "path",
    "files",
    "checksum",
    "kind",
    "mime",
    "width",
    "height",
    "orientation",
    "taken_at",
    "taken_at_source",
    "make",
    "model",
    "lens",
    "iso",
    "f_number",
    "exposure_time",
    "focal_length",
    "latitude",
    "longitude",
    "altitude",
    "city",
    "admin1",
    "country",
    "rating",
    "favorite",
    "archived",
    "tags",
    "albums",
    "people",
    "stack_id",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def lib_dir(tmp_path: Path) -> str:
    """An empty library (only import, watch add and init create one)."""
    from photodesk.core import Library

    Library.open(tmp_path / "lib").close()
    return str(tmp_path / "lib")


def test_import_json_and_ls_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lib_dir: str
) -> None:
    make_jpeg(tmp_path / "in" / "a.jpg", seed=1, offset="-05:00", gps=(40.6892, -74.0445))
    make_jpeg(tmp_path / "in" / "b.jpg", seed=2, when=None)
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    code, out = run(capsys, "--library", lib_dir, "import", str(tmp_path / "in"), "--json")
    report = json.loads(out)
    assert code == 0
    assert {k: report[k] for k in ("scanned", "imported", "duplicates", "unchanged")} == {
        "scanned": 3,
        "imported": 2,
        "duplicates": 0,
        "unchanged": 0,
    }
    assert [Path(f["path"]).name for f in report["failed"]] == ["broken.jpg"]
    assert report["failed"][0]["error"]

    code, out = run(capsys, "--library", lib_dir, "ls", "--json")
    assets = json.loads(out)
    assert len(assets) == 2 and all(set(a) >= LS_FIELDS for a in assets)
    a = next(x for x in assets if x["path"].endswith("a.jpg"))
    assert a["taken_at"] == "2023-07-04T10:15:00-05:00"
    assert a["country"] == "US" and a["longitude"] == pytest.approx(-74.0445, abs=1e-4)
    assert len(a["checksum"]) == 40 and a["files"] == [a["path"]]
    assert a["kind"] == "photo" and a["mime"] == "image/jpeg"
    b = next(x for x in assets if x["path"].endswith("b.jpg"))
    assert b["latitude"] is None and b["city"] is None
    assert b["taken_at_source"] == "mtime"


def test_tag_album_rate_favorite_show_and_filters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lib_dir: str
) -> None:
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i, when=f"2020:0{i + 1}:15 12:00:00")
    run(capsys, "--library", lib_dir, "import", str(tmp_path / "in"), "--json")
    ids = [str(a["id"]) for a in json.loads(run(capsys, "--library", lib_dir, "ls", "--json")[1])]
    assert run(capsys, "--library", lib_dir, "tag", "add", "Trips/Alps/Chamonix", ids[0])[0] == 0
    assert run(capsys, "--library", lib_dir, "album", "create", "Best")[0] == 0
    assert run(capsys, "--library", lib_dir, "album", "add", "Best", ids[0], ids[1])[0] == 0
    assert run(capsys, "--library", lib_dir, "rate", "5", ids[1])[0] == 0
    assert run(capsys, "--library", lib_dir, "favorite", ids[2])[0] == 0

    def ls(*filters: str) -> list[str]:
        return [
            str(a["id"])
            for a in json.loads(run(capsys, "--library", lib_dir, "ls", "--json", *filters)[1])
        ]

    assert ls("--tag", "Trips") == [ids[0]]
    assert ls("--tag", "Trips/Alps/Chamonix") == [ids[0]]
    assert sorted(ls("--album", "Best")) == sorted(ids[:2])
    assert ls("--rating", "5") == [ids[1]]
    assert ls("--favorite") == [ids[2]]
    assert len(ls("--from", "2020-02-01", "--to", "2020-03-01")) == 1
    shown = json.loads(run(capsys, "--library", lib_dir, "show", ids[0], "--json")[1])
    assert shown["tags"] == ["Trips/Alps/Chamonix"] and shown["albums"] == ["Best"]
    _, text = run(capsys, "--library", lib_dir, "tag", "list")
    assert "Chamonix (1)" in text
    assert run(capsys, "--library", lib_dir, "trash", ids[2])[0] == 0
    assert ids[2] not in ls()
    assert ls("--trashed") == [ids[2]]
    _, text = run(capsys, "--library", lib_dir, "stats")
    assert "assets       2" in text


def test_errors_are_clear_and_exit_non_zero(
    capsys: pytest.CaptureFixture[str], lib_dir: str
) -> None:
    assert main(["--library", lib_dir, "show", "999"]) == 1
    assert "no asset with id 999" in capsys.readouterr().err
    assert main(["--library", lib_dir, "rate", "3", "12345"]) == 1


def test_library_from_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOTODESK_LIBRARY", str(tmp_path / "envlib"))
    assert main(["stats"]) == 1  # no library there: said, and none created
    assert f"no photodesk library at {tmp_path / 'envlib'}" in capsys.readouterr().err
    assert not (tmp_path / "envlib").exists()
    assert main(["init"]) == 0
    assert (tmp_path / "envlib" / "catalog.db").exists()
    assert main(["stats"]) == 0


def test_the_collector_runs_while_a_command_works_and_after(
    capsys: pytest.CaptureFixture[str], lib_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up runs with the cyclic garbage collector off (it is faster); a command's work (an
    import of a hundred thousand files, a server running for months) never does."""
    import argparse
    import gc

    from photodesk.cli import commands
    from photodesk.core import Library

    seen: list[bool] = []
    real = commands.COMMANDS["stats"]

    def spy(library: Library, args: argparse.Namespace) -> int:
        seen.append(gc.isenabled())
        return real(library, args)

    monkeypatch.setitem(commands.COMMANDS, "stats", spy)
    assert main(["--library", lib_dir, "stats"]) == 0
    assert seen == [True]
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        main(["--library", lib_dir, "no-such-command"])
    assert gc.isenabled()
    capsys.readouterr()
