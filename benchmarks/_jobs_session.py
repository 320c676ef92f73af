"""One editor session for the job benchmarks, in a fresh interpreter (so its peak memory is the editor's own).

``python -m benchmarks._jobs_session CONFIG_JSON`` starts the photo server (benchmarks/_photo_server.py) in its
own process, opens the real window against it as against a provider, loads the picture, its mask and the
references, then runs masked edits through Run: streamed with partial images, then n images without
streaming. It prints one JSON object: every run's stalls and last-byte-to-canvas time, and the peak resident
memory of this (the GUI) process and of the job worker process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks._util import (
    EDIT_PROMPT,
    REPO_ROOT,
    EditInputs,
    open_edit_window,
    peak_rss_kb,
    probing,
    spin,
    wait_until,
)


class PhotoServer:
    """benchmarks/_photo_server.py in its own process; ``sent`` collects its SENT times (time.monotonic)."""

    def __init__(self, grain: int, delay: float, sizes: list[str], niceness: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._photo_server", str(grain), str(delay), ",".join(sizes), str(niceness)],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.sent: list[float] = []
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("URL "):
            self.proc.kill()
            raise RuntimeError(f"the photo server did not start: {line!r}")
        self.url = line.split()[1]
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("SENT "):
                self.sent.append(float(line.split()[1]))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def vm_hwm_kb(pid: int | None) -> int | None:
    """Peak resident memory (VmHWM) of another process, in kB; None where /proc does not tell."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_once(window: Any, server: PhotoServer, size: str, n: int, stream: bool, partials: int) -> dict[str, Any]:
    """Press Run, wait for the result on the canvas; the run's stalls and its last-byte-to-canvas time."""
    from PySide6.QtCore import QTimer

    from gptimg_desktop.ui.prompt.prompt_panel import PromptSettings

    window.prompt.apply_settings(PromptSettings(prompt=EDIT_PROMPT, size=size, quality="medium", n=n, stream=stream,
                                                partial_images=partials))
    marks: dict[str, Any] = {}

    def succeeded(_ticket: str, result: Any) -> None:  # connected after the window's own slot: it has run
        window.canvas.repaint()  # the result, painted
        marks["canvas"] = time.monotonic()
        marks["images"] = len(result.versions)

    def failed(_ticket: str, message: str, _refused: bool) -> None:
        marks["failed"] = message

    jobs = window.jobs
    jobs.jobSucceeded.connect(succeeded)
    jobs.jobFailed.connect(failed)
    partial_count = [0]
    jobs.jobPartial.connect(lambda *_a: partial_count.__setitem__(0, partial_count[0] + 1))
    sent_before = len(server.sent)
    started = time.monotonic()
    try:
        with probing() as probe:
            QTimer.singleShot(0, window.run)
            wait_until(lambda: "canvas" in marks or "failed" in marks, 600, "the edit to finish")
            spin(0.3)  # what the result triggers after it lands: repaints, history refresh
    finally:
        jobs.jobSucceeded.disconnect(succeeded)
        jobs.jobFailed.disconnect(failed)
    if "failed" in marks:
        raise RuntimeError(f"the edit failed: {marks['failed']}")
    sent = [t for t in server.sent[sent_before:] if t <= marks["canvas"]]
    if not sent:
        raise RuntimeError("the server reported no finished image before the result reached the canvas")
    return {
        "job_s": round(marks["canvas"] - started, 2),
        "last_byte_to_canvas_s": round(marks["canvas"] - sent[-1], 3),
        "images": marks["images"],
        "previews": partial_count[0],
        **probe.summary(),
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    inputs = EditInputs.from_json(cfg["inputs"])
    size, runs = cfg["size"], cfg["runs"]
    server = PhotoServer(cfg["grain"], cfg["delay"], [size], niceness=cfg.get("server_niceness", 0))
    try:
        window: Any = open_edit_window(inputs, environ={"OPENAI_BASE_URL": server.url,
                                                        "OPENAI_API_KEY": "sk-bench-local"})
        wait_until(lambda: window.jobs.worker_pid() is not None, 60, "the job worker to start")
        spin(0.5)  # let the window settle (first paints, thumbnails) and the worker import its modules
        streamed = [run_once(window, server, size, 1, True, cfg["partials"]) for _ in range(runs)]
        batch = [run_once(window, server, size, cfg["n"], False, 0) for _ in range(runs)]
        worker_kb = vm_hwm_kb(window.jobs.worker_pid())
        gui_kb = peak_rss_kb()
        print(json.dumps({"streamed": streamed, "batch": batch, "gui_peak_kb": gui_kb, "worker_peak_kb": worker_kb,
                          "worker_pid": window.jobs.worker_pid(), "gui_pid": os.getpid()}), flush=True)
        window.close()
        window.services.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
