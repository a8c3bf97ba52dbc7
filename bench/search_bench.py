"""Smart-search latency at 100k and 1M embeddings, against raw faiss / numpy on the same matrix.

Builds a throwaway library with N synthetic assets (3 cameras, dates over 20 years, 0.5%
favourites) and N clustered, normalised 512-d embeddings stored in the catalog, then times:

* ``lib.search.search(SearchQuery(text=..., camera=...))``: the desktop's and the CLI's call
  (lexical matching + smart search + filters + date order), with the text embedding taken
  from a CLIP pack when one is given (``--models DIR`` holding ``ViT-B-32__openai`` or any
  pack), else skipped and said so (the query vector is then handed over directly);
* ``lib.smart.search``: index ranking + relevance floor + filter re-check, broad and narrow;
* the best library routes on the same matrix, in the same run: faiss SQfp16 and Flat
  (1 thread), numpy fp32 matmul + argpartition; printed as ratios.

Also prints index load time from the catalog, build time, memory. Usage:
``python bench/search_bench.py [--sizes 100000 1000000] [--models DIR] [--queries 30]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from photodesk.core import Library
from photodesk.core.catalog.db import vectors
from photodesk.core.inference.models import Models
from photodesk.core.search.query import SearchQuery
from photodesk.core.search.vector_index import VectorIndex

DIM = 512
CENTRES = 2000
MODEL = "bench-clip"


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """CLIP-like data: vectors around 2000 centres (cosine ~0.8 within a centre)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        rows = centres[rng.integers(0, CENTRES, m)] + rng.standard_normal((m, DIM)).astype(
            np.float32
        ) * np.float32(0.7 / np.sqrt(DIM))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        out[start : start + m] = rows
    return out


class VectorText:
    """A text embedder that returns the query vector it was given (no model at hand)."""

    model_name = MODEL
    dim = DIM
    relevance_floor = 0.5
    relevance_margin = 0.3

    def __init__(self) -> None:
        self.next: np.ndarray | None = None

    def embed_text(self, texts: list[str]) -> np.ndarray:
        assert self.next is not None
        return self.next[None, :]

    def embed_images(self, paths: list[str]) -> np.ndarray:
        raise NotImplementedError


def fill(lib: Library, x: np.ndarray) -> float:
    """N assets with files and embeddings, written with raw executemany; returns seconds."""
    t0 = time.perf_counter()
    n = len(x)
    now = datetime(2024, 1, 1)
    cams = [("Canon", "Canon EOS 6D"), ("NIKON", "D750"), ("SONY", "ILCE-7M3")]
    with lib.write() as s:
        conn = s.connection().connection.driver_connection
        assert conn is not None
        for start in range(0, n, 50_000):
            ids = range(start + 1, min(n, start + 50_000) + 1)
            rows = []
            for i in ids:
                taken = datetime(2005, 1, 1) + timedelta(hours=i * 175_000 // n)
                make, model = cams[i % 3]
                rows.append(
                    (
                        i,
                        lib.owner_id,
                        f"{i:040x}",
                        "photo",
                        "JPEG",
                        "image/jpeg",
                        1000,
                        taken,
                        taken.year * 100 + taken.month,
                        make,
                        model,
                        0,
                        int(i % 200 == 0),
                        0,
                        0,
                        1,
                        now,
                        now,
                    )
                )
            conn.executemany(
                "INSERT INTO assets (id, owner_id, checksum, kind, file_type, mime, size, "
                "taken_at, taken_month, make, model, rating, favorite, archived, offline, "
                "has_thumbnail, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            conn.executemany(
                "INSERT INTO asset_files (asset_id, role, path, size, mtime_ns, copied, missing) "
                "VALUES (?, 'original', ?, 1000, 0, 0, 0)",
                [(i, f"/photos/{i // 1000}/IMG_{i:07d}.JPG") for i in ids],
            )
    for start in range(0, n, 50_000):
        with lib.write() as s:
            part = x[start : start + 50_000]
            vectors.save(s, MODEL, [(start + 1 + k, v) for k, v in enumerate(part)])
    return time.perf_counter() - t0


def timed(fn: Any, reps: int) -> float:
    """Median milliseconds of ``fn(i)`` over ``reps`` calls (after one warm-up)."""
    fn(-1)
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def text_model(models: Path | None) -> Any:
    if models is None:
        return None
    from photodesk.ml.backends import load_backends

    for name in ("ViT-B-32__openai", *sorted(p.name for p in models.iterdir() if p.is_dir())):
        found = load_backends(models, clip=name, faces="none")
        if found.clip is not None:
            return found.clip
    print(f"no CLIP pack in {models}: {found.missing}")
    return None


def bench(n: int, reps: int, clip: Any) -> None:
    print(f"\n== {n:,} embeddings, {DIM}-d ==")
    t0 = time.perf_counter()
    x = clustered(n)
    print(f"data: {time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, n, reps + 1)] + rng.standard_normal((reps + 1, DIM)).astype(
        np.float32
    ) * np.float32(0.3 / np.sqrt(DIM))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    with tempfile.TemporaryDirectory(prefix="photodesk-bench-") as tmp:
        lib = Library.open(Path(tmp) / "lib")
        try:
            print(f"catalog: {n:,} assets + embeddings written in {fill(lib, x):.1f} s")
            fake = VectorText()
            lib.attach_ml(Models(image=None, text=fake))
            assert lib.smart is not None
            t0 = time.perf_counter()
            index = lib.smart.index()
            load_s = time.perf_counter() - t0
            assert index is not None and len(index) == n
            print(
                f"index: loaded from the catalog in {load_s:.1f} s ({index.backend}), "
                f"{index.memory_bytes() / 2**20:.0f} MB; process peak RSS {rss_mb():.0f} MB"
            )
            snap = lib.root / "cache"
            if any(snap.glob("*.faiss")):
                lib.attach_ml(Models(image=None, text=fake))  # as after a restart
                t0 = time.perf_counter()
                assert lib.smart is not None and len(lib.smart.index() or []) == n
                size = sum(f.stat().st_size for f in snap.iterdir()) / 2**20
                print(
                    f"index: loaded from its snapshot in {time.perf_counter() - t0:.1f} s "
                    f"({size:.0f} MB on disk)"
                )
            t0 = time.perf_counter()
            VectorIndex(DIM).add(np.arange(1, n + 1), x)
            print(f"index: built from a matrix in {time.perf_counter() - t0:.1f} s")

            def q(i: int) -> np.ndarray:
                return queries[i]

            def smart_only(i: int) -> None:
                fake.next = q(i)
                lib.smart.search(f"query {i}")  # type: ignore[union-attr]

            def smart_broad(i: int) -> None:
                fake.next = q(i)
                base = lib.search._filtered(SearchQuery(camera="canon"))
                lib.smart.search(f"q{i}", within=lib.search._within(base))  # type: ignore[union-attr]

            def full(i: int) -> None:
                fake.next = q(i)
                lib.search.search(SearchQuery(text=f"zz{i}", camera="canon", sort="relevance"))

            def full_narrow(i: int) -> None:
                fake.next = q(i)
                lib.search.search(SearchQuery(text=f"zz{i}", favorite=True))

            ours = {
                "smart search, no filter": timed(smart_only, reps),
                "smart search + camera filter re-check": timed(smart_broad, reps),
                "lib.search.search(text, camera) [desktop/CLI call]": timed(full, reps),
                "lib.search.search(text, favourites 0.5%)": timed(full_narrow, reps),
            }
            lib.smart._queries.clear()
        finally:
            lib.close()

    base: dict[str, float] = {}
    try:
        import faiss

        faiss.omp_set_num_threads(1)
        sq = faiss.IndexScalarQuantizer(
            DIM, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        sq.add(x)
        base["raw faiss SQfp16 k=1000"] = timed(lambda i: sq.search(q(i)[None, :], 1000), reps)
        sq.reset()  # frees its memory
        flat = faiss.IndexFlatIP(DIM)
        flat.add(x)
        base["raw faiss Flat k=1000"] = timed(lambda i: flat.search(q(i)[None, :], 1000), reps)
        flat.reset()
    except ImportError:
        print("faiss-cpu is not installed: numpy baseline only")

    def numpy_rank(i: int) -> None:
        sims = x @ q(i)
        top = np.argpartition(-sims, 1000)[:1000]
        top[np.argsort(-sims[top])]

    base["raw numpy fp32 matmul + argpartition"] = timed(numpy_rank, reps)
    best_name = min(base, key=lambda k: base[k])
    best = base[best_name]
    print(f"best library route: {best_name} {best:.1f} ms")
    for name, ms in base.items():
        print(f"  {name:<52} {ms:8.1f} ms  x{ms / best:.2f}")
    for name, ms in ours.items():
        print(f"  {name:<52} {ms:8.1f} ms  x{ms / best:.2f}")
    if clip is not None:
        words = ["a dog in the snow", "beach at sunset", "birthday cake", "red car"]
        ms = timed(lambda i: clip.embed_text([words[i % 4] + f" {i}"]), reps)
        total = ours["lib.search.search(text, camera) [desktop/CLI call]"] + ms
        print(f"  text embedding ({clip.model_name}): {ms:.1f} ms -> total {total:.1f} ms")
    else:
        print("  text embedding: skipped (no CLIP pack given with --models)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--models", type=Path, default=None, help="folder of CLIP packs")
    args = p.parse_args(argv)
    clip = text_model(args.models)
    for n in args.sizes:
        bench(n, args.queries, clip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
