"""``photodesk memories`` and ``photodesk events`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photodesk.cli.main import main
from tests.conftest import make_jpeg


def test_memories_and_events_print_json_and_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lib = str(tmp_path / "lib")
    make_jpeg(tmp_path / "src" / "a.jpg", when="2020:09:10 10:00:00", seed=1)
    make_jpeg(tmp_path / "src" / "b.jpg", when="2021:09:08 10:00:00", seed=2)
    assert main(["--library", lib, "import", str(tmp_path / "src")]) == 0
    capsys.readouterr()

    assert main(["--library", lib, "memories", "--date", "2023-09-10", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(m["title"], m["year"], len(m["asset_ids"])) for m in got] == [
        ("This week 2 years ago", 2021, 1),
        ("3 years ago today", 2020, 1),
    ]
    assert main(["--library", lib, "memories", "--date", "2023-09-10"]) == 0
    assert "3 years ago today (10 Sep 2020): 1 photos" in capsys.readouterr().out

    assert main(["--library", lib, "events", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert [e["title"] for e in events] == [
        "Wednesday, 8 September 2021",
        "Thursday, 10 September 2020",
    ]


def test_a_bad_date_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--library", str(tmp_path / "lib"), "memories", "--date", "10/09/2023"])
    assert exit_.value.code == 2
    assert "not a date: '10/09/2023' (use YYYY-MM-DD)" in capsys.readouterr().err


def test_search_duplicates_works_without_a_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.core.test_duplicates import scene

    lib = str(tmp_path / "lib")
    (tmp_path / "src").mkdir()
    scene(1).save(tmp_path / "src" / "a.jpg", quality=95)
    scene(1).resize((320, 240)).save(tmp_path / "src" / "b.jpg", quality=60)
    scene(2).save(tmp_path / "src" / "c.jpg", quality=95)
    assert main(["--library", lib, "import", str(tmp_path / "src")]) == 0
    capsys.readouterr()
    assert main(["--library", lib, "search", "--duplicates", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert [len(g) for g in groups] == [2]
    assert main(["--library", lib, "search", "--duplicates", "3"]) == 0
    assert len(capsys.readouterr().out.split()) == 2
    assert main(["--library", lib, "search", "--duplicates", "20"]) == 1
    assert "a duplicate distance is 0 to 8 bits, not 20" in capsys.readouterr().err
