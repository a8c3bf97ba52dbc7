"""Near-duplicates by perceptual hash: lookup over 100,000 photos (< 2 s) and hashing's share
of an import of 24 MP JPEGs (< 3%).

Usage: python bench/duplicates_bench.py [--assets 100000] [--out bench/out/duplicates]

1. Lookup: the generated library of bench/memories_bench.py, every asset given a random hash
   and one in fifty a near copy (a few bits flipped) of another; times ``groups()`` at 4, 6
   and 8 bits.
2. Import: renders five 24 MP JPEGs as the importer does (``analyze``) and times the hash of
   their stored thumbnails, the part hashing adds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def lookup(root: Path, count: int) -> None:
    import numpy as np
    from sqlalchemy import update

    from bench.memories_bench import make_library
    from photodesk.core import Library
    from photodesk.core.catalog.db.schema import Asset

    lib = Library.open(make_library(root, count))
    rnd = np.random.default_rng(3)
    hashes = rnd.integers(-(2**63), 2**63 - 1, count, dtype=np.int64)
    copies = rnd.choice(count, count // 50, replace=False)
    for i in copies:
        hashes[i] = hashes[(i + 1) % count] ^ (1 << int(rnd.integers(0, 63)))
    with lib.write() as s:
        s.execute(update(Asset), [{"id": i + 1, "phash": int(h)} for i, h in enumerate(hashes)])
    service = lib.duplicates
    for bits in (4, 6, 8):
        t0 = time.perf_counter()
        groups = service.groups(bits)
        took = time.perf_counter() - t0
        print(f"groups at {bits} bits over {count:,}: {len(groups):,} groups in {took:.2f} s")
    lib.close()


def import_share(pictures: int = 5) -> None:
    import numpy as np
    from PIL import Image

    from photodesk.core.ingest.analyze import analyze
    from photodesk.core.ingest.results import FileTask
    from photodesk.core.media.phash import hash_file
    from photodesk.core.media.thumbnails import ThumbnailStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        total = hashing = 0.0
        for n in range(pictures):
            rnd = np.random.default_rng(n)
            small = Image.fromarray(rnd.integers(0, 255, (30, 45, 3), dtype=np.uint8))
            path = folder / f"p{n}.jpg"
            small.resize((6000, 4000), Image.Resampling.BICUBIC).save(path, quality=90)
            task = FileTask(
                str(path),
                path.stat().st_size,
                path.stat().st_mtime_ns,
                None,
                str(folder / "thumbs"),
                str(folder / "previews"),
            )
            t0 = time.perf_counter()
            result = analyze(task)
            total += time.perf_counter() - t0
            store = ThumbnailStore(folder / "thumbs", folder / "previews")
            t0 = time.perf_counter()
            hash_file(store.thumb_path(result.checksum))  # type: ignore[union-attr]
            hashing += time.perf_counter() - t0
    share = hashing / total * 100
    print(
        f"import of {pictures} 24 MP JPEGs: {total / pictures * 1000:.0f} ms each, of which "
        f"the perceptual hash {hashing / pictures * 1000:.1f} ms ({share:.2f}%, target < 3%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "memories")
    args = parser.parse_args()
    random.seed(0)
    lookup(args.out / f"lib-{args.assets}", args.assets)
    import_share()


if __name__ == "__main__":
    main()
