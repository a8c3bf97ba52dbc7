"""Import throughput against the bare thumbnail route, and re-import time, measured in one run.

Usage: python bench/import_bench.py [--count 16] [--tiny 10000] [--workers N]

1. Generates 24-megapixel photo-like JPEGs (quality 90, camera-like EXIF) and times
   (a) the bare route: decode at reduced scale (Image.draft), write the 1440 px and 256 px JPEGs,
       on all cores, and
   (b) the whole `photodesk` import (hash, metadata, thumbnail, preview, catalog) of the same files,
       on all cores. Target: the import reaches at least 80% of the bare route's throughput.
2. Generates tiny JPEGs, imports them with the `photodesk` command, then re-imports the same
   folder. Target: the re-import takes under 5% of the first import's time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def photo_like(seed: int, size: tuple[int, int] = (6000, 4000)) -> Image.Image:
    """Smooth colour fields, hard-edged shapes, texture and sensor grain, like a real photo."""
    rng = np.random.default_rng(seed)
    w, h = size
    low = Image.fromarray(rng.integers(0, 255, (12, 18, 3), dtype=np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    mid = Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)).resize(
        (w, h), Image.Resampling.BILINEAR
    )
    img = Image.blend(low, mid, 0.25 + 0.2 * rng.random())
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(15, 60)):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(40, 900))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(
            (x, y, x + r, y + r // 2), fill=colour
        )
    arr = np.asarray(img, dtype=np.int16)
    grain = rng.normal(0, 3.0 + 4.0 * rng.random(), (h, w, 1)).astype(np.int16)
    return Image.fromarray(np.clip(arr + grain, 0, 255).astype(np.uint8))


def camera_exif(seed: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SONY"
    exif[0x0110] = "ILCE-7M3"
    exif[0x0112] = 1
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"2024:06:{1 + seed % 28:02d} 10:{seed % 60:02d}:00"
    ifd[0x9011] = "+02:00"
    ifd[0x829A] = 1 / 250
    ifd[0x829D] = 4.0
    ifd[0x8827] = 200
    return exif.tobytes()


def make_big(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"DSC{i:05d}.JPG"
        if not p.exists():
            photo_like(i).save(p, "JPEG", quality=90, subsampling="4:2:0", exif=camera_exif(i))
        paths.append(p)
    return paths


def bare_route(path: str, out: str) -> None:
    """The floor: reduced-scale decode, then the 1440 px and 256 px JPEGs, nothing else."""
    with Image.open(path) as im:
        # The exact target box lets libjpeg pick the smallest DCT scale still >= 1440 px (1/4).
        scale = 1440 / max(im.size)
        im.draft("RGB", (round(im.size[0] * scale), round(im.size[1] * scale)))
        im = im.convert("RGB")
        im.thumbnail((1440, 1440), Image.Resampling.BICUBIC, reducing_gap=2.0)
        im.save(f"{out}.preview.jpg", "JPEG", quality=82)
        im.thumbnail((256, 256), Image.Resampling.BICUBIC, reducing_gap=2.0)
        im.save(f"{out}.thumb.jpg", "JPEG", quality=80)


def time_bare(paths: list[Path], workers: int, scratch: Path) -> float:
    scratch.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(bare_route, [str(paths[0])] * workers, [str(scratch / "warm")] * workers))
        t0 = time.perf_counter()
        list(pool.map(bare_route, map(str, paths), [str(scratch / p.stem) for p in paths]))
        return time.perf_counter() - t0


def time_import(paths: list[Path], workers: int, lib_dir: Path) -> float:
    from photodesk.core import Library

    with Library.open(lib_dir) as lib:
        t0 = time.perf_counter()
        # the generated files, not their folder: an earlier run with a larger --count left more
        report = lib.importer.import_paths([str(p) for p in paths], workers=workers)
        elapsed = time.perf_counter() - t0
    assert report.imported == report.scanned and not report.failed, report
    return elapsed


def cli(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "photodesk", *args], check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=16, help="24 MP JPEGs to generate")
    ap.add_argument("--tiny", type=int, default=10_000, help="tiny JPEGs for the re-import run")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="photodesk-bench-"))
    print(f"workers: {args.workers}, scratch: {work}")
    big = make_big(ROOT / "bench" / "out" / "24mp", args.count)
    mb = sum(p.stat().st_size for p in big) / len(big) / 1e6
    print(f"{len(big)} photo-like 24 MP JPEGs, {mb:.1f} MB each on average")
    bares, imports = [], []
    for r in range(args.rounds):  # interleaved, so both routes see the same machine load
        bare = time_bare(big, args.workers, work / f"bare{r}")
        imp = time_import(big, args.workers, work / f"lib{r}")
        bares.append(bare)
        imports.append(imp)
        print(
            f"round {r + 1}: bare route {len(big) / bare:5.2f} img/s "
            f"({bare / len(big) * 1000 * args.workers:.0f} ms/img/core), "
            f"photodesk import {len(big) / imp:5.2f} img/s"
        )
    ratio = min(bares) / min(imports)
    print(
        f"best of {args.rounds}: bare route {len(big) / min(bares):.2f} img/s, photodesk import "
        f"{len(big) / min(imports):.2f} img/s -> import reaches {ratio:.0%} of the bare route "
        f"(target >= 80%) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}"
    )

    tiny = work / "tiny"
    tiny.mkdir()
    rng = np.random.default_rng(1)
    for i in range(args.tiny):
        sub = tiny / f"{i // 500:03d}"
        sub.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(
            sub / f"IMG_{i:05d}.jpg", quality=80
        )
    lib = str(work / "tinylib")
    first = cli("--library", lib, "import", str(tiny), "--json")
    again = cli("--library", lib, "import", str(tiny), "--json")
    print(
        f"{args.tiny} tiny JPEGs: first import {first:.1f} s, re-import {again:.2f} s -> "
        f"{again / first:.1%} (target < 5%) {'OK' if again / first < 0.05 else 'ABOVE TARGET'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
