"""The catalog on PostgreSQL: commands follow PHOTODESK_DATABASE_URL, jobs are claimed with SKIP
LOCKED by several processes at once, vectors are read back in write order, text search ignores
case, and a server that cannot be reached is one clear line."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.catalog.db import jobs as repo
from photodesk.core.catalog.db import text_index, vectors
from photodesk.core.catalog.db.schema import Asset, Job
from tests.conftest import make_jpeg


def test_commands_use_the_database_named_in_the_environment(
    tmp_path: Path, postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    url = postgres.create_database()
    monkeypatch.setenv("PHOTODESK_DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    folder = tmp_path / "lib"
    assert main(["--library", str(folder), "users", "add", "ann@example.org",
                 "--password-stdin"]) == 0  # fmt: skip
    assert main(["--library", str(folder), "users", "list"]) == 0
    assert "ann@example.org" in capsys.readouterr().out
    assert not (folder / "catalog.db").exists()  # the folder keeps only files
    assert (folder / "thumbs").is_dir()
    with Library.open(folder, database=url) as lib:
        assert "ann@example.org" in [u.email for u in lib.accounts.list_users()]


def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("PHOTODESK_DATABASE_URL", "postgresql://ann:s3cret@127.0.0.1:1/photos")
    assert main(["--library", str(tmp_path / "lib"), "users", "list"]) == 1  # 2 is for usage
    err = capsys.readouterr().err
    assert err.startswith("photodesk: cannot use the catalog database postgresql://ann:***@")
    assert "s3cret" not in err and "Traceback" not in err and err.count("\n") == 1


def test_skip_locked_claims_share_one_queue_between_processes(
    tmp_path: Path, postgres: Any
) -> None:
    url = postgres.create_database(postgres.template)
    libs = [Library.open(tmp_path / "lib", database=url) for _ in range(4)]  # 4 "daemons"
    try:
        with libs[0].write() as s:
            for n in range(120):
                repo.enqueue(s, kind="test", queue="import", target=str(n), payload=None,
                             owner_id=None, dedupe=False)  # fmt: skip
        claimed: list[list[int]] = [[] for _ in range(8)]

        def work(n: int) -> None:
            lib = libs[n % 4]
            while True:
                # Each thread its own transaction (not the library's one writer): rows being
                # claimed by another are skipped, not waited for nor taken twice.
                with lib.store._write_sessions() as s, s.begin():
                    row = repo.claim(s, "import", f"host{n}:1")
                    if row is None:
                        return
                    claimed[n].append(row.id)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        every = [i for ids in claimed for i in ids]
        assert len(every) == len(set(every)) == 120
        with libs[0].read() as s:
            assert s.query(Job).filter(Job.state == "running").count() == 120
    finally:
        for lib in libs:
            lib.close()


def test_vectors_are_read_in_write_order_and_text_search_ignores_case(
    tmp_path: Path, postgres: Any
) -> None:
    url = postgres.create_database(postgres.template)
    with Library.open(tmp_path / "lib", database=url) as lib:
        with lib.read() as s:
            assert vectors.head(s) == 0
        for n in range(2):
            make_jpeg(tmp_path / "src" / f"Holiday Beach {n}.jpg", seed=n)
        lib.importer.import_paths([tmp_path / "src"], workers=1)
        a, b = sorted(int(r.id) for r in lib.assets.list())
        with lib.write() as s:
            vectors.save(s, "m", [(a, np.ones(8, np.float32)), (b, np.zeros(8, np.float32))])
        with lib.read() as s:
            first = vectors.head(s)
            chunks = list(vectors.read_since(s, "m", 0, 8))
        assert [list(ids) for _, ids, _ in chunks] == [[a, b]]
        with lib.write() as s:  # a rewrite moves the row after every earlier one
            vectors.save(s, "m", [(a, np.full(8, 2.0, np.float32))])
        with lib.read() as s:
            later = list(vectors.read_since(s, "m", first, 8))
            assert [list(ids) for _, ids, _ in later] == [[a]]
            assert later[0][2][0][0] == 2.0
            hits = text_index.file_matches(s, "holiday beach", ["original"])
        assert sorted(aid for aid, _ in hits) == [a, b]


def test_the_timeline_pages_past_the_dated_photos_into_the_undated(
    tmp_path: Path, postgres: Any
) -> None:
    """The keyset start of the undated section fits PostgreSQL's INTEGER ids (it was 2**62)."""
    from photodesk.core import AssetQuery

    make_jpeg(tmp_path / "src" / "dated.jpg", seed=1)
    make_jpeg(tmp_path / "src" / "undated.jpg", seed=2)
    url = postgres.create_database(postgres.template)
    with Library.open(tmp_path / "lib", database=url) as lib:
        lib.importer.import_paths([tmp_path / "src"], workers=1)
        with lib.write() as s:  # no date at all (the importer falls back to the file's time)
            undated = s.query(Asset).order_by(Asset.id).first()
            assert undated is not None
            undated.taken_at = None
        timeline = lib.timeline
        first = timeline.page(AssetQuery(), limit=1)
        assert first.next is not None
        second = timeline.page(AssetQuery(), first.next, limit=1)
        assert len(first.items) + len(second.items) == 2


def test_tags_are_found_in_any_case(tmp_path: Path, postgres: Any) -> None:
    """SQLite's LIKE ignores ASCII case and PostgreSQL's does not: tag search uses ILIKE."""
    from photodesk.core.search.query import SearchQuery

    make_jpeg(tmp_path / "src" / "a.jpg", seed=3)
    url = postgres.create_database(postgres.template)
    with Library.open(tmp_path / "lib", database=url) as lib:
        lib.importer.import_paths([tmp_path / "src"], workers=1)
        ids = [a.id for a in lib.assets.list()]
        lib.tags.add(ids, "Trips/Corpus")
        assert lib.search.search(SearchQuery(text="trips")) == ids
        assert lib.search.search(SearchQuery(text="CORPUS")) == ids
