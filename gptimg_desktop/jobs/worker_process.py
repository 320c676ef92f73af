"""The job worker process: runs the whole pipeline (HTTP, SSE, base64, decoding, blend-back, files, history)
away from the editor's interpreter, so none of it can stall the window or crash it.

``worker_main`` is the process's entry point (started with the spawn method by jobs/worker_handle.py). Its
main thread runs one job at a time from the job pipe; a control thread reads cancels from the control
pipe and ends the process when that pipe closes, i.e. when the editor is gone, so a worker never outlives
the app. Every message it sends is one of jobs/worker_protocol.py's.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from PIL import Image

from ..core.errors import InputImageError, RequestRefused
from ..provider.client import CancelToken, ImagesClient
from ..provider.errors import ProviderError
from ..provider.events import PartialImage
from ..store.history import HistoryStore, Job, Version
from . import worker_protocol as wp
from .pipeline import JobListener, JobPipeline, recover_paid_answers

log = logging.getLogger("gptimg.jobs.worker")

WORKER_NICENESS = 5  # how much lower than the editor the worker runs (POSIX nice increment)


def worker_main(jobs: Connection, control: Connection, frames_dir: str, own_process: bool = True) -> None:
    """Serve jobs until the job pipe closes; exit at once when the control pipe closes (the editor died)."""
    if own_process:
        logging.basicConfig(level=logging.WARNING, format="gptimg worker: %(name)s: %(message)s")
        _yield_to_the_editor()
    worker = _Worker(jobs, Path(frames_dir))
    threading.Thread(target=_control_loop, args=(control, worker, own_process), name="gptimg-worker-control",
                     daemon=True).start()
    try:
        while True:
            try:
                message = wp.receive_message(jobs)
            except (EOFError, OSError):
                return
            worker.handle(message)
            del message  # the spec holds the canvas pixels: let them go before waiting for the next job
    finally:
        worker.close()


def _yield_to_the_editor() -> None:
    """Run below the editor's priority: on a busy machine the window gets the CPU first, jobs take the rest."""
    try:
        if sys.platform == "win32":
            import ctypes

            below_normal = 0x4000  # BELOW_NORMAL_PRIORITY_CLASS
            ctypes.windll.kernel32.SetPriorityClass(ctypes.windll.kernel32.GetCurrentProcess(), below_normal)
        else:
            os.nice(WORKER_NICENESS)
    except (OSError, AttributeError):
        pass  # not allowed or not available: run at the editor's priority


def _control_loop(control: Connection, worker: _Worker, own_process: bool) -> None:
    while True:
        try:
            message = control.recv()
        except (EOFError, OSError):
            if own_process:
                os._exit(0)  # the editor is gone (closed or crashed): nobody is left to report to
            return
        if isinstance(message, wp.CancelJob):
            worker.cancel(message.ticket)


class _Worker:
    def __init__(self, jobs: Connection, frames: Path) -> None:
        self.jobs = jobs
        self.frames = frames
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._current: tuple[str, CancelToken] | None = None
        self._cancelled: set[str] = set()  # cancels that arrived before their job did (two pipes, no order)
        self._setup: wp.WorkerSetup | None = None
        self._pipeline: JobPipeline | None = None

    # ------------------------------------------------------------------ plumbing
    def send(self, message: object) -> None:
        with self._send_lock:
            self.jobs.send(message)

    def cancel(self, ticket: str) -> None:
        with self._lock:
            current = self._current
            if current is not None and current[0] == ticket:
                token = current[1]
            else:
                self._cancelled.add(ticket)
                return
        token.cancel()  # shuts the request's socket down: even a silent server stops the job at once

    def pipeline(self, setup: wp.WorkerSetup) -> JobPipeline:
        """One store and client per setup; a changed provider (Settings) gets new ones."""
        if self._pipeline is None or setup != self._setup:
            self.close()
            store = HistoryStore(Path(setup.store_root))
            self._pipeline = JobPipeline(store, ImagesClient(setup.config), setup.prices)
            self._setup = setup
        return self._pipeline

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.client.close()
            self._pipeline.store.close()
            self._pipeline = None

    # ------------------------------------------------------------------ jobs
    def handle(self, message: object) -> None:
        if isinstance(message, wp.RunJob):
            self._run(message)
        elif isinstance(message, wp.RecoverJob):
            self._recover(message)

    def _run(self, message: wp.RunJob) -> None:
        ticket = message.ticket
        token = CancelToken()
        with self._lock:
            if ticket in self._cancelled:
                self._cancelled.discard(ticket)
                token.cancel()
            self._current = (ticket, token)
        try:
            self.send(self._outcome(message, token))
        except Exception as exc:  # one error sink: nothing escapes the worker silently
            log.exception("job %s crashed", ticket)
            self.send(wp.Failed(ticket, f"Unexpected error: {exc}. Your prompt and mask are kept; try again.", False))
        finally:
            with self._lock:
                self._current = None

    def _outcome(self, message: wp.RunJob, token: CancelToken) -> object:
        ticket = message.ticket
        try:
            pipeline = self.pipeline(message.setup)
        except ProviderError as exc:
            return wp.Failed(ticket, exc.user_message, True)
        listener = _Listener(self, ticket)
        try:
            outcome = pipeline.run(message.spec, listener, token)
        except (RequestRefused, InputImageError) as exc:
            return wp.Failed(ticket, str(exc), True)
        finally:
            listener.previews.close(drain=not token.cancelled)  # nothing of this job may follow its end
        if outcome.status == "cancelled":
            return wp.Cancelled(ticket)
        if outcome.status == "failed":
            return wp.Failed(ticket, outcome.error or "The job failed.", False)
        return self._succeeded(ticket, outcome.job.id, outcome.versions, outcome.notes, pipeline.store, listener.frames)

    def _recover(self, message: wp.RecoverJob) -> None:
        store: HistoryStore | None = None
        versions: list[Version] = []
        try:
            store = self.pipeline(message.setup).store
            recover_paid_answers(store, message.setup.prices)
            versions = store.versions_for_job(message.job_id)
        except Exception:  # the answer stays on disk for the next start
            log.exception("finishing job %s from its saved answer failed", message.job_id)
        if store is not None and versions:
            note = "The worker stopped while saving the answer; it was finished from the copy kept on disk."
            self.send(self._succeeded(message.ticket, message.job_id, versions, [note], store))
        else:
            self.send(wp.Failed(message.ticket, _CRASH_AFTER_PAID, False))

    def _succeeded(
        self, ticket: str, job_id: str, versions: list[Version], notes: list[str], store: HistoryStore,
        ready: dict[int, wp.RawFrame] | None = None,
    ) -> wp.Succeeded:
        """``ready``: frames already written from the pixels the pipeline had in memory, by image index."""
        frames: list[wp.RawFrame | None] = []
        for index, version in enumerate(versions):
            if ready and index in ready:
                frames.append(ready[index])
                continue
            try:
                with Image.open(store.root / version.file) as im:
                    frames.append(wp.write_frame(im, self.frames))
            except (OSError, ValueError, Image.DecompressionBombError):
                frames.append(None)  # the window falls back to opening the file
        return wp.Succeeded(ticket, job_id, versions, frames, list(notes))


_CRASH_AFTER_PAID = ("The answer arrived, but the app's worker stopped while reading it; the answer is kept on disk "
                     "and will be tried again at the next start.")


class _Listener(JobListener):
    def __init__(self, worker: _Worker, ticket: str) -> None:
        self.worker = worker
        self.ticket = ticket
        self.frames: dict[int, wp.RawFrame] = {}
        self.previews = _PreviewPump(worker, ticket)

    def result_pixels(self, job_id: str, index: int, pixels: Image.Image) -> None:
        try:
            self.frames[index] = wp.write_frame(pixels, self.worker.frames)
        except (OSError, ValueError):
            pass  # written from the stored file instead

    def job_recorded(self, job: Job) -> None:
        self.worker.send(wp.Recorded(self.ticket, job.id))

    def stage(self, job_id: str, text: str) -> None:
        if text.startswith("Saving"):  # the answer is in: no preview may compete with saving and showing it
            self.previews.close(wait=False)
        self.worker.send(wp.Stage(self.ticket, text))

    def partial(self, job_id: str, partial: PartialImage, expected: int) -> None:
        self.previews.offer(partial, expected)  # decoded on the pump's thread: the stream keeps being read

    def retrying(self, job_id: str, attempt: int, delay: float, error: ProviderError) -> None:
        self.worker.send(wp.Retrying(
            self.ticket, f"{error.user_message} Retrying in {delay:.0f} s (attempt {attempt + 1})."))


PREVIEW_MAX_SIDE = 2048  # previews are shown fitted in the window: a 4K one would be 33 MB to hand over and draw


class _PreviewPump:
    """Decodes previews on a thread of its own, newest first: a preview still waiting when a newer one arrives is
    dropped. Decoding a 4K PNG takes longer than the gap between partial images, so doing it on the thread that
    reads the stream would hold the stream (and the job) back."""

    def __init__(self, worker: _Worker, ticket: str) -> None:
        self.worker = worker
        self.ticket = ticket
        self._cond = threading.Condition()
        self._pending: tuple[PartialImage, int] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def offer(self, partial: PartialImage, expected: int) -> None:
        with self._cond:
            if self._closed:
                return
            self._pending = (partial, expected)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gptimg-previews", daemon=True)
                self._thread.start()
            self._cond.notify()

    def close(self, wait: bool = True, drain: bool = False) -> None:
        """Take no more previews. ``drain``: still show the one waiting (a cut stream leaves its last preview on
        screen), else drop it. ``wait``: until the thread is done, so nothing follows the job's end."""
        with self._cond:
            self._closed = True
            if not drain:
                self._pending = None
            self._cond.notify()
        if wait and self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._pending is None:
                    return
                (partial, expected), self._pending = self._pending, None
            frame = _preview_frame(partial.image, self.worker.frames)
            if frame is not None:
                self.worker.send(wp.Preview(self.ticket, frame, partial.index, expected))


def _preview_frame(data: bytes, folder: Path) -> wp.RawFrame | None:
    import io

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            factor = -(-max(im.size) // PREVIEW_MAX_SIDE)  # ceil: 4K previews are handed over at half size
            return wp.write_frame(im.reduce(factor) if factor > 1 else im, folder)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a preview that can't be shown is skipped; the final image still comes
