"""``photodesk db migrate-to URL``: a SQLite catalog copied into PostgreSQL, resumed, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.catalog.db import transfer, vector_search, vectors
from photodesk.core.catalog.db.schema import Face, Person, Stack
from photodesk.core.catalog.errors import LibraryError
from photodesk.core.search.query import SearchQuery
from tests.conftest import make_jpeg


def _sqlite_library(root: Path, src: Path) -> None:
    """A small catalog with a bit of everything: photos, tags, an album, a second user, an
    embedding, a person whose cover is one of their faces (a foreign-key cycle), a stack."""
    for n in range(6):
        make_jpeg(src / f"beach {n}.jpg", seed=n, when=f"2023:07:0{n + 1} 10:00:00")
    with Library.open(root) as lib:
        report = lib.importer.import_paths([src], workers=1)
        assert report.imported == 6
        ids = [a.id for a in lib.assets.list()]
        lib.tags.add(ids[:3], "Places/France/Paris")
        lib.albums.create("Summer")
        lib.albums.add("Summer", ids[2:5])
        lib.edits.set_title([ids[0]], "Sunset über dem Meer")
        lib.accounts.add_user("ann@example.org", "a long password", quota_bytes=5 * 2**32)
        with lib.write() as s:
            vectors.save(s, "clip-test", [(i, np.full(4, float(i), np.float32)) for i in ids])
            person = Person(owner_id=lib.owner_id, name="Ann", hidden=False, created_at=_now())
            s.add(person)
            s.flush()
            face = Face(
                asset_id=ids[0], person_id=person.id, x1=0.1, y1=0.1, x2=0.3, y2=0.3,
                score=0.9, model="test", assigned_by_user=True,
            )  # fmt: skip
            s.add(face)
            s.flush()
            person.cover_face_id = face.id
            stack = Stack(owner_id=lib.owner_id, primary_asset_id=ids[4])
            s.add(stack)


def _now() -> Any:
    from datetime import datetime

    return datetime(2024, 1, 2, 3, 4, 5, 678901)


@pytest.fixture
def sqlite_lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    _sqlite_library(root, tmp_path / "src")
    return root


def test_migrate_to_copies_everything_and_postgres_serves_the_same_library(
    sqlite_lib: Path, postgres: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.create_database()
    assert main(["--library", str(sqlite_lib), "db", "migrate-to", url]) == 0
    out = capsys.readouterr().out
    assert "verified: the same row counts and checksums in every table" in out

    with Library.open(sqlite_lib) as before:
        want_ids = [a.id for a in before.assets.list()]
        want_hits = before.search.search(SearchQuery(text="meer"))
        want_stats = before.assets.stats()
    with Library.open(sqlite_lib, database=url) as after:
        assert [a.id for a in after.assets.list()] == want_ids
        assert want_hits and after.search.search(SearchQuery(text="meer")) == want_hits
        assert after.assets.stats() == want_stats
        assert [u.email for u in after.accounts.list_users()][-1] == "ann@example.org"
        with after.read() as s:
            person = s.query(Person).one()
            assert person.cover_face_id is not None  # the cycle's key was filled in
            assert s.query(Stack).one().primary_asset_id is not None
            assert vectors.count(s, "clip-test") == len(want_ids)
            # the copied rows got their pgvector halfvec and index: smart search finds them
            assert vector_search.native(s)
            assert not s.scalar(text("SELECT count(*) FROM embeddings WHERE embedding IS NULL"))
            near = vector_search.nearest(s, "clip-test", np.full(4, 0.5, np.float32), 10)
            assert sorted(a for a, _ in near) == sorted(want_ids)
        # New rows get ids after the copied ones (the sequences were moved on).
        album = after.albums.create("After the move")
        assert int(album) > 1


def test_an_interrupted_copy_resumes_and_verifies(
    sqlite_lib: Path, postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.create_database()
    monkeypatch.setattr(transfer, "CHUNK", 2)

    def stop_in_assets(table: str, done: int, total: int) -> None:
        if table == "assets" and done >= 2:
            raise KeyboardInterrupt

    with Library.open(sqlite_lib) as lib:
        with pytest.raises(KeyboardInterrupt):
            lib.maintenance.migrate_to(url, stop_in_assets)
        report = lib.maintenance.migrate_to(url)
    assert report.resumed
    assert report.verified
    assert report.copied["assets"] == 4  # the two copied before the stop were not copied again
    assert report.copied["users"] == 0


def test_a_database_that_holds_a_catalog_is_refused(sqlite_lib: Path, postgres: Any) -> None:
    url = postgres.create_database(postgres.template)
    with Library.open(url_lib := sqlite_lib.parent / "pg", database=url):
        pass  # its own catalog, with its own first user
    with Library.open(sqlite_lib) as lib, pytest.raises(LibraryError, match="already holds"):
        lib.maintenance.migrate_to(url)
    assert url_lib.is_dir()


def test_a_bad_url_is_one_clear_line(sqlite_lib: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--library", str(sqlite_lib), "db", "migrate-to", "mysql://x@y/z"]) != 0
    err = capsys.readouterr().err
    assert "not a PostgreSQL URL" in err
    assert "Traceback" not in err
