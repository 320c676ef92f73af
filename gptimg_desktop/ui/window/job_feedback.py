"""What the window shows while jobs run and when they end: the jobs list, previews on the canvas, the result
results grid to pick from (click, 1-9, A/B flicker), the cost, errors in place, and a notification when a long job ends in the background.

``JobFeedback`` listens to the JobQueue for one ``MainWindow``; statuses are ``JobStatus`` values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from ...editor.document import ImageSource
from ...editor.jobs import JobStatus
from ...jobs.queue import JobResult

if TYPE_CHECKING:
    from .main_window import MainWindow

NOTIFY_AFTER_SECONDS = 8.0


class JobFeedback(QObject):
    """The job signals of one ``MainWindow``, turned into what the designer sees."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._strip_images: dict[str, QImage] = {}
        self._tray_icon: QSystemTrayIcon | None = None
        jobs = window.jobs
        jobs.jobQueued.connect(self._job_queued)
        jobs.jobStarted.connect(self._job_started)
        jobs.jobStage.connect(lambda t, text: window.jobs_view.set_status(t, JobStatus.RUNNING, text))
        jobs.jobPartial.connect(self._job_partial)
        jobs.jobRetrying.connect(lambda t, msg: window.jobs_view.set_status(t, JobStatus.RUNNING, msg))
        jobs.jobSucceeded.connect(self._job_succeeded)
        jobs.jobFailed.connect(self._job_failed)
        jobs.jobCancelled.connect(self._job_cancelled)
        window.document.sourceChanged.connect(self._source_changed)

    def _job_queued(self, ticket: str, title: str, detail: str) -> None:
        self.window.jobs_view.add_job(ticket, title, detail)

    def _job_started(self, ticket: str) -> None:
        self.window.jobs_view.set_status(ticket, JobStatus.RUNNING, "Preparing…")
        self.window.jobs_view.set_progress(ticket, 0, None)
        self._release_strip_images()

    def _release_strip_images(self) -> None:
        """A new job brings its own results: the earlier ones' pixels (33 MB each at 4K) are let go, except the
        one on the canvas (the document holds it anyway). Choosing another earlier result opens its file."""
        shown = self.window.document.source.version_id
        self._strip_images = {k: v for k, v in self._strip_images.items() if k == shown}

    def _job_partial(self, ticket: str, image: QImage, index: int, expected: int) -> None:
        self.window.canvas.show_preview(image)
        self.window.jobs_view.set_progress(ticket, index + 1, expected or None)
        self.window.jobs_view.set_status(ticket, JobStatus.RUNNING, f"Preview {index + 1}" + (f" of {expected}" if expected else ""))

    def _job_succeeded(self, ticket: str, result: JobResult) -> None:
        self.window.canvas.clear_preview()
        self.window.jobs_view.set_status(ticket, JobStatus.SUCCEEDED, "Done")
        self.window.jobs_view.set_cost(ticket, result.credits, result.cost_usd)
        self.window.prompt.show_actual_cost(result.credits, result.cost_usd)
        self.window.prompt.set_last_run_quality(result.quality)
        # The history first: showing the result selects it there (MainWindow._follow_source), and a history
        # that does not list it yet would reload itself for that, then again here.
        self.window.history.refresh()
        if result.versions:
            first = result.versions[0]
            self._show_result(first.id, str(first.path), result.images[0] if result.images else QImage())
            if self.window.history.current_version_id() != first.id:  # its image opens from the file: not yet shown
                self.window.history.select_version(first.id)
        self._fill_result_strip(result)
        for note in result.notes:
            self.window.statusBar().showMessage(note, 8000)
        self.window._update_totals()
        self._notify_if_background(ticket, "Your image is ready", f"{len(result.versions)} new version(s).")

    def _show_result(self, version_id: str, path: str, image: QImage) -> None:
        if image.isNull():
            self.window.images.open_file(path, version_id, keep_mask=True)
            return
        self.window.document.show_result(image, ImageSource(path=path, version_id=version_id))  # the mask survives

    def _fill_result_strip(self, result: JobResult) -> None:
        self._strip_images = {v.id: img for v, img in zip(result.versions, result.images, strict=False)}
        self.show_results(result)  # the variant grid (issue 11): click, 1-9, A/B flicker

    def result_image(self, version_id: str) -> QImage:
        """The decoded image of a result still in the grid (a null QImage when it was not kept)."""
        return self._strip_images.get(version_id, QImage())

    # ------------------------------------------------------------------ the results grid
    def show_results(self, result: JobResult) -> None:
        """n results: the variant grid under the canvas, the first one chosen; one result needs no grid."""
        w = self.window
        if len(result.versions) < 2:
            self.hide_results()
            return
        w.result_strip.set_results([(v.id, str(v.path), img)
                                    for v, img in zip(result.versions, result.images, strict=False)],
                                   result.thumbnails)
        w.results.set_count(len(result.versions))
        w.results.setVisible(True)
        for i, action in enumerate(w._result_keys):
            action.setEnabled(i < len(result.versions))
        w.actionFlicker.setEnabled(True)
        w.canvas_splitter.setSizes([max(200, w.canvas_splitter.height() - 260), 260])

    def hide_results(self) -> None:
        w = self.window
        w.result_strip.stop_flicker()
        w.results.setVisible(False)
        for action in w._result_keys:
            action.setEnabled(False)
        w.actionFlicker.setChecked(False)
        w.actionFlicker.setEnabled(False)  # A/B needs two results to flick between

    def _source_changed(self) -> None:
        # The grid is for choosing between the last run's results: another version or file on the canvas ends it.
        shown = self.window.document.source.version_id
        grid = self.window.result_strip
        if self.window.results.isVisible() and all(
                (item := grid.item(i)) is None or item.data(Qt.ItemDataRole.UserRole)[0] != shown
                for i in range(grid.count())):
            self.hide_results()

    def _result_at(self, index: int) -> tuple[str, str, QImage] | None:
        item = self.window.result_strip.item(index)
        if item is None:
            return None
        version_id, path = item.data(Qt.ItemDataRole.UserRole)
        return version_id, path, self.result_image(version_id)

    def pick_result(self, index: int) -> None:
        """A result chosen in the grid (click or 1-9) goes on the canvas and is selected in the history."""
        chosen = self._result_at(index)
        if chosen is None:
            return
        version_id, path, image = chosen
        self._show_result(version_id, path, image)
        self.window.history.select_version(version_id)

    def flicker_frame(self, index: int) -> None:
        """A/B flicker: the other result shows as a preview over the chosen one."""
        chosen = self._result_at(index)
        if chosen is None:
            return
        if index == self.window.result_strip.current_index() or chosen[2].isNull():
            self.window.canvas.clear_preview()
        else:
            self.window.canvas.show_preview(chosen[2])

    def _job_failed(self, ticket: str, message: str, refused: bool) -> None:
        # A stream cut mid-way leaves its last preview on the canvas: the user still sees what arrived.
        # It is cleared by the next run, by opening an image, or by a mask edit.
        if self.window.canvas.has_preview():
            self.window.statusBar().showMessage("The last preview that arrived is shown; it was not saved as a version.", 10000)
        self.window.jobs_view.set_status(ticket, JobStatus.FAILED, "Refused" if refused else "Failed")
        self.window.jobs_view.set_error(ticket, message)
        self.window.prompt.set_error(message)
        self.window.history.refresh()  # a cut stream may have kept the images that finished before the cut
        self.window._update_totals()
        self._notify_if_background(ticket, "A job failed", message)

    def _job_cancelled(self, ticket: str) -> None:
        self.window.canvas.clear_preview()
        self.window.jobs_view.set_status(ticket, JobStatus.CANCELLED, "Cancelled")

    def _notify_if_background(self, ticket: str, title: str, text: str) -> None:
        running_for = self.window.job_book.seconds_running(ticket)
        if running_for is None or running_for < NOTIFY_AFTER_SECONDS or self.window.isActiveWindow():
            return
        QApplication.alert(self.window)
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self._tray_icon is None:
                self._tray_icon = QSystemTrayIcon(self.window.windowIcon(), self.window)
                self._tray_icon.show()
            self._tray_icon.showMessage(title, text)
