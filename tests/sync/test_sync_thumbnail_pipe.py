"""Thumbnails of the assets a pull makes are fetched while the next pages are applied; a
thumbnail batch that fails mid-pull never stops the pull, and what is missing comes later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from photodesk.core.sync import client
from photodesk.core.sync.ports import RemoteUnavailable
from photodesk.remote import pairing
from photodesk.remote.http import HttpRemote
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo
from tests.sync.test_desktop_sync import by_checksum, desktops, sync  # noqa: F401


@pytest.fixture
def uploaded(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """Seven photos of the account, on the server (uploaded by desktop A); small pages and
    batches so a first sync of desktop B makes several of each."""
    a = desktops["A"]
    files = [make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=70 + i) for i in range(7)]
    a.importer.import_paths([str(f) for f in files])
    assert sync(a).uploaded == 7
    server.analysed()
    monkeypatch.setattr(client, "PAGE", 2)
    monkeypatch.setattr(client, "THUMB_BATCH", 2)
    return desktops


def _has_thumbnails(lib: Any) -> dict[str, bool]:
    return {c: lib.thumbnails.thumb_path(c).is_file() for c in by_checksum(lib)}


def test_thumbnails_arrive_during_the_pull(
    uploaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    b = uploaded["B"]
    order: list[str] = []
    real_changes, real_thumbs = HttpRemote.changes, HttpRemote.thumbnails

    def changes(self: HttpRemote, *args: Any, **kw: Any) -> Any:
        order.append("page")
        return real_changes(self, *args, **kw)

    def thumbnails(self: HttpRemote, ids: list[int]) -> dict[int, bytes]:
        order.append("thumbs")
        return real_thumbs(self, ids)

    monkeypatch.setattr(HttpRemote, "changes", changes)
    monkeypatch.setattr(HttpRemote, "thumbnails", thumbnails)
    report = sync(b)
    assert report.thumbnails == 7
    assert all(_has_thumbnails(b).values()) and len(_has_thumbnails(b)) == 7
    # the first thumbnails were asked before the last page: the two overlap
    assert order.index("thumbs") < max(i for i, step in enumerate(order) if step == "page")
    assert all(r.has_thumbnail for r in by_checksum(b).values())


def test_a_thumbnail_failure_mid_pull_loses_nothing(
    uploaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    b = uploaded["B"]
    real = HttpRemote.thumbnails
    calls: list[int] = []

    def flaky(self: HttpRemote, ids: list[int]) -> dict[int, bytes]:
        calls.append(len(ids))
        if len(calls) == 2:  # the server goes away for one request
            raise RemoteUnavailable("the server cannot be reached (a test)")
        return real(self, ids)

    monkeypatch.setattr(HttpRemote, "thumbnails", flaky)
    report = sync(b)  # the pull went on; the thumbnails step fetched what was missing
    assert report.thumbnails == 7 and len(by_checksum(b)) == 7
    assert all(_has_thumbnails(b).values())


def test_thumbnails_that_cannot_be_fetched_come_in_the_next_round(
    uploaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    b = uploaded["B"]
    real = HttpRemote.thumbnails

    def down(self: HttpRemote, ids: list[int]) -> dict[int, bytes]:
        raise RemoteUnavailable("the server cannot be reached (a test)")

    monkeypatch.setattr(HttpRemote, "thumbnails", down)
    report = pairing.sync(b)
    assert len(by_checksum(b)) == 7  # every page applied all the same
    assert report.thumbnails == 0 and not any(_has_thumbnails(b).values())
    assert [e for e in report.errors if e.startswith("offline:")], report.errors
    assert not list(b.thumbs_dir.rglob(".*.tmp"))  # nothing half-written
    monkeypatch.setattr(HttpRemote, "thumbnails", real)
    again = sync(b)
    assert again.thumbnails == 7 and all(_has_thumbnails(b).values())
