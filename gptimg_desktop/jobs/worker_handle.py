"""The editor's side of one job worker process: start it (spawn, as on Windows and macOS), talk to it, end it.

Qt-free. The worker gets two pipes: jobs (both ways) and control (cancels; when it closes, the worker exits
at once, so a worker never outlives the editor even after a crash). Frames (decoded pixels) come through a
folder of this process's making, removed when the worker ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path

from . import worker_protocol as wp
from .worker_process import worker_main


class WorkerDied(RuntimeError):
    """The worker process ended (crashed or was killed) while it was being waited on."""


FRAMES_PREFIX = "gptimg-frames-"


def sweep_stale_frames(temp_dir: str | None = None) -> int:
    """Remove the frames folders of editors that are gone (killed or crashed before they could clean up).

    A folder is named after its editor's pid; it is stale when that process no longer runs. Checked on POSIX
    only (os.kill(pid, 0) would signal on Windows); elsewhere the OS's temp cleaning has to do. Returns how many
    folders were removed.
    """
    if os.name != "posix":
        return 0
    removed = 0
    root = Path(temp_dir or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            if not entry.name.startswith(FRAMES_PREFIX):
                continue
            pid_text = entry.name[len(FRAMES_PREFIX):].split("-", 1)[0]
            if not pid_text.isdigit() or not entry.is_dir():
                continue
            try:
                os.kill(int(pid_text), 0)
                continue  # its editor still runs
            except ProcessLookupError:
                pass
            except OSError:
                continue  # another user's process: not ours to judge
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


class WorkerHandle:
    """``in_process``: run the worker in a thread of this process instead (GPTIMG_JOBS_IN_PROCESS=1): for
    debugging with breakpoints, and for tests that patch the pipeline. Same messages, no crash isolation."""

    def __init__(self, in_process: bool = False) -> None:
        sweep_stale_frames()
        self.frames_dir = Path(tempfile.mkdtemp(prefix=f"{FRAMES_PREFIX}{os.getpid()}-"))
        self._send_lock = threading.Lock()
        self._control_lock = threading.Lock()
        if in_process:
            self._jobs, child_jobs = multiprocessing.Pipe(duplex=True)
            child_control, self._control = multiprocessing.Pipe(duplex=False)
            self._process: BaseProcess | threading.Thread = threading.Thread(
                target=worker_main, args=(child_jobs, child_control, str(self.frames_dir), False),
                name="gptimg-job-worker", daemon=True)
            self._process.start()
            return
        ctx = multiprocessing.get_context("spawn")  # fork would copy Qt's threads and locks: never safe here
        self._jobs, child_jobs = ctx.Pipe(duplex=True)
        child_control, self._control = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=worker_main, args=(child_jobs, child_control, str(self.frames_dir)), name="gptimg-job-worker",
            daemon=True,
        )
        self._process.start()
        child_jobs.close()  # only the worker holds these ends now: its death closes them
        child_control.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if isinstance(self._process, BaseProcess) else os.getpid()

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def send(self, message: wp.RunJob | wp.RecoverJob) -> None:
        try:
            with self._send_lock:
                wp.send_message(self._jobs, message)
        except (OSError, ValueError) as exc:
            raise WorkerDied(str(exc)) from None

    def cancel(self, ticket: str) -> None:
        """Ask the worker to stop ``ticket`` (cheap and non-blocking enough for the GUI thread)."""
        with contextlib.suppress(OSError, ValueError), self._control_lock:
            self._control.send(wp.CancelJob(ticket))

    def receive(self, timeout: float) -> object | None:
        """The worker's next message, or None when none came within ``timeout``; WorkerDied when it is gone."""
        try:
            if not self._jobs.poll(timeout):
                if not self._process.is_alive():
                    raise WorkerDied("the worker process ended")
                return None
            return self._jobs.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(str(exc) or "the worker process ended") from None

    def stop(self, timeout: float = 5.0) -> None:
        """Close the pipes (the worker exits by itself), then make sure it did; remove the frames folder."""
        for conn in (self._jobs, self._control):
            with contextlib.suppress(OSError):
                conn.close()
        self._process.join(timeout)
        if self._process.is_alive():
            self.kill()
            return
        shutil.rmtree(self.frames_dir, ignore_errors=True)

    def kill(self) -> None:
        """End the worker now (a job that will not stop, or the editor closing); reaps it."""
        if isinstance(self._process, BaseProcess):
            with contextlib.suppress(OSError, AttributeError):
                self._process.kill()
        for conn in (self._jobs, self._control):
            with contextlib.suppress(OSError):
                conn.close()
        self._process.join(5)
        shutil.rmtree(self.frames_dir, ignore_errors=True)

