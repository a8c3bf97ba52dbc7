"""CRASH TESTS (slow, POSIX): real ``photodesk import`` processes killed with SIGKILL, then re-run.

``test_random_sigkills_*`` kills an import of a few hundred files several times at seeded,
progress-driven points (never before it is really importing), then lets one run finish and
compares the library with a clean import of the same files. The ``test_killed_at_*`` tests
plant a SIGKILL at one exact point, so each gap they show is reproduced every time.

Crash-safety gaps in code these tests do not own are listed in ``KNOWN``: the random test reports
them as an xfail (with what it found) instead of failing, and fails on anything else; the planted
tests mark them ``xfail(strict=True)``, so fixing one turns its test red until its mark goes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from photodesk.core import AssetQuery, Library
from photodesk.core.catalog.db.schema import AssetFile
from photodesk.core.maintenance.check import check
from tests.conftest import ROOT, make_jpeg

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and process groups are POSIX"),
    pytest.mark.timeout(300),
]

# Crash-safety gaps still open: reported as xfail, with what was found. None at the moment:
# workers wait for a temp-file write in flight before exiting with their killed parent.
KNOWN: dict[str, str] = {}
KILLS = 5
NO_GRACE = timedelta(0)
TEMP_SUFFIXES = (".tmp", ".photodesk-tmp")
FIELDS = (
    *("kind", "file_type", "mime", "size", "width", "height", "orientation", "duration"),
    *("taken_at", "taken_offset", "taken_at_source", "make", "model", "lens", "iso"),
    *("f_number", "exposure_time", "focal_length", "latitude", "longitude", "altitude"),
    *("city", "country", "title", "description", "rating", "favorite", "archived"),
    *("offline", "has_thumbnail", "tags"),
)
RAW_PAIRS = {  # partner JPEG name -> corpus RAW; a_ sorts first, so it commits before most kills
    "a_pairs/IMG_1001": "photoprism__canon_eos_6d.dng",
    "a_pairs/IMG_1002": "exiftool__CanonRaw.cr2",
    "m_pairs/IMG_1003": "exiv2__Canon-R6-pruned.CR3",
    "z_pairs/IMG_1004": "filetype__fixture-Leica-M10.dng",
    "z_pairs/IMG_1005": "exiv2__IMG_1361.dng",
}
XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="{rating}">
 <lr:HierarchicalSubject><rdf:Bag><rdf:li>Crash|{tag}</rdf:li></rdf:Bag></lr:HierarchicalSubject>
 <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


# ----- what a library holds, comparable between a clean and a crashed import ------------------


@dataclass(frozen=True)
class State:
    assets: dict[str, dict[str, Any]]  # checksum -> the fields that must not depend on crashes
    sources: dict[str, list[tuple[str, str]]]  # source path (relative) -> [(checksum, role)]
    stacks: frozenset[frozenset[str]]  # checksums stacked together
    errors: frozenset[str]  # source paths (relative) that could not be imported
    sidecars: int  # sidecar rows (copied next to the copy with --copy)


def read_state(lib: Library, src: Path) -> State:
    records = lib.assets.list(AssetQuery(archived=None))
    assets = {a.checksum: {f: getattr(a, f) for f in FIELDS} for a in records}
    for fields in assets.values():
        fields["tags"] = tuple(sorted(fields["tags"]))
    by_stack: dict[int, set[str]] = defaultdict(set)
    for a in records:
        if a.stack_id is not None:
            by_stack[a.stack_id].add(a.checksum)
    by_id = {int(a.id): a.checksum for a in records}
    sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
    prefix = str(src) + os.sep
    sidecars = 0
    with lib.read() as s:
        for asset_id, path, role in s.execute(
            select(AssetFile.asset_id, AssetFile.path, AssetFile.role)
        ):
            if path.startswith(prefix) and role != "sidecar":
                sources[path[len(prefix) :]].append((by_id[asset_id], role))
            elif role == "sidecar":
                sidecars += 1
    errors = frozenset(p[len(prefix) :] for p, _ in lib.assets.import_errors())
    stacks = frozenset(frozenset(v) for v in by_stack.values())
    return State(assets, dict(sources), stacks, errors, sidecars)


# ----- the files imported: generated photos, RAW+JPEG pairs, sidecars, real corpus files -----


@pytest.fixture(scope="module")
def dataset(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, State]:
    """A source tree of ~400 files and the state a clean, uninterrupted import gives."""
    from photodesk.core.media.formats import sniff_path
    from photodesk.core.media.metadata import read_metadata

    src = tmp_path_factory.mktemp("crash") / "src"
    for i in range(300):
        make_jpeg(
            src / f"d{i // 50}" / f"g{i:04d}.jpg",
            seed=i,
            size=(640, 480),
            when=f"20{10 + i % 12}:{1 + i % 12:02d}:{1 + i % 28:02d} 12:{i % 60:02d}:00",
            gps=(48.85 + i / 1000, 2.35) if i % 10 == 0 else None,
        )
    shutil.copy(src / "d0" / "g0003.jpg", src / "d5" / "g0003-copy.jpg")  # an exact duplicate
    for stem, raw in RAW_PAIRS.items():
        raw_path = src / f"{stem}{Path(raw).suffix}"
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus / raw, raw_path)
        fmt = sniff_path(raw_path)
        assert fmt is not None
        taken = read_metadata(raw_path, fmt).taken_at
        assert taken is not None, raw  # same date, so --copy files them in one folder too
        make_jpeg(src / f"{stem}.JPG", seed=1000 + len(stem), when=f"{taken:%Y:%m:%d %H:%M:%S}")
    sidecars = {
        "a_pairs/IMG_1001.DNG.xmp": (5, "Raw", "darktable"),
        "d1/g0050.jpg.xmp": (4, "Digikam", "with name.jpg.xmp"),
        "d2/g0100.xmp": (2, "Stem", "with name.xmp"),
    }
    for rel, (rating, tag, title) in sidecars.items():
        (src / rel).write_text(XMP.format(rating=rating, tag=tag, title=title), encoding="utf-8")
    (src / "corpus").mkdir()
    for name in _corpus_files(corpus):
        shutil.copy(corpus / name, src / "corpus" / name)
    for path in src.rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # an import must never write into the source
    with Library.open(src.parent / "clean") as lib:
        lib.importer.import_paths([src], workers=2)
        state = read_state(lib, src)
    assert len(state.stacks) == len(RAW_PAIRS), "the pairs must stack in a clean import"
    assert state.errors and len(state.assets) > 350
    assert {state.assets[c]["rating"] for c, _ in state.sources["d1/g0050.jpg"]} == {4}
    return src, state


def _corpus_files(corpus: Path) -> list[str]:
    """A quick slice of every kind (the slow HEIF decodes mostly left out), RAWs excepted."""
    with open(corpus / "MANIFEST.tsv", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh, delimiter="\t"), key=lambda r: r["file"])
    by_kind: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r["file"])
    picked = by_kind["jpeg"][::3] + by_kind["heic"][:2] + by_kind["avif"][:2]
    for kind in ("png", "gif", "tiff", "webp", "mpo", "misnamed", "broken"):
        picked += by_kind[kind]
    return [f for f in picked if not f.endswith(".nef") and f not in RAW_PAIRS.values()]


# ----- running and killing imports ------------------------------------------------------------


def _cmd(lib_dir: Path, src: Path, copy: bool, *extra: str) -> list[str]:
    args = ["--library", str(lib_dir), "import", str(src), "--json", *extra]
    return [sys.executable, "-m", "photodesk", *args, *(["--copy"] if copy else [])]


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:  # files, not pipes: surviving workers would hold a pipe open
        return subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _group(pgid: int) -> list[str]:
    """Live processes of a process group (zombies excluded), as "pid cmdline"."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [f"group {pgid}"]
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
        if int(pgrp) == pgid and state not in "ZX":
            found.append(f"{pid} {cmd.decode(errors='replace')[:90]}")
    return found


def _reap(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _group(pgid), "the killed import's processes would not die"


def _derivatives(lib_dir: Path) -> int:
    n = 0
    for _, _, names in os.walk(lib_dir / "thumbs"):
        n += sum(1 for name in names if not name.startswith("."))
    return n


class _Catalog:
    """Counts committed assets from outside, as a second process would (WAL readers never block)."""

    def __init__(self, db: Path) -> None:
        self._conn = sqlite3.connect(db, timeout=5, isolation_level=None)

    def assets(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM assets").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


@dataclass
class Kill:
    marker: str  # what the run has visibly done when it is killed: rendered, committed, copying
    style: str  # "group": a power cut (every process); "main": the import process only (OOM)
    killed: bool = False
    survivors: tuple[str, ...] = ()


def _copies(lib_dir: Path) -> int:
    n = 0
    for _, _, names in os.walk(lib_dir / "originals"):
        n += sum(1 for name in names if not name.endswith(TEMP_SUFFIXES))
    return n


def _kill_when(
    proc: subprocess.Popen[bytes], lib_dir: Path, kill: Kill, rng: random.Random
) -> None:
    """Wait until the run has really made progress of the kind ``kill.marker`` names, then kill.

    Progress, not time, decides when: the kills land at the same stages on a fast or a busy
    machine. ``rendered``: new derivatives (analysis under way, perhaps nothing committed);
    ``committed``: one more batch in the catalog, then a short random delay (into the next
    batch); ``copying``: new files in originals/ (a --copy batch half-way, not committed).
    """
    catalog = _Catalog(lib_dir / "catalog.db")
    try:
        rendered, committed, copies = _derivatives(lib_dir), catalog.assets(), _copies(lib_dir)
        step = rng.randint(8, 30)
        delay = rng.uniform(0.0, 0.35)
        reached = {
            "rendered": lambda: _derivatives(lib_dir) >= rendered + step,
            "committed": lambda: catalog.assets() > committed,
            "copying": lambda: _copies(lib_dir) >= copies + step // 4,
        }[kill.marker]
        deadline = time.monotonic() + 120
        while proc.poll() is None and not reached():
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.003)
        if kill.marker == "committed":
            time.sleep(delay)
        if proc.poll() is not None:
            return  # it finished first: nothing to kill
        if kill.style == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        kill.killed = True
        proc.wait()
        if kill.style == "main":  # workers watch their parent and follow it within seconds
            deadline = time.monotonic() + 4
            while _group(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            kill.survivors = tuple(_group(proc.pid))
    finally:
        catalog.close()
        proc.wait()
        _reap(proc.pid)


def _run_to_end(cmd: list[str], log: Path) -> dict[str, Any]:
    proc = _start(cmd, log)
    try:
        rc = proc.wait(timeout=180)
    finally:
        _reap(proc.pid)
    output = log.read_text(errors="replace")
    assert rc == 0, output[-3000:]
    report: dict[str, Any] = json.loads(output[output.index("{") :])
    return report


def _temp_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIXES)
    )


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()


# ----- the random kills -----------------------------------------------------------------------


@pytest.mark.parametrize("copy", [False, True], ids=["in-place", "copy"])
def test_random_sigkills_then_one_full_run_leave_a_sound_library(
    copy: bool, dataset: tuple[Path, State], tmp_path: Path
) -> None:
    src, clean = dataset
    lib_dir = tmp_path / "lib"
    Library.open(lib_dir).close()
    rng = random.Random(1125 + copy)
    plan = [
        Kill("rendered", "group"),
        Kill("committed", "main"),
        Kill("rendered", "main"),
        Kill("copying" if copy else "rendered", "group"),
        Kill("committed", "main"),
    ][:KILLS]
    cmd = _cmd(lib_dir, src, copy, "--workers", "2")  # the same stages on any number of cores
    for i, kill in enumerate(plan):
        _kill_when(_start(cmd, tmp_path / f"run{i}.log"), lib_dir, kill, rng)
    assert sum(k.killed for k in plan) >= KILLS - 1, f"too few kills landed: {plan}"
    final = _run_to_end(cmd, tmp_path / "final.log")
    findings: dict[str, list[str]] = {}
    survivors = [s for k in plan for s in k.survivors]
    if survivors:
        findings["orphan-workers"] = survivors

    with Library.open(lib_dir) as lib:
        state = read_state(lib, src)
        plain = check(lib, verify_checksums=True, grace=NO_GRACE)
        # The catalog is sound and nothing is half made.
        assert plain.catalog_ok, (plain.integrity, plain.foreign_keys)
        assert plain.assets_without_original == ()
        assert plain.missing == () and plain.changed == () and plain.checksum_mismatches == ()
        # Every source file is in the catalog exactly once, as in a clean import.
        with lib.read() as s:
            twice = s.execute(
                text(
                    "SELECT 'checksum', checksum FROM assets GROUP BY owner_id, checksum "
                    "HAVING count(*) > 1 UNION ALL "
                    "SELECT 'path', path FROM asset_files GROUP BY path HAVING count(*) > 1"
                )
            ).all()
        assert twice == []
        assert {p: len(v) for p, v in state.sources.items() if len(v) != 1} == {}
        assert state.sources.keys() == clean.sources.keys()
        assert {p: v[0][0] for p, v in state.sources.items()} == {
            p: v[0][0] for p, v in clean.sources.items()
        }
        assert state.errors == clean.errors
        assert state.sidecars == clean.sidecars == 3
        assert {f["path"][len(str(src)) + 1 :] for f in final["failed"]} == clean.errors
        # Same assets, with the same metadata, sidecar ratings and tags, places, thumbnails.
        assert state.assets.keys() == clean.assets.keys()
        differing = {c: f for c, f in state.assets.items() if f != clean.assets[c]}
        assert differing == {}
        assert all(lib.thumbnails.has(c) for c, f in state.assets.items() if f["has_thumbnail"])
        assert plain.orphan_derivatives == ()
        with lib.read() as s:
            originals = [
                (p, c)
                for p, c in s.execute(
                    select(AssetFile.path, AssetFile.copied).where(AssetFile.role == "original")
                )
            ]
        assert len(originals) == len(state.assets)
        if copy:
            assert all(c and p.startswith(str(lib.originals_dir)) for p, c in originals)
            assert plain.untracked_copies == ()
            copies = [p for p in lib.originals_dir.rglob("*") if p.is_file()]
            copies = [p for p in copies if not p.name.endswith(TEMP_SUFFIXES)]
            same = [n for n in Counter(_sha1(p) for p in copies).values() if n > 1]
            assert same == [], "identical copies in originals/"
        # Stacks: a pair may be left unstacked (KNOWN), never stacked wrongly.
        assert state.stacks <= clean.stacks
        if state.stacks != clean.stacks:
            findings["stacks"] = [
                " + ".join(sorted(p for p, v in state.sources.items() if v[0][0] in stack))
                for stack in clean.stacks - state.stacks
            ]
        # What the plain re-run leaves behind, before anything cleans it up.
        left = _temp_files(lib.root)
        assert sorted(str(Path(p).relative_to(lib.root)) for p in plain.temp_files) == left
        if left:
            findings["temp-files"] = left
        fixed = check(lib, fix=True, grace=NO_GRACE)
        assert sorted(str(Path(p).relative_to(lib.root)) for p in fixed.removed) == left
        assert _temp_files(lib.root) == []
        assert check(lib, verify_checksums=True, grace=NO_GRACE).ok

    unknown = findings.keys() - KNOWN.keys()
    assert not unknown, {k: findings[k] for k in unknown}
    if findings:
        pytest.xfail(
            "known crash-safety gaps reproduced: "
            + "; ".join(f"{k} ({KNOWN[k]}): {v[:4]}" for k, v in sorted(findings.items()))
        )


# ----- SIGKILL planted at one exact point -----------------------------------------------------

PLANT = """
import os, shutil, signal, sys

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

point = sys.argv[1]
if point == "batch-commit":  # the batch's copies are made, its transaction not committed yet
    import photodesk.core.ingest.writer as writer
    writer.geocode = die
elif point == "grouping":  # a batch's assets written, its stacks being made, nothing committed
    import photodesk.core.ingest.writer as writer
    writer.group_folders = die
elif point == "derivative-rename":  # a thumbnail and its preview written as temp files
    real_replace = os.replace
    def replace(a, b, *args, **kwargs):
        if os.sep + "thumbs" + os.sep in str(b):
            die()
        return real_replace(a, b, *args, **kwargs)
    os.replace = replace
elif point == "copy-temp":  # a copy's bytes are in its temp file, not yet linked to its name
    shutil.copystat = die
else:
    raise SystemExit(f"unknown point {point}")
from photodesk.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _killed_at(point: str, lib_dir: Path, src: Path, copy: bool, log: Path) -> None:
    args = _cmd(lib_dir, src, copy, "--workers", "1")[3:]
    proc = _start([sys.executable, "-c", PLANT, point, *args], log)
    try:
        rc = proc.wait(timeout=120)
    finally:
        _reap(proc.pid)
    assert rc == -signal.SIGKILL, log.read_text(errors="replace")[-3000:]


@pytest.fixture
def small(tmp_path: Path, corpus: Path) -> Path:
    src = tmp_path / "card"
    for i in range(3):
        make_jpeg(src / "DCIM" / f"p{i}.jpg", seed=i)
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", src / "DCIM" / "IMG_0001.DNG")
    make_jpeg(src / "DCIM" / "IMG_0001.JPG", seed=9, when="2019:06:06 07:29:51")
    (src / "DCIM" / "IMG_0001.DNG.xmp").write_text(
        XMP.format(rating=3, tag="Planted", title="t"), encoding="utf-8"
    )
    return src


def test_killed_at_batch_commit_a_copy_import_reuses_its_copies(
    small: Path, tmp_path: Path
) -> None:
    lib_dir = tmp_path / "lib"
    _killed_at("batch-commit", lib_dir, small, True, tmp_path / "killed.log")
    left = sorted(p.name for p in (lib_dir / "originals").rglob("*") if p.is_file())
    assert len(left) == 6  # copies (and the sidecar's) made, not all of them in the catalog
    _run_to_end(_cmd(lib_dir, small, True), tmp_path / "rerun.log")
    with Library.open(lib_dir) as lib:
        names = sorted(p.name for p in lib.originals_dir.rglob("*") if p.is_file())
        assert names == left  # reused, not copied again as p0_1.jpg
        assert check(lib, grace=NO_GRACE).ok
        assert len(lib.assets.list()) == 5


def test_killed_while_grouping_the_rerun_still_stacks_the_pair(small: Path, tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    _killed_at("grouping", lib_dir, small, False, tmp_path / "killed.log")
    _run_to_end(_cmd(lib_dir, small, False), tmp_path / "rerun.log")
    with Library.open(lib_dir) as lib:
        pair = [a for a in lib.assets.list() if Path(a.path).stem == "IMG_0001"]
        assert len(pair) == 2
        assert pair[0].stack_id is not None and pair[0].stack_id == pair[1].stack_id


@pytest.mark.parametrize(
    ("point", "copy"), [("derivative-rename", False), ("copy-temp", True)], ids=["thumbs", "copy"]
)
def test_killed_while_writing_the_rerun_removes_its_temp_files(
    point: str, copy: bool, small: Path, tmp_path: Path
) -> None:
    lib_dir = tmp_path / "lib"
    _killed_at(point, lib_dir, small, copy, tmp_path / "killed.log")
    assert _temp_files(lib_dir)  # the crash did leave one
    _run_to_end(_cmd(lib_dir, small, copy), tmp_path / "rerun.log")
    assert _temp_files(lib_dir) == []


def test_no_process_outlives_a_killed_import(tmp_path: Path) -> None:
    src = tmp_path / "many"
    for i in range(120):
        make_jpeg(src / f"p{i:03d}.jpg", seed=i, size=(800, 600))
    lib_dir = tmp_path / "lib"
    Library.open(lib_dir).close()
    proc = _start(_cmd(lib_dir, src, False, "--workers", "2"), tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 60
        while _derivatives(lib_dir) < 2:  # the worker pool is running
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 3  # a parent-watching worker notices within a second or two
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group(proc.pid) == []
    finally:
        _reap(proc.pid)
