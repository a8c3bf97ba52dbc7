"""Watched-folder bench: import latency for a burst of files, and the watcher's idle CPU.

Usage: python bench/watch_bench.py [--count 2000] [--idle 20] [--settle 2] [--poll-interval 5]

1. Generates COUNT small JPEGs in a staging folder, then for the native observer (inotify,
   FSEvents...) and for the polling observer (every --poll-interval seconds) starts a watcher on
   an empty watched folder of a fresh library, copies the files in one after the other and
   reports the copy time, the time from the last file landing to the last asset imported, and
   the overall rate. The latency is bounded below by the settle time (and, when polling, by up
   to one polling interval).
2. With the folder full and imported, measures the CPU the watcher uses while nothing happens
   (process CPU time over --idle seconds, all threads; polling windows span at least two polls)
   with native events, polling at the default 30 s interval, and polling every 2 s (to show one
   snapshot's cost). Target: under 1% of a core.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.core import AssetQuery, Changes, Library  # noqa: E402
from photodesk.core.ingest.watch import DEFAULT_POLL_INTERVAL_S, FolderWatcher  # noqa: E402


def make_jpegs(folder: Path, count: int) -> list[Path]:
    """Small camera-like JPEGs (160x120 with EXIF), each with distinct pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        img = Image.new("RGB", (160, 120), (i % 251, (i * 7) % 253, (i * 13) % 255))
        draw = ImageDraw.Draw(img)
        draw.text((4, 4), str(i), fill=(255, 255, 255))
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "SONY", "ILCE-7M3"
        exif.get_ifd(0x8769)[0x9003] = f"2023:07:{1 + i % 28:02d} 10:{i % 60:02d}:00"
        path = folder / f"DSC{i:05d}.JPG"
        img.save(path, "JPEG", quality=85, exif=exif.tobytes())
        out.append(path)
    return out


class Counter:
    """Counts assets as the importer announces them, noting when the last one arrived."""

    def __init__(self, lib: Library) -> None:
        self.ids: set[int] = set()
        self.last = 0.0
        self.done = threading.Event()
        self.target = 0
        self.unsubscribe = lib.events.subscribe(self._on)

    def _on(self, event: object) -> None:
        if isinstance(event, Changes) and event.assets_added:
            self.ids.update(event.assets)
            self.last = time.monotonic()
            if self.target and len(self.ids) >= self.target:
                self.done.set()


def burst(files: list[Path], tmp: Path, *, polling: bool, settle: float, interval: float) -> Path:
    name = "polling" if polling else "native"
    lib_dir, inbox = tmp / f"lib-{name}", tmp / f"inbox-{name}"
    inbox.mkdir()
    with Library.open(lib_dir) as lib:
        lib.files.add_watched(inbox)
        counter = Counter(lib)
        counter.target = len(files)
        watcher = FolderWatcher(
            lib.store, lib.importer, settle_s=settle, poll_interval_s=interval, polling=polling
        )
        watcher.start()
        assert watcher.wait_idle(60)
        t0 = time.monotonic()
        for f in files:
            shutil.copy(f, inbox / f.name)
        landed = time.monotonic()
        ok = counter.done.wait(600)
        watcher.stop()
        counter.unsubscribe()
        n = len(lib.assets.ids(AssetQuery(archived=None)))
        how = "native events" if not polling else f"polling every {interval:g} s"
        print(f"\n{how}, settle {settle:g} s, {len(files)} files")
        print(f"  copy into the watched folder:     {landed - t0:7.2f} s")
        if ok:
            print(f"  last file landed -> last import:  {counter.last - landed:7.2f} s")
            print(f"  first copy -> last import:        {counter.last - t0:7.2f} s")
            print(f"  rate:                             {n / (counter.last - t0):7.0f} files/s")
        print(f"  assets in the catalog:            {n:7d}" + ("" if ok else "  (TIMED OUT)"))
    return lib_dir if not polling else inbox


def idle_cpu(lib_dir: Path, *, polling: bool, interval: float, seconds: float) -> float:
    """Percent of one core used by the process (the watcher's threads) while nothing happens."""
    with Library.open(lib_dir) as lib:
        watcher = FolderWatcher(lib.store, lib.importer, poll_interval_s=interval, polling=polling)
        watcher.start()
        assert watcher.wait_idle(120)
        time.sleep(1.0)
        c0, w0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        c1, w1 = time.process_time(), time.monotonic()
        watcher.stop()
    return 100.0 * (c1 - c0) / (w1 - w0)


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=20.0, help="idle window, seconds")
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--poll-interval", type=float, default=5.0, help="for the burst")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)6d %(message)s")
    tmp = Path(tempfile.mkdtemp(prefix="photodesk-watch-bench-"))
    try:
        t = time.monotonic()
        files = make_jpegs(tmp / "staging", args.count)
        print(f"generated {len(files)} JPEGs in {time.monotonic() - t:.1f} s ({tmp})")
        print(f"{os.cpu_count()} CPUs, load average {_load()} (other work skews wall times)")
        lib_dir = burst(files, tmp, polling=False, settle=args.settle, interval=args.poll_interval)
        burst(files, tmp, polling=True, settle=args.settle, interval=args.poll_interval)
        # Idle: the native library watches its (full, imported) inbox.
        print(f"\nidle CPU over {args.idle:g} s, watching {args.count} imported files")
        for label, polling, interval in (
            ("native events", False, DEFAULT_POLL_INTERVAL_S),
            (f"polling every {DEFAULT_POLL_INTERVAL_S:g} s", True, DEFAULT_POLL_INTERVAL_S),
            ("polling every 2 s", True, 2.0),
        ):
            window = max(args.idle, 2 * interval) if polling else args.idle  # >= 2 polls
            pct = idle_cpu(lib_dir, polling=polling, interval=interval, seconds=window)
            print(f"  {label:24s} {pct:6.3f} % of a core  (over {window:g} s)")
        print(f"\nload average at the end: {_load()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
