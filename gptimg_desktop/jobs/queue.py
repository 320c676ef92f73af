"""The editor's job queue: one worker thread runs jobs in order and reports through queued Qt signals.

Widgets never touch the pipeline: they submit a JobSpec, get a ticket, and observe signals.
All network, encoding and disk work (including decoding previews to QImage, with Pillow so the GIL is
free meanwhile) happens on the worker thread; the GUI thread only receives finished objects.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core.errors import InputImageError, RequestRefused
from ..provider.client import CancelToken
from ..provider.errors import ProviderError
from ..provider.events import PartialImage
from ..store.history import Job, Version
from .pipeline import JobListener, JobOutcome, JobPipeline, JobSpec
from .qimage_decoding import decode_qimage

log = logging.getLogger("gptimg.jobs")


@dataclass
class Ticket:
    id: str
    spec: JobSpec
    cancel: CancelToken = field(default_factory=CancelToken)
    job_id: str | None = None
    state: str = "queued"


@dataclass(frozen=True)
class JobResult:
    """What the GUI needs when a job succeeds: the stored versions and their decoded images."""

    ticket: str
    job_id: str
    versions: list[Version]
    images: list[QImage]
    notes: list[str]
    cost_usd: float
    credits: int
    quality: str


class JobQueue(QObject):
    jobQueued = Signal(str, str, str)  # ticket, title, detail
    jobRecorded = Signal(str, str)  # ticket, history job id
    jobStarted = Signal(str)
    jobStage = Signal(str, str)  # ticket, text
    jobPartial = Signal(str, QImage, int, int)  # ticket, preview, index (0-based), expected count
    jobRetrying = Signal(str, str)  # ticket, message
    jobSucceeded = Signal(str, object)  # ticket, JobResult
    jobFailed = Signal(str, str, bool)  # ticket, message, refused-before-sending
    jobCancelled = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, pipeline_factory, parent: QObject | None = None) -> None:
        """``pipeline_factory()`` returns the JobPipeline to use; called on the worker for each job,
        so provider changes in Settings apply to the next job."""
        super().__init__(parent)
        self._pipeline_factory = pipeline_factory
        self._queue: queue.Queue[Ticket | None] = queue.Queue()
        self._tickets: dict[str, Ticket] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="gptimg-jobs", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ GUI-thread API
    def submit(self, spec: JobSpec) -> str:
        ticket = Ticket(id=uuid.uuid4().hex[:12], spec=spec)
        with self._lock:
            self._tickets[ticket.id] = ticket
        req = spec.request
        title = req.prompt.strip().splitlines()[0][:80] if req.prompt.strip() else "(no prompt)"
        # The request's images are filled in by the worker; the spec says what kind of job this is.
        kind = "masked edit" if spec.mask is not None else "edit" if spec.images else "generate"
        detail = f"{kind} · {req.model} · {req.size} · {req.quality}" + (f" · ×{req.n}" if req.n > 1 else "")
        self.jobQueued.emit(ticket.id, title, detail)
        self._queue.put(ticket)
        self.busyChanged.emit(True)
        return ticket.id

    def cancel(self, ticket_id: str) -> None:
        with self._lock:
            ticket = self._tickets.get(ticket_id)
        if ticket is None:
            return
        ticket.cancel.cancel()
        if ticket.state == "queued":
            ticket.state = "cancelled"
            self.jobCancelled.emit(ticket_id)

    def cancel_all(self) -> None:
        with self._lock:
            ids = list(self._tickets)
        for ticket_id in ids:
            self.cancel(ticket_id)

    def is_busy(self) -> bool:
        with self._lock:
            return any(t.state in ("queued", "running") for t in self._tickets.values())

    def job_id(self, ticket_id: str) -> str | None:
        ticket = self._tickets.get(ticket_id)
        return ticket.job_id if ticket else None

    def shutdown(self, timeout: float = 5.0) -> None:
        self.cancel_all()
        self._queue.put(None)
        self._thread.join(timeout)

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        while True:
            ticket = self._queue.get()
            if ticket is None:
                return
            if ticket.state == "cancelled":
                self._finish(ticket)
                continue
            ticket.state = "running"
            self.jobStarted.emit(ticket.id)
            try:
                self._run(ticket)
            except Exception as exc:  # one error sink: nothing escapes the worker silently
                log.exception("job %s crashed", ticket.id)
                self.jobFailed.emit(ticket.id, f"Unexpected error: {exc}. Your prompt and mask are kept; try again.", False)
            finally:
                self._finish(ticket)

    def _finish(self, ticket: Ticket) -> None:
        if ticket.state in ("queued", "running"):
            ticket.state = "done"
        with self._lock:
            self._tickets.pop(ticket.id, None)
            busy = any(t.state in ("queued", "running") for t in self._tickets.values())
        if not busy:
            self.busyChanged.emit(False)

    def _run(self, ticket: Ticket) -> None:
        try:
            pipeline: JobPipeline = self._pipeline_factory()
        except ProviderError as exc:
            self.jobFailed.emit(ticket.id, exc.user_message, True)
            return
        listener = _SignalListener(self, ticket)
        try:
            outcome = pipeline.run(ticket.spec, listener, ticket.cancel)
        except (RequestRefused, InputImageError) as exc:
            self.jobFailed.emit(ticket.id, str(exc), True)
            return
        if outcome.status == "cancelled":
            ticket.state = "cancelled"
            self.jobCancelled.emit(ticket.id)
            return
        if outcome.status == "failed":
            self.jobFailed.emit(ticket.id, outcome.error or "The job failed.", False)
            return
        self.jobSucceeded.emit(ticket.id, _result(ticket, outcome, pipeline))


def _result(ticket: Ticket, outcome: JobOutcome, pipeline: JobPipeline) -> JobResult:
    images = []
    for version in outcome.versions:
        try:
            images.append(decode_qimage(pipeline.store.root / version.file))
        except (OSError, ValueError):
            images.append(QImage())  # the window falls back to opening the file
    return JobResult(
        ticket=ticket.id,
        job_id=outcome.job.id,
        versions=outcome.versions,
        images=images,
        notes=outcome.notes,
        cost_usd=sum(v.cost_usd for v in outcome.versions),
        credits=sum(v.credits for v in outcome.versions),
        quality=ticket.spec.request.quality,
    )


class _SignalListener(JobListener):
    def __init__(self, jobs: JobQueue, ticket: Ticket) -> None:
        self.jobs = jobs
        self.ticket = ticket

    def job_recorded(self, job: Job) -> None:
        self.ticket.job_id = job.id
        self.jobs.jobRecorded.emit(self.ticket.id, job.id)

    def stage(self, job_id: str, text: str) -> None:
        self.jobs.jobStage.emit(self.ticket.id, text)

    def partial(self, job_id: str, partial: PartialImage, expected: int) -> None:
        try:
            image = decode_qimage(partial.image)
        except (OSError, ValueError):
            return  # a preview that can't be shown is skipped; the final image still comes
        self.jobs.jobPartial.emit(self.ticket.id, image, partial.index, expected)

    def retrying(self, job_id: str, attempt: int, delay: float, error: ProviderError) -> None:
        self.jobs.jobRetrying.emit(self.ticket.id, f"{error.user_message} Retrying in {delay:.0f} s (attempt {attempt + 1}).")
