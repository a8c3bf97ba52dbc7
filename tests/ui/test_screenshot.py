"""``photodesk gui --screenshot`` renders each view of a real library to a PNG and exits."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat

from photodesk.cli.main import main
from tests.conftest import make_jpeg


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shots")
    for i in range(6):
        make_jpeg(
            root / "in" / f"p{i}.jpg",
            seed=i,
            size=(640, 480),
            gps=(45.0 + i, 7.0 + i),
            when=f"2021:0{i + 1}:10 12:00:00",
        )
    lib = str(root / "lib")
    assert main(["--library", lib, "import", str(root / "in"), "--json"]) == 0
    return lib


@pytest.mark.parametrize("view", ["timeline", "viewer", "map", "albums", "search"])
def test_each_view_renders_to_a_png(
    qtbot, library_dir: str, tmp_path: Path, view: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"{view}.png"
    code = main(
        [
            "--library",
            library_dir,
            "gui",
            "--screenshot",
            str(out),
            "--view",
            view,
            "--size",
            "900x600",
        ]
    )
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as im:
        assert im.size == (900, 600)
        assert max(ImageStat.Stat(im.convert("L")).stddev) > 10  # something drawn, not blank


def test_an_unknown_view_is_a_clear_error(
    library_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--library", library_dir, "gui", "--screenshot", str(tmp_path / "x.png"), "--view", "nope"]
    )
    assert code == 1
    assert "unknown view 'nope'" in capsys.readouterr().err
