"""Off-thread queries deliver results (and errors) on the GUI thread, many times over, safely."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from photodesk.ui import ops


def test_results_arrive_on_the_gui_thread(qtbot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    gui = threading.get_ident()
    seen: list[tuple[int, int]] = []
    for i in range(50):
        ops.query(widget, lambda i=i: (i, threading.get_ident()), lambda r: seen.append(r))
    qtbot.waitUntil(lambda: len(seen) == 50, timeout=20000)
    assert sorted(i for i, _ in seen) == list(range(50))
    assert all(worker != gui for _, worker in seen)


def test_errors_arrive_too(qtbot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    errors: list[Exception] = []

    def fail() -> None:
        raise ValueError("boom")

    ops.query(widget, fail, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=20000)
    assert str(errors[0]) == "boom"


def test_thousands_of_signals_do_not_corrupt_the_interpreter(qtbot) -> None:
    # PySide6 6.12.0 decref'd slot return values once too often and crashed Python 3.11 here.
    widget = QWidget()
    qtbot.addWidget(widget)
    seen: list[int] = []
    for i in range(3000):
        ops.query(widget, lambda i=i: i, seen.append)
    qtbot.waitUntil(lambda: len(seen) == 3000, timeout=20000)
    assert sorted(seen) == list(range(3000))
