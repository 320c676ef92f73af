"""Crashes with real processes: SIGKILL after the paid answer reached disk, SIGKILL mid-job, and two
processes (CLI and editor) sharing one history without interrupting each other's jobs.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.jobs.pipeline import CRASH_ENV
from gptimg_desktop.store.history import INTERRUPTED_MESSAGE, HistoryStore

KEY = "sk-test-reliability-crash-0123"
TIMEOUT_MS = 30_000


def _cli_env(dev_server, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GPTIMG_"))}
    env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=KEY, GPTIMG_HOME=str(home),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra)
    return env


def _cli(dev_server, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                          env=_cli_env(dev_server, home, **extra), timeout=120, check=False)


def _start_cli(dev_server, home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gptimg_desktop.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_cli_env(dev_server, home))


def _image_requests(dev_server) -> int:
    return len([r for r in dev_server.requests if "/images/" in r.path])


def _wait_for_running_job(home: Path, proc: subprocess.Popen, seconds: float = 30.0) -> str:
    """Poll history.db (read-only, as another process would) until the CLI's job row is running."""
    deadline = time.monotonic() + seconds
    db = home / "history.db"
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if db.exists():
            try:
                conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
                try:
                    row = conn.execute("SELECT id FROM jobs WHERE status = 'running'").fetchone()
                finally:
                    conn.close()
            except sqlite3.OperationalError:
                row = None  # the database is being created
            if row:
                return row[0]
        time.sleep(0.05)
    raise AssertionError("the CLI never started its job")


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _photo(path: Path) -> Path:
    arr = np.zeros((1024, 1024, 3), np.uint8)
    arr[..., 0] = np.linspace(10, 240, 1024, dtype=np.uint8)[None, :]
    arr[..., 2] = 140
    Image.fromarray(arr).save(path)
    return path


def _mask(path: Path) -> np.ndarray:
    mask = np.zeros((1024, 1024), np.uint8)
    mask[100:400, 500:900] = 255
    Image.fromarray(mask).save(path)  # a painted mask: white = edit
    return mask


# ---------------------------------------------------------------------------------------------- paid answer


def test_a_cli_killed_right_after_the_paid_answer_was_saved_is_finished_at_the_next_start(dev_server, gptimg_home):
    crashed = _cli(dev_server, gptimg_home, "generate", "a lighthouse at dusk", "--size", "1024x1024",
                   **{CRASH_ENV: "response_saved"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert _image_requests(dev_server) == 1
    with HistoryStore(gptimg_home) as store:  # what the kill left: a running job with its raw answer
        # Opening a store does not recover anything by itself; only the raw answer is there.
        job = store.list_jobs()[0]
        assert job.status == "running" and job.response_file and (gptimg_home / job.response_file).is_file()
        assert store.list_versions() == [] and store.usage_totals().images == 0

    listed = _cli(dev_server, gptimg_home, "history", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Recovered 1 paid image" in listed.stderr
    history = json.loads(listed.stdout)
    assert len(history) == 1 and history[0]["status"] == "succeeded"
    assert Path(history[0]["files"][0]).is_file()
    usage = json.loads(_cli(dev_server, gptimg_home, "usage", "--json").stdout)
    assert usage["images"] == 1 and usage["output_tokens"] > 0 and usage["total_credits"] == 60
    assert _image_requests(dev_server) == 1  # finished from disk: nothing was sent again

    again = _cli(dev_server, gptimg_home, "history", "--json")  # recovery happens once
    assert "Recovered" not in again.stderr and len(json.loads(again.stdout)) == 1
    assert json.loads(_cli(dev_server, gptimg_home, "usage", "--json").stdout)["images"] == 1


def test_the_editor_finishes_a_paid_answer_left_by_a_killed_cli(qtbot, dev_server, gptimg_home, monkeypatch):
    crashed = _cli(dev_server, gptimg_home, "generate", "a red kite", "--size", "1024x1024",
                   "--stream", "--partial-images", "1", **{CRASH_ENV: "response_saved"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    from gptimg_desktop.app import create_window

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    window = create_window(environ={}, demo_delay=0.0)
    qtbot.addWidget(window)
    try:
        assert len(window.services.recovered) == 1
        assert "Recovered 1 paid image" in window.statusBar().currentMessage()
        versions = window.store.list_versions()
        assert len(versions) == 1 and versions[0].job_status == "succeeded" and versions[0].path.is_file()
        assert window.store.usage_totals().images == 1
        assert _image_requests(dev_server) == 1
    finally:
        window.services.close()


# ---------------------------------------------------------------------------------------------- killed mid-job


def test_a_cli_killed_mid_job_leaves_a_sound_history_and_a_restorable_job(dev_server, gptimg_home, tmp_path):
    photo, mask = _photo(tmp_path / "photo.png"), _mask(tmp_path / "mask.png")
    done = _cli(dev_server, gptimg_home, "generate", "a calm sea", "--size", "1024x1024")
    assert done.returncode == 0, done.stderr

    dev_server.faults.push(Fault(kind="slow", delay=60))
    proc = _start_cli(dev_server, gptimg_home, "edit", "add a boat", "--image", str(photo), "--mask",
                      str(tmp_path / "mask.png"), "--size", "1024x1024")
    job_id = _wait_for_running_job(gptimg_home, proc)
    _kill(proc)

    conn = sqlite3.connect(gptimg_home / "history.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    after = _cli(dev_server, gptimg_home, "history", "--json")  # the next start interrupts the dead job
    assert after.returncode == 0, after.stderr
    assert len(json.loads(after.stdout)) == 1

    with HistoryStore(gptimg_home) as store:
        job = store.get_job(job_id)
        assert job.status == "interrupted" and job.error == INTERRUPTED_MESSAGE
        inputs = store.job_inputs(job_id)
        assert inputs.images[0][0].is_file() and inputs.images[0][0].read_bytes() == photo.read_bytes()
        with Image.open(inputs.mask) as stored:
            bands = stored.getbands()
            edit = (np.asarray(stored.getchannel("A")) == 0) if "A" in bands else np.asarray(stored.convert("L")) >= 128
        assert np.array_equal(edit, mask == 255)
        versions = store.list_versions()
        assert len(versions) == 1
        for version in versions:  # no version points at a missing or half-written file
            with Image.open(version.path) as im:
                im.load()
                assert im.size == (version.width, version.height)
            with Image.open(version.thumb_path) as thumb:
                thumb.load()
        assert store.usage_totals().images == 1


# ---------------------------------------------------------------------------------------------- two processes


def test_a_second_process_does_not_interrupt_the_job_of_a_live_one(dev_server, gptimg_home):
    dev_server.faults.push(Fault(kind="slow", delay=60))
    proc = _start_cli(dev_server, gptimg_home, "generate", "a slow sunrise", "--size", "1024x1024")
    try:
        job_id = _wait_for_running_job(gptimg_home, proc)
        with HistoryStore(gptimg_home) as store:  # this process, starting up while the CLI works
            assert store.interrupt_stale_jobs() == []
            assert store.get_job(job_id).status == "running"
        other = _cli(dev_server, gptimg_home, "usage", "--json")  # a third process: runs recovery at start
        assert other.returncode == 0, other.stderr
        with HistoryStore(gptimg_home) as store:
            assert store.get_job(job_id).status == "running"
    finally:
        _kill(proc)
    with HistoryStore(gptimg_home) as store:  # the owner is gone now: its job is interrupted
        assert [j.id for j in store.interrupt_stale_jobs()] == [job_id]
        assert store.get_job(job_id).status == "interrupted"


def test_a_cli_starting_while_the_editor_runs_a_job_leaves_that_job_alone(qtbot, gptimg_home, dev_server,
                                                                           monkeypatch):
    from gptimg_desktop.app import create_window

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    window = create_window(environ={}, demo_delay=0.0)
    qtbot.addWidget(window)
    try:
        window.services.choice.demo_server.faults.push(Fault(kind="slow", delay=60))
        window.prompt.set_prompt("A slow painting of a harbour")
        with qtbot.waitSignal(window.jobs.jobRecorded, timeout=TIMEOUT_MS) as recorded:
            assert window.prompt.request_run()
        job_id = recorded.args[1]
        qtbot.waitUntil(lambda: window.store.get_job(job_id).status == "running", timeout=TIMEOUT_MS)
        listed = _cli(dev_server, gptimg_home, "history", "--json")
        assert listed.returncode == 0, listed.stderr
        assert window.store.get_job(job_id).status == "running"
        with qtbot.waitSignal(window.jobs.jobCancelled, timeout=TIMEOUT_MS):
            window.cancel_current()
        assert window.store.get_job(job_id).status == "cancelled"
    finally:
        window.services.close()


def test_jobs_of_dead_or_reused_pids_are_interrupted(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    with HistoryStore(tmp_path / "home") as store:
        dead = store.create_job({}, "generate", "gpt-image-2", "owner died")
        reused = store.create_job({}, "generate", "gpt-image-2", "pid reused")
        mine = store.create_job({}, "generate", "gpt-image-2", "still running here")
        store.mark_running(mine.id)
        with store.write_transaction() as conn:
            conn.execute("UPDATE jobs SET owner_pid = ? WHERE id = ?", (dead_pid, dead.id))
            # This very pid, but another start marker: a new process that got the number of a dead one.
            conn.execute("UPDATE jobs SET owner_started = 'another-boot:1' WHERE id = ?", (reused.id,))
        assert sorted(j.id for j in store.interrupt_stale_jobs()) == sorted([dead.id, reused.id])
        assert store.get_job(mine.id).status == "running"  # this process is still working on it
        store.release_job(mine.id)  # its run ended without a final status (a bug, a crash in a test)
        assert [j.id for j in store.interrupt_stale_jobs()] == [mine.id]


def test_two_processes_cannot_both_claim_a_job_for_recovery(tmp_path):
    with HistoryStore(tmp_path / "home") as store:
        job = store.create_job({}, "generate", "gpt-image-2", "a paid answer to finish")
        store.mark_failed(job.id, "The answer arrived but could not be saved.")
        assert store.claim_job(job.id)
        holder = subprocess.run(
            [sys.executable, "-c",
             ("import sys; from gptimg_desktop.store.history import HistoryStore; "
              f"s = HistoryStore(sys.argv[1]); print(s.claim_job({job.id!r})); s.close()"), str(tmp_path / "home")],
            capture_output=True, text=True, check=True,
        )
        assert holder.stdout.strip() == "False"  # this (live) process holds it
