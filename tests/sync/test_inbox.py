"""Per-user inbox folders: ``photodesk watch add PATH --user EMAIL``, run by the daemon."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from photodesk.core import Library
from photodesk.core.catalog.db.schema import Asset
from tests.conftest import make_jpeg

ROOT = Path(__file__).resolve().parents[2]


def _cli(library: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(library), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def _checksums(lib: Library, owner: int) -> set[str]:
    with lib.read() as s:
        return set(s.scalars(select(Asset.checksum).where(Asset.owner_id == owner)))


def _wait_for(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.1)


def test_files_dropped_into_an_inbox_become_that_accounts_assets(
    start_server, tmp_path: Path, catalog
) -> None:
    lib = Library.open(tmp_path / "lib")
    on = catalog.env_for(lib.root)  # the command line finds the same catalog as the library
    try:
        bob = lib.accounts.add_user("bob@example.org", "bob-password-1")
        carol = lib.accounts.add_user("carol@example.org", "carol-password-1")
        keep, drop = tmp_path / "bob-inbox", tmp_path / "carol-inbox"
        keep.mkdir()
        drop.mkdir()
        early = make_jpeg(keep / "early.jpg", seed=1)  # there before the daemon starts
        added = _cli(lib.root, "watch", "add", str(keep), "--user", "bob@example.org", env=on)
        assert added.returncode == 0, added.stderr
        assert "inbox" in added.stdout and "bob@example.org" in added.stdout
        added = _cli(
            lib.root, "watch", "add", str(drop), "--user", "carol@example.org",
            "--delete-after-import", env=on,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        listed = _cli(lib.root, "watch", "list", env=on)
        assert "inbox of bob@example.org" in listed.stdout, listed.stdout
        assert "delete after import" in listed.stdout, listed.stdout
        bad = _cli(lib.root, "watch", "add", str(tmp_path), "--user", "nobody@example.org", env=on)
        assert bad.returncode != 0 and "Traceback" not in bad.stderr

        server = start_server(lib=lib)  # the daemon runs every account's inbox
        sums = lambda p: hashlib.sha1(p.read_bytes()).hexdigest()  # noqa: E731
        _wait_for(lambda: _checksums(lib, bob) == {sums(early)})
        late = [make_jpeg(keep / f"late{i}.jpg", seed=10 + i) for i in range(3)]
        theirs = make_jpeg(drop / "carol.jpg", seed=20)
        carol_sum = sums(theirs)
        _wait_for(lambda: _checksums(lib, bob) == {sums(p) for p in [early, *late]})
        _wait_for(lambda: _checksums(lib, carol) == {carol_sum})
        _wait_for(lambda: not theirs.exists())  # verified, then removed from carol's inbox
        assert all(p.exists() for p in [early, *late])  # bob's inbox keeps its files
        # Nothing became the library owner's, and the same photo again is no second asset.
        assert _checksums(lib, lib.owner_id) == set()
        (keep / "again.jpg").write_bytes(early.read_bytes())
        make_jpeg(keep / "last.jpg", seed=30)
        _wait_for(lambda: len(_checksums(lib, bob)) == 5)
        with lib.read() as s:
            assert s.scalar(select(func.count()).where(Asset.owner_id == bob)) == 5
        server.running.stop()
    finally:
        lib.close()
