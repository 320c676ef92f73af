"""The editor window: canvas in the middle, prompt and references on the right, jobs and history below.

The window owns the actions and binds widgets to the EditorDocument (editor/document.py): widgets
show and change the document, never each other, and the job spec is built by the document alone.
Everything slow (loading files, encoding, network, disk) happens off this thread: images load through
the editor's ImageController, jobs run in the JobQueue's worker. The widgets are built in layout.py and
the actions in actions.py (the class body declares both, the window's shape); what jobs show, the results
grid included, is job_feedback.py. What the history asks of a stored version lives in editor/versions.py
(plus compare in version_actions.py), the local image operations in image_actions.py and exports in
export_actions.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolBar,
    QWidget,
)

from ...core.errors import RequestRefused
from ...editor.autosave import SessionAutosave
from ...editor.document import EditorDocument, ImageSource
from ...editor.images import ImageController
from ...editor.jobs import JobBook
from ...editor.references import reference_count_text
from ...editor.ui_settings import (
    COLLAPSED_PANELS,
    LAST_DIR,
    LAST_PROMPT_SETTINGS,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
)
from ...editor.versions import VersionController
from ...jobs.pipeline import JobSpec
from ...jobs.queue import JobQueue
from ..canvas.amount_dialog import AmountDialog
from ..canvas.canvas import ImageCanvas
from ..canvas.context_bar import ContextBar
from ..canvas.results_panel import ResultsPanel
from ..canvas.variant_grid import VariantGrid
from ..common.dock_panel import DockPanel, collapsed_names, restore_collapsed
from ..common.plural import plural
from ..history.history_panel import HistoryView
from ..history.version_actions import VersionActions
from ..jobs.jobs_view import JobsView
from ..prompt.prompt_panel import PromptPanel, PromptSettings
from ..references.reference_tray import ReferenceTray
from .actions import build_menus_and_toolbars, create_actions
from .cutout_actions import CutoutActions
from .export_actions import ExportActions
from .image_actions import ImageActions
from .job_feedback import JobFeedback
from .layout import build_widgets
from .proof_actions import ProofActions
from .wiring import connect_window
from .workspace import PanelToggle, RecentFiles, ToolActions

log = logging.getLogger("gptimg.ui")

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff);;All files (*)"
LAYOUT_VERSION = 2  # saved dock layouts from before the workspace panels (issue 11) are not restored


class MainWindow(QMainWindow):
    providerSettingsRequested = Signal()
    services: Any  # app.AppServices, set by app.create_window
    autosave: SessionAutosave  # set by app.create_window once the window exists
    # The window's shape, built by layout.build_widgets and actions.create_actions; other code and the tests
    # reach widgets and actions by these names.
    canvas: ImageCanvas
    results: ResultsPanel
    result_strip: VariantGrid  # the n-results grid (objectName variantGrid)
    banner: QWidget
    context_bar: ContextBar
    context_toolbar: QToolBar
    canvas_splitter: QSplitter
    prompt: PromptPanel
    tray: ReferenceTray
    jobs_view: JobsView
    history: HistoryView
    prompt_dock: DockPanel
    output_dock: DockPanel
    references_dock: DockPanel
    history_dock: DockPanel
    jobs_dock: DockPanel
    panel_toggle: PanelToggle
    provider_label: QLabel
    totals_label: QLabel
    zoom_label: QLabel
    recent_files: RecentFiles
    tool_strip: QToolBar
    tool_actions: ToolActions
    _export_presets_menu: QMenu
    _result_keys: list[QAction]  # 1-9 pick a result while the grid shows
    image_only_actions: list[QAction]  # features add actions that mean nothing without an image (Proof Text)
    actionOpen: QAction
    actionExport: QAction
    actionNew: QAction
    actionQuit: QAction
    actionSettings: QAction
    actionBrush: QAction
    actionEraser: QAction
    actionRect: QAction
    actionLasso: QAction
    actionMagicWand: QAction
    actionColorRange: QAction
    actionSelectAdd: QAction
    actionSelectSubtract: QAction
    actionTogglePanels: QAction
    actionCopyImage: QAction
    actionFocusPrompt: QAction
    actionFocusHistory: QAction
    actionFocusResults: QAction
    actionFocusCanvas: QAction
    actionResetLayout: QAction
    actionFlicker: QAction
    actionUndo: QAction
    actionRedo: QAction
    actionInvertMask: QAction
    actionClearMask: QAction
    actionFillMask: QAction
    actionGrowMask: QAction
    actionShrinkMask: QAction
    actionFeatherMask: QAction
    actionToggleMask: QAction
    actionExpandCanvas: QAction
    actionCutout: QAction
    actionUseAsReference: QAction
    actionCompare: QAction
    actionZoomIn: QAction
    actionZoomOut: QAction
    actionFit: QAction
    actionActualSize: QAction
    actionLedger: QAction
    actionProjects: QAction
    actionImportBundle: QAction
    actionRun: QAction
    actionCancel: QAction


    def __init__(
        self,
        store,
        jobs: JobQueue,
        *,
        demo: bool,
        provider_label: str,
        prices,
        settings: QSettings,
        scratch_dir: Path,
        open_settings: Callable[[QWidget], None] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setAccessibleName("gptimg-desktop editor")
        self.setWindowTitle("gptimg-desktop")
        self.store = store
        self.jobs = jobs
        self.prices = prices
        self.settings = settings
        self.scratch_dir = scratch_dir
        self._open_settings = open_settings
        self.document = EditorDocument(self)  # the one home of the editor's state
        self.job_book = JobBook(jobs, self)
        self.images = ImageController(self.document, store, self)
        self.versions = VersionController(self.document, store, self.images, self)
        self.version_actions = VersionActions(self)
        self.image_actions = ImageActions(self)
        self.export_actions = ExportActions(self)

        build_widgets(self, demo, provider_label)
        # The names these controls always had, for the tests and the rest of the window.
        self.side_dock = self.prompt_dock
        self.left_dock = self.history_dock
        self.size_spin = self.context_bar.size_spin
        self.hardness_slider = self.context_bar.hardness_slider
        self.opacity_slider = self.context_bar.opacity_slider
        self.mask_hint = self.context_bar.mask_hint
        self.mask_color_button = self.context_bar.color_button
        create_actions(self)
        self.image_only_actions = []
        build_menus_and_toolbars(self)
        self.job_feedback = JobFeedback(self)
        connect_window(self)
        self._restore_layout()
        self.prompt.set_price_table(prices)
        self.prompt.set_prompt_history(self._prompt_history())
        self.document.set_settings(self.prompt.settings())
        self._update_mode()
        self._update_totals()
        self.history.refresh()
        self.proof_actions = ProofActions(self)  # text proofing: badges, boxes, Fix text (issue 15)
        self.cutout_actions = CutoutActions(self)  # Image → Generate for Cutout (issue 15)

    # ------------------------------------------------------------------ construction
    # ------------------------------------------------------------------ state
    def _restore_layout(self) -> None:
        geometry = WINDOW_GEOMETRY.read(self.settings)
        state = WINDOW_STATE.read(self.settings)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        self._layout_pending = not (isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION))
        if self._layout_pending:
            self.reset_layout()
        collapsed = COLLAPSED_PANELS.read(self.settings)
        names = [collapsed] if isinstance(collapsed, str) else collapsed if isinstance(collapsed, list) else []
        restore_collapsed(self, [str(n) for n in names])
        last = LAST_PROMPT_SETTINGS.read(self.settings)
        if isinstance(last, str) and last:
            try:
                self.prompt.apply_settings(PromptSettings.from_dict(json.loads(last)))
            except (TypeError, ValueError):
                pass  # settings from an incompatible version: start from the defaults

    def save_layout(self) -> None:
        WINDOW_GEOMETRY.write(self.settings, self.saveGeometry())
        WINDOW_STATE.write(self.settings, self.saveState(LAYOUT_VERSION))
        COLLAPSED_PANELS.write(self.settings, collapsed_names(self))
        LAST_PROMPT_SETTINGS.write(self.settings, json.dumps(self.document.settings().to_dict()))
        self.settings.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._layout_pending:  # first start: size the panels for the screen the window really opened on
            self._layout_pending = False
            QTimer.singleShot(0, self.reset_layout)

    def reset_layout(self) -> None:
        """View → Reset Panels: every panel back, sized for this window: history left, prompt/output/refs right."""
        for dock in (self.prompt_dock, self.output_dock, self.references_dock, self.history_dock, self.jobs_dock):
            dock.setFloating(False)
            dock.show()
            dock.set_collapsed(False)
        width = max(self.width(), 1024)
        side = 380 if width >= 1600 else 340
        left = 300 if width >= 1600 else 240
        self.resizeDocks([self.history_dock, self.prompt_dock], [left, side], Qt.Orientation.Horizontal)
        height = max(self.height(), 600)
        # Below ~900 px there is room for the prompt and the output settings; the references fold to their title.
        self.references_dock.set_collapsed(height < 900)
        self.resizeDocks([self.prompt_dock, self.output_dock, self.references_dock],
                         [round(height * 0.30), round(height * 0.40), round(height * 0.30)], Qt.Orientation.Vertical)
        self.resizeDocks([self.history_dock, self.jobs_dock], [round(height * 0.7), round(height * 0.3)],
                         Qt.Orientation.Vertical)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)

    def _prompt_history(self) -> list[str]:
        seen: list[str] = []
        for version in self.store.list_versions(limit=200):
            if version.kind != "original" and version.prompt not in seen:
                seen.append(version.prompt)
            if len(seen) >= 50:
                break
        return seen

    def _bind_document(self) -> None:
        """Widgets show the document and change it; the document tells every widget what changed."""
        doc = self.document
        self.prompt.settingsChanged.connect(lambda: doc.set_settings(self.prompt.settings()))
        doc.settingsChanged.connect(self._document_settings_changed)
        self.tray.changed.connect(lambda: doc.set_references(self.tray.references()))
        doc.referencesChanged.connect(lambda: self.tray.show_references(doc.references()))
        for signal in (doc.modeChanged, doc.imageChanged, doc.referencesChanged, doc.maskChanged):
            signal.connect(self._update_mode)
        doc.imageChanged.connect(lambda: self.job_feedback.hide_results() if not doc.has_image() else None)
        doc.projectChanged.connect(lambda _name: self._update_totals())
        doc.sourceChanged.connect(self._follow_source)

    def _follow_source(self) -> None:
        """The history selects and describes what the canvas shows: an opened file (recorded as an original
        version) at once, not after its first edit; a blank canvas selects nothing."""
        version_id = self.document.source.version_id
        if version_id is None:
            self.history.clear_selection()
        elif self.history.current_version_id() != version_id:
            self.history.select_version(version_id)

    def _document_settings_changed(self) -> None:
        if self.prompt.settings() != self.document.settings():
            self.prompt.apply_settings(self.document.settings())

    def _update_mode(self, *_args: object) -> None:
        doc = self.document
        has_image = doc.has_image()
        has_mask = doc.has_mask()
        self.prompt.set_mode(doc.mode().value)
        self.prompt.set_canvas_size(doc.canvas_size(), doc.edit_size_problem())
        self.prompt.set_reference_count(len(doc.references()), reference_count_text(len(doc.references())))
        self.tray.set_limit(doc.reference_limit())
        self.prompt.set_input_sizes(doc.input_sizes())
        if not has_image:
            self.context_bar.set_hint("No image yet: Run makes one from the prompt")
        elif has_mask:
            self.context_bar.set_hint("Masked edit: only the marked area changes")
        else:
            self.context_bar.set_hint("No mask: Run edits the whole image")
        for action in (self.actionExpandCanvas, self.actionCutout, self.actionUseAsReference, self.actionExport,
                       self.actionCopyImage, self.actionCompare, *self.image_only_actions):
            action.setEnabled(has_image)
        if not has_image and self.actionCompare.isChecked():
            self.actionCompare.setChecked(False)
        self._export_presets_menu.setEnabled(has_image)

    # ------------------------------------------------------------------ the document, as other code reads it
    @property
    def source(self) -> ImageSource:
        return self.document.source

    @property
    def current_version_id(self) -> str | None:
        return self.document.source.version_id

    @property
    def project(self) -> str:
        return self.document.project

    def _update_totals(self) -> None:
        totals = self.store.usage_totals()
        text = f"{plural(totals.images, 'image')} · {plural(totals.credits, 'credit')} · ${totals.cost_usd:.2f}"
        if self.project and self.project != "Default":
            mine = self.store.usage_totals(project=self.project)
            text = f"{self.project}: {plural(mine.credits, 'credit')} · ${mine.cost_usd:.2f}   |   All: {text}"
        status = self.store.budget_status(self.project)
        if status.level in ("warning", "exceeded"):
            text += "   ⚠ budget"
            self.totals_label.setToolTip(status.message)
        self.totals_label.setText(text)

    def _project_changed(self, name: str) -> None:
        self.document.set_project(name)
        self._update_totals()

    def _bundle_done(self, message: str, error: str) -> None:
        if error:
            self.prompt.set_error(error)
        else:
            self.statusBar().showMessage(message, 10000)
        self.history.refresh()
        self._update_totals()

    def open_ledger(self) -> None:
        from ..ledger.ledger_view import LedgerDialog

        dialog = LedgerDialog(self.store, self, demo=not self.banner.isHidden())
        dialog.view.budgetsChanged.connect(self._update_totals)
        dialog.exec()

    def _undo_state(self, can_undo: bool, can_redo: bool) -> None:
        self.actionUndo.setEnabled(can_undo)
        self.actionRedo.setEnabled(can_redo)

    def _tool_changed(self, tool) -> None:
        self.context_bar.set_tool(tool)  # the strip's checked action follows through ToolActions

    def _mask_amount(self, title: str, label: str, operation: str) -> None:
        """Grow, Shrink or Feather with a slider and a live preview on the canvas; OK is one undo step."""
        from ...core import masks

        c = self.canvas
        if not c.has_image():
            return
        base = c.mask_array()
        maths: dict[str, Callable] = {"grow": masks.grow, "shrink": masks.shrink, "feather": masks.feather}
        apply: dict[str, Callable[[int], None]] = {"grow": c.grow_mask, "shrink": c.shrink_mask,
                                                    "feather": c.feather_mask}

        def preview(px: int) -> None:
            c.preview_mask(maths[operation](base, px) if px > 0 else base)

        dialog = AmountDialog(title, label, maximum=200, value=8, preview=preview, parent=self)
        accepted = dialog.exec()
        c.preview_mask(None)
        if accepted and dialog.value() > 0:
            apply[operation](dialog.value())

    # ------------------------------------------------------------------ images in
    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._last_dir(), IMAGE_FILTER)
        if path:
            self.open_image(path)

    def _last_dir(self) -> str:
        return str(LAST_DIR.read(self.settings))

    def open_image(self, path: str, version_id: str | None = None) -> None:
        """Load ``path`` off the GUI thread and start a new document on it (an opened file becomes an original)."""
        LAST_DIR.write(self.settings, str(Path(path).parent))
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.canvas.clear_preview()
        self.job_feedback.hide_results()
        if version_id is None:
            self.recent_files.add(path)  # File > Open Recent (a file that has gone is dropped when chosen)
        self.images.open_file(path, version_id)

    def _load_failed(self, message: str) -> None:
        self.prompt.set_error(message)
        self.statusBar().clearMessage()

    def new_image(self) -> None:
        self.document.new_image()
        self.job_feedback.hide_results()

    # ------------------------------------------------------------------ running
    def build_spec(self, quality: str | None = None) -> JobSpec:
        """The job the next run sends: built by the document from what it holds."""
        return self.document.build_spec(quality)

    def run(self, quality: str | None = None) -> str | None:
        if not isinstance(quality, str):
            quality = None
        self.prompt.set_error(None)
        problem = self.document.edit_size_problem()
        if problem is not None:
            how = self.choose_fit(problem)
            if how is None:
                self.prompt.set_error(problem)
                return None
            if not self.fit_canvas(how):
                return None
        try:
            spec = self.build_spec(quality)
        except ValueError as exc:  # RequestRefused and friends: the panel says what to change
            self.prompt.set_error(str(exc))
            return None
        if not spec.request.prompt.strip():
            self.prompt.set_error("The prompt is empty: describe the image or the change you want.")
            return None
        ticket = self._submit(spec)
        if ticket is not None:
            self._remember_prompt(self.prompt.settings().prompt)
        return ticket

    def _submit(self, spec: JobSpec) -> str | None:
        if not self._within_budget(spec):
            return None
        self.canvas.clear_preview()
        ticket = self.job_book.submit(spec)
        if self.jobs_dock.isVisible():
            self.jobs_dock.set_collapsed(False)  # the job just queued is in view
        return ticket

    def choose_fit(self, problem: str) -> str | None:
        """Asks how to make the canvas a size the model can edit at: "crop", "pad" or None (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Canvas size", problem, QMessageBox.StandardButton.Cancel, self)
        crop = box.addButton("Crop to fit", QMessageBox.ButtonRole.AcceptRole)
        pad = box.addButton("Pad to fit", QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return "crop" if box.clickedButton() is crop else "pad" if box.clickedButton() is pad else None

    def fit_canvas(self, how: str = "pad") -> bool:
        """Crop or pad the canvas to a valid size (one undo step); says the new size."""
        try:
            size = self.document.fit_canvas(how)
        except (RequestRefused, ValueError) as exc:
            self.prompt.set_error(str(exc))
            return False
        verb = "Cropped" if how == "crop" else "Padded"
        self.statusBar().showMessage(f"{verb} the canvas to {size}. Ctrl+Z takes it back.", 8000)
        return True

    def _within_budget(self, spec: JobSpec) -> bool:
        """Warn at 80 % of a budget; ask before a job whose estimate would cross one."""
        est = spec.request.estimate(self.prices, tuple(self.document.input_sizes()))
        status = self.store.budget_status(self.project, est.credits, est.cost_usd)
        if status.blocks:
            if not self.confirm_over_budget(status.message):
                self.prompt.set_error(f"{status.message} Not sent. Raise the budget in the Ledger, or run anyway.")
                return False
        elif status.level == "warning":
            self.statusBar().showMessage(status.message, 10000)
        return True

    def confirm_over_budget(self, message: str) -> bool:
        """Asks before a job that would cross a budget ("Run anyway" / "Cancel"); tests replace this."""
        from ..ledger.budget_prompt import confirm_over_budget

        return confirm_over_budget(self, message)

    def finalize_at_high(self) -> str | None:
        """Re-run the canvas version's own request at high quality, as its sibling, after showing the estimate."""
        version_id = self.versions.finalize_version_id()
        if version_id is None:
            self.prompt.set_error("Show a generated or edited version on the canvas to finalize it at high.")
            return None
        try:
            spec = self.versions.finalize_spec(version_id)
        except (RequestRefused, ValueError, OSError) as exc:
            self.prompt.set_error(str(exc))
            return None
        version = self.store.get_version(version_id)
        sizes = [(version.width, version.height)] if version is not None and spec.canvas_image else []
        est = spec.request.estimate(self.prices, tuple(sizes))
        text = (f"Run this version's request again at high quality, as a sibling: "
                f"≈ {est.credits} credits · ${est.cost_usd:.2f}.")
        if not self.confirm_finalize(text):
            return None
        return self._submit(spec)

    def confirm_finalize(self, text: str) -> bool:
        """Shows the estimate before finalizing ("Finalize" / "Cancel"); tests replace this."""
        answer = QMessageBox.question(self, "Finalize at high", text,
                                      QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Ok

    def cancel_current(self) -> None:
        """Cancel the job being sent now (not the newest one queued)."""
        self.job_book.cancel_current()

    def _retry_ticket(self, ticket: str) -> None:
        if self.job_book.get(ticket) is None:
            return
        self.jobs_view.remove_job(ticket)
        self.job_book.retry(ticket)

    def _remember_prompt(self, prompt: str) -> None:
        history = [p for p in self._prompt_history() if p != prompt]
        self.prompt.set_prompt_history([prompt, *history])

    # ------------------------------------------------------------------ keyboard and clipboard
    def copy_image(self) -> None:
        image = self.canvas.image()
        if image.isNull():
            self.statusBar().showMessage("Nothing to copy: open or generate an image first.", 5000)
            return
        QApplication.clipboard().setImage(image)
        self.statusBar().showMessage(f"Copied the {image.width()}×{image.height()} image to the clipboard.", 5000)

    def _reveal(self, dock: QDockWidget) -> None:
        if self.panel_toggle.hidden():
            self.panel_toggle.toggle()
        dock.show()
        if isinstance(dock, DockPanel):
            dock.set_collapsed(False)
        dock.raise_()

    def _focus_prompt(self) -> None:
        self._reveal(self.prompt_dock)
        self.prompt.prompt_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _focus_history(self) -> None:
        self._reveal(self.history_dock)
        target = self.history.tree if self.history.tree.isVisible() else self.history.search
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _focus_results(self) -> None:
        if self.result_strip.count():
            self.results.setVisible(True)
            self.result_strip.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.statusBar().showMessage("No results to choose from yet: run with Images set above 1.", 5000)

    # ------------------------------------------------------------------ forwarded to the controllers
    # Other code and the tests call these on the window; the work lives in version_actions.py,
    # image_actions.py and export_actions.py.
    def show_version(self, version_id: str) -> None:
        self.canvas.clear_preview()
        if self.versions.show_version(version_id):
            self.history.select_version(version_id)  # keep the tree and details on what the canvas shows

    def continue_from(self, version_id: str) -> None:
        self.show_version(version_id)
        self.statusBar().showMessage("The next edit continues from this version (a new branch).", 5000)

    def restore_inputs(self, version_id: str) -> None:
        self.versions.restore_inputs(version_id)

    def rerun(self, version_id: str) -> None:
        self.versions.rerun(version_id)

    def rerun_with_changes(self, version_id: str, changes: dict) -> None:
        self.versions.rerun(version_id, changes)

    def compare_with_parent(self, version_id: str) -> None:
        self.version_actions.compare_with_parent(version_id)

    def set_compare(self, on: bool) -> None:
        self.version_actions.set_compare(on)

    def expand_canvas_dialog(self) -> None:
        self.image_actions.expand_canvas_dialog()

    def use_current_as_reference(self) -> None:
        self.image_actions.use_current_as_reference()

    def cutout(self) -> None:
        self.image_actions.cutout()

    def export_dialog(self) -> None:
        self.export_actions.export_dialog()

    def export_to(self, path: str) -> None:
        self.export_actions.export_to(path)

    def export_version(self, version_id: str) -> None:
        self.export_actions.export_version(version_id)

    def export_version_to(self, version_id: str, path: str) -> None:
        self.export_actions.export_version_to(version_id, path)

    def open_settings(self) -> None:
        if self._open_settings is not None:
            self._open_settings(self)

