"""The ``photodesk serve`` command: run the sync daemon headless."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from photodesk.cli.registry import Command


def add_parser(subparsers: Any) -> None:
    """Add ``serve`` to the ``photodesk`` sub-command parsers."""
    p = subparsers.add_parser(
        "serve",
        help="run the home server (phone and CLI backup, web upload) until Ctrl-C or SIGTERM",
        description="Run the photodesk daemon. Settings come from --config FILE (TOML), then "
        "PHOTODESK_* environment variables (e.g. PHOTODESK_HOST, PHOTODESK_PORT, "
        "PHOTODESK_PUBLIC_URL, PHOTODESK_TRUSTED_PROXIES, PHOTODESK_MAX_UPLOAD_MB, "
        "PHOTODESK_STORAGE_ROOT, PHOTODESK_LOG_FORMAT), then these flags.",
    )
    p.add_argument("--config", metavar="FILE", help="TOML settings file (optional)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="port (default 8470; 0: any free port)")
    p.add_argument("--public-url", help="the URL users reach the server at, behind a proxy")
    p.add_argument("--log-format", choices=["text", "json"], help="json: one object per line")
    p.add_argument(
        "--no-jobs", action="store_true", help="do not run background jobs in the daemon"
    )
    p.add_argument(
        "--no-local-ml",
        action="store_true",
        help="leave smart-search and face analysis to remote workers (photodesk worker); "
        "setting local_ml = false",
    )


def announce(url: str, stream: TextIO | None = None) -> None:
    """Print the ``listening on URL`` line scripts read to learn the port (``--port 0``).

    One write of the whole line: with ``PYTHONUNBUFFERED`` (containers set it) ``print`` writes
    the text and its newline separately, and a log line from the server thread on the same pipe
    could land in between and glue itself to the URL.
    """
    out = sys.stdout if stream is None else stream
    out.write(f"photodesk serve: listening on {url}\n")
    out.flush()


def run(args: argparse.Namespace) -> int:
    """Run ``photodesk serve``; the library is opened here (the config file may name it)."""
    from photodesk.bootstrap import open_library
    from photodesk.core import PhotodeskError
    from photodesk.sync.config import load_config
    from photodesk.sync.logs import setup_logging
    from photodesk.sync.server import run as run_server

    try:
        config = load_config(
            args.config,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            log_format=args.log_format,
            jobs=False if args.no_jobs else None,
            local_ml=False if args.no_local_ml else None,
        )
    except PhotodeskError as exc:
        print(f"photodesk serve: {exc}", file=sys.stderr)
        return 2

    try:
        setup_logging(config.log_format)
        library = open_library(
            args.library if args.library is not None else config.library,
            options=config.library_options(),
            database=config.database,
            ml=False if not config.local_ml else None,
            create=True,  # a server's first start (a container's empty volume) makes its library
        )
        try:
            return run_server(library, config, on_ready=announce)
        finally:
            library.close()
    except PhotodeskError as exc:
        print(f"photodesk serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"photodesk serve: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr
        )
        return 1


COMMAND = Command(("serve",), add_parser, run_alone=run)  # its config may name the library
