"""The job engine: atomic claims, retries with backoff, follow-ups, recovery, pause and cancel."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.catalog.db import jobs as repo
from photodesk.core.jobs.engine import JobContext, JobProgress, PermanentJobError, job
from tests.conftest import make_jpeg

RAN: list[tuple[str, str | None]] = []
LOCK = threading.Lock()


@job("test.ok", queue="metadata")
def _ok(lib: Library, ctx: JobContext) -> dict[str, Any]:
    with LOCK:
        RAN.append(("ok", ctx.target))
    if ctx.payload.get("then"):
        ctx.follow_up("test.ok", f"after-{ctx.target}")
    return {"target": ctx.target}


@job("test.flaky", queue="metadata", max_attempts=3)
def _flaky(lib: Library, ctx: JobContext) -> None:
    with LOCK:
        RAN.append(("flaky", ctx.target))
    raise RuntimeError("disk hiccup")


@job("test.broken", queue="metadata")
def _broken(lib: Library, ctx: JobContext) -> None:
    raise PermanentJobError("the file is gone")


@job("test.slow", queue="cluster")
def _slow(lib: Library, ctx: JobContext) -> None:
    for _ in range(200):
        ctx.check()
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def _clear() -> None:
    RAN.clear()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "backoff", lambda attempts: timedelta(0))


def test_identical_waiting_jobs_are_not_queued_twice(library: Library) -> None:
    a = library.jobs.enqueue("test.ok", 7)
    b = library.jobs.enqueue("test.ok", 7)
    c = library.jobs.enqueue("test.ok", 8)
    assert a == b != c


def test_every_job_is_claimed_exactly_once_by_competing_workers(
    library: Library, tmp_path: Path
) -> None:
    for i in range(60):
        library.jobs.enqueue("test.ok", i)
    other = Library.open(library.root)  # a second process's connections on the same catalog
    claimed: list[int] = []

    def worker(lib: Library, name: str) -> None:
        while True:
            with lib.write() as s:
                row = repo.claim(s, "metadata", name)
                if row is None:
                    return
                claimed.append(row.id)

    try:
        threads = [
            threading.Thread(target=worker, args=(lib, f"w{i}"))
            for i, lib in enumerate([library, other, library, other])
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert len(claimed) == 60 and len(set(claimed)) == 60


def test_jobs_run_with_follow_ups_until_idle(library: Library) -> None:
    for i in range(5):
        library.jobs.enqueue("test.ok", i, {"then": True})
    assert library.jobs.run_until_idle(timeout=30)
    assert sorted(t for _, t in RAN) == sorted(
        [str(i) for i in range(5)] + [f"after-{i}" for i in range(5)]
    )
    done = {q.name: q for q in library.jobs.status()}["metadata"]
    assert (done.done, done.queued, done.failed) == (10, 0, 0)


def test_failures_retry_with_backoff_then_stay_failed_and_visible(
    library: Library, no_backoff: None
) -> None:
    job_id = library.jobs.enqueue("test.flaky", "x")
    assert library.jobs.run_until_idle(timeout=30)
    assert RAN == [("flaky", "x")] * 3
    info = library.jobs.get(job_id)
    assert (info.state, info.attempts) == ("failed", 3)
    assert "disk hiccup" in (info.last_error or "")
    assert [f.id for f in library.jobs.failures()] == [job_id]
    assert library.jobs.retry() == 1
    assert library.jobs.get(job_id).state == "queued"


def test_backoff_grows(library: Library) -> None:
    assert repo.backoff(1) < repo.backoff(2) < repo.backoff(3) <= timedelta(hours=1)
    job_id = library.jobs.enqueue("test.flaky", "later")
    library.jobs.run_until_idle(timeout=30)  # one attempt, then waits for its backoff
    info = library.jobs.get(job_id)
    assert (info.state, info.attempts) == ("queued", 1)


def test_permanent_errors_fail_at_once(library: Library) -> None:
    job_id = library.jobs.enqueue("test.broken", "y")
    library.jobs.run_until_idle(timeout=30)
    info = library.jobs.get(job_id)
    assert (info.state, info.attempts, info.last_error) == ("failed", 1, "the file is gone")


def test_a_job_of_a_dead_process_is_picked_up_again(library: Library) -> None:
    job_id = library.jobs.enqueue("test.ok", "orphan")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with library.write() as s:
        repo.claim(s, "metadata", f"{__import__('socket').gethostname()}:{dead.pid}")
    assert library.jobs.get(job_id).state == "running"
    assert library.jobs.recover() == 1
    assert library.jobs.run_until_idle(timeout=30)
    assert RAN == [("ok", "orphan")]
    assert library.jobs.get(job_id).state == "done"


def test_a_job_with_a_stale_heartbeat_from_another_host_is_recovered(library: Library) -> None:
    job_id = library.jobs.enqueue("test.ok", "far")
    with library.write() as s:
        repo.claim(s, "metadata", "some-other-host:1234")
    assert library.jobs.recover() == 0  # its heartbeat is fresh: it may still be working
    with library.write() as s:
        s.execute(
            text("UPDATE jobs SET heartbeat_at = '2000-01-01 00:00:00' WHERE id = :i"),
            {"i": job_id},
        )
    assert library.jobs.recover() == 1
    assert library.jobs.get(job_id).state == "queued"


def test_pause_survives_a_restart_and_resume_runs_the_work(library: Library) -> None:
    library.jobs.pause("metadata")
    library.jobs.enqueue("test.ok", "p")
    assert library.jobs.run_until_idle(timeout=5)
    assert RAN == []
    with Library.open(library.root) as again:
        assert "metadata" in again.jobs.paused()
        assert {q.name: q for q in again.jobs.status()}["metadata"].paused
    library.jobs.resume("metadata")
    assert library.jobs.run_until_idle(timeout=30)
    assert RAN == [("ok", "p")]


def test_cancel_stops_running_and_drops_waiting_jobs(library: Library) -> None:
    first = library.jobs.enqueue("test.slow", "1")
    second = library.jobs.enqueue("test.slow", "2")
    library.jobs.start()
    try:
        deadline = time.monotonic() + 10
        while library.jobs.get(first).state != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert library.jobs.cancel("cluster") == 1
        while library.jobs.get(first).state == "running" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        library.jobs.stop()
    assert library.jobs.get(first).state == "cancelled"
    assert library.jobs.get(second).state == "cancelled"


def test_progress_events_reach_listeners(library: Library) -> None:
    events: list[JobProgress] = []
    library.events.subscribe(lambda e: events.append(e) if isinstance(e, JobProgress) else None)
    for i in range(3):
        library.jobs.enqueue("test.ok", i)
    library.jobs.run_until_idle(timeout=30)
    last = events[-1]
    metadata = {q.name: q for q in last.queues}["metadata"]
    assert metadata.done == 3 and metadata.queued == 0


def test_cli_import_runs_as_a_job_and_jobs_reports_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lib = str(tmp_path / "lib")
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    assert main(["--library", lib, "import", str(tmp_path / "in"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 3
    assert main(["--library", lib, "jobs", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    queues = {q["name"]: q for q in status["queues"]}
    assert queues["import"]["done"] == 1 and status["failures"] == []
    # The work left (thumbnails, ML) takes what a loaded machine takes: the deadline is only a
    # guard against a hang (the suite's own timeout is 600 s), not a speed requirement.
    assert main(["--library", lib, "jobs", "run", "--until-idle", "--timeout", "550"]) == 0
    assert main(["--library", lib, "jobs", "pause", "thumbnails"]) == 0
    capsys.readouterr()
    main(["--library", lib, "jobs"])
    assert "thumbnails   paused" in capsys.readouterr().out


def test_two_processes_writing_at_once_never_see_database_is_locked(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Library.open(root).close()
    script = (
        "import sys\n"
        "from photodesk.core import Library\n"
        "lib = Library.open(sys.argv[1])\n"
        "for i in range(150):\n"
        "    lib.albums.create(f'{sys.argv[2]}-{i}')\n"
        "lib.close()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root), name], stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b", "c")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with Library.open(root) as lib:
        assert len(lib.albums.list()) == 450
