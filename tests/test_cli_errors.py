"""Bad input and hostile conditions on the command line: one clear line on stderr, exit 1 (2 for
usage), never a traceback unless --debug; and no library made by a mistyped --library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from photodesk.cli import commands
from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.catalog.db import engine
from tests.conftest import ROOT, make_jpeg


@pytest.fixture
def filled(tmp_path: Path) -> str:
    """A library with three photos."""
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    lib = str(tmp_path / "lib")
    assert main(["--library", lib, "import", str(tmp_path / "in")]) == 0
    return lib


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("photodesk: ") and "Traceback" not in err
    return lines[0]


def test_a_read_only_library_is_one_line(filled, capsys, monkeypatch) -> None:
    """SQLite's "attempt to write a readonly database" (here: every connection query-only, as
    a catalog on a read-only mount is) is said in one line, for reads and writes alike."""
    on_connect = engine._on_connect

    def read_only(conn, record) -> None:
        on_connect(conn, record)
        conn.execute("PRAGMA query_only=ON")

    monkeypatch.setattr(engine, "_on_connect", read_only)
    capsys.readouterr()
    for argv in (["stats"], ["tag", "add", "Trips", "1"], ["ls"]):
        assert main(["--library", filled, *argv]) == 1, argv
        line = _one_line(capsys.readouterr().err)
        assert f"the library at {Path(filled).resolve()} is read-only" in line


def test_a_bad_storage_template_is_refused_before_anything_is_queued(filled, capsys, tmp_path):
    make_jpeg(tmp_path / "new" / "n.jpg", seed=9)
    capsys.readouterr()
    for template in ("{bogus}/{filename}", "{year/{filename}", "{0}/{filename}"):
        argv = ["--library", filled, "import", "--copy", "--template", template]
        assert main([*argv, str(tmp_path / "new")]) == 1
        line = _one_line(capsys.readouterr().err)
        assert template in line and "{year}" in line  # says what a template may use
    with Library.open(filled) as lib:
        imports = next(q for q in lib.jobs.status() if q.name == "import")
        assert (imports.queued, imports.done, imports.failed) == (0, 1, 0)  # only the first
        assert len(lib.assets.ids()) == 3


@pytest.mark.parametrize(
    "argv", [["ls"], ["ls", "--json"], ["show", "1"], ["stats"], ["jobs"], ["search", "p"]]
)
def test_a_closed_pipe_is_not_a_traceback(filled, argv) -> None:
    """`photodesk ls | head`: the reader is gone before photodesk writes (a pipe whose read end
    is already closed, so the outcome does not depend on timing)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHOTODESK_ML": "off"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "photodesk", "--library", filled, *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1, proc.stderr
    # Nothing went wrong from the user's point of view (search may still note it has no models).
    assert "Traceback" not in proc.stderr and "Broken" not in proc.stderr, proc.stderr


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(filled, capsys, monkeypatch):
    def broken(lib, args):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(commands.COMMANDS, "ls", broken)
    assert main(["--library", filled, "ls"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "RuntimeError: disk on fire" in line and "--debug" in line
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--library", filled, "--debug", "ls"])


def test_usage_errors_exit_2(filled, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--library", filled, "ls", "--kind", "nope"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --- a mistyped --library ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],
        ["stats"],
        ["show", "1"],
        ["tag", "list"],
        ["jobs"],
        ["check"],
        ["gui"],
        ["gui", "--screenshot", "out.png"],
        ["users", "list"],
        ["share", "list"],
        ["watch", "list"],
    ],
)
def test_a_mistyped_library_is_not_created(tmp_path, capsys, argv) -> None:
    typo = tmp_path / "Librray"
    assert main(["--library", str(typo), *argv]) == 1
    line = _one_line(capsys.readouterr().err)
    assert f"no photodesk library at {typo}" in line
    assert not typo.exists()


def test_init_import_and_watch_add_create_a_library(tmp_path, capsys) -> None:
    made = tmp_path / "made"
    assert main(["--library", str(made), "init"]) == 0
    assert capsys.readouterr().out.strip() == f"created a library at {made}"
    assert main(["--library", str(made), "init"]) == 0  # idempotent, and says so
    assert "already" in capsys.readouterr().out
    assert main(["--library", str(made), "stats"]) == 0
    make_jpeg(tmp_path / "in" / "a.jpg")
    assert main(["--library", str(tmp_path / "by-import"), "import", str(tmp_path / "in")]) == 0
    watched = tmp_path / "watched"
    watched.mkdir()
    assert main(["--library", str(tmp_path / "by-watch"), "watch", "add", str(watched)]) == 0
    for name in ("by-import", "by-watch"):
        assert (tmp_path / name / "catalog.db").exists()


# --- loose checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["jobs", "retry", "--queue", "nope"], "unknown queue 'nope'"),
        (["people", "faces", "999"], "no person with id 999"),
    ],
)
def test_unknown_names_are_errors(filled, capsys, argv, said) -> None:
    capsys.readouterr()
    assert main(["--library", filled, *argv]) == 1
    assert said in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["ls", "--limit", "-5"], "must be 0 or more, not -5"),
        (["search", "--limit", "-1"], "must be 0 or more, not -1"),
        (["empty-trash", "--days", "-1"], "must be 0 or more, not -1"),
        (["import", "--album", "", "x.jpg"], "must not be empty"),
        (["import", "--album", "  ", "x.jpg"], "must not be empty"),
        (["import", "--workers", "0", "x.jpg"], "must be 1 or more"),
        (["ls", "--rating", "9"], "invalid choice"),
    ],
)
def test_bad_values_are_usage_errors(filled, capsys, argv, said) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["--library", filled, *argv])
    assert exc.value.code == 2
    assert said in capsys.readouterr().err
