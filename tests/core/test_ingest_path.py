"""One way in: an import, a watched folder and an upload all submit to the ingest service."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from photodesk.core import Library, LibraryOptions
from photodesk.core.catalog.db.schema import Job
from photodesk.core.ingest.service import IngestService
from tests.conftest import make_jpeg


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[str]]]:
    """Every batch submitted to any IngestService: (acting user, paths)."""
    calls: list[tuple[int, list[str]]] = []
    real = IngestService.submit

    def spy(self: IngestService, results: list[Any], *args: Any, **kw: Any) -> None:
        calls.append((int(self._store.owner_id), [r.path for r in results]))
        real(self, results, *args, **kw)

    monkeypatch.setattr(IngestService, "submit", spy)
    return calls


@pytest.fixture
def ingest_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every call of the ingest service's steps, in order: (step, acting user)."""
    calls: list[tuple[str, int]] = []
    for step in ("duplicates", "submit", "admit", "complete", "refuse"):
        real = getattr(IngestService, step)

        def spy(self: IngestService, *args: Any, _real: Any = real, _step: str = step, **kw: Any):
            calls.append((_step, int(self._store.owner_id)))
            return _real(self, *args, **kw)

        monkeypatch.setattr(IngestService, step, spy)
    return calls


def _upload(lib: Library, owner: int, src: Path, **kw: Any) -> Any:
    with lib.uploads.stage(owner) as staged:
        staged.write(src.read_bytes())
        temp = staged.finish()
    return lib.uploads.ingest(owner, temp, src.name, staged.sha1, **kw)


def test_an_import_and_an_upload_both_go_through_the_ingest_service(
    tmp_path: Path, ingest_calls: list[tuple[str, int]]
) -> None:
    with Library.open(tmp_path / "lib", options=LibraryOptions(upload_analysis_workers=0)) as lib:
        owner = lib.owner_id
        make_jpeg(tmp_path / "in" / "a.jpg", seed=1)
        report = lib.importer.import_paths([tmp_path / "in"], workers=1)
        assert report.imported == 1
        # an import: one batch, one duplicate check for it, one write
        assert ingest_calls == [("submit", owner), ("duplicates", owner)]

        ada = lib.accounts.add_user("ada@example.org", None)
        ingest_calls.clear()
        outcome = _upload(lib, ada, make_jpeg(tmp_path / "up.jpg", seed=2))
        assert outcome.status == "created"
        # the request: one duplicate check, the minimal row; nothing decoded yet
        assert ingest_calls == [("admit", ada), ("duplicates", ada)]
        assert not lib.thumbnails.has(lib.for_user(ada).assets.get(outcome.asset_id).checksum)
        with lib.read() as s:
            queued = s.execute(
                select(Job.kind, Job.owner_id).where(Job.target == str(outcome.asset_id))
            ).all()
        assert queued == [("upload.analyse", ada)]  # persisted, for the uploading user

        ingest_calls.clear()
        assert lib.jobs.run_until_idle(timeout=120)
        # the job: the analysis written for that user, no second duplicate check
        assert ingest_calls == [("complete", ada)]
        rec = lib.for_user(ada).assets.get(outcome.asset_id)
        assert rec.has_thumbnail and rec.make == "Canon"
        assert rec.path.startswith(str(lib.originals_dir) + os.sep)
        with lib.read() as s:
            owners = set(s.scalars(select(Job.owner_id).where(Job.target == str(outcome.asset_id))))
        assert owners == {ada}  # its follow-up jobs were queued for that user too

        # a duplicate upload is answered by the one duplicate check: nothing more is written
        ingest_calls.clear()
        again = _upload(lib, ada, tmp_path / "up.jpg")
        assert (again.status, again.asset_id) == ("duplicate", outcome.asset_id)
        assert ingest_calls == [("admit", ada), ("duplicates", ada)]

        # Immich's checksum header: its check is the one check; the admission does not repeat it
        ingest_calls.clear()
        src = make_jpeg(tmp_path / "hdr.jpg", seed=3)
        sha1 = hashlib.sha1(src.read_bytes()).hexdigest()
        assert lib.uploads.has_checksum(ada, sha1) is None
        third = _upload(lib, ada, src, checked=True)
        assert third.status == "created"
        assert ingest_calls == [("duplicates", ada), ("admit", ada)]


def test_twin_uploads_that_skipped_the_check_make_one_asset(tmp_path: Path) -> None:
    """Two uploads of the same bytes whose header checks both said "new" (they raced): the
    catalog's unique checksum makes the second a duplicate of the first."""
    with Library.open(tmp_path / "lib", options=LibraryOptions(upload_analysis_workers=0)) as lib:
        src = make_jpeg(tmp_path / "twin.jpg", seed=4)
        first = _upload(lib, lib.owner_id, src, checked=True)
        second = _upload(lib, lib.owner_id, src, checked=True)
        assert first.status == "created"
        assert (second.status, second.asset_id) == ("duplicate", first.asset_id)
        assert len(lib.assets.ids()) == 1


def test_a_watched_folder_imports_through_the_ingest_service(
    tmp_path: Path, submitted: list[tuple[int, list[str]]]
) -> None:
    options = LibraryOptions(watch_settle_s=0.2, watch_poll_interval_s=0.2, watch_workers=1)
    with Library.open(tmp_path / "lib", options=options) as lib:
        inbox = tmp_path / "inbox"
        make_jpeg(inbox / "w.jpg", seed=3)
        lib.files.add_watched(inbox)
        lib.start_background(jobs=False)
        try:
            assert lib.watch.wait_idle(30)
        finally:
            lib.stop_background()
        assert [p for _, paths in submitted for p in paths] == [str(inbox / "w.jpg")]
        assert len(lib.assets.ids()) == 1
