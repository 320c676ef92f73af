"""Where a set or a channels run starts, the batch choice beside "run now".

Sets workspace: beside "Approve anchor" (the rest now), "Approve, rest as batch (½ price, within 24 h)": the anchor
is always made now; approving it this way sends every other item in one batch, and the grid fills in when the batch
is collected. Channels dialog: beside "Render channels", "Render as batch (½ price, within 24 h)"; each file is
written at exact pixels when the batch is collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QPushButton

from ...jobs.batch_monitor import BatchMonitor

SET_BATCH_TEXT = "Approve, rest as batch (½ price, within 24 h)"
CHANNELS_BATCH_TEXT = "Render as batch (½ price, within 24 h)"


def add_set_batch_button(sets_window: Any, monitor: BatchMonitor) -> QPushButton:
    approve: QPushButton = sets_window.approve_button
    button = QPushButton(SET_BATCH_TEXT, sets_window)
    button.setObjectName("setApproveBatch")
    button.setToolTip("Approve the anchor and send every other item through the Batch API: half the price, "
                      "results within 24 hours")
    parent = approve.parentWidget()
    row = _row_of(parent.layout() if parent is not None else None, approve)
    if row is not None:
        row.insertWidget(row.indexOf(approve) + 1, button)

    def sync() -> None:
        button.setEnabled(approve.isEnabled())

    def run() -> None:
        set_id = sets_window.set_id
        if not set_id or not sets_window.waiting_for_approval:
            return
        sets_window.waiting_for_approval = False
        sets_window._message("Anchor approved: the other items go into one batch at half price.")  # noqa: SLF001
        monitor.submit_set(set_id)
        approve.setEnabled(False)
        sync()

    def refresh(*_args: Any) -> None:
        if sets_window.set_id:
            sets_window.open_set(sets_window.set_id)  # collected items land in the grid
        sync()

    button.clicked.connect(run)
    monitor.batchFinished.connect(refresh)
    monitor.submitted.connect(refresh)
    sets_window.queue.busyChanged.connect(lambda _busy: sync())
    sets_window.queue.anchorWaiting.connect(lambda _set_id: sync())
    sets_window.grid.currentItemChanged.connect(lambda *_: sync())
    sync()
    return button


def add_channels_batch_button(dialog: Any, monitor: BatchMonitor) -> QPushButton:
    render: QPushButton = dialog.run_button
    button = QPushButton(CHANNELS_BATCH_TEXT, dialog)
    button.setObjectName("channelRunBatch")
    button.setToolTip("Send every channel through the Batch API: half the price, files written within 24 hours")
    parent = render.parentWidget()
    row = _row_of(parent.layout() if parent is not None else None, render)
    if row is not None:
        row.insertWidget(row.indexOf(render), button)

    def run() -> None:
        if not dialog.plans:
            dialog.status.setText("Tick at least one channel.")
            return
        if dialog.running:
            return
        out = Path(dialog.out.text()).expanduser()
        dialog.status.setText(f"Sending {len(dialog.plans)} channel(s) as a batch; the files arrive in {out} "
                              "when it is collected (Batches tab).")
        monitor.submit_channels(dialog.version.id, list(dialog.plans), out)
        button.setEnabled(False)

    button.clicked.connect(run)
    return button


def _row_of(layout: Any, widget: QPushButton) -> Any:
    """The box layout (possibly nested) that holds ``widget``."""
    if layout is None:
        return None
    if layout.indexOf(widget) >= 0:
        return layout
    for i in range(layout.count()):
        child = layout.itemAt(i).layout()
        found = _row_of(child, widget) if child is not None else None
        if found is not None:
            return found
    return None
