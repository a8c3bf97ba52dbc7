"""Process liveness, for recovering work (jobs, temp files) left by processes that died."""

from __future__ import annotations

import os
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (True when it cannot be told)."""
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl+C there; rely on heartbeats instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_dead_temps(folder: Path, pattern: str, pid_of: int) -> None:
    """Delete temp files matching ``pattern`` whose writer (the pid at dot-separated field
    ``pid_of`` of the name) is dead: what a killed import left half-written."""
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return
    for old in candidates:
        parts = old.name.split(".")
        if len(parts) > pid_of and parts[pid_of].isdigit() and not pid_alive(int(parts[pid_of])):
            old.unlink(missing_ok=True)


_exit_guard: threading.Lock | None = None  # set in worker processes by exit_with_parent


def no_exit_while_writing() -> AbstractContextManager[object]:
    """Held around writes of temp files in workers: the parent watcher never exits mid-write."""
    return _exit_guard if _exit_guard is not None else nullcontext()


def exit_with_parent(parent: int, niceness: int = 0) -> None:
    """Worker-process initializer: a SIGKILLed parent runs no cleanup, so workers watch it.

    ``niceness`` lowers the worker's CPU priority, so an import never starves the desktop's UI.
    """
    if niceness and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:  # not permitted here: run at normal priority
            pass

    global _exit_guard
    _exit_guard = threading.Lock()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if not pid_alive(parent) or os.getppid() == 1:
                # Wait for a file write in progress to finish (or be cleaned up), so exiting
                # never leaves a temp file behind; a stuck write gets 10 s.
                _exit_guard.acquire(timeout=10)
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="photodesk-parent-watch").start()
