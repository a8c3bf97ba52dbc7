"""Public gallery bench: a shared album of 1,000 photos under 50 concurrent visitors on loopback.

Usage: python bench/share_bench.py [--photos 1000] [--visitors 50] [--rounds 4] [--thumbs 60]

1. Makes a fresh library with PHOTOS small camera-like JPEGs in one album and a public link to
   it, renders every thumbnail once (as the import jobs would), and starts the real daemon
   (``photodesk serve --no-jobs``) in its own process.
2. VISITORS clients at once each do ROUNDS visits: the album page (gzip, as browsers ask), then
   THUMBS thumbnails of it (what a phone screen loads before lazy loading takes over), each
   visit a fresh request sequence. Prints requests per second and latency percentiles for the
   page and for thumbnails, and the same load on ``/api/server/ping`` (the cheapest route of the
   server, measured in the same run) as the reference the ratios are against.
   Target: every page under 200 ms at the 95th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.core import Library  # noqa: E402


def make_jpegs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        img = Image.new("RGB", (640, 480), (i % 251, (i * 7) % 253, (i * 13) % 255))
        draw = ImageDraw.Draw(img)
        draw.ellipse((100 + i % 200, 80, 400 + i % 200, 380), fill=((i * 31) % 255, 90, 160))
        draw.text((8, 8), str(i), fill=(255, 255, 255))
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "SONY", "ILCE-7M3"
        exif.get_ifd(0x8769)[0x9003] = f"2026:07:{1 + i % 28:02d} 10:{i % 60:02d}:00"
        path = folder / f"DSC{i:05d}.JPG"
        img.save(path, "JPEG", quality=85, exif=exif)
        out.append(path)
    return out


def prepare(root: Path, count: int) -> tuple[Path, str]:
    lib_dir = root / "lib"
    files = make_jpegs(root / "in", count)
    with Library.open(lib_dir) as lib:
        report = lib.importer.import_paths(files, workers=2)
        ids = sorted(report.asset_ids)
        album = lib.albums.create("Summer 2026")
        lib.albums.add(album, ids)
        store = lib.thumbnails
        recs = lib.accounts.readable_assets(int(lib.owner_id), None)
        for rec in recs:
            if not store.thumb_path(rec.checksum).is_file():
                store.render(Path(rec.path), rec.checksum, rec.file_type, rec.kind, rec.orientation)
        link = lib.shares.create_link(int(lib.owner_id), album_id=int(album), allow_download=True)
        print(f"library: {len(ids)} photos in one album, thumbnails rendered")
        return lib_dir, link.key


def start_server(lib_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(lib_dir.parent / "server.log", "w+")  # noqa: SIM115  (the server writes to it)
    cmd = [sys.executable, "-m", "photodesk", "--library", str(lib_dir), "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", "0", "--no-jobs"], stdout=log, stderr=subprocess.STDOUT, text=True, env=env
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"listening on (\S+)", (lib_dir.parent / "server.log").read_text())
        if m:
            return proc, m.group(1)
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] if s else float("nan")


async def visit(session, url: str, ids: list[int], thumbs: int, rounds: int, lat: dict) -> None:
    for _ in range(rounds):
        t0 = time.perf_counter()
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as r:
            await r.read()
            assert r.status == 200, r.status
        lat["page"].append(time.perf_counter() - t0)
        start = random.randrange(0, max(1, len(ids) - thumbs))
        for aid in ids[start : start + thumbs]:
            t0 = time.perf_counter()
            async with session.get(f"{url}/thumb/{aid}") as r:
                await r.read()
                assert r.status == 200, r.status
            lat["thumb"].append(time.perf_counter() - t0)


async def pages(session, url: str, count: int, lat: list[float]) -> None:
    for _ in range(count):
        t0 = time.perf_counter()
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as r:
            await r.read()
            assert r.status == 200, r.status
        lat.append(time.perf_counter() - t0)


async def ping(session, url: str, count: int, lat: list[float]) -> None:
    for _ in range(count):
        t0 = time.perf_counter()
        async with session.get(url) as r:
            await r.read()
        lat.append(time.perf_counter() - t0)


async def run_load(base: str, key: str, visitors: int, rounds: int, thumbs: int) -> None:
    url = f"{base}/share/{key}"
    connector = aiohttp.TCPConnector(limit=visitors * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url + "/items") as r:
            ids = [i["id"] for i in (await r.json())["items"]]
        async with session.get(url) as r:
            body = await r.read()
        print(f"album page: {len(ids)} photos, {len(body) / 1024:.0f} KiB HTML")
        # reference: the cheapest route, same concurrency, as many requests as the visits make
        per = rounds * (1 + thumbs)
        ref: list[float] = []
        t0 = time.perf_counter()
        await asyncio.gather(
            *(ping(session, f"{base}/api/server/ping", per, ref) for _ in range(visitors))
        )
        ref_rps = len(ref) / (time.perf_counter() - t0)
        pages_only: list[float] = []
        t0 = time.perf_counter()
        await asyncio.gather(
            *(pages(session, url, rounds * 5, pages_only) for _ in range(visitors))
        )
        pages_rps = len(pages_only) / (time.perf_counter() - t0)
        lat: dict[str, list[float]] = {"page": [], "thumb": []}
        t0 = time.perf_counter()
        await asyncio.gather(
            *(visit(session, url, ids, thumbs, rounds, lat) for _ in range(visitors))
        )
        wall = time.perf_counter() - t0
    total = len(lat["page"]) + len(lat["thumb"])
    rps = total / wall
    print(f"{visitors} visitors x {rounds} visits (page + {thumbs} thumbnails each), loopback")
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  ping reference : {ref_rps:8.0f} req/s  p95 {pct(ref, 95) * 1000:6.1f} ms")
    print(
        f"  pages only     : {pages_rps:8.0f} req/s  ({pages_rps / ref_rps:.2f} of ping)  "
        f"p50 {pct(pages_only, 50) * 1000:6.1f} ms  p95 {pct(pages_only, 95) * 1000:6.1f} ms"
    )
    print(f"  gallery mix    : {rps:8.0f} req/s  ({rps / ref_rps:.2f} of ping)")
    for name in ("page", "thumb"):
        v = lat[name]
        print(
            f"  {name:<6} n={len(v):<6} p50 {pct(v, 50) * 1000:6.1f} ms  "
            f"p95 {pct(v, 95) * 1000:6.1f} ms  p99 {pct(v, 99) * 1000:6.1f} ms  "
            f"max {max(v) * 1000:6.1f} ms"
        )
    pages_per_s = len(lat["page"]) / wall
    print(f"  album pages    : {pages_per_s:8.1f} pages/s while thumbnails load too")
    ok = max(pct(lat["page"], 95), pct(pages_only, 95)) < 0.200
    print(f"  target page p95 < 200 ms: {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--visitors", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--thumbs", type=int, default=60)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="share-bench-") as tmp:
        lib_dir, key = prepare(Path(tmp), args.photos)
        proc, base = start_server(lib_dir)
        try:
            asyncio.run(run_load(base, key, args.visitors, args.rounds, args.thumbs))
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
