"""The jobs list: one row per request with its status, progress, elapsed time, cost or error.

The view only observes: the window feeds it from the job queue's signals and forwards the rows'
Cancel and Retry clicks as ``cancelJob(job_id)`` / ``retryJob(job_id)``.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..common.elided_label import ElidedLabel
from ..common.panel_widgets import hint_label
from ..theme.icons import dot_pixmap, icon
from ..theme.style import SPACING, Colors, set_role, status_color

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
RETRYABLE = ("failed", "cancelled", "interrupted")
STATUS_TEXT = {
    "queued": "Waiting in the queue",
    "running": "Running…",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted: the app closed before it finished",
}


def format_elapsed(ms: int) -> str:
    seconds = max(0, ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_cost(credits: int, usd: float) -> str:
    money = f"${usd:.2f}" if usd >= 0.095 else f"${usd:.3f}"
    return f"{credits} credits · {money}"


class JobRow(QFrame):
    """One job: chip, title, details, progress, elapsed time, and cost or error with Retry."""

    cancelClicked = Signal(str)
    retryClicked = Signal(str)

    def __init__(self, job_id: str, title: str, detail: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self._status = "queued"
        self._clock = QElapsedTimer()
        self._clock.start()
        self._frozen_ms: int | None = None
        self.setObjectName("jobRow")
        self.setProperty("jobId", job_id)
        set_role(self, "card")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING + 2, SPACING, SPACING // 2, SPACING + 2)
        layout.setSpacing(SPACING // 2 + 2)

        top = QHBoxLayout()
        top.setSpacing(SPACING)
        self.chip = QLabel()
        self.chip.setObjectName("jobStatusChip")
        self.chip.setFixedSize(10, 10)
        top.addWidget(self.chip)
        self.title_label = ElidedLabel(" ".join(title.split()))
        self.title_label.setObjectName("jobTitle")
        self.title_label.setStyleSheet("font-weight: bold;")
        top.addWidget(self.title_label, 1)
        self.elapsed_label = hint_label("jobElapsed")
        self.elapsed_label.setWordWrap(False)
        self.elapsed_label.setToolTip("Time since the job was added")
        top.addWidget(self.elapsed_label)
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("jobCancelButton")
        self.cancel_button.setAccessibleName("Cancel job")
        self.cancel_button.setToolTip("Cancel this job")
        self.cancel_button.setProperty("flat", True)
        self.cancel_button.setIcon(icon("close", Colors.text_muted, 14))
        self.cancel_button.clicked.connect(lambda: self.cancelClicked.emit(self.job_id))
        keep = self.cancel_button.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # finished rows keep their times aligned with running ones
        self.cancel_button.setSizePolicy(keep)
        top.addWidget(self.cancel_button)
        layout.addLayout(top)

        indent = 10 + SPACING  # align text under the title, past the chip
        self.detail_label = hint_label("jobDetail")
        self.detail_label.setText(detail)
        self.detail_label.setContentsMargins(indent, 0, 0, 0)
        layout.addWidget(self.detail_label)

        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setAccessibleName("Job progress")
        self.progress.setTextVisible(False)
        self.progress.setRange(0, 0)  # indeterminate until previews arrive
        progress_row = QHBoxLayout()
        progress_row.setContentsMargins(indent, 2, SPACING, 0)
        progress_row.addWidget(self.progress)
        layout.addLayout(progress_row)

        status_row = QHBoxLayout()
        status_row.setContentsMargins(indent, 0, SPACING, 0)
        self.status_label = hint_label("jobStatusText")
        self.status_label.setWordWrap(False)
        self.cost_label = QLabel()
        self.cost_label.setObjectName("jobCost")
        self.cost_label.setAccessibleName("Job cost")
        self.cost_label.hide()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.cost_label)
        layout.addLayout(status_row)

        self.error_label = QLabel()
        self.error_label.setObjectName("jobError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"color: {Colors.error};")
        self.error_label.setContentsMargins(indent, 0, SPACING, 0)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("jobRetryButton")
        self.retry_button.setAccessibleName("Retry job")
        self.retry_button.setIcon(icon("retry", Colors.text, 14))
        self.retry_button.setToolTip("Run this job again with the same settings")
        self.retry_button.clicked.connect(lambda: self.retryClicked.emit(self.job_id))
        self.retry_button.hide()
        retry_row = QHBoxLayout()
        retry_row.setContentsMargins(indent, 2, 0, 0)
        retry_row.addWidget(self.retry_button)
        retry_row.addStretch(1)
        layout.addLayout(retry_row)
        self.set_status("queued")

    # ------------------------------------------------------------------ state
    def status(self) -> str:
        return self._status

    def status_text(self) -> str:
        return self.status_label.text()

    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def cost_text(self) -> str:
        return self.cost_label.text() if not self.cost_label.isHidden() else ""

    def is_active(self) -> bool:
        return self._status in ACTIVE

    def set_status(self, status: str, text: str = "") -> None:
        """``text`` replaces the default status line ("Waiting in the queue", "Done" …)."""
        if status not in STATUSES:
            raise ValueError(f"unknown job status {status!r}; expected one of {', '.join(STATUSES)}")
        self._status = status
        active = status in ACTIVE
        if not active and self._frozen_ms is None:
            self._frozen_ms = self._clock.elapsed()
        self.chip.setPixmap(dot_pixmap(status_color(status), 10))
        self.chip.setToolTip(STATUS_TEXT[status])
        self.cancel_button.setVisible(active)
        self.progress.setVisible(active)
        self.status_label.setText(text or STATUS_TEXT[status])
        colour = {"succeeded": Colors.success, "failed": Colors.error}.get(status)
        self.status_label.setStyleSheet(f"color: {colour};" if colour else "")
        self.retry_button.setVisible(status in RETRYABLE)
        if status != "failed":
            self.error_label.hide()
        self.update_elapsed()

    def set_progress(self, done: int, total: int | None) -> None:
        if self._status == "queued":
            self.set_status("running")
        if total is None or total <= 0:
            self.progress.setRange(0, 0)
            self.status_label.setText(STATUS_TEXT["running"])
            return
        self.progress.setRange(0, total)
        self.progress.setValue(max(0, min(done, total)))
        self.status_label.setText(f"preview {done} of {total}")

    def set_cost(self, credits: int, usd: float) -> None:
        self.cost_label.setText(format_cost(credits, usd))
        self.cost_label.show()

    def set_error(self, message: str) -> None:
        """Mark the job failed (if it is not already) and show ``message`` in the row."""
        if self._status != "failed":
            self.set_status("failed")
        self.error_label.setText(message)
        self.error_label.setAccessibleName(message)
        self.error_label.show()

    def update_elapsed(self) -> None:
        ms = self._frozen_ms if self._frozen_ms is not None else self._clock.elapsed()
        self.elapsed_label.setText(format_elapsed(ms))


class JobsView(QWidget):
    """Rows for the jobs of this session, newest first, with an empty state and "Clear finished"."""

    cancelJob = Signal(str)
    retryJob = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsView")
        self.setAccessibleName("Jobs")
        self.setMinimumWidth(280)
        set_role(self, "panel")
        self._rows: dict[str, JobRow] = {}
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2 * SPACING, 2 * SPACING, 2 * SPACING, 2 * SPACING)
        layout.setSpacing(SPACING)
        head = QHBoxLayout()
        self.title = QLabel("Jobs")
        self.title.setObjectName("jobsTitle")
        set_role(self.title, "title")
        head.addWidget(self.title)
        self.summary = hint_label("jobsSummary")
        self.summary.setWordWrap(False)
        head.addWidget(self.summary, 1)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setObjectName("clearFinishedButton")
        self.clear_button.setAccessibleName("Clear finished jobs")
        self.clear_button.setProperty("flat", True)
        self.clear_button.clicked.connect(self.clear_finished)
        head.addWidget(self.clear_button)
        layout.addLayout(head)

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("jobsScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        set_role(self.scroll_area, "panel")
        holder = QWidget()
        self._rows_layout = QVBoxLayout(holder)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.setSpacing(SPACING)
        self.empty_hint = QLabel("No jobs yet. Each run shows up here with its progress and cost.")
        self.empty_hint.setObjectName("jobsEmptyHint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet(f"color: {Colors.text_muted}; padding: 16px;")
        self._rows_layout.addWidget(self.empty_hint)
        self._rows_layout.addStretch(1)
        self.scroll_area.setWidget(holder)
        layout.addWidget(self.scroll_area, 1)
        self._refresh()

    # ------------------------------------------------------------------ API
    def add_job(self, job_id: str, title: str, detail: str) -> JobRow:
        if job_id in self._rows:
            self.remove_job(job_id)
        row = JobRow(job_id, title, detail)
        row.cancelClicked.connect(self.cancelJob)
        row.retryClicked.connect(self.retryJob)
        self._rows[job_id] = row
        self._rows_layout.insertWidget(1, row)  # newest on top, under the (hidden) empty hint
        row.show()  # at once, not on the layout's queued show
        self._refresh()
        return row

    def set_status(self, job_id: str, status: str, text: str = "") -> None:
        if row := self._rows.get(job_id):
            row.set_status(status, text)
            self._refresh()

    def set_progress(self, job_id: str, done: int, total: int | None) -> None:
        if row := self._rows.get(job_id):
            row.set_progress(done, total)
            self._refresh()

    def set_cost(self, job_id: str, credits: int, usd: float) -> None:
        if row := self._rows.get(job_id):
            row.set_cost(credits, usd)

    def set_error(self, job_id: str, message: str) -> None:
        if row := self._rows.get(job_id):
            row.set_error(message)
            self._refresh()

    def remove_job(self, job_id: str) -> None:
        row = self._rows.pop(job_id, None)
        if row is not None:
            self._rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
            self._refresh()

    def clear_finished(self) -> None:
        for job_id in [j for j, r in self._rows.items() if not r.is_active()]:
            self.remove_job(job_id)

    def job_ids(self) -> list[str]:
        """The jobs shown, newest first."""
        ids = []
        for i in range(self._rows_layout.count()):
            layout_item = self._rows_layout.itemAt(i)
            widget = layout_item.widget() if layout_item is not None else None
            if isinstance(widget, JobRow) and widget.job_id in self._rows:
                ids.append(widget.job_id)
        return ids

    def row(self, job_id: str) -> JobRow | None:
        return self._rows.get(job_id)

    # ------------------------------------------------------------------ internals
    def _refresh(self) -> None:
        self.empty_hint.setVisible(not self._rows)
        active = sum(1 for r in self._rows.values() if r.is_active())
        finished = len(self._rows) - active
        self.summary.setText(f"{active} running or waiting" if active else "")
        self.clear_button.setVisible(finished > 0)
        if active and not self._tick.isActive():
            self._tick.start()
        elif not active:
            self._tick.stop()

    def _on_tick(self) -> None:
        for row in self._rows.values():
            if row.is_active():
                row.update_elapsed()
