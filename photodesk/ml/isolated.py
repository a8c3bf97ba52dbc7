"""dlib face analysis in a worker process: dlib holds Python's GIL while it works (about 100 ms a
photo), which would freeze every other thread of the caller, such as the desktop's GUI thread."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from PIL import Image

from photodesk.ml.faces_dlib import DlibFaceAnalyzer
from photodesk.ml.faces_types import Face
from photodesk.ml.runtime import LazyModel

_worker_analyzers: dict[tuple[tuple[str, Any], ...], DlibFaceAnalyzer] = {}


def _watch_parent(parent: int) -> None:
    """Worker initializer: leave when the process that started us is gone (even SIGKILLed)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
            if os.getppid() == 1:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="photodesk-ml-parent-watch").start()


def _analyzer(options: tuple[tuple[str, Any], ...]) -> DlibFaceAnalyzer:
    analyzer = _worker_analyzers.get(options)
    if analyzer is None:
        analyzer = _worker_analyzers[options] = DlibFaceAnalyzer(**dict(options))
    return analyzer


def _analyze(options: tuple[tuple[str, Any], ...], path: str) -> list[Face]:
    return _analyzer(options).analyze(path)


def _analyze_image(options: tuple[tuple[str, Any], ...], image: Image.Image) -> list[Face]:
    return _analyzer(options).analyze_image(image)


def _worker_pid() -> int:
    return os.getpid()


def _context() -> multiprocessing.context.BaseContext:
    # Forking a process that runs Qt or database pools is unsafe; forkserver forks a clean one.
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


class IsolatedDlibFaceAnalyzer:
    """``DlibFaceAnalyzer`` (same results, same attributes) run in one worker process, started
    on first use and stopped after ``idle_seconds`` without use, or with its parent."""

    model_name = DlibFaceAnalyzer.model_name
    metric = DlibFaceAnalyzer.metric
    match_distance = DlibFaceAnalyzer.match_distance
    dim = DlibFaceAnalyzer.dim
    landmark_names = DlibFaceAnalyzer.landmark_names

    def __init__(self, *, idle_seconds: float | None = 300.0, **options: Any) -> None:
        DlibFaceAnalyzer(**options)  # fails here, clearly, when dlib or its weights are missing
        self._options = tuple(sorted(options.items()))
        self._pool: LazyModel[ProcessPoolExecutor] = LazyModel(
            self._start,
            idle_seconds=idle_seconds,
            name="dlib-worker",
            on_unload=lambda pool: pool.shutdown(wait=False, cancel_futures=True),
        )

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=_context(),
            initializer=_watch_parent,
            initargs=(os.getpid(),),
        )

    def analyze(self, path: str) -> list[Face]:
        with self._pool.use() as pool:
            return pool.submit(_analyze, self._options, str(path)).result()

    def analyze_image(self, image: Image.Image) -> list[Face]:
        with self._pool.use() as pool:
            return pool.submit(_analyze_image, self._options, image).result()

    def worker_pid(self) -> int:
        """The worker process's id (starting it if needed)."""
        with self._pool.use() as pool:
            return pool.submit(_worker_pid).result()

    def close(self) -> None:
        self._pool.unload()
