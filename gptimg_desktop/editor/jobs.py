"""The one job model of the editor: every job this window sent, its status, and what to retry or cancel.

It listens to the JobQueue and keeps one ``TrackedJob`` per ticket, so the window, the jobs list and the
notifications read the same status (a ``JobStatus``, never a bare string) instead of keeping copies.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..jobs.pipeline import JobSpec
from ..jobs.queue import JobQueue


class JobStatus(enum.StrEnum):
    """A job's status; the values are the ones history.db keeps."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass
class TrackedJob:
    ticket: str
    spec: JobSpec | None  # kept while it may be retried; released once the job succeeded
    status: JobStatus = JobStatus.QUEUED
    started_at: float | None = None  # time.monotonic() when it started running


class JobBook(QObject):
    """The jobs of one editor window, by ticket, in submission order."""

    statusChanged = Signal(str, str)  # ticket, JobStatus value

    def __init__(self, queue: JobQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._jobs: dict[str, TrackedJob] = {}
        queue.jobStarted.connect(lambda t: self._set(t, JobStatus.RUNNING))
        queue.jobSucceeded.connect(lambda t, _r: self._set(t, JobStatus.SUCCEEDED))
        queue.jobFailed.connect(lambda t, _m, _refused: self._set(t, JobStatus.FAILED))
        queue.jobCancelled.connect(lambda t: self._set(t, JobStatus.CANCELLED))

    def submit(self, spec: JobSpec) -> str:
        ticket = self.queue.submit(spec)
        # The queue may already have reported the ticket (a refusal is emitted before submit returns).
        job = self._jobs.setdefault(ticket, TrackedJob(ticket, spec))
        if job.status != JobStatus.SUCCEEDED:
            job.spec = spec
        return ticket

    def get(self, ticket: str) -> TrackedJob | None:
        return self._jobs.get(ticket)

    def status(self, ticket: str) -> JobStatus | None:
        job = self._jobs.get(ticket)
        return job.status if job is not None else None

    def running(self) -> str | None:
        """The ticket of the job being sent now (the oldest one running), or None."""
        return next((t for t, j in self._jobs.items() if j.status == JobStatus.RUNNING), None)

    def cancel_current(self) -> str | None:
        """Cancel the running job (not the newest one queued); returns its ticket."""
        ticket = self.running()
        if ticket is None:  # nothing sent yet: the next one waiting is what "current" means
            ticket = next((t for t, j in self._jobs.items() if j.status == JobStatus.QUEUED), None)
        if ticket is not None:
            self.queue.cancel(ticket)
        return ticket

    def retry(self, ticket: str) -> str | None:
        job = self._jobs.get(ticket)
        if job is None or job.spec is None or job.status.active:
            return None
        return self.submit(job.spec)

    def seconds_running(self, ticket: str) -> float | None:
        job = self._jobs.get(ticket)
        if job is None or job.started_at is None:
            return None
        return time.monotonic() - job.started_at

    def _set(self, ticket: str, status: JobStatus) -> None:
        job = self._jobs.get(ticket)
        if job is None:
            job = self._jobs[ticket] = TrackedJob(ticket, None)
        job.status = status
        if status == JobStatus.RUNNING:
            job.started_at = time.monotonic()
        elif status == JobStatus.SUCCEEDED:
            job.spec = None  # its inputs (4K arrays) are in the history now; nothing to retry
        self.statusChanged.emit(ticket, status.value)
