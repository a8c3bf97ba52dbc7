"""``photodesk workers add|list|revoke`` (the server's worker tokens) and ``photodesk worker``
(run here the ML jobs of a server: smart-search embeddings and faces)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from photodesk.cli.registry import Command
from photodesk.core import Library


def add_parser(sub: Any) -> None:
    p = sub.add_parser("workers", help="machines allowed to run this server's ML jobs")
    wsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ap = wsub.add_parser("add", help="allow a worker; prints its token on the last line")
    ap.add_argument("name")
    wsub.add_parser("list", help="the workers and when each was last seen")
    rp = wsub.add_parser("revoke", help="revoke a worker's token (its running jobs are requeued)")
    rp.add_argument("name")


def add_worker_parser(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="run a server's smart-search and face jobs on this machine (GPU or not)",
        description="Claim the server's clip and faces jobs over HTTP, analyse each photo's "
        "preview with this machine's models, and send the results back. No access to the "
        "server's disks is needed.",
    )
    p.add_argument("--server", required=True, metavar="URL", help="the photodesk server")
    p.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the worker token from standard input (else $PHOTODESK_WORKER_TOKEN)",
    )
    p.add_argument("--queues", default="clip,faces", help="clip, faces or both (default both)")
    p.add_argument("--until-idle", action="store_true", help="stop when no job is waiting")
    p.add_argument(
        "--models",
        metavar="DIR",
        help="where this machine keeps its model packs (default: the library's models/)",
    )
    p.add_argument(
        "--max-original-mb",
        type=int,
        default=2048,
        metavar="MB",
        help="download a video's original (for its frames) up to this size; larger ones are "
        "analysed from their preview (default 2048)",
    )


def run(lib: Library, args: argparse.Namespace) -> int:
    if args.action == "add":
        token = lib.workers.add(args.name)
        print(f"worker {args.name} added; start it with:")
        print("  photodesk worker --server URL --token-stdin   (and give it this token)")
        print(token)
        return 0
    if args.action == "revoke":
        lib.workers.revoke(args.name)
        print(f"worker {args.name} revoked")
        return 0
    workers = lib.workers.list()
    if not workers:
        print("no workers (add one with `photodesk workers add NAME`)")
    for w in workers:
        seen = w.last_seen_at.strftime("%Y-%m-%d %H:%M") if w.last_seen_at else "never"
        print(f"{w.name}\tadded {w.created_at:%Y-%m-%d}\tlast seen {seen}")
    return 0


def run_worker(args: argparse.Namespace) -> int:
    """``photodesk worker``: no library is opened, only a models folder is read."""
    from photodesk.bootstrap import load_models
    from photodesk.remote.worker import RemoteWorker, WorkerError
    from photodesk.settings import resolve_library_dir

    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = os.environ.get("PHOTODESK_WORKER_TOKEN", "").strip()
    if not token:
        print(
            "photodesk worker: no token (--token-stdin or PHOTODESK_WORKER_TOKEN)", file=sys.stderr
        )
        return 2
    if not args.server.startswith(("http://", "https://")):
        print(
            f"photodesk worker: --server must be an http(s) URL, not {args.server!r}",
            file=sys.stderr,
        )
        return 2
    logging.getLogger("photodesk").setLevel(logging.INFO)
    models_dir = Path(args.models) if args.models else resolve_library_dir(None) / "models"
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    try:
        worker = RemoteWorker(
            args.server,
            token,
            load_models(models_dir),
            queues,
            max_original_bytes=max(0, args.max_original_mb) * 1024 * 1024,
        )
        signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
        stats = worker.run(until_idle=args.until_idle)
    except WorkerError as exc:
        print(f"photodesk worker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"photodesk worker: {stats.done} job(s) done, {stats.failed} failed")
    return 0


COMMAND = Command(("workers",), add_parser, run)
WORKER = Command(("worker",), add_worker_parser, run_alone=run_worker)  # opens no library
