"""After a SIGKILL during uploads, ``photodesk check`` lists the leftovers; ``--fix`` removes
those whose writer is gone (and nothing of a writer still running)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from photodesk.core import Library
from tests.sync.conftest import ROOT


def _check(library: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(library), "check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_check_lists_and_fix_removes_uploads_a_killed_server_left(
    tmp_path: Path, serve_subprocess, catalog
) -> None:
    library = tmp_path / "lib"
    on = catalog.env_for(library)  # the command line finds the same catalog as the server
    with Library.open(library) as lib:
        uid = lib.accounts.add_user("kill@example.org", "pw-kill-12345")
        key = lib.accounts.create_api_key(uid, "t")
        staging = lib.uploads.staging_dir(uid)
    server = serve_subprocess(library)
    # an upload in progress: the head and half of a 4 MB body, then the server is killed
    parts = urlsplit(server.url)
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="assetData"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    body_len = len(head) + 4_000_000 + len(f"\r\n--{boundary}--\r\n")
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(
            b"POST /api/assets HTTP/1.1\r\nHost: x\r\nx-api-key: " + key.encode() + b"\r\n"
            + f"Content-Type: multipart/form-data; boundary={boundary}\r\n".encode()
            + f"Content-Length: {body_len}\r\n\r\n".encode() + head + b"\xff" * 2_000_000
        )  # fmt: skip
        for _ in range(600):
            streams = list(staging.glob(".stream-*.part"))
            if streams and streams[0].stat().st_size >= 1_000_000:
                break
            time.sleep(0.1)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(60)
    assert streams, "the upload was not being staged"
    # an import the kill interrupted, and one of a writer that still runs (this process)
    dead = staging / f".ingest-{_dead_pid()}-{'a' * 32}"
    dead.mkdir()
    (dead / "photo.jpg").write_bytes(b"\xff\xd8" + bytes(10_000))
    live = staging / f".stream-{os.getpid()}-{'b' * 32}.part"
    live.write_bytes(b"still arriving")

    found = _check(library, env=on)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "temp files left by a crash: 2" in found.stdout, found.stdout
    assert str(streams[0]) in found.stdout and str(dead) in found.stdout
    assert str(live) not in found.stdout
    fixed = _check(library, "--fix", env=on)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "removed 2 files" in fixed.stdout
    assert not streams[0].exists() and not dead.exists() and live.exists()
    assert "no problems found" in _check(library, env=on).stdout
