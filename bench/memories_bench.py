"""Memories and events on a generated library: "on this day" for a day must take under 50 ms.

Usage: python bench/memories_bench.py [--assets 100000] [--out bench/out/memories]

Generates (once, then reuses) ``--assets`` assets over 12 years, inserted straight into the
catalog (bursts of photos, some with places, a few screenshots), then times
``MemoryService.memories(day)`` for 30 days spread over a year (median and worst) and
``EventService.events()`` over the whole library.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 10_000


def make_library(root: Path, count: int) -> Path:
    marker = root / f"generated-{count}"
    if marker.exists():
        return root
    import shutil

    from sqlalchemy import insert

    from photodesk.core import Library
    from photodesk.core.catalog.db.schema import Asset, AssetFile, Place

    if root.exists():
        shutil.rmtree(root)
    lib = Library.open(root)
    rnd = random.Random(7)
    now = datetime(2025, 6, 30, 20, 0)
    when = now
    places = [("Berlin", "Germany", "DE"), ("Reykjavik", "Iceland", "IS"), ("Rome", "Italy", "IT")]
    assets, files = [], []
    for i in range(count):
        when -= timedelta(seconds=rnd.randrange(20, 900))
        if rnd.random() < 0.03:
            when -= timedelta(days=rnd.randrange(1, 3), hours=rnd.randrange(0, 12))
        checksum = hashlib.sha1(f"mem-{i}".encode()).hexdigest()
        png = i % 200 == 0  # a screenshot now and then
        assets.append(
            {
                "id": i + 1,
                "owner_id": lib.owner_id,
                "checksum": checksum,
                "kind": "photo",
                "file_type": "png" if png else "JPEG",
                "mime": "image/png" if png else "image/jpeg",
                "size": 4_000_000,
                "width": 6000,
                "height": 4000,
                "taken_at": when,
                "taken_month": when.year * 100 + when.month,
                "make": None if png else "Sony",
                "place_id": (i // 500) % 4 or None,
                "rating": 0,
                "favorite": False,
                "archived": i % 97 == 0,
                "offline": False,
                "has_thumbnail": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        name = f"Screenshot {i}.png" if png else f"DSC{i:06d}.JPG"
        files.append(
            {
                "asset_id": i + 1,
                "role": "original",
                "path": f"/bench/{when:%Y/%m}/{name}",
                "size": 4_000_000,
                "mtime_ns": 0,
                "checksum": checksum,
            }
        )
    with lib.write() as s:
        for n, (city, country, code) in enumerate(places, start=1):
            s.execute(
                insert(Place), {"id": n, "city": city, "country": country, "country_code": code}
            )
        for k in range(0, count, BATCH):
            s.execute(insert(Asset), assets[k : k + BATCH])
            s.execute(insert(AssetFile), files[k : k + BATCH])
    lib.close()
    marker.touch()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "memories")
    args = parser.parse_args()
    from photodesk.core import Library
    from photodesk.core.organize.events import EventService
    from photodesk.core.organize.memories import MemoryService

    started = time.perf_counter()
    root = make_library(args.out / f"lib-{args.assets}", args.assets)
    print(f"library of {args.assets:,} assets ready in {time.perf_counter() - started:.1f} s")
    lib = Library.open(root)
    service = MemoryService(lib)
    service.memories(date(2025, 1, 1))  # warm the connection and the page cache
    times, found = [], []
    for k in range(30):
        day = date(2025, 1, 1) + timedelta(days=k * 12)
        t0 = time.perf_counter()
        memories = service.memories(day)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(sum(len(m.asset_ids) for m in memories))
    print(
        f"memories for a day: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms "
        f"(target < 50 ms); {statistics.median(found):.0f} photos in a day's memories (median)"
    )
    t0 = time.perf_counter()
    events = EventService(lib).events()
    print(f"events of the whole library: {len(events):,} in {time.perf_counter() - t0:.2f} s")
    lib.close()


if __name__ == "__main__":
    main()
