"""The editor window: canvas in the middle, prompt and references on the right, jobs and history below.

The window owns the actions and binds widgets to the EditorDocument (editor/document.py): widgets
show and change the document, never each other, and the job spec is built by the document alone.
Everything slow (loading files, encoding, network, disk) happens off this thread: images load through
the editor's ImageController, jobs run in the JobQueue's worker. What the history asks of a stored version
lives in editor/versions.py (plus compare in version_actions.py), the local image operations in
image_actions.py and exports in export_actions.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RequestRefused
from ...editor.autosave import SessionAutosave
from ...editor.document import EditorDocument, ImageSource
from ...editor.images import ImageController
from ...editor.jobs import JobBook
from ...editor.references import reference_count_text
from ...editor.ui_settings import LAST_DIR, LAST_PROMPT_SETTINGS, WINDOW_GEOMETRY, WINDOW_STATE
from ...editor.versions import VersionController
from ...jobs.pipeline import JobSpec
from ...jobs.queue import JobQueue
from ..canvas.canvas import ImageCanvas, Tool
from ..canvas.compare_view import open_compare_dialog
from ..history.history_panel import HistoryView
from ..history.version_actions import VersionActions
from ..jobs.jobs_view import JobsView
from ..ledger import bundle_actions
from ..prompt.prompt_panel import PromptPanel, PromptSettings
from ..references.reference_tray import ReferenceTray
from .actions import build_menus_and_toolbars, make_action
from .cutout_actions import CutoutActions
from .export_actions import ExportActions
from .image_actions import ImageActions
from .job_feedback import JobFeedback
from .proof_actions import ProofActions

log = logging.getLogger("gptimg.ui")

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff);;All files (*)"
class MainWindow(QMainWindow):
    providerSettingsRequested = Signal()
    services: Any  # app.AppServices, set by app.create_window
    autosave: SessionAutosave  # set by app.create_window once the window exists

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

        self._build_widgets(demo, provider_label)
        self._build_actions()
        build_menus_and_toolbars(self)
        self._connect()
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
    def _build_widgets(self, demo: bool, provider_label: str) -> None:
        self.canvas = ImageCanvas(self, document=self.document)
        self.result_strip = QListWidget(self)
        self.result_strip.setObjectName("resultStrip")
        self.result_strip.setAccessibleName("Results to pick from")
        self.result_strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.result_strip.setFlow(QListWidget.Flow.LeftToRight)
        self.result_strip.setWrapping(False)
        self.result_strip.setIconSize(QSize(120, 120))
        self.result_strip.setFixedHeight(150)
        self.result_strip.setVisible(False)

        self.banner = QWidget(self)
        self.banner.setObjectName("demoBanner")
        self.banner.setProperty("role", "banner")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(12, 6, 12, 6)
        banner_text = QLabel(
            "<b>Demo mode</b> — images are synthesised locally by the built-in server; nothing is sent to "
            "OpenAI and nothing is billed. Add your API key in Settings to generate for real.",
            self.banner,
        )
        banner_text.setWordWrap(True)
        banner_text.setObjectName("demoBannerText")
        banner_button = QPushButton("Open Settings…", self.banner)
        banner_button.setObjectName("demoBannerSettingsButton")
        banner_button.setAccessibleName("Open settings")
        banner_button.clicked.connect(self.open_settings)
        banner_layout.addWidget(banner_text, 1)
        banner_layout.addWidget(banner_button)
        self.banner.setVisible(demo)

        center = QWidget(self)
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self._build_tool_options())
        center_layout.addWidget(self.canvas, 1)
        center_layout.addWidget(self.result_strip)
        self.setCentralWidget(center)

        self.prompt = PromptPanel(self)
        self.tray = ReferenceTray(self)
        self.tray.set_scratch_dir(str(self.scratch_dir))
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.setObjectName("sidePanel")
        right.setChildrenCollapsible(False)
        right.addWidget(self.prompt)
        right.addWidget(self.tray)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([640, 240])
        self.side_splitter = right
        self.side_dock = QDockWidget("Prompt", self)
        self.side_dock.setObjectName("promptDock")
        self.side_dock.setWidget(right)
        self.side_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.side_dock.setTitleBarWidget(QWidget(self.side_dock))
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_dock)

        self.jobs_view = JobsView(self)
        self.history = HistoryView(self.store, self)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setObjectName("activityTabs")
        self.bottom_tabs.addTab(self.history, "History")
        self.bottom_tabs.addTab(self.jobs_view, "Jobs")
        self.left_dock = QDockWidget("Activity", self)
        self.left_dock.setObjectName("activityDock")
        self.left_dock.setWidget(self.bottom_tabs)
        self.left_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.left_dock.setTitleBarWidget(QWidget(self.left_dock))
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.left_dock)

        self.provider_label = QLabel(provider_label, self)
        self.provider_label.setObjectName("providerLabel")
        self.totals_label = QLabel(self)
        self.totals_label.setObjectName("totalsLabel")
        self.zoom_label = QLabel("", self)
        self.zoom_label.setObjectName("zoomLabel")
        self.statusBar().addWidget(self.provider_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.totals_label)

    def _build_tool_options(self) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("toolOptions")
        bar.setProperty("role", "toolbar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(12, 4, 12, 4)
        layout.setSpacing(8)

        def labelled(text: str, widget: QWidget) -> None:
            label = QLabel(text, bar)
            label.setBuddy(widget)
            label.setProperty("role", "muted")
            layout.addWidget(label)
            layout.addWidget(widget)

        self.size_spin = QSpinBox(bar)
        self.size_spin.setObjectName("brushSizeSpin")
        self.size_spin.setAccessibleName("Brush size")
        self.size_spin.setRange(1, 1000)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(self.canvas.brush_size())
        labelled("Size", self.size_spin)
        self.hardness_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.hardness_slider.setObjectName("brushHardnessSlider")
        self.hardness_slider.setAccessibleName("Brush hardness")
        self.hardness_slider.setRange(0, 100)
        self.hardness_slider.setValue(int(self.canvas.brush_hardness() * 100))
        self.hardness_slider.setFixedWidth(90)
        labelled("Hardness", self.hardness_slider)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.opacity_slider.setObjectName("maskOpacitySlider")
        self.opacity_slider.setAccessibleName("Mask overlay opacity")
        self.opacity_slider.setRange(5, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setFixedWidth(90)
        labelled("Mask", self.opacity_slider)
        self.mask_hint = QLabel("", bar)
        self.mask_hint.setObjectName("maskHint")
        self.mask_hint.setProperty("role", "muted")
        layout.addWidget(self.mask_hint, 1)
        return bar

    def _build_actions(self) -> None:
        a = make_action
        self.actionOpen = a(self, "actionOpen", "&Open Image…", QKeySequence.StandardKey.Open, tip="Open an image to edit")
        self.actionExport = a(self, "actionExport", "&Export…", "Ctrl+Shift+E", tip="Export the current image")
        self.actionNew = a(self, "actionNew", "&New (text to image)", QKeySequence.StandardKey.New,
                           tip="Clear the canvas to generate a new image from text")
        self.actionQuit = a(self, "actionQuit", "&Quit", QKeySequence.StandardKey.Quit)
        self.actionSettings = a(self, "actionSettings", "&Settings…", "Ctrl+,")
        self.actionBrush = a(self, "actionBrush", "Brush", "B", True, "Paint the area to change")
        self.actionEraser = a(self, "actionEraser", "Eraser", "E", True, "Erase from the mask")
        self.actionRect = a(self, "actionRect", "Rectangle", "M", True, "Rectangle selection (Alt subtracts)")
        self.actionLasso = a(self, "actionLasso", "Lasso", "L", True, "Lasso selection (Alt subtracts)")
        self.actionUndo = a(self, "actionUndo", "Undo", QKeySequence.StandardKey.Undo, tip="Undo the last mask change")
        self.actionRedo = a(self, "actionRedo", "Redo", "Ctrl+Shift+Z", tip="Redo")
        self.actionInvertMask = a(self, "actionInvertMask", "Invert Mask", "Ctrl+I")
        self.actionClearMask = a(self, "actionClearMask", "Clear Mask", "Ctrl+Shift+D", tip="Clear the mask (edit the whole image)")
        self.actionFillMask = a(self, "actionFillMask", "Fill Mask", "Ctrl+Shift+F", tip="Mask the whole image")
        self.actionGrowMask = a(self, "actionGrowMask", "Grow Mask…", tip="Grow the mask by some pixels")
        self.actionShrinkMask = a(self, "actionShrinkMask", "Shrink Mask…", tip="Shrink the mask by some pixels")
        self.actionFeatherMask = a(self, "actionFeatherMask", "Feather Mask…", tip="Soften the mask edge")
        self.actionToggleMask = a(self, "actionToggleMask", "Show Mask", "H", True, "Show or hide the mask overlay")
        self.actionToggleMask.setChecked(True)
        self.actionExpandCanvas = a(self, "actionExpandCanvas", "Expand Canvas…", "Ctrl+Alt+C",
                                    tip="Grow the canvas for background extension; the new area is masked")
        self.actionCutout = a(self, "actionCutout", "Remove Background", tip="Make the background transparent locally")
        self.actionUseAsReference = a(self, "actionUseAsReference", "Use as Reference",
                                      tip="Add the current image to the reference tray")
        self.actionCompare = a(self, "actionCompare", "Compare with Parent", "Ctrl+K", True,
                               tip="Before/after split view against the version this came from")
        self.actionZoomIn = a(self, "actionZoomIn", "Zoom In", QKeySequence.StandardKey.ZoomIn)
        self.actionZoomOut = a(self, "actionZoomOut", "Zoom Out", QKeySequence.StandardKey.ZoomOut)
        self.actionFit = a(self, "actionFit", "Fit to Window", "Ctrl+0")
        self.actionActualSize = a(self, "actionActualSize", "Actual Size (100%)", "Ctrl+1")
        self.actionLedger = a(self, "actionLedger", "Credit &Ledger…", "Ctrl+Shift+L",
                              tip="Spending per project, day and month; budgets")
        self.actionProjects = a(self, "actionProjects", "&Projects…",
                                tip="Create, rename, delete, import and export projects")
        self.actionImportBundle = a(self, "actionImportBundle", "&Import Project Bundle…",
                                    tip="Add a project or branch exported on another machine")
        self.actionRun = a(self, "actionRun", "Run", "Ctrl+Return", tip="Generate or edit")
        self.actionCancel = a(self, "actionCancel", "Cancel Job", "Esc", tip="Cancel the running job")
        self.actionBrush.setChecked(True)
        for action in self.findChildren(QAction):
            if action.objectName():
                self.addAction(action)

    def _connect(self) -> None:
        c = self.canvas
        versions, images, exports = self.version_actions, self.image_actions, self.export_actions
        self.actionOpen.triggered.connect(self.open_image_dialog)
        self.actionExport.triggered.connect(exports.export_dialog)
        self.actionNew.triggered.connect(self.new_image)
        self.actionQuit.triggered.connect(self.close)
        self.actionSettings.triggered.connect(self.open_settings)
        self.actionBrush.triggered.connect(lambda: c.set_tool(Tool.BRUSH))
        self.actionEraser.triggered.connect(lambda: c.set_tool(Tool.ERASER))
        self.actionRect.triggered.connect(lambda: c.set_tool(Tool.RECT))
        self.actionLasso.triggered.connect(lambda: c.set_tool(Tool.LASSO))
        self.actionUndo.triggered.connect(c.undo)
        self.actionRedo.triggered.connect(c.redo)
        self.actionInvertMask.triggered.connect(c.invert_mask)
        self.actionClearMask.triggered.connect(c.clear_mask)
        self.actionFillMask.triggered.connect(c.fill_all)
        self.actionGrowMask.triggered.connect(lambda: self._mask_amount("Grow mask", "Grow by", c.grow_mask))
        self.actionShrinkMask.triggered.connect(lambda: self._mask_amount("Shrink mask", "Shrink by", c.shrink_mask))
        self.actionFeatherMask.triggered.connect(lambda: self._mask_amount("Feather mask", "Feather radius", c.feather_mask))
        self.actionToggleMask.toggled.connect(c.set_mask_visible)
        self.actionExpandCanvas.triggered.connect(images.expand_canvas_dialog)
        self.actionCutout.triggered.connect(images.cutout)
        self.actionUseAsReference.triggered.connect(images.use_current_as_reference)
        self.actionCompare.toggled.connect(versions.set_compare)
        self.actionZoomIn.triggered.connect(c.zoom_in)
        self.actionZoomOut.triggered.connect(c.zoom_out)
        self.actionFit.triggered.connect(c.fit_to_window)
        self.actionActualSize.triggered.connect(c.actual_size)
        self.actionRun.triggered.connect(self.run)
        self.actionCancel.triggered.connect(self.cancel_current)

        c.toolChanged.connect(self._tool_changed)
        c.brushSizeChanged.connect(self.size_spin.setValue)
        c.brushHardnessChanged.connect(lambda h: self.hardness_slider.setValue(round(h * 100)))
        c.maskChanged.connect(c.clear_preview)
        c.undoStateChanged.connect(self._undo_state)
        c.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        c.imageDropped.connect(self.open_image)
        self.size_spin.valueChanged.connect(c.set_brush_size)
        self.hardness_slider.valueChanged.connect(lambda v: c.set_brush_hardness(v / 100))
        self.opacity_slider.valueChanged.connect(lambda v: c.set_mask_opacity(v / 100))

        self.prompt.runRequested.connect(self.run)
        self.prompt.cancelRequested.connect(self.cancel_current)
        self.prompt.finalizeRequested.connect(self.finalize_at_high)
        self.prompt.cutoutRequested.connect(images.cutout_offer)
        self._bind_document()
        self.tray.useCurrentRequested.connect(images.use_current_as_reference)
        self.tray.refused.connect(lambda msg: self.statusBar().showMessage(msg, 8000))

        self.job_feedback = JobFeedback(self)
        self.images.opened.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.images.failed.connect(self._load_failed)
        self.versions.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.versions.failed.connect(self.prompt.set_error)
        self.versions.runRequested.connect(self.run)
        self.jobs.busyChanged.connect(self.prompt.set_busy)
        self.jobs_view.cancelJob.connect(self.jobs.cancel)
        self.jobs_view.retryJob.connect(self._retry_ticket)

        self.history.versionActivated.connect(self.show_version)
        self.history.continueRequested.connect(self.continue_from)
        self.history.restoreInputsRequested.connect(self.restore_inputs)
        self.history.rerunRequested.connect(self.rerun)
        self.history.compareRequested.connect(versions.compare_with_parent)
        self.history.rerunWithChanges.connect(self.rerun_with_changes)
        self.history.compareRequested2.connect(lambda a, b: open_compare_dialog(self, self.store, a, b))
        self.history.exportRequested.connect(exports.export_version)
        self.history.exportBranchRequested.connect(
            lambda v: bundle_actions.export_branch_dialog(self, self.store, v, self._bundle_done, self._last_dir()))
        self.history.projectChanged.connect(self._project_changed)
        self.actionLedger.triggered.connect(self.open_ledger)
        self.actionProjects.triggered.connect(self.history.open_projects_dialog)
        self.actionImportBundle.triggered.connect(
            lambda: bundle_actions.import_bundle_dialog(self, self.store, self._bundle_done, self._last_dir()))

    # ------------------------------------------------------------------ state
    def _restore_layout(self) -> None:
        geometry = WINDOW_GEOMETRY.read(self.settings)
        state = WINDOW_STATE.read(self.settings)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        else:
            self.resizeDocks([self.left_dock, self.side_dock], [340, 380], Qt.Orientation.Horizontal)
        last = LAST_PROMPT_SETTINGS.read(self.settings)
        if isinstance(last, str) and last:
            try:
                self.prompt.apply_settings(PromptSettings.from_dict(json.loads(last)))
            except (TypeError, ValueError):
                pass  # settings from an incompatible version: start from the defaults

    def save_layout(self) -> None:
        WINDOW_GEOMETRY.write(self.settings, self.saveGeometry())
        WINDOW_STATE.write(self.settings, self.saveState())
        LAST_PROMPT_SETTINGS.write(self.settings, json.dumps(self.document.settings().to_dict()))
        self.settings.sync()

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
        doc.imageChanged.connect(lambda: self.result_strip.setVisible(False) if not doc.has_image() else None)
        doc.projectChanged.connect(lambda _name: self._update_totals())

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
            self.mask_hint.setText("No image: Run generates a new one from your prompt.")
        elif has_mask:
            self.mask_hint.setText("Masked edit: only the painted area changes.")
        else:
            self.mask_hint.setText("No mask: Run edits the whole image. Paint to limit the change.")
        for action in (self.actionExpandCanvas, self.actionCutout, self.actionUseAsReference, self.actionExport):
            action.setEnabled(has_image)

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
        text = f"{totals.images} images · {totals.credits:,} credits · ${totals.cost_usd:.2f}"
        if self.project and self.project != "Default":
            mine = self.store.usage_totals(project=self.project)
            text = f"{self.project}: {mine.credits:,} credits · ${mine.cost_usd:.2f}   |   All: {text}"
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

        dialog = LedgerDialog(self.store, self)
        dialog.view.budgetsChanged.connect(self._update_totals)
        dialog.exec()

    def _undo_state(self, can_undo: bool, can_redo: bool) -> None:
        self.actionUndo.setEnabled(can_undo)
        self.actionRedo.setEnabled(can_redo)

    def _tool_changed(self, tool) -> None:
        mapping = {Tool.BRUSH: self.actionBrush, Tool.ERASER: self.actionEraser, Tool.RECT: self.actionRect,
                   Tool.LASSO: self.actionLasso}
        for t, action in mapping.items():
            action.setChecked(t == tool)

    def _mask_amount(self, title: str, label: str, apply: Callable[[int], None]) -> None:
        value, ok = QInputDialog.getInt(self, title, f"{label} (pixels):", 8, 1, 500)
        if ok:
            apply(value)

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
        self.result_strip.setVisible(False)
        self.images.open_file(path, version_id)

    def _load_failed(self, message: str) -> None:
        self.prompt.set_error(message)
        self.statusBar().clearMessage()

    def new_image(self) -> None:
        self.document.new_image()
        self.result_strip.setVisible(False)

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
        self.bottom_tabs.setCurrentWidget(self.jobs_view)
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
