"""The editor's job queue: jobs run one at a time in a worker PROCESS and report through queued Qt signals.

Widgets never touch the pipeline: they submit a JobSpec, get a ticket, and observe signals.
The whole pipeline (HTTP, SSE parsing, base64 and image decoding, blend-back, files and history) runs in
jobs/worker_process.py, so none of its long C calls holds this interpreter's GIL and a crash there (a
decoder on hostile data) cannot take the window down. A thread here hands each job over and turns the
worker's typed messages (jobs/worker_protocol.py) into signals; images arrive as raw pixel files that it
reads into QImages, so the GUI thread only ever receives finished objects.

Cancel asks the worker to stop, which shuts the request's socket at once; a worker that does not answer
within CANCEL_GRACE seconds is killed, the job recorded as cancelled, and a new worker started. A worker
that dies mid-job fails that job with one plain sentence (or finishes it from its saved paid answer) and
is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..provider.client import CancelToken
from ..provider.errors import ProviderError
from ..store.history import HistoryStore, Version
from . import worker_protocol as wp
from .pipeline import JobPipeline, JobSpec
from .qimage_decoding import read_frame, result_thumbnail
from .worker_handle import WorkerDied, WorkerHandle

log = logging.getLogger("gptimg.jobs")

IN_PROCESS_ENV = "GPTIMG_JOBS_IN_PROCESS"  # "1": jobs run in a thread of this process (debugging, patched tests)
CANCEL_GRACE = 3.0  # seconds a cancelled job may take to wind down before its worker is killed
WORKER_CRASHED = ("The job stopped because the app's worker process crashed; your prompt, mask and references are "
                  "kept, so you can run it again.")
_POLL = 0.05


@dataclass
class Ticket:
    id: str
    spec: JobSpec | None  # handed to the worker, then released here (it holds the canvas's 4K pixels)
    cancel: CancelToken = field(default_factory=CancelToken)
    job_id: str | None = None
    state: str = "queued"
    quality: str = "auto"


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
    thumbnails: list[QImage] = field(default_factory=list)  # of ``images``, cut on the queue's thread


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

    def __init__(self, pipeline_factory: Callable[[], JobPipeline], parent: QObject | None = None) -> None:
        """``pipeline_factory()`` returns the JobPipeline whose history, provider and prices a job uses; called
        for each job, so provider changes in Settings apply to the next job. The worker process opens its own
        store and client from them."""
        super().__init__(parent)
        self._pipeline_factory = pipeline_factory
        self._queue: queue.Queue[Ticket | None] = queue.Queue()
        self._tickets: dict[str, Ticket] = {}
        self._lock = threading.Lock()
        self._worker: WorkerHandle | None = None
        self._thread = threading.Thread(target=self._work, name="gptimg-jobs", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ GUI-thread API
    def submit(self, spec: JobSpec) -> str:
        req = spec.request
        ticket = Ticket(id=uuid.uuid4().hex[:12], spec=spec, quality=req.quality)
        with self._lock:
            self._tickets[ticket.id] = ticket
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
            was_queued = ticket.state == "queued"
            if was_queued:
                ticket.state = "cancelled"
                ticket.spec = None
            worker = self._worker
        if was_queued:
            self.jobCancelled.emit(ticket_id)
        elif worker is not None:
            worker.cancel(ticket_id)  # the worker shuts the request's socket down at once

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

    def worker_pid(self) -> int | None:
        """The job worker process's id (None before it started): for diagnostics, tests and benchmarks."""
        worker = self._worker
        return worker.pid if worker is not None else None

    def shutdown(self, timeout: float = 5.0) -> None:
        self.cancel_all()
        self._queue.put(None)
        self._thread.join(timeout)
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:  # the thread did not get to stop it in time
            worker.kill()

    # ------------------------------------------------------------------ the hand-over thread
    def _work(self) -> None:
        with contextlib.suppress(Exception):
            self._ensure_worker()  # started now, so the first job does not wait for its interpreter
        while True:
            ticket = self._queue.get()
            if ticket is None:
                break
            with self._lock:
                skip = ticket.state == "cancelled"
                if not skip:
                    ticket.state = "running"
            if skip:
                self._finish(ticket)
                continue
            self.jobStarted.emit(ticket.id)
            try:
                self._run(ticket)
            except Exception as exc:  # one error sink: nothing escapes the thread silently
                log.exception("job %s crashed", ticket.id)
                self.jobFailed.emit(ticket.id, f"Unexpected error: {exc}. Your prompt and mask are kept; try again.", False)
            finally:
                self._finish(ticket)
            del ticket  # nothing of a finished job stays referenced while the next one is awaited
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    def _ensure_worker(self) -> WorkerHandle:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = WorkerHandle(in_process=os.environ.get(IN_PROCESS_ENV) == "1")
            return self._worker

    def _replace_worker(self, kill: bool) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill() if kill else worker.stop(timeout=1.0)
        self._ensure_worker()

    def _finish(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.state in ("queued", "running"):
                ticket.state = "done"
            ticket.spec = None
            self._tickets.pop(ticket.id, None)
            busy = any(t.state in ("queued", "running") for t in self._tickets.values())
        if not busy:
            self.busyChanged.emit(False)

    def _run(self, ticket: Ticket) -> None:
        try:
            pipeline = self._pipeline_factory()
        except ProviderError as exc:
            self.jobFailed.emit(ticket.id, exc.user_message, True)
            return
        setup = wp.WorkerSetup(str(pipeline.store.root), pipeline.client.config, pipeline.prices)
        with self._lock:
            spec, ticket.spec = ticket.spec, None  # the worker gets its own copy; this one is let go now
        if spec is None:  # cancelled meanwhile
            ticket.state = "cancelled"
            self.jobCancelled.emit(ticket.id)
            return
        worker = self._ensure_worker()
        try:
            worker.send(wp.RunJob(ticket.id, spec, setup))
        except WorkerDied:
            del spec
            self._crashed(ticket, setup, pipeline.store)
            return
        del spec
        if ticket.cancel.cancelled:  # cancelled while it was being handed over
            worker.cancel(ticket.id)
        self._follow(ticket, worker, setup, pipeline.store)

    def _follow(self, ticket: Ticket, worker: WorkerHandle, setup: wp.WorkerSetup, store: HistoryStore,
                recovering: bool = False) -> None:
        """Turn the worker's messages about ``ticket`` into signals until its terminal message."""
        cancelled_at: float | None = None
        while True:
            if ticket.cancel.cancelled and cancelled_at is None:
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE:
                log.warning("job %s did not stop within %.0f s of its cancel: ending its worker", ticket.id,
                            CANCEL_GRACE)
                self._replace_worker(kill=True)
                self._record_cancelled(store, ticket)
                return
            try:
                message = worker.receive(_POLL)
            except WorkerDied:
                if recovering:
                    self.jobFailed.emit(ticket.id, _CRASHED_AFTER_PAID, False)
                    self._replace_worker(kill=True)
                else:
                    self._crashed(ticket, setup, store)
                return
            if message is not None and getattr(message, "ticket", None) == ticket.id:
                if self._deliver(ticket, message):
                    return

    def _deliver(self, ticket: Ticket, message: object) -> bool:
        """Emit the signal for one message; True when it ended the job."""
        if isinstance(message, wp.Recorded):
            ticket.job_id = message.job_id
            self.jobRecorded.emit(ticket.id, message.job_id)
        elif isinstance(message, wp.Stage):
            self.jobStage.emit(ticket.id, message.text)
        elif isinstance(message, wp.Preview):
            image = _read(message.frame)
            if not image.isNull() and not ticket.cancel.cancelled:
                self.jobPartial.emit(ticket.id, image, message.index, message.expected)
        elif isinstance(message, wp.Retrying):
            self.jobRetrying.emit(ticket.id, message.message)
        elif isinstance(message, wp.Succeeded):
            images = [_read(frame) if frame is not None else QImage() for frame in message.frames]
            self.jobSucceeded.emit(ticket.id, JobResult(
                ticket=ticket.id,
                job_id=message.job_id,
                versions=message.versions,
                images=images,
                notes=message.notes,
                cost_usd=sum(v.cost_usd for v in message.versions),
                credits=sum(v.credits for v in message.versions),
                quality=ticket.quality,
                thumbnails=[result_thumbnail(image) for image in images] if len(images) > 1 else [],
            ))
            return True
        elif isinstance(message, wp.Failed):
            self.jobFailed.emit(ticket.id, message.message, message.refused)
            return True
        elif isinstance(message, wp.Cancelled):
            ticket.state = "cancelled"
            self.jobCancelled.emit(ticket.id)
            return True
        return False

    def _crashed(self, ticket: Ticket, setup: wp.WorkerSetup, store: HistoryStore) -> None:
        """The worker died during ``ticket``: replace it; finish the job from its saved answer if it has one."""
        log.error("the job worker died during job %s", ticket.id)
        self._replace_worker(kill=True)
        if ticket.cancel.cancelled:
            self._record_cancelled(store, ticket)
            return
        job = None
        if ticket.job_id is not None:
            try:
                store.interrupt_stale_jobs()  # its worker is gone: the job is interrupted (restorable)
                job = store.get_job(ticket.job_id)
            except Exception:  # the history is still readable next start; the sentence below is what matters
                log.exception("marking the jobs of the dead worker interrupted failed")
        if job is None or not job.response_file:
            self.jobFailed.emit(ticket.id, WORKER_CRASHED, False)
            return
        worker = self._ensure_worker()  # the paid answer is on disk: finish the job from it, once
        try:
            worker.send(wp.RecoverJob(ticket.id, job.id, setup))
        except WorkerDied:
            self.jobFailed.emit(ticket.id, _CRASHED_AFTER_PAID, False)
            return
        self._follow(ticket, worker, setup, store, recovering=True)

    def _record_cancelled(self, store: HistoryStore, ticket: Ticket) -> None:
        if ticket.job_id is not None:
            try:
                store.mark_cancelled(ticket.job_id)
            except Exception:
                log.exception("recording job %s as cancelled failed", ticket.job_id)
        ticket.state = "cancelled"
        self.jobCancelled.emit(ticket.id)


_CRASHED_AFTER_PAID = ("The answer arrived, but the app's worker process stopped while saving it; the answer is kept "
                       "on disk and will be finished at the next start.")


def _read(frame: wp.RawFrame) -> QImage:
    try:
        return read_frame(frame)
    except (OSError, MemoryError, ValueError):
        log.exception("reading a frame from the worker failed")
        return QImage()  # the window falls back to opening the file
