"""``photodesk index``: queue (and run) smart-search and face analysis for what lacks it."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import CLIP_HELP, FACES_HELP, Library

QUEUES = {"clip": ("clip",), "faces": ("faces", "cluster")}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "index",
        help="analyse photos for smart search (--clip) and faces (--faces); default both",
    )
    p.add_argument("--clip", action="store_true", help="smart-search embeddings (CLIP)")
    p.add_argument("--faces", action="store_true", help="face detection and people")
    p.add_argument(
        "--until-idle",
        action="store_true",
        help="run the work here with a progress bar (else the app or `photodesk jobs run` does it)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="also photos that could not be analysed before (the start-up catch-up skips them)",
    )
    p.add_argument(
        "--for-workers",
        action="store_true",
        help="queue for remote workers (photodesk worker): photos their model has not analysed, "
        "whatever models this machine has (a server started with --no-local-ml does this itself)",
    )
    p.add_argument("--json", action="store_true", help="print what was queued as JSON")


def run(lib: Library, args: argparse.Namespace) -> int:
    tasks = [t for t in ("clip", "faces") if getattr(args, t)] or ["clip", "faces"]
    if args.for_workers:
        return _for_workers(lib, args, tasks)
    models = {
        "clip": lib.ml.image() if lib.ml.attached else None,
        "faces": lib.ml.faces() if lib.ml.attached else None,
    }
    queued: dict[str, int] = {}
    missing: dict[str, str] = {}
    for task in tasks:
        if models[task] is None:
            word = "smart search" if task == "clip" else "face recognition"
            notes = [n for n in lib.ml.missing() if word in n] if lib.ml.attached else []
            if not lib.ml.attached:
                notes = ["ML is turned off (PHOTODESK_ML=off)"]
            missing[task] = "; ".join(notes) or (CLIP_HELP if task == "clip" else FACES_HELP)
            continue
        queued[task] = lib.queue_missing(task, retry_failed=args.retry_failed)
    if args.json:
        output.dump(
            {
                "queued": queued,
                "missing": missing,
                "models": {t: getattr(m, "model_name", None) for t, m in models.items()},
            }
        )
    else:
        for task, why in missing.items():
            print(f"photodesk: {task}: {why}", file=sys.stderr)
        for task, n in queued.items():
            print(f"{task}: {n} photos queued ({getattr(models[task], 'model_name', '')})")
    if args.until_idle and queued:
        _work(lib, [q for t in queued for q in QUEUES[t]])
    return 1 if missing and not queued else 0


def _for_workers(lib: Library, args: argparse.Namespace, tasks: list[str]) -> int:
    """Queue what the workers' model lacks; the workers run it (not this process)."""
    if args.until_idle:
        print("photodesk index: --for-workers leaves the work to the workers", file=sys.stderr)
        return 2
    queued = {
        t: lib.queue_missing(t, retry_failed=args.retry_failed, for_workers=True) for t in tasks
    }
    models = {t: lib.workers.model(t) for t in tasks}
    if args.json:
        output.dump({"queued": queued, "missing": {}, "models": models, "for_workers": True})
        return 0
    for task, n in queued.items():
        print(f"{task}: {n} photos queued for workers ({models[task] or 'any model'})")
    return 0


def _work(lib: Library, queues: list[str]) -> None:
    """Run the job engine here until the given queues are empty, with a progress bar."""
    progress, close = output.progress_bar(sys.stderr.isatty())
    jobs = lib.jobs
    total = 0
    jobs.start()
    try:
        while True:
            mine = [q for q in jobs.status() if q.name in queues]
            left = sum(q.queued + q.running for q in mine)
            total = max(total, left)
            if progress is not None:
                progress(total - left, total)
            if not left:
                break
            time.sleep(0.5)
    finally:
        jobs.stop()
        close()
    failed = {q.name: q.failed for q in jobs.status() if q.name in queues and q.failed}
    if failed:
        print(failed_line(failed), file=sys.stderr)


def failed_line(failed: dict[str, int]) -> str:
    """``photodesk: failed jobs: 3 in faces, 1 in clip (see ...)``: words, not a Python dict."""
    said = ", ".join(f"{n} in {queue}" for queue, n in failed.items())
    return f"photodesk: failed jobs: {said} (see `photodesk jobs`)"


COMMAND = Command(("index",), add_parser, run)
