"""Desktop speed on a generated 100,000-asset library: launch to painted timeline, loop stalls.

Usage: python bench/ui_bench.py [--assets 100000] [--out bench/out/ui] [--import-count 500]

1. Generates (once, then reuses) a library of ``--assets`` assets inserted straight into the
   catalog with SQLAlchemy Core, each with a real 256 px thumbnail (a few thousand rendered JPEGs,
   hard-linked into the thumbnail store), spread over 12 years, with stacks, videos and ratings.
2. Launch: starts a fresh process that opens the library and the main window offscreen and times
   process start -> first timeline screen painted with every visible thumbnail (target < 1.5 s).
3. Stalls: a 5 ms QTimer heartbeat records the longest gap of the event loop while the timeline
   scrolls programmatically from the newest to the oldest photo, then while an import of
   ``--import-count`` photos runs as a job (with scrolling) (target: no gap over 50 ms).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photodesk.core import Library

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DISTINCT_THUMBS = 3000
BATCH = 10_000


# ----- the generated library ---------------------------------------------------------------------
def _thumb_bytes(i: int) -> bytes:
    import io

    from PIL import Image, ImageDraw

    rnd = random.Random(i)
    w, h = (256, 171) if rnd.random() < 0.75 else (171, 256)
    top = tuple(rnd.randrange(30, 230) for _ in range(3))
    bottom = tuple(rnd.randrange(10, 200) for _ in range(3))
    img = Image.linear_gradient("L").resize((w, h))
    img = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), img)
    draw = ImageDraw.Draw(img)
    for _ in range(rnd.randrange(2, 6)):
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(10, 80)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)((x, y, x + r, y + r), colour)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def make_library(root: Path, count: int) -> Path:
    """A library of ``count`` assets with thumbnails; reused when it exists with that count."""
    marker = root / f"generated-{count}"
    if marker.exists():
        return root
    import shutil

    from sqlalchemy import insert

    from photodesk.core import Library
    from photodesk.core.catalog.db.schema import Asset, AssetFile, Stack

    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    lib = Library.open(root)
    pool = root / "thumb-pool"
    pool.mkdir()
    for i in range(DISTINCT_THUMBS):
        (pool / f"{i}.jpg").write_bytes(_thumb_bytes(i))
    rnd = random.Random(42)
    now = datetime(2025, 6, 30, 20, 0)
    when = now
    assets, files, stacked = [], [], []
    for i in range(count):
        # Bursts: a few dozen photos on a day, then a gap of days to weeks (12 years in all).
        when -= timedelta(seconds=rnd.randrange(20, 900))
        if rnd.random() < 0.03:
            when -= timedelta(days=rnd.randrange(1, 3), hours=rnd.randrange(0, 12))
        checksum = hashlib.sha1(f"bench-{i}".encode()).hexdigest()
        kind = "video" if i % 97 == 0 else ("raw" if i % 50 == 1 else "photo")
        wide = rnd.random() < 0.75
        assets.append(
            {
                "id": i + 1,
                "owner_id": lib.owner_id,
                "checksum": checksum,
                "kind": kind,
                "file_type": {"video": "MP4", "raw": "ARW"}.get(kind, "JPEG"),
                "mime": {"video": "video/mp4", "raw": "image/x-sony-arw"}.get(kind, "image/jpeg"),
                "size": 4_000_000,
                "width": 6000 if wide else 4000,
                "height": 4000 if wide else 6000,
                "orientation": 1,
                "duration": 12.5 if kind == "video" else None,
                "taken_at": when,
                "taken_month": when.year * 100 + when.month,
                "rating": rnd.choice((0, 0, 0, 0, 1, 3, 4, 5)),
                "favorite": rnd.random() < 0.05,
                "archived": False,
                "offline": False,
                "has_thumbnail": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        files.append(
            {
                "asset_id": i + 1,
                "role": "original",
                "path": f"/bench/photos/{when:%Y/%m}/DSC{i:06d}.{assets[-1]['file_type']}",
                "size": 4_000_000,
                "mtime_ns": 0,
                "checksum": checksum,
            }
        )
        if kind == "raw":  # the JPEG just before it (same moment) is its stack's primary
            stacked.append((i, i + 1))
            assets[-1]["taken_at"] = assets[-2]["taken_at"]
        dest = lib.thumbnails.thumb_path(checksum)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(pool / f"{rnd.randrange(DISTINCT_THUMBS)}.jpg", dest)
    with lib.write() as s:
        for k in range(0, count, BATCH):
            s.execute(insert(Asset), assets[k : k + BATCH])
            s.execute(insert(AssetFile), files[k : k + BATCH])
        for n, (primary, member) in enumerate(stacked, start=1):
            s.execute(
                insert(Stack), {"id": n, "owner_id": lib.owner_id, "primary_asset_id": primary}
            )
            for aid in (primary, member):
                s.execute(Asset.__table__.update().where(Asset.id == aid).values(stack_id=n))
    lib.close()
    marker.touch()
    print(f"generated {count} assets in {time.perf_counter() - started:.1f} s at {root}")
    return root


# ----- launch: a fresh process, to the first timeline screen with its thumbnails ----------------
def launch_child(root: Path, spawned: float) -> None:
    """Runs in the child: open the app as ``photodesk`` does, report when the screen is complete."""
    import gc

    gc.disable()  # as photodesk.cli.main starts; the app turns it on after its first screen
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from photodesk.core import Library
    from photodesk.ui.app import LIBRARY_OPTIONS, after_first_screen, keep_gui_responsive
    from photodesk.ui.main_window import MainWindow

    app = QApplication([])
    lib = Library.open(root, options=LIBRARY_OPTIONS)  # as the app opens it
    window = MainWindow(lib, restore=False)
    window.resize(1400, 900)
    window.show()
    keep_gui_responsive(lib)
    after_first_screen(window, lib.jobs.start)  # as the app starts its background work
    view = window.views["Timeline"]

    def on_painted(complete: bool) -> None:
        if complete and view.model.rowCount():
            elapsed = time.time() - spawned
            print(f"LAUNCH {elapsed:.3f} {view.model.rowCount()}", flush=True)
            QTimer.singleShot(0, app.quit)

    view.grid.painted.connect(on_painted)
    QTimer.singleShot(30_000, app.quit)
    app.exec()
    lib.jobs.stop()
    lib.close()


def measure_launch(root: Path, runs: int, out: Path) -> list[float]:
    """Seconds from spawning the app to its first complete timeline screen, ``runs`` times after
    one uncounted launch: as an installed app starts, with its bytecode compiled and its icons
    drawn by an earlier start (``PYTHONDONTWRITEBYTECODE`` would compile every module anew)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHONPYCACHEPREFIX=str(out / "pycache"),
        XDG_CACHE_HOME=str(out / "cache"),
    )
    times = []
    for n in range(runs + 1):
        spawned = time.time()
        run = subprocess.run(
            [sys.executable, __file__, "--launch-child", str(root), str(spawned)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        line = next((x for x in run.stdout.splitlines() if x.startswith("LAUNCH ")), None)
        if line is None:
            raise RuntimeError(f"the app did not paint its timeline:\n{run.stdout}{run.stderr}")
        if n:
            times.append(float(line.split()[1]))
    return times


# ----- stalls: a 5 ms heartbeat while scrolling and importing -----------------------------------
class Heartbeat:
    """Records the gaps between ticks of a 5 ms timer: the event loop's stalls."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer(interval=5, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def summary(self) -> str:
        gaps = sorted(self.gaps)
        if not gaps:
            return "no ticks"
        p50, p99 = gaps[len(gaps) // 2], gaps[int(len(gaps) * 0.99)]
        over = sum(g > 0.050 for g in gaps)
        return (
            f"max {gaps[-1] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, median {p50 * 1000:.1f} ms,"
            f" {over} over 50 ms"
        )


class StallSampler:
    """With --why: samples the GUI thread's Python stack while a heartbeat is late, so each
    stall over 50 ms can be traced to the code that held the thread."""

    def __init__(self, beat: Heartbeat) -> None:
        import threading

        self.beat, self.samples = beat, collections.Counter[str]()
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        top = self.samples.most_common(6)
        return "\n".join(f"    {n:4d} samples in a late beat: {where}" for where, n in top)

    def _run(self) -> None:
        import sys
        import traceback

        while not self._stop.wait(0.002):
            if time.perf_counter() - self.beat._last < 0.040:
                continue
            frame = sys._current_frames().get(self._main or 0)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-4:]
            self.samples[
                " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
            ] += 1


def spin(app: object, until: Callable[[], bool], timeout: float) -> None:
    """Run the Qt event loop (as the app does) until ``until()`` or ``timeout`` seconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, deadline = QEventLoop(), time.monotonic() + timeout
    check = QTimer(interval=20)
    check.timeout.connect(lambda: (until() or time.monotonic() > deadline) and loop.quit())
    check.start()
    if not until():
        loop.exec()
    check.stop()


def make_import_photos(folder: Path, count: int) -> Path:
    from tests.conftest import make_jpeg

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        if not path.exists():
            make_jpeg(
                path,
                size=(1600, 1067),
                when=f"2025:0{1 + i % 6}:1{i % 10} 12:{i % 60:02d}:00",
                seed=i,
                quality=85,
            )
    return folder


def measure_stalls(root: Path, photos: Path, why: bool = False, ml: bool = False) -> dict[str, str]:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from photodesk.core import Library
    from photodesk.ui.app import LIBRARY_OPTIONS, after_first_screen, keep_gui_responsive
    from photodesk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    lib = Library.open(root, options=LIBRARY_OPTIONS)  # as the app opens it
    if ml:  # as the app opens it: faces (and CLIP when installed) run after the import
        from photodesk.bootstrap import attach_ml

        attach_ml(lib)
        lib.ml.after_import()  # the app's catch-up job loads the ML runtime at start, as here
    forget_imports(lib, photos)  # what an interrupted earlier run left behind
    window = MainWindow(lib, restore=False)
    window.resize(1400, 900)
    window.show()
    keep_gui_responsive(lib)
    after_first_screen(window, lib.jobs.start)  # as the app starts its background work
    view = window.views["Timeline"]
    grid, model = view.grid, view.model
    spin(app, lambda: model.is_complete() and grid._last_complete, 60)
    beat, results = Heartbeat(), {}
    bar = grid.verticalScrollBar()
    direction = {"sign": 1}
    frames = QTimer(interval=16, timerType=Qt.TimerType.PreciseTimer)

    def scroll() -> None:  # a screenful per frame, 60 times a second: a fast, long fling
        value = bar.value() + direction["sign"] * bar.pageStep()
        if value >= bar.maximum() or value <= 0:
            direction["sign"] = -direction["sign"]
        bar.setValue(max(0, min(bar.maximum(), value)))

    frames.timeout.connect(scroll)
    started = time.perf_counter()
    beat.start()
    frames.start()
    spin(app, lambda: bar.value() >= bar.maximum(), 600)
    frames.stop()
    beat.stop()
    oldest = model.item(model.rowCount() - 1).taken_at
    results["scroll"] = (
        f"{beat.summary()} ({len(beat.gaps)} ticks, {time.perf_counter() - started:.1f} s, "
        f"{model.rowCount():,} tiles down to {oldest:%Y-%m-%d})"
    )
    before = model.rowCount()
    beat.start()
    sampler = StallSampler(beat) if why else None
    if sampler:
        sampler.start()
    frames.start()  # keep scrolling (back up) while the import runs
    started = time.perf_counter()
    window.import_paths([str(photos)])
    count = len(list(photos.glob("*.jpg")))
    spin(app, lambda: model.rowCount() >= before + count, 600)
    frames.stop()
    beat.stop()
    results["import"] = (
        f"{beat.summary()} ({count} photos imported and shown in "
        f"{time.perf_counter() - started:.1f} s, {len(beat.gaps)} ticks)"
    )
    if sampler:
        results["import"] += "\n" + sampler.stop()
    if ml:  # keep scrolling while face detection and clustering work through the new photos
        beat.start()
        frames.start()
        started = time.perf_counter()
        spin(app, lambda: time.perf_counter() - started > 45, 60)
        frames.stop()
        beat.stop()
        results["faces"] = f"{beat.summary()} ({len(beat.gaps)} ticks over 45 s)"
    lib.jobs.stop()
    window.close()
    forget_imports(lib, photos)
    lib.close()
    return results


def forget_imports(lib: Library, photos: Path) -> None:
    """Leave the library as generated: no imported photos (the next run imports them again)
    and no import job waiting or left running by a killed run."""
    from photodesk.core import AssetQuery

    lib.jobs.recover()
    lib.jobs.cancel("import")
    new = lib.assets.ids(AssetQuery(path_prefix=str(photos), archived=None))
    if new:
        lib.assets.trash(new)
        lib.assets.purge_trash(older_than_days=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ui")
    parser.add_argument("--import-count", type=int, default=500)
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--ml", action="store_true", help="attach the ML models as the app does")
    parser.add_argument("--why", action="store_true", help="trace stalls to code")
    parser.add_argument("--launch-child", nargs=2, metavar=("LIBRARY", "SPAWNED"))
    args = parser.parse_args()
    # The app's settings (thumbnail size, last section) of this machine's user stay out of it.
    os.environ["XDG_CONFIG_HOME"] = str(args.out / "config")
    if args.launch_child:
        launch_child(Path(args.launch_child[0]), float(args.launch_child[1]))
        return
    root = make_library(args.out / f"lib{args.assets}", args.assets)
    photos = make_import_photos(args.out / f"import{args.import_count}", args.import_count)
    launches = measure_launch(root, args.launches, args.out)
    stalls = measure_stalls(root, photos, args.why, args.ml)
    print(f"library: {args.assets:,} assets, {os.cpu_count()} CPUs, Qt offscreen")
    print(
        f"launch to first timeline screen with thumbnails: best {min(launches):.2f} s, "
        f"runs {', '.join(f'{t:.2f}' for t in launches)} (target < 1.5 s)"
    )
    print(f"event loop while scrolling newest -> oldest: {stalls['scroll']} (target: none)")
    print(f"event loop while importing: {stalls['import']} (target: none)")
    if "faces" in stalls:
        print(f"event loop while faces run after it: {stalls['faces']} (target: none)")


if __name__ == "__main__":
    main()
