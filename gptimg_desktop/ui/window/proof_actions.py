"""Text proofing in the window: proof results as they arrive, badges in the history and on the canvas, boxes on
click, Fix text, and Image → Proof Text / Edit Expected Text.

Kept out of main_window.py: the window only creates ``ProofActions(self)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu

from ...core.proofing import expected_from_prompt, parse_expected_list
from ...editor.proofing import ProofController
from ...store.proofs import ProofSummary
from ..canvas.proof_overlay import CanvasProofView, badge_text

if TYPE_CHECKING:
    from .main_window import MainWindow


class ProofActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = ProofController(window.store, self)
        self.view = CanvasProofView(window.canvas)
        self.actionProofText = QAction("Proof Text", window)
        self.actionProofText.setObjectName("actionProofText")
        self.actionProofText.setToolTip("Read the text in this version and check it against the prompt's quoted text")
        self.actionEditExpected = QAction("Edit Expected Text…", window)
        self.actionEditExpected.setObjectName("actionEditExpectedText")
        self.actionEditExpected.setToolTip("The lines this version must carry, one per line; then proof again")
        self._add_to_image_menu()
        window.image_only_actions += [self.actionProofText, self.actionEditExpected]
        has_image = window.document.has_image()
        self.actionProofText.setEnabled(has_image)
        self.actionEditExpected.setEnabled(has_image)

        self.actionProofText.triggered.connect(lambda: self.proof_current())
        self.actionEditExpected.triggered.connect(self.edit_expected)
        window.jobs.jobSucceeded.connect(self._job_succeeded)
        window.document.sourceChanged.connect(self._source_changed)
        window.history.model.modelReset.connect(self._history_reloaded)
        self.controller.proofStarted.connect(self._started)
        self.controller.proofReady.connect(self._ready)
        self.controller.proofFailed.connect(self._failed)
        self.view.fixRequested.connect(self.fix_text)
        self._history_reloaded()
        self._source_changed()

    def _add_to_image_menu(self) -> None:
        for action in self.window.menuBar().actions():
            menu = action.menu()
            if isinstance(menu, QMenu) and action.text().replace("&", "") == "Image":
                menu.addSeparator()
                menu.addAction(self.actionProofText)
                menu.addAction(self.actionEditExpected)
                return

    # ------------------------------------------------------------------ proofing
    def _job_succeeded(self, _ticket: str, result) -> None:
        for version in getattr(result, "versions", ()):
            self.auto_proof(version.id, version.prompt)

    def auto_proof(self, version_id: str, prompt: str) -> None:
        """Proof a new version by itself when its prompt quotes text it must carry (a template's text fields are
        quoted in its prompts, so a set's items are checked against them)."""
        if self.controller.should_auto_proof(prompt):
            self.controller.proof(version_id)

    def proof_current(self, expected: list[str] | None = None) -> None:
        version_id = self.window.current_version_id
        if not version_id:
            self.window.statusBar().showMessage("Proofing works on a version from the history: run or pick one.", 6000)
            return
        self.controller.proof(version_id, expected)

    def edit_expected(self) -> None:
        w = self.window
        version_id = w.current_version_id
        if not version_id:
            w.statusBar().showMessage("Proofing works on a version from the history: run or pick one.", 6000)
            return
        summary = self.controller.summary(version_id)
        if summary is not None:
            current = list(summary.expected)
        else:
            version = w.store.get_version(version_id)
            current = expected_from_prompt(version.prompt) if version is not None else []
        text, ok = QInputDialog.getMultiLineText(w, "Expected text", "One line of text the image must carry per line:",
                                                 "\n".join(current))
        if ok:
            self.controller.proof(version_id, parse_expected_list(text))

    def _started(self, version_id: str) -> None:
        if version_id == self.window.current_version_id:
            self.view.show_summary(self.controller.summary(version_id), running=True)

    def _ready(self, version_id: str, summary: ProofSummary) -> None:
        self.window.history.model.set_proof_badges({version_id: badge_text(summary)})
        if version_id == self.window.current_version_id:
            self.view.show_summary(summary)
            if not summary.ok:
                self.window.statusBar().showMessage(
                    f"Text proof: {summary.problems} problem(s). Click the badge on the canvas to see where.", 8000)

    def _failed(self, version_id: str, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)
        if version_id == self.window.current_version_id:
            self.view.show_summary(self.controller.summary(version_id))

    def _source_changed(self) -> None:
        version_id = self.window.current_version_id
        self.view.show_summary(self.controller.summary(version_id),
                               running=bool(version_id) and self.controller.is_running(version_id or ""))

    def _history_reloaded(self) -> None:
        summaries = self.controller.summaries(self.window.history.model.version_ids())
        if summaries:
            self.window.history.model.set_proof_badges({v: badge_text(s) for v, s in summaries.items()})

    # ------------------------------------------------------------------ fix text
    def fix_text(self) -> None:
        """Mask the wrong lines (padded) and put a prompt that spells the right text into the prompt box."""
        w = self.window
        summary = self.controller.summary(w.current_version_id)
        image = w.document.image()
        if summary is None or image.isNull():
            return
        plan = self.controller.fix_plan(summary, image.width(), image.height())
        if plan is None:
            w.statusBar().showMessage("Nothing to fix in place: the wrong lines were not found in the image.", 6000)
            return
        w.document.set_mask_array(plan.mask, "Fix text")
        w.prompt.set_prompt(plan.prompt)
        w.statusBar().showMessage(
            f"Masked {len(plan.lines)} line(s) and wrote a prompt that spells the text; review it, then Run.", 8000)
