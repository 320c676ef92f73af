"""What the window shows while jobs run and when they end: the jobs list, previews on the canvas, the result
strip to pick from, the cost, errors in place, and a notification when a long job ends in the background.

``JobFeedback`` listens to the JobQueue for one ``MainWindow``; statuses are ``JobStatus`` values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
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
        if result.versions:
            first = result.versions[0]
            self._show_result(first.id, str(first.path), result.images[0] if result.images else QImage())
        self._fill_result_strip(result)
        for note in result.notes:
            self.window.statusBar().showMessage(note, 8000)
        self.window.history.refresh()
        if result.versions:
            self.window.history.select_version(result.versions[0].id)
        self.window._update_totals()
        self._notify_if_background(ticket, "Your image is ready", f"{len(result.versions)} new version(s).")

    def _show_result(self, version_id: str, path: str, image: QImage) -> None:
        if image.isNull():
            self.window.images.open_file(path, version_id, keep_mask=True)
            return
        self.window.document.show_result(image, ImageSource(path=path, version_id=version_id))  # the mask survives

    def _fill_result_strip(self, result: JobResult) -> None:
        self._strip_images = {v.id: img for v, img in zip(result.versions, result.images, strict=False)}
        self.window.show_results(result)  # the variant grid (issue 11): click, 1-9, A/B flicker

    def result_image(self, version_id: str) -> QImage:
        """The decoded image of a result still in the grid (a null QImage when it was not kept)."""
        return self._strip_images.get(version_id, QImage())

    def show_result(self, version_id: str, path: str, image: QImage) -> None:
        self._show_result(version_id, path, image)

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
