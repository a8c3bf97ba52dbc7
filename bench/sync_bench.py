"""Sync benchmark: a desktop's first sync of a big account, an idle round, an edit's trip.

Usage: python bench/sync_bench.py [--assets 100000] [--out bench/out/sync]

1. A server library with ``--assets`` assets of one account (catalog rows, 10% tagged, a thumbnail
   each, hard links to a pool of distinct JPEGs) is served by ``photodesk serve`` on loopback.
2. The best route: a bare aiohttp client streams the same feed pages and thumbnail bytes, doing
   nothing with them.
3. ``photodesk sync --json`` on an empty paired desktop library, in its own process: wall time,
   ratio to the best route, peak memory of the client and of the server (the bare route and
   the sync each run against a freshly started server, so each peak is that phase's own).
4. Idle rounds (nothing to do): requests made and time (median of 10), in-process.
5. An edit on device A visible on device B: A's round + B's round.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PHOTODESK_KEYRING"] = "off"
os.environ["PHOTODESK_ML"] = "off"

from server_bench import Sampler, rss_kb, start_server, stop_server  # noqa: E402
from ui_bench import _thumb_bytes  # noqa: E402

from photodesk.core import Library  # noqa: E402

POOL = 500
BATCH = 10_000
PAGE = 1000
THUMBS = 250
IDLE_ROUNDS = 10
# ext4 without a journal (as on this box) skips inodes freed in the last ~30 s
# (vm.dirty_expire_centisecs), reading each one's inode table block: a sync started right after
# the last run's 100,000 files were deleted paid for that deletion (system time doubled)
SETTLE_S = 35.0


def make_server_library(root: Path, count: int) -> tuple[int, str]:
    from sqlalchemy import insert, select

    from photodesk.core.catalog.db.schema import Asset, AssetFile, AssetTag, Tag

    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    with Library.open(root) as lib:
        uid = lib.accounts.add_user("bench@example.org", "bench password 1", name="Bench")
        key = lib.accounts.create_api_key(uid, "bench")
        pool = root / "thumb-pool"
        pool.mkdir()
        for i in range(POOL):
            (pool / f"{i}.jpg").write_bytes(_thumb_bytes(i))
        rnd = random.Random(7)
        when = datetime(2025, 6, 30, 20, 0)
        assets, files = [], []
        for i in range(count):
            when -= timedelta(seconds=rnd.randrange(20, 900))
            checksum = hashlib.sha1(f"sync-bench-{i}".encode()).hexdigest()
            assets.append(
                {
                    "id": i + 1, "owner_id": uid, "checksum": checksum, "kind": "photo",
                    "file_type": "JPEG", "mime": "image/jpeg", "size": 4_000_000,
                    "width": 6000, "height": 4000, "orientation": 1, "taken_at": when,
                    "taken_month": when.year * 100 + when.month, "make": "Canon",
                    "model": "EOS 6D", "rating": rnd.choice((0, 0, 0, 3, 5)),
                    "favorite": rnd.random() < 0.05, "archived": False, "offline": False,
                    "has_thumbnail": True, "created_at": when, "updated_at": when,
                }
            )  # fmt: skip
            files.append(
                {
                    "asset_id": i + 1, "role": "original", "size": 4_000_000, "mtime_ns": 0,
                    "path": f"/bench/photos/{when:%Y/%m}/IMG{i:06d}.JPG", "checksum": checksum,
                }
            )  # fmt: skip
            dest = lib.thumbnails.thumb_path(checksum)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(pool / f"{rnd.randrange(POOL)}.jpg", dest)
        with lib.write() as s:
            for k in range(0, count, BATCH):
                s.execute(insert(Asset), assets[k : k + BATCH])
                s.execute(insert(AssetFile), files[k : k + BATCH])
            s.add(Tag(owner_id=uid, parent_id=None, name="Family", path="Family"))
            s.flush()
            tag_id = s.scalar(select(Tag.id).where(Tag.path == "Family"))
            tagged = [{"asset_id": i + 1, "tag_id": tag_id} for i in range(0, count, 10)]
            for k in range(0, len(tagged), BATCH):
                s.execute(insert(AssetTag), tagged[k : k + BATCH])
    print(f"server library: {count} assets in {time.perf_counter() - started:.1f} s")
    return uid, key


async def best_route(url: str, key: str) -> tuple[float, int, int]:
    """Stream every feed page and every thumbnail with a bare aiohttp client."""
    import aiohttp

    headers = {"x-api-key": key}
    started = time.perf_counter()
    ids: list[int] = []
    nbytes = 0
    async with aiohttp.ClientSession(headers=headers) as http:
        cursor, after, more = 0, None, True
        while more:  # a snapshot of the account (paged by `after`), then the journal after it
            params = {"cursor": cursor, "limit": PAGE}
            if after is not None:
                params["after"] = after
            async with http.get(f"{url}/api/photodesk/sync/changes", params=params) as r:
                page = await r.json()
            ids += [item["id"] for item in page["items"]]
            cursor, after, more = page["cursor"], page.get("after"), page["more"]
        for k in range(0, len(ids), THUMBS):
            chunk = ",".join(map(str, ids[k : k + THUMBS]))
            async with http.get(f"{url}/api/photodesk/sync/thumbnails", params={"ids": chunk}) as r:
                nbytes += len(await r.read())
    return time.perf_counter() - started, len(ids), nbytes


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a running process has used: on a shared, loaded box the
    wall times swing with other work, the CPU a route costs much less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> tuple[float, float]:
    """(user, system) CPU seconds of the finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def sync_process(library: Path) -> tuple[float, dict[str, object], int, tuple[float, float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu0 = children_cpu_s()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "photodesk", "--library", str(library), "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    sampler = Sampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop()
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"sync failed: {err}")
    user, system = children_cpu_s()
    cpu = (user - cpu0[0], system - cpu0[1])  # the kernel's share: files and folders written
    return elapsed, json.loads(out), sampler.peak_total, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "sync")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("A", "B"):  # the last run's desks go first, long before a sync writes
        shutil.rmtree(out / f"desk{name}", ignore_errors=True)
    _, key = make_server_library(out / "server", args.assets)
    cleared = time.monotonic()
    # the bare route and the sync each get a fresh server: each one's peak memory is its own
    proc, url = start_server(out / "server")
    started_kb = rss_kb(proc.pid)  # listening, nothing served yet
    best_mem = Sampler(proc.pid)
    best_mem.start()
    try:
        cpu0 = cpu_s(proc.pid)
        best, n, nbytes = asyncio.run(best_route(url, key))
        best_cpu = cpu_s(proc.pid) - cpu0
    finally:
        best_mem.stop()
        stop_server(proc)
    print(f"best route (bare aiohttp): {n} assets + {nbytes / 1e6:.0f} MB of thumbnails "
          f"in {best:.1f} s (server CPU {best_cpu:.1f} s)")  # fmt: skip

    proc, url = start_server(out / "server")
    server_mem = Sampler(proc.pid)
    server_mem.start()
    try:
        from photodesk.remote import pairing

        desks = []
        for name in ("A", "B"):
            path = out / f"desk{name}"
            with Library.open(path) as lib:
                pairing.add(lib, url, api_key=key, device=f"bench {name}")
            desks.append(path)
        wait = SETTLE_S - (time.monotonic() - cleared)
        if wait > 0:  # see SETTLE_S
            print(f"waiting {wait:.0f} s: files deleted just before would slow the file system")
            time.sleep(wait)
        cpu0 = cpu_s(proc.pid)
        elapsed, report, client_peak, client_cpu = sync_process(desks[0])
        print(f"first sync (photodesk sync, own process): {elapsed:.1f} s "
              f"= {best / elapsed:.0%} of the best route's throughput; "
              f"pulled {report['pulled']} field values, {report['thumbnails']} thumbnails, "
              f"errors {report['errors'][:2]}; CPU client {sum(client_cpu):.1f} s "
              f"(user {client_cpu[0]:.1f}, system {client_cpu[1]:.1f}), "
              f"server {cpu_s(proc.pid) - cpu0:.1f} s")  # fmt: skip
        print(f"peak memory: client {client_peak / 1024:.0f} MB, server "
              f"{server_mem.peak_total / 1024:.0f} MB (bare route: {best_mem.peak_total / 1024:.0f}"
              f" MB; a server just started: {started_kb / 1024:.0f} MB)")  # fmt: skip
        sync_process(desks[1])

        from photodesk.remote import http as remote_http

        calls = []
        real_open = remote_http.HttpRemote._open

        def counted(self, method, path, **kw):  # type: ignore[no-untyped-def]
            calls.append(path)
            return real_open(self, method, path, **kw)

        remote_http.HttpRemote._open = counted  # type: ignore[method-assign]
        with Library.open(desks[0]) as a, Library.open(desks[1]) as b:
            pairing.sync(a)
            rounds, times = [], []  # several: one round on a shared box is mostly its load
            for _ in range(IDLE_ROUNDS):
                calls.clear()
                t0 = time.perf_counter()
                idle = pairing.sync(a)
                times.append((time.perf_counter() - t0) * 1000)
                rounds.append(len(calls))
            print(f"idle round ({IDLE_ROUNDS}): {max(rounds)} request(s) each, median "
                  f"{statistics.median(times):.0f} ms (fastest {min(times):.0f} ms), "
                  f"errors {idle.errors}")  # fmt: skip
            some = a.assets.ids()[0]
            t0 = time.perf_counter()
            a.assets.set_rating([some], 1 if a.assets.get(some).rating != 1 else 2)
            pairing.sync(a)
            pairing.sync(b)
            trip = time.perf_counter() - t0
            checksum = a.assets.get(some).checksum
            seen = [r for r in b.assets.list() if r.checksum == checksum]
            ok = bool(seen) and seen[0].rating == a.assets.get(some).rating
            print(f"an edit on A visible on B (A's round + B's round): {trip * 1000:.0f} ms, "
                  f"arrived: {ok}")  # fmt: skip
    finally:
        server_mem.stop()
        stop_server(proc)


if __name__ == "__main__":
    main()
