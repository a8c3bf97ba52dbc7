"""The catalog at scale on SQLite and PostgreSQL, in the same run.

Builds a throwaway catalog per dialect with N synthetic assets spread over 20 users (files named
like camera files, dates over 20 years, 3 cameras), then times, per dialect:

* a timeline page (keyset, 500 tiles) at random depths of one user's timeline: p50 / p95;
* a filtered search (``text`` over file names + ``camera``) for one user: p50 / p95;
* job claiming: 2,000 jobs claimed and finished by 1 claimer, then by 8 concurrent claimers
  (each its own connection and transaction: SKIP LOCKED on PostgreSQL, the one write lock on
  SQLite), in jobs per second.

PostgreSQL comes from ``tests/pg_server.py`` (Debian's binaries in a temporary folder). Usage:
``python bench/scale_bench.py [--assets 100000] [--dialects sqlite,postgresql]``
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

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.core import AssetQuery, Library  # noqa: E402
from photodesk.core.catalog.db import jobs as repo  # noqa: E402
from photodesk.core.catalog.db.schema import Asset, AssetFile, User  # noqa: E402
from photodesk.core.search.query import SearchQuery  # noqa: E402

USERS = 20
CAMERAS = (("Canon", "Canon EOS 6D"), ("SONY", "ILCE-7M3"), ("Apple", "iPhone 13"))
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


def time_claims(lib: Library, claimers: int, jobs: int = 2000) -> float:
    with lib.write() as s:
        for n in range(jobs):
            repo.enqueue(s, kind="bench", queue="maintenance", target=str(n), payload=None,
                         owner_id=None, dedupe=False)  # fmt: skip
    done = [0] * claimers

    def work(k: int) -> None:
        while True:
            with lib.store._write_sessions() as s, s.begin():
                row = repo.claim(s, "maintenance", f"bench{k}:1")
                if row is None:
                    return
                repo.finish(s, row.id, None)
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


def run(dialect: str, n: int, folder: Path, server: Any) -> dict[str, Any]:
    url = server.create_database() if dialect == "postgresql" else None
    lib = Library.open(folder / dialect, database=url)
    try:
        t0 = time.perf_counter()
        users = populate(lib, n)
        built = time.perf_counter() - t0
        user = users[3]
        return {
            "dialect": dialect,
            "build_s": built,
            "timeline": time_timeline(lib, user),
            "search": time_search(lib, user),
            "claims_1": time_claims(lib, 1),
            "claims_8": time_claims(lib, 8),
        }
    finally:
        lib.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=100_000)
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
            for dialect in dialects:
                rows.append(run(dialect, args.assets, Path(tmp), server))
    finally:
        if server is not None:
            server.stop()
    print(f"{args.assets} assets over {USERS} users")
    print("dialect     build   timeline p50/p95 ms   search p50/p95 ms   claims/s 1 -> 8")
    for r in rows:
        timeline, search = r["timeline"], r["search"]
        print(
            f"{r['dialect']:<11} {r['build_s']:5.0f}s  {timeline[0]:7.1f} / {timeline[1]:6.1f}"
            f"     {search[0]:7.1f} / {search[1]:6.1f}"
            f"    {r['claims_1']:6.0f} -> {r['claims_8']:6.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
