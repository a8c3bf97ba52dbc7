"""Off-thread queries deliver results (and errors) on the GUI thread, many times over, safely."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QThreadPool
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


def test_one_relay_serves_every_query_and_a_deleted_asker_gets_nothing(qtbot) -> None:
    # A relay per query, deleted after delivery, could be destroyed while its worker was still
    # returning from emit (a segmentation fault in the UI suite): one relay outlives them all.
    keep = QWidget()
    qtbot.addWidget(keep)
    gone = QWidget()
    gui = threading.get_ident()
    kept: list[tuple[int, int]] = []
    lost: list[int] = []
    for i in range(400):
        if i % 2:
            ops.query(gone, lambda i=i: i, lost.append)
        else:
            ops.query(keep, lambda i=i: i, lambda r: kept.append((r, threading.get_ident())))
    relay = ops._the_relay()
    shiboken6.delete(gone)  # the asking widget is closed before its answers come
    qtbot.waitUntil(lambda: not relay.waiting, timeout=20000)
    assert sorted(r for r, _ in kept) == list(range(0, 400, 2))
    assert all(thread == gui for _, thread in kept)  # callbacks run on the GUI thread
    assert lost == []
    assert ops._the_relay() is relay and shiboken6.isValid(relay)


def test_latest_drops_an_older_load_that_answers_last(qtbot) -> None:
    # A list refreshed on every change: a load started before the change can finish after the
    # one started since, and must not put the old list back on screen.
    widget, other = QWidget(), QWidget()
    qtbot.addWidget(widget)
    qtbot.addWidget(other)
    release = threading.Event()
    shown: list[str] = []
    pool = QThreadPool.globalInstance()
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(max(threads, 6))  # three calls wait at once; a 2-core pool has 2

    try:

        def slow() -> str:
            release.wait(20)
            return "before the change"

        ops.query(widget, slow, shown.append, latest="people")
        ops.query(other, slow, lambda r: shown.append("other: " + r), latest="people")
        ops.query(widget, slow, lambda r: shown.append("tags: " + r), latest="tags")
        ops.query(widget, lambda: "after the change", shown.append, latest="people")
        qtbot.waitUntil(lambda: "after the change" in shown, timeout=20000)
        release.set()
        relay = ops._the_relay()
        qtbot.waitUntil(lambda: not relay.waiting, timeout=20000)
        # the stale "people" answer of widget is dropped; other askers and names are untouched
        assert sorted(shown) == sorted(
            ["after the change", "other: before the change", "tags: before the change"]
        )
        assert not relay.pending and not relay.shown
        # newer calls still running never hold an answer back (a stream of changes cannot
        # starve the list): each of these is shown as it comes
        first, second = threading.Event(), threading.Event()
        ops.query(widget, lambda: first.wait(20) and "one", shown.append, latest="people")
        ops.query(widget, lambda: second.wait(20) and "two", shown.append, latest="people")
        first.set()
        qtbot.waitUntil(lambda: "one" in shown, timeout=20000)
        second.set()
        qtbot.waitUntil(lambda: "two" in shown, timeout=20000)
    finally:
        release.set()
        pool.setMaxThreadCount(threads)
