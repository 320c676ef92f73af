"""How the window's parts are wired: actions to the document and controllers, widgets to the document, the job
queue to the job feedback. Widgets never talk to each other; everything goes through here or the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from ..canvas.compare_view import open_compare_dialog
from ..ledger import bundle_actions

if TYPE_CHECKING:
    from .main_window import MainWindow


def connect_window(self: MainWindow) -> None:
    c = self.canvas
    versions, images, exports = self.version_actions, self.image_actions, self.export_actions
    self.actionOpen.triggered.connect(self.open_image_dialog)
    self.actionExport.triggered.connect(exports.export_dialog)
    self.actionNew.triggered.connect(self.new_image)
    self.actionQuit.triggered.connect(self.close)
    self.actionSettings.triggered.connect(self.open_settings)
    self.actionUndo.triggered.connect(c.undo)
    self.actionRedo.triggered.connect(c.redo)
    self.actionInvertMask.triggered.connect(c.invert_mask)
    self.actionClearMask.triggered.connect(c.clear_mask)
    self.actionFillMask.triggered.connect(c.fill_all)
    self.actionGrowMask.triggered.connect(lambda: self._mask_amount("Grow Mask", "Grow by", "grow"))
    self.actionShrinkMask.triggered.connect(lambda: self._mask_amount("Shrink Mask", "Shrink by", "shrink"))
    self.actionFeatherMask.triggered.connect(lambda: self._mask_amount("Feather Mask", "Feather radius", "feather"))
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
    self.actionCancel.setEnabled(False)  # until a job runs: Esc then goes to the canvas (it ends a lasso)
    self.jobs.busyChanged.connect(self.actionCancel.setEnabled)

    c.toolChanged.connect(self._tool_changed)
    c.brushSizeChanged.connect(self.size_spin.setValue)
    c.brushHardnessChanged.connect(lambda h: self.hardness_slider.setValue(round(h * 100)))
    c.maskChanged.connect(c.clear_preview)
    c.undoStateChanged.connect(self._undo_state)
    c.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
    c.imageDropped.connect(self.open_image)
    bar = self.context_bar
    bar.brushSizeChanged.connect(c.set_brush_size)
    bar.hardnessChanged.connect(lambda v: c.set_brush_hardness(v / 100))
    bar.maskOpacityChanged.connect(lambda v: c.set_mask_opacity(v / 100))
    bar.maskColorChanged.connect(c.set_mask_color)
    bar.maskDisplayChanged.connect(c.set_mask_display)
    bar.selectionModeChanged.connect(c.set_selection_mode)
    bar.toleranceChanged.connect(c.set_pick_tolerance)
    bar.contiguousChanged.connect(c.set_pick_contiguous)
    c.selectionModeChanged.connect(bar.set_selection_mode)
    c.maskColorChanged.connect(bar.set_mask_color)
    c.maskDisplayChanged.connect(bar.set_display)
    c.maskDisplayChanged.connect(lambda mode: self.actionToggleMask.setChecked(mode != "hidden"))
    c.set_pick_tolerance(bar.tolerance.value())
    self.actionSelectAdd.triggered.connect(lambda: c.set_selection_mode("add"))
    self.actionSelectSubtract.triggered.connect(lambda: c.set_selection_mode("subtract"))
    self.actionTogglePanels.triggered.connect(self.panel_toggle.toggle)
    self.actionResetLayout.triggered.connect(self.reset_layout)
    self.actionCopyImage.triggered.connect(self.copy_image)
    self.actionFocusPrompt.triggered.connect(self._focus_prompt)
    self.actionFocusHistory.triggered.connect(self._focus_history)
    self.actionFocusResults.triggered.connect(self._focus_results)
    self.actionFocusCanvas.triggered.connect(lambda: c.setFocus(Qt.FocusReason.ShortcutFocusReason))
    self.actionFlicker.setEnabled(False)  # until a run brings two or more results
    self.actionFlicker.toggled.connect(self.result_strip.set_flicker)
    self.result_strip.flickerChanged.connect(self.actionFlicker.setChecked)
    self.result_strip.flickerFrame.connect(self.job_feedback.flicker_frame)
    self.result_strip.chosen.connect(self.job_feedback.pick_result)

    self.prompt.runRequested.connect(self.run)
    self.prompt.cancelRequested.connect(self.cancel_current)
    self.prompt.finalizeRequested.connect(self.finalize_at_high)
    self.prompt.cutoutRequested.connect(images.cutout_offer)
    self._bind_document()
    self.tray.useCurrentRequested.connect(images.use_current_as_reference)
    self.tray.refused.connect(lambda msg: self.statusBar().showMessage(msg, 8000))

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
