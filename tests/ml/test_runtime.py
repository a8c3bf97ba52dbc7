"""Execution-provider choice, session creation and lazy loading with idle unloading."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from photodesk.ml import runtime
from photodesk.ml.errors import MLError, ModelLoadError, ModelMissingError
from photodesk.ml.runtime import CPU, LazyModel, LazySession, create_session, resolve_providers
from tests.ml.tiny_models import pooled_linear

pytest.importorskip("onnxruntime")

CUDA = "CUDAExecutionProvider"
DML = "DmlExecutionProvider"


def test_preference_order_and_fallback_to_cpu(monkeypatch) -> None:
    monkeypatch.delenv(runtime.ENV_PROVIDERS, raising=False)
    assert resolve_providers("cuda,cpu", available=[CPU]) == [CPU]
    assert resolve_providers("cuda", available=[CPU]) == [CPU]
    assert resolve_providers(["cuda", "cpu"], available=[CUDA, CPU]) == [CUDA, CPU]
    assert resolve_providers("dml", available=[DML, CPU]) == [DML, CPU]
    assert resolve_providers("CPUExecutionProvider", available=[CUDA, CPU]) == [CPU]
    # nothing configured: every installed accelerator in the default order, then the CPU
    assert resolve_providers(None, available=[CPU, DML, CUDA]) == [CUDA, DML, CPU]
    assert resolve_providers(None, available=["AzureExecutionProvider", CPU]) == [CPU]


def test_environment_variable_and_unknown_names(monkeypatch) -> None:
    monkeypatch.setenv(runtime.ENV_PROVIDERS, "openvino, cpu")
    ov = "OpenVINOExecutionProvider"
    assert resolve_providers(None, available=[CUDA, ov, CPU]) == [ov, CPU]
    assert resolve_providers("cuda", available=[CUDA, ov, CPU]) == [CUDA, CPU]  # argument wins
    with pytest.raises(MLError, match="unknown execution provider 'tpu'"):
        resolve_providers("tpu,cpu", available=[CPU])


def test_cpu_threads_from_environment(monkeypatch) -> None:
    monkeypatch.setenv(runtime.ENV_THREADS, "3")
    assert runtime.cpu_threads() == 3
    monkeypatch.setenv(runtime.ENV_THREADS, "lots")
    assert 1 <= runtime.cpu_threads() <= 16


def _model(tmp_path: Path) -> Path:
    weight = np.eye(3 * 4 * 4, 5, dtype=np.float32)
    return pooled_linear(
        tmp_path / "m.onnx",
        input_name="image",
        output_name="embedding",
        size=16,
        pool=4,
        weight=weight,
    )


def test_session_asked_for_cuda_runs_on_the_cpu_when_cuda_is_absent(tmp_path: Path) -> None:
    if CUDA in runtime.available_providers():
        pytest.skip("this machine has CUDA")
    session = create_session(_model(tmp_path), "cuda,cpu", threads=1)
    assert runtime.session_provider(session) == CPU
    out = session.run(None, {"image": np.ones((2, 3, 16, 16), np.float32)})[0]
    assert out.shape == (2, 5)


def test_missing_and_broken_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match=r"nope\.onnx"):
        create_session(tmp_path / "nope.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf")
    with pytest.raises(ModelLoadError, match=r"broken\.onnx"):
        create_session(broken)


def test_lazy_session_loads_once_and_reports_its_provider(tmp_path: Path) -> None:
    lazy = LazySession(_model(tmp_path), "cuda,cpu", idle_seconds=None, threads=1)
    assert not lazy.loaded and lazy.provider is None
    feeds = {"image": np.zeros((1, 3, 16, 16), np.float32)}
    lazy.run(feeds)
    lazy.run(feeds)
    assert lazy.loads == 1 and lazy.loaded
    assert lazy.provider == CPU
    lazy.unload()
    assert not lazy.loaded
    lazy.run(feeds)
    assert lazy.loads == 2


def test_idle_models_unload_and_busy_ones_do_not() -> None:
    made = []
    holder = LazyModel(lambda: made.append(object()) or made[-1], idle_seconds=0.01, name="t")
    with holder.use() as first:
        assert holder.loaded
        holder._expire()  # the timer firing mid-use must not unload it
        assert holder.loaded
    timer = holder._timer
    assert timer is not None
    timer.join(5)
    while holder._timer is not None and holder._timer is not timer:  # re-armed: wait again
        timer = holder._timer
        timer.join(5)
    assert not holder.loaded
    with holder.use() as second:
        assert second is not first
    assert holder.loads == 2
    holder.unload()
    assert holder._timer is None


def test_concurrent_first_use_loads_once() -> None:
    gate = threading.Event()
    calls = []

    def slow_loader() -> object:
        calls.append(1)
        gate.wait(5)
        return object()

    holder = LazyModel(slow_loader, idle_seconds=None)
    got = []
    threads = [threading.Thread(target=lambda: got.append(holder.get())) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert len(got) == 4 and all(g is got[0] for g in got)
