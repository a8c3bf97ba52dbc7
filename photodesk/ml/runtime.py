"""onnxruntime sessions: execution-provider choice, CPU threads, lazy loading and idle unloading."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from photodesk.ml.errors import MLError, ModelLoadError, ModelMissingError

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

#: Short names accepted in settings and PHOTODESK_ML_PROVIDERS, and onnxruntime's names for them.
PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_ALIASES = {"dml": "directml", "trt": "tensorrt"}
#: Tried in this order when nothing is configured (TensorRT needs engine builds: opt-in only).
DEFAULT_ORDER = ("cuda", "rocm", "directml", "coreml", "openvino", "cpu")
ENV_PROVIDERS = "PHOTODESK_ML_PROVIDERS"
ENV_THREADS = "PHOTODESK_ML_THREADS"
CPU = PROVIDERS["cpu"]


def available_providers() -> list[str]:
    """The execution providers of the installed onnxruntime build (onnxruntime's names)."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def _ort_name(name: str) -> str:
    key = name.strip()
    if key in PROVIDERS.values():
        return key
    short = _ALIASES.get(key.lower(), key.lower()).removesuffix("executionprovider")
    short = _ALIASES.get(short, short)
    if short not in PROVIDERS:
        known = ", ".join(PROVIDERS)
        raise MLError(f"unknown execution provider {name!r}: use one of {known}")
    return PROVIDERS[short]


def resolve_providers(
    preference: str | Sequence[str] | None = None, available: Sequence[str] | None = None
) -> list[str]:
    """The providers to ask onnxruntime for, best first, always ending with the CPU.

    ``preference`` is a list or a comma-separated string of short names ("cuda,cpu") or
    onnxruntime names; None reads PHOTODESK_ML_PROVIDERS, and when that is unset too every
    installed provider in DEFAULT_ORDER is used. Preferred providers that this onnxruntime
    build lacks are skipped (logged), so "cuda" on a CPU-only machine runs on the CPU.
    """
    if preference is None:
        preference = os.environ.get(ENV_PROVIDERS) or None
    if isinstance(preference, str):
        preference = [p for p in preference.split(",") if p.strip()]
    wanted = [_ort_name(p) for p in (preference or [PROVIDERS[p] for p in DEFAULT_ORDER])]
    have = set(available_providers() if available is None else available)
    chosen: list[str] = []
    for name in wanted:
        if name in chosen:
            continue
        if name in have:
            chosen.append(name)
        elif preference:
            log.info("execution provider %s is not available here; skipping it", name)
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


def cpu_threads() -> int:
    """CPU threads per session: PHOTODESK_ML_THREADS, else the CPUs this process may use."""
    env = os.environ.get(ENV_THREADS, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            log.warning("ignoring %s=%r: not a number", ENV_THREADS, env)
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        count = os.cpu_count() or 1
    return max(1, min(count, 16))


def _provider_options(name: str) -> dict[str, str]:
    if name == PROVIDERS["cuda"]:
        return {"arena_extend_strategy": "kSameAsRequested", "cudnn_conv_algo_search": "DEFAULT"}
    if name == PROVIDERS["openvino"]:
        return {"device_type": os.environ.get("PHOTODESK_OPENVINO_DEVICE", "AUTO:GPU,CPU")}
    if name == PROVIDERS["coreml"]:
        return {"ModelFormat": "MLProgram", "MLComputeUnits": "ALL"}
    return {}


def create_session(
    model_path: str | Path,
    providers: str | Sequence[str] | None = None,
    *,
    threads: int | None = None,
) -> onnxruntime.InferenceSession:
    """An inference session for ``model_path`` on the best of ``providers`` (see resolve_providers).

    ``session_provider(session)`` tells which provider it really got (onnxruntime falls back to
    the next one when a GPU provider fails to start).
    """
    import onnxruntime as ort

    path = Path(model_path)
    if not path.is_file():
        raise ModelMissingError(f"model file {path} is missing")
    chosen = resolve_providers(providers)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.intra_op_num_threads = threads or cpu_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle worker threads sleep instead of spinning: jobs call models between decoding images.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if PROVIDERS["directml"] in chosen:
        options.enable_mem_pattern = False  # DirectML requires both of these
    try:
        session = ort.InferenceSession(
            str(path),
            sess_options=options,
            providers=[(name, _provider_options(name)) for name in chosen],
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise ModelLoadError(f"onnxruntime cannot load {path}: {exc}") from exc
    log.info("loaded %s on %s", path, session_provider(session))
    return session


def session_provider(session: Any) -> str:
    """The execution provider a session really runs on (its first one)."""
    return str(session.get_providers()[0])


def l2_normalize(rows: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def fixed_batch(session: Any) -> int | None:
    """The batch size a model was exported with, or None when it takes any."""
    dim = session.get_inputs()[0].shape[0] if session.get_inputs()[0].shape else None
    return dim if isinstance(dim, int) and dim > 0 else None


def output_name(session: Any) -> str:
    """The output named "embedding" (Immich's exports), else the first one."""
    names = [o.name for o in session.get_outputs()]
    return "embedding" if "embedding" in names else names[0]


def run_batched(
    session: LazySession, feeds: dict[str, NDArray[Any]], batch_size: int
) -> NDArray[np.float32]:
    """The model's output for ``feeds`` (N rows each), run batch_size rows at a time.

    A model exported with a fixed batch size gets exactly that many rows per run, the last
    chunk padded with zeros (and the padding's output dropped).
    """
    total = len(next(iter(feeds.values())))
    parts = []
    with session.use() as sess:
        fixed = fixed_batch(sess)
        step = fixed or max(1, batch_size)
        output = output_name(sess)
        for start in range(0, total, step):
            chunk = {k: v[start : start + step] for k, v in feeds.items()}
            rows = len(next(iter(chunk.values())))
            if fixed and rows < fixed:
                chunk = {
                    k: np.concatenate([v, np.zeros((fixed - rows, *v.shape[1:]), v.dtype)])
                    for k, v in chunk.items()
                }
            result = np.asarray(sess.run([output], chunk)[0], dtype=np.float32)
            parts.append(result[:rows].reshape(rows, -1))
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(parts, axis=0)


T = TypeVar("T")


class LazyModel(Generic[T]):
    """A model built on first use and dropped after ``idle_seconds`` without use.

    ``with holder.use() as model:`` loads it under a lock when needed and keeps it alive while
    the block runs. A threading.Timer armed on use (no polling thread) unloads it once it has
    been idle long enough; ``idle_seconds`` None or <= 0 keeps it until ``unload()``.
    """

    def __init__(
        self,
        loader: Callable[[], T],
        *,
        idle_seconds: float | None = 300.0,
        name: str = "",
        on_unload: Callable[[T], None] | None = None,
    ) -> None:
        self._loader = loader
        self._on_unload = on_unload  # e.g. stops a worker process the model lives in
        self.idle_seconds = idle_seconds
        self.name = name
        self._lock = threading.Lock()
        self._model: T | None = None
        self._busy = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        self.loads = 0

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @contextmanager
    def use(self) -> Iterator[T]:
        with self._lock:
            if self._model is None:
                self._model = self._loader()
                self.loads += 1
            model = self._model
            self._busy += 1
        try:
            yield model
        finally:
            with self._lock:
                self._busy -= 1
                self._last_used = time.monotonic()
                self._arm()

    def get(self) -> T:
        """The model, loading it if needed (its idle clock starts now)."""
        with self.use() as model:
            return model

    def _arm(self) -> None:
        if not self.idle_seconds or self.idle_seconds <= 0 or self._timer is not None:
            return
        self._timer = threading.Timer(self.idle_seconds, self._expire)
        self._timer.daemon = True
        self._timer.name = f"photodesk-ml-idle-{self.name or id(self)}"
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self._timer = None
            if self._model is None:
                return
            idle = time.monotonic() - self._last_used
            assert self.idle_seconds is not None
            if self._busy == 0 and idle >= self.idle_seconds:
                log.info("unloading idle model %s", self.name)
                self._drop()
            elif self._busy == 0:
                self._timer = threading.Timer(self.idle_seconds - idle, self._expire)
                self._timer.daemon = True
                self._timer.start()
            # when busy, the end of that use arms a new timer

    def unload(self) -> None:
        """Drop the model now (it reloads on next use) and cancel the idle timer."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._drop()

    def _drop(self) -> None:
        model, self._model = self._model, None
        if model is not None and self._on_unload is not None:
            self._on_unload(model)


class LazySession(LazyModel["onnxruntime.InferenceSession"]):
    """A LazyModel of one onnxruntime session, which remembers the provider it ran on."""

    def __init__(
        self,
        model_path: str | Path,
        providers: str | Sequence[str] | None = None,
        *,
        idle_seconds: float | None = 300.0,
        threads: int | None = None,
    ) -> None:
        self.path = Path(model_path)
        self.provider: str | None = None
        self._providers = providers
        self._threads = threads
        super().__init__(self._create, idle_seconds=idle_seconds, name=str(self.path))

    def _create(self) -> onnxruntime.InferenceSession:
        session = create_session(self.path, self._providers, threads=self._threads)
        self.provider = session_provider(session)
        return session

    def run(self, feeds: dict[str, Any], outputs: list[str] | None = None) -> list[Any]:
        """session.run(outputs, feeds) on the loaded session."""
        with self.use() as session:
            return list(session.run(outputs, feeds))
