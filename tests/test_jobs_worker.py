"""The job worker process and the demo server process, with real processes, real HTTP and a real history:
jobs run outside the editor's process, cancel stops them (and kills a worker that will not stop), a worker
that dies fails only its job (or finishes it from the paid answer it saved) and is replaced, and neither
child outlives the app.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.devserver.process import DevServerProcess
from gptimg_desktop.jobs import queue as jobs_queue
from gptimg_desktop.jobs.pipeline import CRASH_ENV, JobPipeline, JobSpec
from gptimg_desktop.jobs.queue import WORKER_CRASHED, JobQueue, JobResult
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store.history import HistoryStore
from gptimg_desktop.store.owner import is_alive

TIMEOUT_MS = 120_000  # a new worker process imports its modules first; this machine is often busy


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def make_queue(store, dev_server):
    made: list[JobQueue] = []

    def make() -> JobQueue:
        client = ImagesClient(ProviderConfig(kind="compatible", base_url=dev_server.url, api_key="sk-test-worker-0123"))
        jobs = JobQueue(lambda: JobPipeline(store, client))
        made.append(jobs)
        return jobs

    yield make
    for jobs in made:
        jobs.shutdown()


def _pixels(image: QImage) -> np.ndarray:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4)[..., :3].copy()


def _photo(path: Path, size=(1024, 1024)) -> str:
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return str(path)


def _wait_for_worker(qtbot, jobs: JobQueue) -> int:
    qtbot.waitUntil(lambda: jobs.worker_pid() is not None, timeout=TIMEOUT_MS)
    pid = jobs.worker_pid()
    assert pid is not None
    return pid


def _wait_for_request(qtbot, dev_server) -> None:
    """Until the job's request reached the server (and took the fault queued for it)."""
    qtbot.waitUntil(lambda: any("/images/" in r.path for r in dev_server.requests), timeout=TIMEOUT_MS)


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_alive(pid, None):
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------------------------- the job path


def test_a_streamed_masked_edit_runs_in_the_worker_process_and_arrives_as_pixels(qtbot, make_queue, store, dev_server,
                                                                                 tmp_path):
    jobs = make_queue()
    worker = _wait_for_worker(qtbot, jobs)
    assert worker != os.getpid()
    mask = np.zeros((1024, 1024), np.uint8)
    mask[200:500, 300:700] = 255
    spec = JobSpec(ImageRequest("poppies in the painted area", size="1024x1024", stream=True, partial_images=2),
                   images=(_photo(tmp_path / "photo.png"),), mask=mask, canvas_image=True)
    previews: list[tuple[QImage, int, int]] = []
    jobs.jobPartial.connect(lambda _t, image, index, expected: previews.append((image, index, expected)))
    with qtbot.waitSignal(jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        ticket = jobs.submit(spec)
    assert done.args[0] == ticket
    result: JobResult = done.args[1]
    # Previews are decoded newest first (one still waiting when a newer one comes is dropped): the last one shows.
    assert previews and previews[-1][1:] == (1, 2) and all(p[2] == 2 for p in previews)
    assert all(p[0].size().width() == 1024 for p in previews)
    version = result.versions[0]
    stored = np.asarray(Image.open(store.root / version.file).convert("RGB"))
    assert np.array_equal(_pixels(result.images[0]), stored)  # the frame is the stored file's pixels exactly
    assert store.get_job(result.job_id).status == "succeeded"
    assert [r for r in dev_server.requests if "/images/edits" in r.path]
    assert not list(jobs._worker.frames_dir.iterdir())  # every frame file was read and removed  # type: ignore[union-attr]
    assert jobs.worker_pid() == worker  # one worker serves job after job


def test_a_refused_request_comes_back_inline_and_records_nothing(qtbot, make_queue, store):
    jobs = make_queue()
    with qtbot.waitSignal(jobs.jobFailed, timeout=TIMEOUT_MS) as failed:
        jobs.submit(JobSpec(ImageRequest("x", size="1000x1000")))
    assert failed.args[2] is True and "1000x1000" in failed.args[1]
    assert store.list_jobs() == []


def test_the_queue_lets_go_of_specs_once_the_worker_has_them(qtbot, make_queue):
    jobs = make_queue()
    canvas = np.zeros((512, 512, 3), np.uint8)
    with qtbot.waitSignal(jobs.jobSucceeded, timeout=TIMEOUT_MS):
        jobs.submit(JobSpec(ImageRequest("a lighter sky", size="1024x1024"), images=(canvas,)))
    qtbot.waitUntil(lambda: not jobs.is_busy(), timeout=TIMEOUT_MS)
    assert jobs._tickets == {}
    import gc

    gc.collect()
    held = [o for o in gc.get_objects() if isinstance(o, JobSpec) and any(img is canvas for img in o.images)]
    assert held == []  # nothing holds a finished job's pixels


# ---------------------------------------------------------------------------------------------- cancel


def test_cancel_stops_a_job_in_flight_at_once_and_records_it(qtbot, make_queue, store, dev_server):
    jobs = make_queue()
    dev_server.faults.push(Fault(kind="slow", delay=60))
    with qtbot.waitSignal(jobs.jobStage, timeout=TIMEOUT_MS, check_params_cb=lambda _t, text: text == "Sending…"):
        ticket = jobs.submit(JobSpec(ImageRequest("a slow one", size="1024x1024")))
    started = time.monotonic()
    with qtbot.waitSignal(jobs.jobCancelled, timeout=TIMEOUT_MS) as cancelled:
        jobs.cancel(ticket)
    assert cancelled.args == [ticket]
    assert time.monotonic() - started < jobs_queue.CANCEL_GRACE  # the worker stopped it, nobody had to kill it
    assert store.list_jobs()[0].status == "cancelled"


def test_a_worker_that_does_not_stop_on_cancel_is_killed_and_replaced(qtbot, make_queue, store, dev_server,
                                                                      monkeypatch):
    monkeypatch.setattr(jobs_queue, "CANCEL_GRACE", 0.5)
    jobs = make_queue()
    dev_server.faults.push(Fault(kind="slow", delay=60))
    with qtbot.waitSignal(jobs.jobStage, timeout=TIMEOUT_MS, check_params_cb=lambda _t, text: text == "Sending…"):
        ticket = jobs.submit(JobSpec(ImageRequest("a stuck one", size="1024x1024")))
    stuck = _wait_for_worker(qtbot, jobs)
    _wait_for_request(qtbot, dev_server)
    os.kill(stuck, signal.SIGSTOP)  # a worker that cannot answer, as one stuck in a C call would be
    with qtbot.waitSignal(jobs.jobCancelled, timeout=TIMEOUT_MS):
        jobs.cancel(ticket)
    assert _wait_gone(stuck)
    assert store.list_jobs()[0].status == "cancelled"
    with qtbot.waitSignal(jobs.jobSucceeded, timeout=TIMEOUT_MS):
        jobs.submit(JobSpec(ImageRequest("the next one", size="1024x1024")))
    assert jobs.worker_pid() not in (None, stuck)


# ---------------------------------------------------------------------------------------------- crashes


def test_a_worker_that_dies_mid_job_fails_only_that_job_and_is_replaced(qtbot, make_queue, store, dev_server):
    jobs = make_queue()
    dev_server.faults.push(Fault(kind="slow", delay=60))
    with qtbot.waitSignal(jobs.jobStage, timeout=TIMEOUT_MS, check_params_cb=lambda _t, text: text == "Sending…"):
        jobs.submit(JobSpec(ImageRequest("a doomed one", size="1024x1024")))
    dead = _wait_for_worker(qtbot, jobs)
    _wait_for_request(qtbot, dev_server)
    with qtbot.waitSignal(jobs.jobFailed, timeout=TIMEOUT_MS) as failed:
        os.kill(dead, signal.SIGKILL)  # what a decoder crashing on hostile data does to its process
    assert failed.args[1:] == [WORKER_CRASHED, False]
    assert "Traceback" not in failed.args[1] and failed.args[1].count(". ") == 0  # one plain sentence
    assert store.list_jobs()[0].status == "interrupted"  # restorable: its inputs were kept
    with qtbot.waitSignal(jobs.jobSucceeded, timeout=TIMEOUT_MS):
        jobs.submit(JobSpec(ImageRequest("life goes on", size="1024x1024")))
    assert jobs.worker_pid() not in (None, dead)


@pytest.mark.parametrize("masked", [False, True], ids=["generation", "masked-edit"])
def test_a_worker_killed_after_the_paid_answer_reached_disk_is_finished_from_it(qtbot, store, dev_server, monkeypatch,
                                                                                make_queue, tmp_path, masked):
    monkeypatch.setenv(CRASH_ENV, "response_saved")  # the worker SIGKILLs itself right after saving the answer
    jobs = make_queue()
    first = _wait_for_worker(qtbot, jobs)
    request = ImageRequest("paid for", size="1024x1024", stream=True, partial_images=1)
    spec = JobSpec(request)
    if masked:
        mask = np.zeros((1024, 1024), np.uint8)
        mask[100:300, 100:300] = 255
        spec = JobSpec(request, images=(_photo(tmp_path / "photo.png"),), mask=mask, canvas_image=True)
    with qtbot.waitSignal(jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        jobs.submit(spec)
    result: JobResult = done.args[1]
    assert len(result.versions) == 1 and not result.images[0].isNull()
    assert any("finished from the copy kept on disk" in note for note in result.notes)
    assert _wait_gone(first)
    assert store.get_job(result.job_id).status == "succeeded"
    assert len([r for r in dev_server.requests if "/images/" in r.path]) == 1  # recovered, not paid twice
    assert store.usage_totals().images == 1
    if masked:  # blended back: outside the mask the stored version is the original, pixel for pixel
        stored = np.asarray(Image.open(store.root / result.versions[0].file).convert("RGB"))
        original = np.asarray(Image.open(tmp_path / "photo.png").convert("RGB"))
        assert np.array_equal(stored[600:, 600:], original[600:, 600:])


# ---------------------------------------------------------------------------------------------- lifecycles

_ORPHAN_SCRIPT = r"""
import json, sys, time
from PySide6.QtCore import QCoreApplication
from gptimg_desktop.devserver.process import DevServerProcess
from gptimg_desktop.jobs.queue import JobQueue

if __name__ == "__main__":
    app = QCoreApplication([])
    server = DevServerProcess(delay=0.0)
    server.start()
    jobs = JobQueue(lambda: None)
    while jobs.worker_pid() is None:
        time.sleep(0.02)
    print(json.dumps({"server": server.pid, "worker": jobs.worker_pid(), "url": server.url}), flush=True)
    time.sleep(600)
"""


def test_neither_the_demo_server_nor_the_worker_outlives_an_app_that_is_killed(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(_ORPHAN_SCRIPT)
    app = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parent.parent)
    try:
        line = app.stdout.readline() if app.stdout else ""
        children = json.loads(line)
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(children["url"].removesuffix("/v1") + "/health", timeout=30) as response:
            assert response.status == 200
        app.kill()  # no clean-up of any kind runs in the app
        app.wait(10)
        assert _wait_gone(children["server"]), "the demo server outlived the app"
        assert _wait_gone(children["worker"]), "the job worker outlived the app"
    finally:
        if app.poll() is None:
            app.kill()


def test_the_demo_server_process_serves_on_a_free_port_and_stops_with_its_owner():
    with DevServerProcess(delay=0.0) as first, DevServerProcess(delay=0.0) as second:
        assert first.port != second.port and first.pid != os.getpid()
        client = ImagesClient(ProviderConfig(kind="demo", base_url=first.url, api_key="demo"))
        try:
            first.faults.push(Fault(kind="moderation"))
            from gptimg_desktop.provider.errors import ProviderError

            with pytest.raises(ProviderError):
                client.run(ImageRequest("first: refused", size="1024x1024"))
            assert client.run(ImageRequest("second: fine", size="1024x1024")).images
        finally:
            client.close()
        sent = [r for r in first.requests if "/images/" in r.path]
        assert [(r.method, r.path) for r in sent] == [("POST", "/v1/images/generations")] * 2
        assert not [r for r in second.requests if "/images/" in r.path]
        pid = first.pid
    assert pid is not None and _wait_gone(pid, 10)


def test_the_window_runs_demo_mode_with_both_children_and_ends_them_on_close(qtbot, window):
    server = window.services.choice.demo_server
    assert isinstance(server, DevServerProcess) and server.pid not in (None, os.getpid())
    worker = _wait_for_worker(qtbot, window.jobs)
    server_pid = server.pid
    window.services.close()
    assert _wait_gone(server_pid) and _wait_gone(worker)


def test_frames_folders_of_editors_that_are_gone_are_swept(tmp_path):
    """An editor killed mid-job leaves its frames folder (decoded pixels, 33 MB a 4K frame); the next start
    removes it. Folders of editors still running, and anything else in the temp folder, are left alone."""
    import os
    import subprocess
    import sys

    from gptimg_desktop.jobs.worker_handle import FRAMES_PREFIX, sweep_stale_frames

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f"{FRAMES_PREFIX}{dead_pid}-abc123"
    stale.mkdir()
    (stale / "frame-1.raw").write_bytes(b"\0" * 1024)
    live = tmp_path / f"{FRAMES_PREFIX}{os.getpid()}-def456"
    live.mkdir()
    unrelated = tmp_path / f"{FRAMES_PREFIX}not-a-pid"
    unrelated.mkdir()
    other = tmp_path / "someone-elses-folder"
    other.mkdir()
    assert sweep_stale_frames(str(tmp_path)) == 1
    assert not stale.exists() and live.is_dir() and unrelated.is_dir() and other.is_dir()
