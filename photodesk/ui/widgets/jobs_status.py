"""Background-work progress in the status bar, with a popover of queues and failures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import JobInfo, JobProgress, Library, QueueStatus
from photodesk.ui import ops


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    return f" · {m} min {s:02d} s left" if m else f" · {s} s left"


def summary(progress: JobProgress) -> str:
    """One line for the status bar, e.g. ``Importing 120 of 500 · 3 waiting``."""
    if progress.kind == "import" and progress.total:
        return f"Importing {progress.done} of {progress.total}"
    busy = [q for q in progress.queues if q.running or q.queued]
    if not busy:
        failed = sum(q.failed for q in progress.queues)
        return f"{failed} failed" if failed else "Up to date"
    parts = [f"{q.name} {q.queued + q.running}" + _eta(q.eta_seconds) for q in busy]
    return "Working: " + ", ".join(parts)


class JobsPopover(QFrame):
    """Per-queue numbers and the failures, each with the reason; a retry button."""

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.library = library
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(420)
        self.body = QVBoxLayout(self)
        self.queues = QLabel()
        self.queues.setTextFormat(Qt.TextFormat.RichText)
        self.failures = QLabel()
        self.failures.setWordWrap(True)
        self.failures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Retry failed jobs")
        self.retry.clicked.connect(self._on_retry)
        self.body.addWidget(self.queues)
        self.body.addWidget(self.failures)
        self.body.addWidget(self.retry)

    def show_status(self, queues: list[QueueStatus], failures: list[JobInfo]) -> None:
        rows = "".join(
            f"<tr><td>{q.name}{' (paused)' if q.paused else ''}</td><td align=right>{q.queued}</td>"
            f"<td align=right>{q.running}</td><td align=right>{q.done}</td>"
            f"<td align=right>{q.failed}</td></tr>"
            for q in queues
        )
        self.queues.setText(
            "<table cellspacing=6><tr><th align=left>queue</th><th>waiting</th><th>running</th>"
            f"<th>done</th><th>failed</th></tr>{rows}</table>"
        )
        self.failures.setText(
            "\n".join(f"{f.kind} {f.target or ''}: {f.last_error}" for f in failures[:20])
            or "No failures."
        )
        self.retry.setEnabled(bool(failures))

    def _on_retry(self) -> None:
        ops.query(self, self.library.jobs.retry, lambda _n: self.hide())


class JobsStatus(QWidget):
    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.label = QLabel("")
        self.details = QToolButton()
        self.details.setText("Activity")
        self.details.clicked.connect(self.show_details)
        self.popover = JobsPopover(library, self)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.details)

    def update_progress(self, progress: JobProgress) -> None:
        self.label.setText(summary(progress))

    def show_details(self) -> None:
        lib = self.library
        ops.query(
            self, lambda: (lib.jobs.status(), lib.jobs.failures()), self._on_status, latest="status"
        )

    def _on_status(self, result: tuple[list[QueueStatus], list[JobInfo]]) -> None:
        self.popover.show_status(*result)
        pos = self.details.mapToGlobal(self.details.rect().topLeft())
        self.popover.adjustSize()
        self.popover.move(
            pos.x() - self.popover.width() + self.details.width(), pos.y() - self.popover.height()
        )
        self.popover.show()
