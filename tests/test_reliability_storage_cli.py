"""Storage and the command line when things go wrong: a locked, read-only or misplaced history, a private
history.db, huge inputs refused before they are read, masks of another aspect, and jobs a killed run left."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gptimg_desktop import cli
from gptimg_desktop.core.errors import InputImageError
from gptimg_desktop.core.images import prepare_input_image
from gptimg_desktop.store import db as store_db
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-test-storage-cli-0123456789"


def _env(home: Path, server=None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GPTIMG_"))}
    env.update(GPTIMG_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    if server is not None:
        env.update(OPENAI_BASE_URL=server.url, OPENAI_API_KEY=KEY)
    return env


def _cli(home: Path, *args: str, server=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                          env=_env(home, server), timeout=120, check=False)


def _one_plain_line(run: subprocess.CompletedProcess) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 1 and len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and "Error:" not in run.stderr, run.stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------- item 10
def test_a_locked_history_gets_one_plain_sentence_and_reading_commands_never_wait_for_it(tmp_path):
    home = tmp_path / "home"
    HistoryStore(home).close()
    holder = sqlite3.connect(home / "history.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing, for longer than the busy timeout
    try:
        started = time.monotonic()
        listed = _cli(home, "history")
        assert listed.returncode == 0, listed.stderr
        assert time.monotonic() - started < store_db.BUSY_TIMEOUT_MS / 1000  # it took no write lock
        assert _cli(home, "jobs", "--json").returncode == 0

        line = _one_plain_line(_cli(home, "budget", "--credits", "500"))
        assert "busy" in line and "try again" in line.lower()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_history_db_that_is_a_folder_gets_one_plain_sentence(tmp_path):
    home = tmp_path / "home"
    (home / "history.db").mkdir(parents=True)
    line = _one_plain_line(_cli(home, "history"))
    assert "is a folder" in line and "history.db" in line


def test_a_read_only_data_folder_gets_one_plain_sentence(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("GPTIMG_HOME", str(home))
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # as a read-only mount answers (root ignores chmod)
        if str(path).endswith("history.db") and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(store_db.os, "open", read_only)
    assert cli.main(["history"]) == 1
    err = capsys.readouterr().err
    assert "read-only" in err and "GPTIMG_HOME" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_exporting_a_version_whose_file_is_not_an_image_says_so(tmp_path, dev_server):
    home = tmp_path / "home"
    made = _cli(home, "generate", "a lighthouse", "--size", "1024x1024", "--json", server=dev_server)
    version = json.loads(made.stdout)[0]
    Path(version["files"][0]).write_text("not an image any more")
    line = _one_plain_line(_cli(home, "export", version["id"], str(tmp_path / "out.png")))
    assert "not a readable image" in line and version["id"] in line


def test_history_db_is_created_readable_by_its_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        HistoryStore(tmp_path / "home").close()
    finally:
        os.umask(old)
    for name in ("history.db", "history.db-wal", "history.db-shm"):
        path = tmp_path / "home" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


# ---------------------------------------------------------------------------------------------- item 11
def test_a_huge_input_file_is_refused_from_its_size_without_being_read(tmp_path):
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.truncate(2 * 1024**3)  # a 2 GB sparse file: costs no disk, would cost 2 GB of memory to read
    tracemalloc.start()
    try:
        with pytest.raises(InputImageError, match="far larger than any image"):
            prepare_input_image(str(huge))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024


def test_a_text_file_named_png_is_refused_from_its_first_bytes(tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("shopping list\n" * 100_000)
    with pytest.raises(InputImageError, match="looks like text"):
        prepare_input_image(str(fake))


# ---------------------------------------------------------------------------------------------- item 13
def _photo(path: Path, size=(1024, 768)) -> Path:
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    Image.fromarray(arr).save(path)
    return path


def _mask(path: Path, size) -> Path:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[size[1] // 4 : size[1] // 2, size[0] // 4 : size[0] // 2] = 255
    Image.fromarray(mask).save(path)
    return path


def test_a_mask_of_another_aspect_is_refused_naming_both_sizes(tmp_path, dev_server):
    home = tmp_path / "home"
    run = _cli(home, "edit", "make it blue", "--image", str(_photo(tmp_path / "p.png")),
               "--mask", str(_mask(tmp_path / "m.png", (100, 100))), server=dev_server)
    assert run.returncode == 2, run.stderr
    assert "100x100" in run.stderr and "1024x768" in run.stderr
    assert not [r for r in dev_server.requests if "/images/" in r.path]


def test_a_mask_with_the_image_aspect_is_scaled_with_a_note(tmp_path, dev_server):
    home = tmp_path / "home"
    run = _cli(home, "edit", "make it blue", "--image", str(_photo(tmp_path / "p.png")),
               "--mask", str(_mask(tmp_path / "m.png", (512, 384))), "--size", "1024x768", server=dev_server)
    assert run.returncode == 0, run.stderr
    assert "note: The mask (512x384) was scaled to the image's size (1024x768)." in run.stderr


# ---------------------------------------------------------------------------------------------- item 14
def _killed_job(home: Path, prompt: str = "a job killed mid-flight") -> str:
    with HistoryStore(home) as store:
        job = store.create_job({"size": "1024x1024"}, "generate", "gpt-image-2", prompt)
        store.mark_running(job.id)
        store._conn.execute("UPDATE jobs SET owner_pid = 999999999 WHERE id = ?", (job.id,))  # its process died
    return job.id


def test_history_mentions_jobs_interrupted_since_the_last_run_and_how_to_restore_them(tmp_path):
    home = tmp_path / "home"
    job_id = _killed_job(home)
    first = _cli(home, "history")
    assert first.returncode == 0
    assert "1 job was interrupted since the last run" in first.stderr and "gptimg jobs" in first.stderr
    assert "interrupted since the last run" not in _cli(home, "history").stderr  # said once

    listed = _cli(home, "jobs", "--status", "interrupted")
    assert job_id in listed.stdout and 'restore: gptimg generate "a job killed mid-flight"' in listed.stdout


def test_jobs_lists_every_job_with_the_contract_keys(tmp_path, dev_server):
    home = tmp_path / "home"
    made = _cli(home, "generate", "a lighthouse", "--size", "1024x1024", "--json", server=dev_server)
    version_id = json.loads(made.stdout)[0]["id"]
    killed = _killed_job(home)

    everything = json.loads(_cli(home, "jobs", "--json").stdout)
    assert [set(j) for j in everything] == [
        {"id", "status", "kind", "model", "prompt", "created_at", "error", "version_ids"}] * 2
    by_status = {j["status"]: j for j in everything}
    assert by_status["succeeded"]["version_ids"] == [version_id]
    assert by_status["interrupted"]["id"] == killed and by_status["interrupted"]["version_ids"] == []
    assert by_status["interrupted"]["error"]

    only = json.loads(_cli(home, "jobs", "--json", "--status", "succeeded").stdout)
    assert [j["version_ids"] for j in only] == [[version_id]]
