"""One way in: an import, a watched folder and an upload all submit to the ingest service."""

from __future__ import annotations

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


def test_an_import_and_an_upload_both_go_through_the_ingest_service(
    tmp_path: Path, submitted: list[tuple[int, list[str]]]
) -> None:
    with Library.open(tmp_path / "lib", options=LibraryOptions(upload_analysis_workers=0)) as lib:
        make_jpeg(tmp_path / "in" / "a.jpg", seed=1)
        report = lib.importer.import_paths([tmp_path / "in"], workers=1)
        assert report.imported == 1
        assert submitted == [(lib.owner_id, [str(tmp_path / "in" / "a.jpg")])]

        ada = lib.accounts.add_user("ada@example.org", None)
        make_jpeg(tmp_path / "up.jpg", seed=2)
        with lib.uploads.stage(ada) as staged:
            staged.write((tmp_path / "up.jpg").read_bytes())
            temp = staged.finish()
        outcome = lib.uploads.ingest(ada, temp, "up.jpg", staged.sha1)
        assert outcome.status == "created"
        assert len(submitted) == 2 and submitted[1][0] == ada  # for the uploading user
        # its follow-up jobs were queued for that user too
        with lib.read() as s:
            owners = set(s.scalars(select(Job.owner_id).where(Job.target == str(outcome.asset_id))))
        assert owners <= {ada}

        # a duplicate upload is answered by the one duplicate check: nothing more is written
        with lib.uploads.stage(ada) as staged:
            staged.write((tmp_path / "up.jpg").read_bytes())
            temp = staged.finish()
        again = lib.uploads.ingest(ada, temp, "up.jpg", staged.sha1)
        assert (again.status, again.asset_id) == ("duplicate", outcome.asset_id)
        assert len(submitted) == 2


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
