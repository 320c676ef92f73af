"""The Batches panel: every Batch API run with its status, progress, ETA and cost at the batch price, a Cancel
button, and the "Run now" / "Run as batch (½ price, within 24 h)" choice for the prompt on the canvas.

Widgets only: the panel observes a BatchMonitor (jobs/batch_monitor.py) and asks it to submit or cancel.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...jobs.batch_monitor import BatchMonitor, BatchRow
from ...jobs.pipeline import JobSpec
from ..common.panel_widgets import hint_label
from ..history.history_model import local_time
from ..theme.style import SPACING

COLUMNS = ("Sent", "Status", "Done", "ETA", "Cost")  # short: the panel shares a narrow dock with Jobs
STATUS_TEXT = {
    "prepared": "Saved, not sent yet",
    "uploaded": "Uploading…",
    "validating": "Validating",
    "in_progress": "Running",
    "finalizing": "Finishing",
    "completed": "Completed",
    "failed": "Failed",
    "expired": "Expired",
    "cancelling": "Cancelling…",
    "cancelled": "Cancelled",
}
BATCH_BUTTON_TEXT = "Run as batch (½ price, within 24 h)"


class BatchesPanel(QWidget):
    runNowRequested = Signal()

    def __init__(self, monitor: BatchMonitor, spec_source: Callable[[], JobSpec],
                 project_source: Callable[[], str | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchesPanel")
        self.monitor = monitor
        self._spec_source = spec_source
        self._project_source = project_source
        self._rows: list[BatchRow] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(SPACING)

        run_row = QHBoxLayout()
        self.copies = QSpinBox(self)
        self.copies.setObjectName("batchRequests")
        self.copies.setRange(1, 500)
        self.copies.setValue(1)
        self.copies.setPrefix("× ")
        self.copies.setToolTip("How many requests of the current prompt to send (each one a separate job)")
        self.copies.setAccessibleName("Requests to send")
        self.run_now_button = QPushButton("Run now", self)
        self.run_now_button.setObjectName("runNowButton")
        self.run_now_button.setToolTip("Send now at the full price; results in about a minute")
        self.batch_button = QPushButton(BATCH_BUTTON_TEXT, self)
        self.batch_button.setObjectName("runAsBatchButton")
        self.batch_button.setToolTip("Send through OpenAI's Batch API: half the price, results within 24 hours; "
                                     "nothing has to stay open")
        run_row.addWidget(self.copies)
        run_row.addWidget(self.run_now_button, 1)
        layout.addLayout(run_row)
        layout.addWidget(self.batch_button)  # on its own row: the panel shares a narrow dock with Jobs at 1280x800

        self.estimate_label = hint_label("batchEstimate")
        layout.addWidget(self.estimate_label)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("batchesTable")
        self.table.setAccessibleName("Batches")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)  # room for the progress bar's text
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # The dock is narrow (it shares the left side with Jobs): columns share the width and elide their text
        # rather than scroll sideways; the full batch id and status are in each row's tooltip.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(24)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.progress_label = QLabel("", self)
        self.progress_label.setObjectName("batchProgressText")
        self.progress_label.setVisible(False)
        layout.addWidget(self.progress_label)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setObjectName("batchProgress")
        self.progress.setAccessibleName("Progress of the selected batch")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)

        bottom = QHBoxLayout()
        self.message = QLabel("", self)
        self.message.setObjectName("batchMessage")
        self.message.setWordWrap(True)
        # Its own row, and never the reason the dock grows: a long word is cut, not allowed to widen the panel.
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.setMinimumWidth(1)
        layout.addWidget(self.message)
        self.cancel_button = QPushButton("Cancel batch", self)
        self.cancel_button.setObjectName("cancelBatchButton")
        self.cancel_button.setEnabled(False)
        self.refresh_button = QPushButton("Check now", self)
        self.refresh_button.setObjectName("refreshBatchesButton")
        bottom.addStretch(1)
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.cancel_button)
        layout.addLayout(bottom)

        self.batch_button.clicked.connect(self.run_as_batch)
        self.run_now_button.clicked.connect(self.runNowRequested)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.refresh_button.clicked.connect(monitor.poll)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.copies.valueChanged.connect(lambda _v: self.update_estimate())
        monitor.batchesChanged.connect(self.set_rows)
        monitor.submitted.connect(lambda ids: self.show_message(
            f"Sent as {'a batch' if len(ids) == 1 else f'{len(ids)} batches'} at half price: results within 24 hours; "
            "nothing has to stay open."))
        monitor.failed.connect(self.show_message)
        monitor.batchFinished.connect(self._finished)

    # ------------------------------------------------------------------ actions
    def _specs(self) -> list[JobSpec]:
        spec = self._spec_source()
        return [spec] * self.copies.value()

    def update_estimate(self) -> None:
        try:
            specs = self._specs()
        except ValueError as exc:
            self.estimate_label.setText(str(exc))
            return
        credits, usd = self.monitor.estimate(specs)
        self.estimate_label.setText(f"As a batch: about {credits} credits · ${usd:.3f} for {len(specs)} request(s).")

    def run_as_batch(self) -> None:
        try:
            specs = self._specs()
        except ValueError as exc:  # RequestRefused and friends
            self.show_message(str(exc))
            return
        if not specs[0].request.prompt.strip():
            self.show_message("The prompt is empty: describe the image or the change you want.")
            return
        self.show_message(f"Sending {len(specs)} request(s) as a batch…")
        self.monitor.submit(specs, self._project_source())

    def cancel_selected(self) -> None:
        row = self.selected_row()
        if row is not None and not row.finished:
            self.show_message(f"Cancelling {batch_name(row)}; what finished is still collected.")
            self.monitor.cancel(row.batch_id)

    def selected_row(self) -> BatchRow | None:
        selected = self.table.selectionModel().selectedRows()
        if not selected:
            return None
        index = selected[0].row()
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    # ------------------------------------------------------------------ observing
    def set_rows(self, rows: list[BatchRow]) -> None:
        selected = self.selected_row()
        self._rows = list(rows)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            self.table.setItem(index, 0, _item(sent_time(row.created_at),
                                               f"{row.batch_id}\nsent {row.created_at[:19].replace('T', ' ')} UTC"))
            self.table.setItem(index, 1, _item(STATUS_TEXT.get(row.status, row.status)))
            progress = f"{row.done + row.failed}/{row.requests}" + (f" ({row.failed} failed)" if row.failed else "")
            self.table.setItem(index, 2, _item(progress, f"{row.done} made, {row.failed} not made, "
                                                         f"{row.requests - row.done - row.failed} to go"))
            self.table.setItem(index, 3, _item(row.eta))
            cost = ("≈ " if row.estimated else "") + f"${row.cost_usd:.3f}"
            tip = "Estimated at the batch price" if row.estimated else "Spent at the batch price (half the usual)"
            self.table.setItem(index, 4, _item(cost, tip))
            if selected is not None and row.batch_id == selected.batch_id:
                self.table.selectRow(index)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.cancel_button.setEnabled(row is not None and not row.finished and row.status != "cancelling")
        self.progress.setVisible(row is not None)
        self.progress_label.setVisible(row is not None)
        if row is not None:
            self.progress.setRange(0, max(1, row.requests))
            self.progress.setValue(row.done + row.failed)
            self.progress_label.setText(f"{batch_name(row)}: {row.done + row.failed} of {row.requests} · "
                                        f"{STATUS_TEXT.get(row.status, row.status)} · {row.eta}")

    def _finished(self, batch_id: str, status: str, versions: int, failed: int) -> None:
        row = next((r for r in self._rows if r.batch_id == batch_id), None)
        name = batch_name(row) if row is not None else f"Batch {short_id(batch_id)}"
        text = f"{name[0].upper()}{name[1:]} {STATUS_TEXT.get(status, status).lower()}: {versions} image(s) in the history"
        self.show_message(text + (f", {failed} not made." if failed else "."))


def sent_time(created_at: str) -> str:
    """When a batch was sent, in the designer's local time: "14:05" today, "5 Dec 14:05" before."""
    try:
        local = local_time(created_at)
    except ValueError:
        return created_at[:16].replace("T", " ")
    today = _dt.datetime.now(local.tzinfo).date()
    return local.strftime("%H:%M") if local.date() == today else f"{local.day} {local.strftime('%b %H:%M')}"


def batch_name(row: BatchRow) -> str:
    """A batch as a designer tells it apart: how many requests and when it was sent (the id is in the tooltip)."""
    return f"the batch of {row.requests} sent at {sent_time(row.created_at)}"


def short_id(batch_id: str) -> str:
    """The end of a batch id, which is what tells two apart (``batch_…57db6057bd``)."""
    head, _, tail = batch_id.partition("_")
    return f"{head}_…{tail[-8:]}" if len(tail) > 10 else batch_id


def _item(text: str, tip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tip or text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
    return item
