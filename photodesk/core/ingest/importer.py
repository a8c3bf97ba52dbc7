"""Imports files and folders: scan, skip the unchanged, analyse in parallel, write the catalog."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_files as file_repo
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.procs import exit_with_parent
from photodesk.core.catalog.types import AssetId, ImportFailure, ImportProgress, ImportReport
from photodesk.core.ingest import writer as import_writer
from photodesk.core.ingest.results import Analysis, Failure, FileTask
from photodesk.core.ingest.scanner import ScannedFile, scan, sidecar_for
from photodesk.core.ingest.storage import check_template

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.ingest.service import IngestService

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "{year}/{month}/{filename}"
BATCH_SIZE = 200
BATCH_SECONDS = 1.0

ProgressCallback = Callable[[ImportProgress], None]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _mp_context() -> multiprocessing.context.BaseContext:
    # Forking a process that runs Qt or SQLAlchemy pools is unsafe; forkserver forks a clean server.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["photodesk.core.ingest.analyze"])
        return ctx
    return multiprocessing.get_context("spawn")


class Importer:
    """Turns files on disk into assets of the acting user."""

    def __init__(self, store: Store, ingest: IngestService, *, worker_niceness: int = 0) -> None:
        self._store = store
        self._ingest = ingest
        # The desktop raises this so import workers yield the CPU to the GUI thread.
        self.worker_niceness = worker_niceness

    def import_paths(
        self,
        paths: Iterable[str | Path],
        *,
        copy: bool = False,
        template: str = DEFAULT_TEMPLATE,
        progress: ProgressCallback | None = None,
        workers: int | None = None,
    ) -> ImportReport:
        lib = self._store
        check_template(template)
        scanned = scan(paths, library_root=lib.root)
        report = import_writer.ReportBuilder(scanned=len(scanned.media))
        for arg in scanned.missing:
            report.failed.append(ImportFailure(str(arg), "no such file or folder"))
        for folder, why in scanned.unreadable:
            report.failed.append(ImportFailure(folder, why))
        originals = str(lib.originals_dir) + os.sep
        with lib.read() as session:
            known = file_repo.known_files(session, [f.path for f in scanned.media])
            # --copy of files imported in place before: the library takes its copy now.
            in_place = (
                file_repo.referenced_in_place(
                    session, [f.path for f in scanned.media if not f.path.startswith(originals)]
                )
                if copy
                else set()
            )
        todo: list[ScannedFile] = []
        for f in scanned.media:
            seen = known.get(f.path)
            if seen is not None and seen == (f.size, f.mtime_ns) and f.path not in in_place:
                report.unchanged += 1
            else:
                todo.append(f)
        tasks = [
            FileTask(
                f.path,
                f.size,
                f.mtime_ns,
                sidecar_for(f.path, scanned.sidecars),
                str(lib.thumbs_dir),
                str(lib.previews_dir),
            )
            for f in todo
        ]
        done = report.unchanged
        total = len(scanned.media)
        if progress:
            progress(ImportProgress(done, total))
        pending: list[Analysis | Failure] = []
        last_flush = time.monotonic()
        for result in self._run(tasks, workers or default_workers()):
            pending.append(result)
            done += 1
            if progress:
                progress(ImportProgress(done, total, result.path))
            if len(pending) >= BATCH_SIZE or time.monotonic() - last_flush > BATCH_SECONDS:
                self._ingest.submit(pending, report, copy=copy, template=template)
                pending = []
                last_flush = time.monotonic()
        if pending:
            self._ingest.submit(pending, report, copy=copy, template=template)
        if scanned.sidecars:  # sidecars another app changed beside unchanged photos: merge them
            self._ingest.sidecars_changed(list(scanned.sidecars.values()))
        outcome = report.build()
        if outcome.imported or outcome.relinked:
            lib.events.publish(
                Changes(assets=frozenset(int(i) for i in outcome.asset_ids), assets_added=True)
            )
        return outcome

    def _run(self, tasks: list[FileTask], workers: int) -> Iterator[Analysis | Failure]:
        if not tasks:
            return
        if workers <= 1 or len(tasks) <= 2:
            from photodesk.core.ingest.analyze import (
                analyze,  # decoders load only when there is work
            )

            for task in tasks:
                yield analyze(task)
            return
        yield from _run_pool(tasks, workers, self.worker_niceness)


def _run_pool(
    tasks: list[FileTask], workers: int, niceness: int = 0
) -> Iterator[Analysis | Failure]:
    """Analyse in worker processes; a decoder that crashes its process fails only its own file."""
    from photodesk.core.ingest.analyze import analyze

    queue = list(reversed(tasks))
    suspects: list[FileTask] = []
    while queue or suspects:
        if suspects:
            # After a crash, retry each file that was in flight on its own, to find the culprit.
            task = suspects.pop()
            yield _run_isolated(task)
            continue
        ctx = _mp_context()
        inflight: dict[Future[Analysis | Failure], FileTask] = {}
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=exit_with_parent,
            initargs=(os.getpid(), niceness),
        ) as pool:
            try:
                while queue or inflight:
                    while queue and len(inflight) < workers * 4:
                        task = queue.pop()
                        inflight[pool.submit(analyze, task)] = task
                    finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        task = inflight.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool:
                            inflight[fut] = task
                            raise
                        yield result
            except BrokenProcessPool:
                suspects.extend(inflight.values())
                log.warning("a decoder crashed; retrying %d files one by one", len(suspects))


def _run_isolated(task: FileTask) -> Analysis | Failure:
    from photodesk.core.ingest.analyze import analyze

    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=_mp_context(),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        try:
            return pool.submit(analyze, task).result()
        except BrokenProcessPool:
            return Failure(
                task.path, task.size, task.mtime_ns, "crashed the decoder (damaged file?)"
            )


__all__ = ["DEFAULT_TEMPLATE", "AssetId", "Importer"]
