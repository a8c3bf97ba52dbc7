"""``photodesk jobs``: show, run, retry, pause, resume and cancel background work."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from photodesk.cli import output
from photodesk.cli.registry import Command
from photodesk.core import Library


def add_parser(sub: Any) -> None:
    p = sub.add_parser("jobs", help="background work: queues, failures, run headless")
    p.add_argument("--json", action="store_true", help="queues and failures as JSON")
    jsub = p.add_subparsers(dest="action", metavar="ACTION")
    rp = jsub.add_parser("run", help="work the queues in this process")
    rp.add_argument("--until-idle", action="store_true", help="stop when nothing is left to do")
    rp.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    tp = jsub.add_parser("retry", help="queue failed jobs again")
    tp.add_argument("--queue")
    for name, text in (
        ("pause", "stop starting jobs of a queue"),
        ("resume", "resume a queue"),
        ("cancel", "drop a queue's waiting jobs and stop its running ones"),
    ):
        qp = jsub.add_parser(name, help=text)
        qp.add_argument("queue")


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def run(lib: Library, args: argparse.Namespace) -> int:
    jobs = lib.jobs
    if args.action == "run":
        if args.until_idle:
            idle = jobs.run_until_idle(timeout=args.timeout)
            print("idle" if idle else "timed out with work left", file=sys.stderr)
            return 0 if idle else 1
        import signal
        import threading

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        jobs.start()
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            jobs.stop()
        return 0
    if args.action == "retry":
        print(f"requeued {jobs.retry(args.queue)} jobs")
        return 0
    if args.action == "pause":
        jobs.pause(args.queue)
        return 0
    if args.action == "resume":
        jobs.resume(args.queue)
        return 0
    if args.action == "cancel":
        print(f"cancelled {jobs.cancel(args.queue)} waiting jobs")
        return 0
    status = jobs.status()
    failed = jobs.failures()
    if args.json:
        output.dump(
            {
                "queues": [
                    {
                        "name": q.name,
                        "concurrency": q.concurrency,
                        "paused": q.paused,
                        "queued": q.queued,
                        "running": q.running,
                        "done": q.done,
                        "failed": q.failed,
                        "rate": q.rate,
                        "eta_seconds": q.eta_seconds,
                    }
                    for q in status
                ],
                "failures": [
                    {
                        "id": f.id,
                        "kind": f.kind,
                        "queue": f.queue,
                        "target": f.target,
                        "attempts": f.attempts,
                        "error": f.last_error,
                        "finished_at": f.finished_at.isoformat() if f.finished_at else None,
                    }
                    for f in failed
                ],
            }
        )
        return 0
    print(f"{'queue':<12} {'state':<8} {'queued':>7} {'running':>8} {'done':>7} {'failed':>7}  eta")
    for q in status:
        state = "paused" if q.paused else "active"
        print(
            f"{q.name:<12} {state:<8} {q.queued:>7} {q.running:>8} {q.done:>7} {q.failed:>7}"
            f"  {_eta(q.eta_seconds)}"
        )
    for f in failed:
        print(f"failed job {f.id} {f.kind} {f.target or ''}: {f.last_error}")
    return 0


COMMAND = Command(("jobs",), add_parser, run)
