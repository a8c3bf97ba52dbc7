"""Remote workers: throughput against the same analysis run locally, and job claiming at scale.

Usage: python bench/worker_bench.py [--photos 120] [--faces 15] [--jobs 400] [--spin-ms 20]
                                    [--workers 1,2,4,8] [--dir DIR]

1. CLIP (a tiny generated ONNX pack, as the tests use) on ``--photos`` generated photos, and
   faces (dlib, for real) on up to ``--faces`` face photos of the shared corpus: the time the
   library's own job engine takes to analyse them all (``clip`` / ``faces`` jobs, previews
   rendered beforehand), against a ``photodesk serve`` with local ML off (in a thread, on
   loopback) and one ``RemoteWorker`` on the same machine with the same models. Target: the
   remote worker at >= 80% of local throughput.
2. Job claiming: ``--jobs`` jobs in a SQLite catalog, worked by 1, 2, 4 and 8 worker processes
   that claim each job with the engine's atomic claim (``UPDATE ... RETURNING``) and finish it;
   once with a CPU-bound fake job (``--spin-ms`` of hashing) and once with a job that waits as
   long (I/O-bound, e.g. a GPU or a remote call). Target: 8 workers >= 5x one on the CPU-bound
   job, which needs >= 5 free cores: the machine's core count is printed with the figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.bootstrap import load_models  # noqa: E402
from photodesk.core import Library  # noqa: E402
from photodesk.remote.worker import RemoteWorker  # noqa: E402
from photodesk.sync.config import ServerConfig  # noqa: E402
from photodesk.sync.server import start_in_thread  # noqa: E402

CORPUS = Path(os.environ.get("PHOTODESK_TEST_CORPUS", ROOT.parent / "shared" / "corpus"))


def _photos(folder: Path, n: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        arr = (rng.random((60, 80, 3)) * 255).astype("uint8")
        img = Image.fromarray(arr).resize((1600, 1200))
        path = folder / f"p{i:04d}.jpg"
        img.save(path, "JPEG", quality=85)
        out.append(path)
    return out


def _face_photos(folder: Path, n: int) -> list[Path]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as fh:
        names = [r["file"] for r in csv.DictReader(fh, delimiter="\t")]
    picked = sorted(n for n in names if n.startswith("facerec__") and n.endswith(".jpg"))[:n]
    folder.mkdir(parents=True, exist_ok=True)
    for name in picked:
        shutil.copy2(CORPUS / name, folder / name)
    return [folder / name for name in picked]


def _library(path: Path, photos: Path) -> Library:
    """A library with the photos imported and their previews rendered (no ML queued)."""
    lib = Library.open(path, options=ServerConfig(local_ml=False).library_options())
    lib.importer.import_paths([photos], workers=2)
    lib.jobs.run_until_idle(timeout=600)
    return lib


def _count(lib: Library, kind: str, states: tuple[str, ...]) -> int:
    from sqlalchemy import text

    with lib.read() as s:
        marks = ",".join(f"'{x}'" for x in states)
        q = f"select count(*) from jobs where kind = :k and state in ({marks})"
        return int(s.execute(text(q), {"k": kind}).scalar() or 0)


def _local(lib: Library, models, task: str) -> tuple[int, float]:
    lib.ml.attach(models)
    lib.jobs.pause("cluster")  # clustering is the server's in both set-ups: not timed
    n = lib.queue_missing(task)
    start = time.perf_counter()
    lib.jobs.start()
    try:
        while _count(lib, task, ("queued", "running")):
            time.sleep(0.02)
    finally:
        elapsed = time.perf_counter() - start
        lib.jobs.stop()
    return n, elapsed


def _remote(lib: Library, models, task: str, expected: int) -> tuple[int, float]:
    running = start_in_thread(lib, ServerConfig(local_ml=False, port=0, host="127.0.0.1"))
    try:
        lib.jobs.pause("cluster")
        deadline = time.monotonic() + 60  # the start-up catch-up queues every photo
        while _count(lib, task, ("queued",)) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        token = lib.workers.add(f"bench-{task}")
        worker = RemoteWorker(running.url, token, models, [task])
        start = time.perf_counter()
        stats = worker.run(until_idle=True)
        elapsed = time.perf_counter() - start
        assert stats.failed == 0, stats
    finally:
        running.stop()
    return stats.done, elapsed


def ml_bench(work: Path, n_photos: int, n_faces: int) -> None:
    from tests.ml.tiny_models import make_clip_pack

    models_dir = work / "models"
    make_clip_pack(models_dir, "ViT-Tiny__bench", dim=512)
    sets = [("clip", _photos(work / "clip-in", n_photos), "ViT-Tiny__bench", "none")]
    faces = _face_photos(work / "faces-in", n_faces)
    try:
        import dlib  # noqa: F401

        if faces:
            sets.append(("faces", faces, "none", "dlib"))
    except ImportError:
        print("faces: skipped (dlib is not installed)")
    for task, photos, clip, face in sets:
        models = load_models(models_dir, clip=clip, faces=face)
        if models.faces is not None:  # load and warm the model before either run is timed
            models.faces.analyze(str(photos[0]))
        if models.image is not None:
            models.image.embed_images([str(photos[0])])
        folder = photos[0].parent
        local_lib = _library(work / f"local-{task}", folder)
        remote_lib = _library(work / f"remote-{task}", folder)
        try:
            n_local, t_local = _local(local_lib, models, task)
            n_remote, t_remote = _remote(remote_lib, models, task, n_local)
        finally:
            local_lib.close()
            remote_lib.close()
        local_rate, remote_rate = n_local / t_local, n_remote / t_remote
        print(
            f"{task}: local {n_local} in {t_local:.2f}s ({local_rate:.1f}/s), remote worker "
            f"{n_remote} in {t_remote:.2f}s ({remote_rate:.1f}/s): "
            f"{100 * remote_rate / local_rate:.0f}% of local (target >= 80%)"
        )


# ----- job claiming ---------------------------------------------------------------------------
class Spin:
    """A fake image embedder: ``ms`` of hashing (CPU-bound) or of waiting (a GPU, a network)."""

    model_name = "bench-spin"
    dim = 16

    def __init__(self, ms: float, cpu: bool) -> None:
        self.ms, self.cpu = ms, cpu

    def embed_images(self, paths: list[str]):
        import numpy as np

        if not self.cpu:
            time.sleep(self.ms / 1000)
        else:
            end = time.perf_counter() + self.ms / 1000
            h = b"x"
            while time.perf_counter() < end:
                for _ in range(200):
                    h = hashlib.sha256(h).digest()
        return np.ones((len(paths), self.dim), dtype=np.float32)

    def embed_text(self, texts: list[str]):
        raise NotImplementedError


def _claimer(url: str, token: str, ms: float, cpu: bool, go: object, done: object) -> None:
    from photodesk.core import Models

    worker = RemoteWorker(url, token, Models(image=Spin(ms, cpu)), ["clip"])
    done.put(0)  # type: ignore[attr-defined]  # ready
    go.wait()  # type: ignore[attr-defined]
    stats = worker.run(until_idle=True)
    done.put(stats.done)  # type: ignore[attr-defined]


def _claim_round(lib: Library, url: str, workers: int, ms: float, cpu: bool) -> tuple[int, float]:
    from sqlalchemy import text

    with lib.write() as s:  # every photo's clip job waits again
        s.execute(text("delete from embeddings"))
        s.execute(text("delete from jobs where kind = 'clip'"))
    jobs = lib.queue_missing("clip", for_workers=True)
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    tokens = [lib.workers.add(f"w{workers}-{int(cpu)}-{i}") for i in range(workers)]
    procs = [ctx.Process(target=_claimer, args=(url, tok, ms, cpu, go, done)) for tok in tokens]
    for p in procs:
        p.start()
    for _ in procs:  # every process has started and imported what it needs
        done.get(timeout=300)
    start = time.perf_counter()
    go.set()
    total = sum(done.get(timeout=900) for _ in procs)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join(30)
    assert total == jobs, (total, jobs)
    return jobs, jobs / elapsed


def claim_bench(work: Path, jobs: int, ms: float, counts: list[int]) -> None:
    """Worker processes claim ``clip`` jobs from one server over HTTP (the real worker loop:
    claim, fetch the preview, "analyse", post the result) with a fake analysis."""
    _photos_small(work / "claims-in", jobs)
    lib = _library(work / "claims", work / "claims-in")
    running = start_in_thread(lib, ServerConfig(local_ml=False, port=0, host="127.0.0.1"))
    try:
        time.sleep(2.0)  # the start-up catch-up
        print(f"job claiming over HTTP: {jobs} jobs of {ms:.0f} ms, {os.cpu_count()} CPU cores")
        for cpu in (True, False):
            base = None
            for n in counts:
                _, rate = _claim_round(lib, running.url, n, ms, cpu)
                base = base or rate
                kind = "CPU-bound" if cpu else "waiting"
                print(f"  {kind:9} {n} worker(s): {rate:6.1f} jobs/s = {rate / base:.2f}x one")
    finally:
        running.stop()
        lib.close()


def _photos_small(folder: Path, n: int) -> bool:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (64, 48), ((i * 37) % 256, (i * 11) % 256, i % 256)).save(
            folder / f"s{i:05d}.jpg", "JPEG"
        )
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=120)
    ap.add_argument("--faces", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--spin-ms", type=float, default=20.0)
    ap.add_argument("--workers", default="1,2,4,8")
    ap.add_argument("--skip-ml", action="store_true")
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="worker-bench-", dir=args.dir))
    try:
        if not args.skip_ml:
            ml_bench(work, args.photos, args.faces)
        counts = [int(c) for c in args.workers.split(",")]
        claim_bench(work, args.jobs, args.spin_ms, counts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    raise SystemExit(main())
