"""Fixtures for the daemon: a server on loopback over a temporary library, and users with keys.

- ``server``: the real aiohttp app (``make_app``) served on 127.0.0.1 on a free port, on its own
  thread and event loop, with the job engine running. It yields a ``ServerInfo``: ``.url``
  (``http://127.0.0.1:PORT``), ``.library_dir``, ``.lib`` (the open ``Library`` the server uses),
  ``.app`` and ``.config``. ``start_server(**settings)`` starts more, with other settings.
- ``make_user(email=None, password=None, *, admin=False, quota_bytes=None)`` creates a user on
  the ``server``'s library and returns ``(user_id, email, password, api_key)``.
- ``serve_subprocess(library_dir, *extra_args)`` runs the real command
  ``python -m photodesk --library DIR serve --port 0 ...`` (the worktree's photodesk: PYTHONPATH
  is set), waits for its ``photodesk serve: listening on URL`` line and returns a
  ``ServerProcess`` with ``.url`` and ``.proc``; it is stopped with SIGTERM at teardown.
  Create users first, in-process: ``with Library.open(dir) as lib: lib.accounts.add_user(...)``
  (SQLite in WAL mode lets both processes use the catalog).
- ``catalog``: every test that starts a server runs once per catalog dialect (``[sqlite]``,
  ``[postgresql]``; tests/catalogs.py). On PostgreSQL each library folder the test opens gets a
  database of its own, and ``serve_subprocess`` passes it on as ``PHOTODESK_DATABASE_URL``; use
  ``tests.catalogs.sql(lib, ...)`` instead of opening ``catalog.db`` to look at rows.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import Library
from photodesk.sync.config import ServerConfig
from photodesk.sync.server import RunningServer, start_in_thread
from tests.catalogs import DIALECTS, Catalogs
from tests.sync.browser import browser  # noqa: F401  (headless Chromium for page tests)

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"photodesk serve: listening on (\S+)")


@dataclass
class ServerInfo:
    url: str
    library_dir: Path
    lib: Library
    config: ServerConfig
    running: RunningServer = field(repr=False)

    @property
    def app(self) -> Any:
        return self.running.app

    def analysed(self, timeout: float = 120.0) -> None:
        """Wait until no ``upload.analyse`` job is queued or running: uploads are analysed
        after the request that admitted them (their ML follow-ups may still wait)."""
        from tests.sync.hostile import wait_analysed

        wait_analysed(self.lib, timeout)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that starts a server runs on each catalog dialect (tests/catalogs.py).
    if "catalog" in metafunc.fixturenames:
        metafunc.parametrize("catalog", DIALECTS, indirect=True)


@pytest.fixture
def catalog(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Catalogs:
    """The catalog dialect of this run: with ``postgresql`` every library the test opens (and
    every ``serve`` it spawns) keeps its catalog in a fresh PostgreSQL database."""
    dialect = getattr(request, "param", "sqlite")
    server = request.getfixturevalue("postgres") if dialect == "postgresql" else None
    catalogs = Catalogs(dialect, server)
    catalogs.install(monkeypatch)
    return catalogs


@pytest.fixture
def start_server(tmp_path: Path, catalog: Catalogs) -> Iterator[Callable[..., ServerInfo]]:
    """Start servers on loopback (each over its own library unless ``lib=`` is given)."""
    started: list[tuple[RunningServer, Library | None]] = []

    def start(lib: Library | None = None, **settings: Any) -> ServerInfo:
        owned = None
        settings.setdefault("port", 0)
        settings.setdefault("host", "127.0.0.1")
        settings.setdefault("shutdown_timeout_s", 5.0)
        config = ServerConfig(**settings)
        if lib is None:
            path = tmp_path / f"lib{len(started) or ''}"
            owned = lib = Library.open(path, options=config.library_options())
        running = start_in_thread(lib, config)
        started.append((running, owned))
        return ServerInfo(running.url, lib.root, lib, config, running)

    yield start
    for running, owned in reversed(started):
        running.stop()
        if owned is not None:
            owned.close()


@pytest.fixture
def server(start_server: Callable[..., ServerInfo]) -> ServerInfo:
    """The daemon on 127.0.0.1 (a free port) over a fresh library, background jobs running."""
    return start_server()


@pytest.fixture
def make_user(server: ServerInfo) -> Callable[..., tuple[int, str, str, str]]:
    """``make_user()`` -> (user_id, email, password, api_key) on the ``server``'s library."""
    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        password: str | None = None,
        *,
        admin: bool = False,
        quota_bytes: int | None = None,
        name: str = "",
    ) -> tuple[int, str, str, str]:
        email = email or f"user{next(counter)}@example.org"
        password = password or secrets.token_urlsafe(12)
        accounts = server.lib.accounts
        uid = accounts.add_user(email, password, admin=admin, quota_bytes=quota_bytes, name=name)
        key = accounts.create_api_key(uid, "tests")
        return uid, email, password, key

    return make


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[str]
    output: list[str]

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def spawn_server(
    library_dir: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> ServerProcess:
    """Run ``photodesk --library DIR serve --port 0 EXTRA...`` and wait until it listens."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    cmd = [sys.executable, "-m", "photodesk", "--library", str(library_dir), "serve"]
    if "--port" not in extra:
        cmd += ["--port", "0"]
    proc = subprocess.Popen(
        [*cmd, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
    output: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            m = _LISTENING.search(line)
            if m and not url:
                url.append(m.group(1))
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    found.wait(timeout)
    if not url:
        proc.kill()
        proc.wait()
        raise RuntimeError("photodesk serve did not start:\n" + "".join(output))
    return ServerProcess(url[0], proc, output)


@pytest.fixture
def serve_subprocess(catalog: Catalogs) -> Iterator[Callable[..., ServerProcess]]:
    procs: list[ServerProcess] = []

    def start(library_dir: Path, *extra: str, **kwargs: Any) -> ServerProcess:
        kwargs["env"] = {**catalog.env_for(library_dir), **(kwargs.get("env") or {})}
        sp = spawn_server(library_dir, *extra, **kwargs)
        procs.append(sp)
        return sp

    yield start
    for sp in procs:
        sp.stop()
