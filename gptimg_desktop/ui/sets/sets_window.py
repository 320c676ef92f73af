"""The Sets workspace: pick a template, fill it in, see the plan and its estimate against the budget, run it,
approve the anchor, watch the grid fill in, re-run an item, replace the anchor and export.

All the work runs on the SetQueue's worker thread; this window only reads small rows from the history to
redraw the grid and receives finished thumbnails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.pricing import PriceTable
from ...core.templates import TemplateLibrary
from ...jobs.set_queue import SetQueue
from ...store import sets as set_store
from ...store.history import DEFAULT_PROJECT, HistoryStore
from ..theme.style import set_role
from .set_form import SetForm
from .set_grid import SetGrid


def role_label(label: QLabel, role: str) -> QLabel:
    set_role(label, role)
    return label


class SetsWindow(QMainWindow):
    def __init__(self, store: HistoryStore, queue: SetQueue, library: TemplateLibrary,
                 prices: Callable[[], PriceTable], project: Callable[[], str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("SetsWindow")
        self.setWindowTitle("Sets · gptimg-desktop")
        self.store = store
        self.queue = queue
        self._prices = prices
        self._project = project or (lambda: DEFAULT_PROJECT)
        self.set_id: str | None = None
        self.waiting_for_approval = False
        self.unfinished = False  # the anchor is approved but some items are not made (cancelled, failed)
        self.last_message = ""
        self.form = SetForm(library, prices(), self)
        self._build()
        self._connect()
        self.reload_sets()
        self._update_buttons()
        self.resize(1280, 800)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(380)
        set_role(scroll, "panel")
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        # The estimate and the note on why Run set is greyed out sit by Run set, never scrolled or cut away.
        form_layout = self.form.layout()
        for label in (self.form.estimate, self.form.problem_label):
            if form_layout is not None:
                form_layout.removeWidget(label)
            label.setContentsMargins(12, 4, 12, 0)
            left_layout.addWidget(label)
        run_row = QHBoxLayout()
        run_row.setContentsMargins(12, 0, 12, 12)
        self.budget_label = role_label(QLabel(self), "hint")
        self.budget_label.setObjectName("setBudget")
        self.budget_label.setWordWrap(True)
        self.budget_label.setContentsMargins(12, 4, 12, 0)
        left_layout.addWidget(self.budget_label)
        self.run_button = QPushButton("Run set", self)
        self.run_button.setObjectName("setRun")
        self.run_button.setDefault(True)
        self.run_button.setProperty("kind", "primary")
        run_row.addStretch(1)
        run_row.addWidget(self.run_button)
        left_layout.addLayout(run_row)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 12, 12, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Set"))
        self.sets_combo = QComboBox(self)
        self.sets_combo.setObjectName("setHistory")
        self.sets_combo.setMinimumWidth(240)
        top.addWidget(self.sets_combo, 1)
        # What acts on the whole set sits with the set; the row below is what makes it. One row for all of them
        # was 1406 px wide: off a 1280 screen.
        self.export_button = self._button("setExport", "Export…", top)
        self.bundle_button = self._button("setExportBundle", "Export bundle…", top)
        right_layout.addLayout(top)
        self.status = role_label(QLabel("Fill in the template and run the set. The anchor is made first.", self), "hint")
        self.status.setObjectName("setStatus")
        self.status.setWordWrap(True)
        right_layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.approve_button = self._button("setApprove", "Approve anchor", buttons)
        self.approve_button.setProperty("kind", "primary")
        self.replace_button = self._button("setReplaceAnchor", "Replace anchor", buttons)
        self.rerun_button = self._button("setRerun", "Re-run item", buttons)
        buttons.addStretch(1)
        self.cancel_button = self._button("setCancel", "Cancel", buttons)
        right_layout.addLayout(buttons)
        self.grid = SetGrid(self)
        right_layout.addWidget(self.grid, 1)

        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 880])
        self.setCentralWidget(splitter)

    def _button(self, name: str, text: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        row.addWidget(button)
        return button

    def _connect(self) -> None:
        self.form.planChanged.connect(self._plan_changed)
        self.run_button.clicked.connect(self.run_set)
        self.approve_button.clicked.connect(self.approve_anchor)
        self.replace_button.clicked.connect(self.replace_anchor)
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.export_button.clicked.connect(self._export_dialog)
        self.bundle_button.clicked.connect(self._bundle_dialog)
        self.cancel_button.clicked.connect(self.queue.cancel)
        self.sets_combo.activated.connect(self._set_picked)
        self.grid.currentItemChanged.connect(lambda *_: self._update_buttons())
        q = self.queue
        q.setRecorded.connect(self._set_recorded)
        q.itemStarted.connect(self._item_started)
        q.itemFinished.connect(self._item_finished)
        q.thumbnailReady.connect(self._thumbnail)
        q.anchorWaiting.connect(self._anchor_waiting)
        q.setFinished.connect(self._set_finished)
        q.exported.connect(self._message)
        q.failed.connect(self._failed)
        q.busyChanged.connect(lambda _busy: self._update_buttons())

    # ------------------------------------------------------------------ actions
    def run_set(self) -> None:
        plan = self.form.plan
        if plan is None or self.queue.is_busy():
            return
        est = plan.estimate(self._prices())
        status = self.store.budget_status(self._project(), est.credits, est.usd)
        if status.blocks and not self.confirm_over_budget(status.message):
            return
        self.waiting_for_approval = False
        self._message(f"Making the anchor ({plan.anchor.name}) first…")
        self.queue.run_set(plan, self._project())
        self._update_buttons()

    def confirm_over_budget(self, message: str) -> bool:
        answer = QMessageBox.question(self, "Over budget", f"{message}\n\nRun the set anyway?")
        return answer == QMessageBox.StandardButton.Yes

    def approve_anchor(self) -> None:
        """Approve the anchor and make the other items; on an approved set, make the items still missing."""
        if self.set_id and (self.waiting_for_approval or self.unfinished):
            self._message("Anchor approved: making the other items as edits of it…" if self.waiting_for_approval
                          else "Making the items that are still missing…")
            self.waiting_for_approval = self.unfinished = False
            self.queue.approve_and_continue(self.set_id)
            self._update_buttons()

    def replace_anchor(self) -> None:
        if self.set_id:
            self.waiting_for_approval = False
            self._message("Making a new anchor; the other items wait for you to approve it.")
            self.queue.replace_anchor(self.set_id)
            self._update_buttons()

    def rerun_selected(self) -> None:
        item_id = self.grid.current_item_id()
        if not self.set_id or not item_id:
            return
        record = set_store.get_set(self.store, self.set_id)
        if item_id == record.anchor_item:
            self.replace_anchor()
            return
        self._message(f"Re-running {item_id}…")
        self.queue.run_items(self.set_id, [item_id])

    def export_to(self, dest: Path, bundle: bool = False) -> None:
        if self.set_id:
            self.queue.export(self.set_id, dest, bundle)

    def open_set(self, set_id: str) -> None:
        self.set_id = set_id
        record = set_store.reconcile(self.store, set_id) if not self.queue.is_busy() else set_store.get_set(
            self.store, set_id)
        self.waiting_for_approval = (not record.anchor_approved and record.anchor is not None
                                     and record.anchor.status == set_store.FINISHED)
        self.grid.show_items(record.items, keep_thumbs=False)
        self.queue.load_thumbnails(set_id)
        index = self.sets_combo.findData(set_id)
        if index >= 0:
            self.sets_combo.setCurrentIndex(index)
        self._summarise(record)
        self._update_buttons()

    def reload_sets(self) -> None:
        self.sets_combo.blockSignals(True)
        self.sets_combo.clear()
        for record in set_store.list_sets(self.store, limit=50):
            label = f"{record.created_at[:16].replace('T', ' ')} · {record.template_name} · {record.brief[:48]}"
            self.sets_combo.addItem(label, record.id)
        if self.set_id:
            self.sets_combo.setCurrentIndex(max(0, self.sets_combo.findData(self.set_id)))
        self.sets_combo.blockSignals(False)

    # ------------------------------------------------------------------ queue signals
    def _set_recorded(self, set_id: str) -> None:
        self.set_id = set_id
        self.reload_sets()
        self.grid.show_items(set_store.get_set(self.store, set_id).items, keep_thumbs=False)

    def _item_started(self, set_id: str, item_id: str) -> None:
        if set_id == self.set_id:
            self.grid.set_status(item_id, "running")

    def _item_finished(self, set_id: str, item_id: str, status: str, error: str) -> None:
        if set_id != self.set_id:
            return
        record = set_store.get_set(self.store, set_id)
        item = next((i for i in record.items if i.item_id == item_id), None)
        if item is not None:
            self.grid.update_item(item)
        if error:
            self._message(f"{item_id}: {error}")

    def _thumbnail(self, set_id: str, item_id: str, image: QImage) -> None:
        if set_id == self.set_id:
            self.grid.set_thumbnail(item_id, image)

    def _anchor_waiting(self, set_id: str) -> None:
        if set_id == self.set_id:
            self.waiting_for_approval = True
            self._update_buttons()

    def _set_finished(self, set_id: str, stopped: str) -> None:
        if set_id != self.set_id:
            return
        record = set_store.get_set(self.store, set_id)
        self.grid.show_items(record.items)
        self._summarise(record, stopped)
        self.reload_sets()
        self._update_buttons()

    def _summarise(self, record: set_store.SetRecord, stopped: str = "") -> None:
        others = len(record.items) - 1
        self.unfinished = record.anchor_approved and record.done < len(record.items)
        self.approve_button.setText("Approve anchor" if not self.unfinished else "Make the rest")
        if self.waiting_for_approval:
            self._message(f"The anchor is ready. Approve it to make the other {others} item(s) from it, or "
                          "replace it.")
        elif record.done == len(record.items):
            self._message(f"Set finished: {record.done} images · ${record.cost_usd:.2f}. Export it, or select an "
                          "item to re-run it.")
        else:
            failed = [i.item_id for i in record.items if i.status == "failed"]
            extra = f" Failed: {', '.join(failed)}; select one and re-run it." if failed else ""
            self._message(f"{record.done} of {len(record.items)} done · ${record.cost_usd:.2f}. "
                          f"{stopped if stopped and not self.waiting_for_approval else ''}{extra}".strip())

    def _failed(self, message: str) -> None:
        self._message(message)
        self._update_buttons()

    def _message(self, text: str) -> None:
        self.last_message = text
        self.status.setText(text)

    # ------------------------------------------------------------------ state
    def _plan_changed(self) -> None:
        plan = self.form.plan
        if plan is None:
            self.budget_label.setText("")
        else:
            est = plan.estimate(self._prices())
            status = self.store.budget_status(self._project(), est.credits, est.usd)
            text = status.message if status.level != "ok" else f"Within budget for project {self._project()}."
            self.budget_label.setText(text)
            set_role(self.budget_label, "warning" if status.level != "ok" else "hint")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.queue.is_busy()
        has_set = self.set_id is not None
        self.run_button.setEnabled(self.form.plan is not None and not busy)
        self.approve_button.setEnabled(has_set and (self.waiting_for_approval or self.unfinished) and not busy)
        self.replace_button.setEnabled(has_set and not busy)
        self.rerun_button.setEnabled(has_set and not busy and self.grid.current_item_id() is not None)
        self.export_button.setEnabled(has_set and not busy)
        self.bundle_button.setEnabled(has_set and not busy)
        self.cancel_button.setEnabled(busy)

    def _set_picked(self, index: int) -> None:
        set_id = self.sets_combo.itemData(index)
        if set_id:
            self.open_set(str(set_id))

    def _export_dialog(self) -> None:
        if not self.set_id:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export set (a .zip, or any name for a folder)",
                                              f"set-{self.set_id[:8]}.zip", "Zip (*.zip);;Folder (*)")
        if path:
            self.export_to(Path(path))

    def _bundle_dialog(self) -> None:
        if not self.set_id:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export set as a bundle", f"set-{self.set_id[:8]}.gptimg",
                                              "gptimg bundle (*.gptimg)")
        if path:
            self.export_to(Path(path), bundle=True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if self.queue.is_busy():
            self._message("The set keeps running in the background; its items land in the history.")
        super().closeEvent(event)
