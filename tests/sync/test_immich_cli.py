"""The unmodified official Immich CLI (``@immich/cli`` 3.x from npm) backs up into photodesk."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from photodesk.core import Library
from tests.catalogs import sql
from tests.conftest import make_jpeg
from tests.sync.npm_tools import node_of, npm_install

CLI_PACKAGES = ("node@22", "@immich/cli@3")


@pytest.fixture(scope="module")
def immich(tmp_path_factory: pytest.TempPathFactory):
    """A function running ``immich ARGS`` with Node 22, both installed from npm once (cached)."""
    cache = npm_install("immich-cli", CLI_PACKAGES, "node_modules/@immich/cli/bin/immich")
    cli = cache / "node_modules" / "@immich" / "cli" / "bin" / "immich"
    node = node_of(cache)
    config = tmp_path_factory.mktemp("immich-config")
    env = {
        **os.environ,
        "IMMICH_CONFIG_DIR": str(config),
        "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
    }

    def run(*args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(node), str(cli), *args],
            capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )  # fmt: skip
        out = done.stdout + done.stderr
        assert done.returncode == 0, f"immich {' '.join(args)} failed:\n{out}"
        return out

    return run


def _failed(out: str) -> dict[str, str]:
    """``- /path - Error: {json}`` lines of the CLI's upload summary."""
    return dict(re.findall(r"^- (\S+) - Error: (.*)$", out, re.MULTILINE))


def _number(pattern: str, out: str) -> int:
    m = re.search(pattern, out)
    assert m, f"{pattern!r} not in:\n{out}"
    return int(m.group(1))


def test_cli_backs_up_the_corpus(immich, serve_subprocess, corpus, tmp_path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        uid = lib.accounts.add_user("family@example.org", "a good password")
        key = lib.accounts.create_api_key(uid, "immich-cli")
    server = serve_subprocess(lib_dir)
    out = immich("login", server.url, key)
    assert "Logged in as family@example.org" in out

    first = immich("upload", "--recursive", "--no-progress", "-c", "2",
                   "--album-name", "Corpus", str(corpus))  # fmt: skip
    crawled = _number(r"Received (\d+) files", first)
    created = _number(r"Successfully uploaded (\d+) new assets", first)
    failed = _failed(first)
    assert created + len(failed) == crawled and created > 200
    # Files that are no photo or video by their first bytes are refused by the server with its
    # reason, never as a 500.
    for message in failed.values():
        assert '"statusCode":422' in message and "cannot be imported: " in message
        assert "500" not in message and "internal error" not in message
    _analysed(lib_dir)
    # The others were admitted; those whose pixels cannot be decoded were refused by their
    # analysis (a job, after the answer), each with an import error.
    with Library.open(lib_dir) as lib:  # the same catalog, SQLite or PostgreSQL
        refused = {Path(p).name for (p,) in sql(lib, "select path from import_errors")}
        kept = sql(lib, "select count(*) from assets where owner_id=?", uid)[0][0]
    broken = {
        line.split("\t")[0]
        for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]
        if line.split("\t")[4] == "broken"
    }
    failed_names = {Path(p).name for p in failed}
    assert broken <= failed_names | refused
    # Exactly the files the desktop import refuses, and the same assets: one pipeline.
    with Library.open(tmp_path / "desktop") as desktop:
        report = desktop.importer.import_paths([corpus], workers=2)
    assert {Path(f.path).name for f in report.failed} == failed_names | refused
    assert report.imported == kept
    albums = requests.get(server.url + "/api/albums", headers={"x-api-key": key}, timeout=60)
    assert [(a["albumName"], a["assetCount"]) for a in albums.json()] == [("Corpus", kept)]
    stored = [p for p in (lib_dir / "originals").rglob("*") if p.is_file()]
    assert len(stored) == created - len(refused)
    assert not [p for p in (lib_dir / "uploads").rglob("*") if p.is_file()]

    # Running it again uploads nothing new: everything good is a duplicate (what was refused
    # is sent again, and refused again).
    again = immich("upload", "--recursive", "--no-progress", "--album-name", "Corpus", str(corpus))
    assert _number(r"Found (\d+) new files and \d+ duplicates", again) == len(failed) + len(refused)
    assert _number(r"Found \d+ new files and (\d+) duplicates", again) == crawled - len(
        failed
    ) - len(refused)
    assert _number(r"Successfully uploaded (\d+) new assets", again) == len(refused)
    assert set(_failed(again)) == set(failed)
    _analysed(lib_dir)
    with Library.open(lib_dir) as lib:
        now = sql(lib, "select count(*) from assets where owner_id=?", uid)[0][0]
        errors = sql(lib, "select count(*) from import_errors")[0][0]
    # Each re-sent file is refused again (its import error replaced, not repeated) or, when its
    # decoding failed for a passing reason (a timeout under load), kept now.
    assert errors == len(refused) and kept <= now <= kept + len(refused)
    info = immich("server-info")
    assert re.search(rf"Total:\s+{now}\b", info), info


def _analysed(lib_dir: Path, timeout: float = 900.0) -> None:
    """Wait until the server has analysed every upload (no ``upload.analyse`` job is queued or
    running; their ML follow-ups may still be)."""
    deadline = time.monotonic() + timeout
    busy: list = []
    while time.monotonic() < deadline:
        with Library.open(lib_dir) as lib:
            busy = sql(
                lib,
                "select state, count(*) from jobs where kind = 'upload.analyse'"
                " and state in ('queued', 'running') group by state",
            )
        if not busy:
            return
        time.sleep(0.5)
    raise AssertionError(f"the uploads were not analysed in time: {busy}")


def test_cli_album_per_folder(immich, serve_subprocess, tmp_path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        uid = lib.accounts.add_user("kid@example.org", "another password")
        key = lib.accounts.create_api_key(uid, "immich-cli")
    photos = tmp_path / "photos"
    for folder, seeds in (("Birthday", (1, 2)), ("Trip", (3,))):
        for seed in seeds:
            make_jpeg(photos / folder / f"IMG_{seed}.jpg", seed=seed)
    server = serve_subprocess(lib_dir)
    immich("login", server.url, key)
    out = immich("upload", "--recursive", "--no-progress", "--album", str(photos))
    assert _number(r"Successfully uploaded (\d+) new assets", out) == 3
    albums = requests.get(server.url + "/api/albums", headers={"x-api-key": key}, timeout=60)
    assert sorted((a["albumName"], a["assetCount"]) for a in albums.json()) == [
        ("Birthday", 2),
        ("Trip", 1),
    ]
