"""What of remote-only photos comes to a desktop (previews, originals per album or all), the
conflicts the app lists and the progress it shows: two desktops and a real daemon."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import InvalidInput
from photodesk.core.sync import SyncProgress
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.test_desktop_sync import by_checksum, desktops, sync  # noqa: F401 (fixture)

os.environ.setdefault("PHOTODESK_KEYRING", "off")


def _ls(lib_root: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    from photodesk.cli.main import main

    capsys.readouterr()
    assert main(["--library", str(lib_root), "ls", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_originals_kept_offline_for_an_album_and_previews_always(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = desktops["A"], desktops["B"]
    files = [make_jpeg(tmp_path / "in" / f"o{i}.jpg", seed=40 + i) for i in range(3)]
    ids = list(a.importer.import_paths([str(f) for f in files]).asset_ids)
    a.albums.create("Trip")
    a.albums.add("Trip", [ids[0]])
    sync(a)
    trip = a.assets.get(ids[0]).checksum

    with pytest.raises(InvalidInput, match="originals is"):
        b.sync.set_settings(originals="sometimes")
    settings = b.sync.set_settings(previews="always", originals="albums", offline_albums=["Trip"])
    assert settings.as_json() == {
        "previews": "always", "originals": "albums", "offline_albums": ["Trip"]
    }  # fmt: skip
    seen: list[tuple[str, int, int, SyncProgress | None]] = []
    report = pairing.sync(b, lambda step, n, m: seen.append((step, n, m, b.sync.progress())))
    assert not report.errors, report.errors
    assert report.previews == 3 and report.originals == 1
    assert report.as_json()["originals"] == 1
    # the app's progress: n of m of each step, readable while the round runs, gone after
    assert ("originals", 1, 1) in [s[:3] for s in seen]
    assert all(p is not None and (p.step, p.done, p.total) == tuple(s) for *s, p in seen)
    assert b.sync.progress() is None

    recs = by_checksum(b)
    for checksum, rec in recs.items():
        assert b.thumbnails.preview_path(checksum).is_file()
        if checksum == trip:
            assert rec.path and hashlib.sha1(Path(rec.path).read_bytes()).hexdigest() == trip
        else:
            assert rec.path == ""
    rows = {r["checksum"]: r for r in _ls(b.root, capsys)}
    assert rows[trip]["path"] and rows[trip]["original"] == "here"
    others = [r for c, r in rows.items() if c != trip]
    assert others and all(r["path"] is None and r["original"] == "server" for r in others)
    # the grid shows those with a cloud (on the server), not dimmed as missing files
    tiles = {t.checksum: t for t in b.timeline.items([r.id for r in recs.values()])}
    assert not tiles[trip].offline and not tiles[trip].on_server
    assert all(t.offline and t.on_server for c, t in tiles.items() if c != trip)

    # on demand: one original, then everything
    other = next(r for c, r in recs.items() if c != trip)
    assert b.sync.is_remote_only(other.id)
    got = b.sync.fetch_original(other.id)
    assert hashlib.sha1(got.read_bytes()).hexdigest() == other.checksum
    assert not b.sync.is_remote_only(other.id)
    assert not b.timeline.items([other.id])[0].on_server
    b.sync.set_settings(originals="all")
    assert pairing.sync(b).originals == 1
    assert all(r["path"] for r in _ls(b.root, capsys))


def test_settings_and_conflicts_from_the_command_line(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    from photodesk.cli.main import main

    a, b = desktops["A"], desktops["B"]
    root = str(b.root)
    capsys.readouterr()
    assert main(["--library", root, "remote", "settings", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["originals"] == "on_demand"
    assert main(["--library", root, "remote", "settings", "--originals", "all",
                 "--previews", "always"]) == 0  # fmt: skip
    assert "originals: all" in capsys.readouterr().out
    assert b.sync.settings().originals == "all"
    with pytest.raises(SystemExit):
        main(["--library", root, "remote", "settings", "--originals", "never"])
    capsys.readouterr()

    [aid] = a.importer.import_paths([str(make_jpeg(tmp_path / "c.jpg", seed=77))]).asset_ids
    sync(a)
    sync(b)
    checksum = a.assets.get(aid).checksum
    bid = by_checksum(b)[checksum].id
    a.assets.set_rating([aid], 5)
    import time

    time.sleep(0.01)
    b.assets.set_rating([bid], 2)
    sync(a)
    rb = sync(b)
    assert rb.conflicts
    listed = b.sync.conflicts()
    assert listed and listed[0].field == "rating" and listed[0].kept == 2
    assert main(["--library", root, "remote", "conflicts", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["checksum"] == checksum and out[0]["dropped"] == 5
