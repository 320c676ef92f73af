"""Nothing lost, round 2: paid answers that can't be decoded, a database locked while an answer arrives, a full
disk, and answers that lie about usage, count or format. Real SQLite files, a hostile server on 127.0.0.1."""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from hostile import HostileServer, images_body, png, response, send
from PIL import Image

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.jobs import pipeline as pipeline_module
from gptimg_desktop.jobs.pipeline import JobPipeline, JobSpec, recover_paid_answers
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-test-paid-answers-0123456789"


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


def _client(url: str) -> ImagesClient:
    return ImagesClient(ProviderConfig(kind="compatible", base_url=url, api_key=KEY, max_retries=0),
                        sleep=lambda s: None)


def _run(store, handler, request: ImageRequest | None = None):
    with HostileServer(handler) as server:
        client = _client(server.url)
        try:
            outcome = JobPipeline(store, client).run(JobSpec(request or ImageRequest("a paid lighthouse",
                                                                                     size="1024x1024")))
        finally:
            client.close()
    return outcome, server


def _saved_answer(store, body: bytes) -> str:
    """A job whose paid answer reached disk and whose process died before storing it."""
    job = store.create_job({"size": "1024x1024", "quality": "low", "n": 1}, "generate", "gpt-image-2", "a fox")
    rel = f"responses/{job.id}.raw"
    (store.root / rel).write_bytes(body)
    store.set_response_file(job.id, rel)
    store.mark_failed(job.id, "The app closed before this job finished.")
    return job.id


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buf, "PNG")  # 48 megapixels in ~50 KB
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- item 1: recovery
@pytest.mark.parametrize("bad", [png()[:60], _bomb(), b"this is text, not an image"], ids=["cut", "bomb", "text"])
def test_one_undecodable_paid_answer_does_not_block_the_others_and_is_given_up_with_its_reason(store, bad):
    broken = _saved_answer(store, images_body([bad]))
    good = _saved_answer(store, images_body([png()]))

    recovered = recover_paid_answers(store)

    assert [v.job_id for v in recovered] == [good]
    assert store.get_job(good).status == "succeeded"
    job = store.get_job(broken)
    assert job.recovery_gave_up and job.error == job.recovery_gave_up
    assert "answer" in job.error and "re-export" not in job.error and "thumbnail" not in job.error
    assert recover_paid_answers(store) == [] and store.get_job(broken).recovery_attempts == 1  # never again


def test_a_failing_recovery_is_tried_a_bounded_number_of_times_then_given_up(store, monkeypatch):
    from gptimg_desktop.jobs import recovery

    job_id = _saved_answer(store, images_body([png()]))

    def disk_trouble(*_args, **_kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(recovery, "store_result", disk_trouble)
    for _ in range(recovery.MAX_RECOVERY_ATTEMPTS + 2):
        assert recover_paid_answers(store) == []
    job = store.get_job(job_id)
    assert job.recovery_attempts == recovery.MAX_RECOVERY_ATTEMPTS
    assert job.recovery_gave_up and f"{recovery.MAX_RECOVERY_ATTEMPTS} times" in job.recovery_gave_up


def test_the_cli_never_prints_a_traceback_for_an_unusable_saved_answer(tmp_path):
    home = tmp_path / "home"
    with HistoryStore(home) as store:
        broken = _saved_answer(store, images_body([png()[:60]]))
        store._conn.execute("UPDATE jobs SET owner_pid = NULL")  # as if its process had died
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GPTIMG_"))}
    env.update(GPTIMG_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    for _ in range(2):
        run = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", "history"], capture_output=True,
                             text=True, env=env, timeout=120, check=False)
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    jobs = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", "jobs", "--json"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    listed = {j["id"]: j for j in json.loads(jobs.stdout)}
    assert "can't be used" in listed[broken]["error"]


def test_an_undecodable_paid_answer_says_so_and_is_not_retried_at_the_next_start(store):
    outcome, server = _run(store, send(images_body([png()[:60]])))
    assert outcome.status == "failed"
    assert "answer" in outcome.error and "re-export" not in outcome.error and "will be" not in outcome.error
    job = store.get_job(outcome.job.id)
    assert job.recovery_gave_up and (store.root / job.response_file).is_file()  # kept for support
    assert recover_paid_answers(store) == [] and len(server.requests) == 1


# ---------------------------------------------------------------------------------------------- item 3: locked db
def test_a_paid_answer_arriving_while_the_database_is_locked_is_recovered_later(store):
    store._conn.execute("PRAGMA busy_timeout = 200")  # the lock outlasts the busy timeout
    locker = sqlite3.connect(store.db_path, isolation_level=None, check_same_thread=False)
    locked = threading.Event()

    def answer_while_locked(conn, _request):
        locker.execute("BEGIN EXCLUSIVE")
        locked.set()
        conn.sendall(response(200, images_body([png()])))

    with pytest.raises(Exception):  # noqa: B017 - the store can't write; the point is what survives
        _run(store, answer_while_locked)
    assert locked.is_set()
    locker.execute("ROLLBACK")
    locker.close()
    job = store.list_jobs()[0]
    assert job.response_file is None and (store.root / f"responses/{job.id}.raw").is_file()

    store.release_job(job.id)  # as a new start would see it: nobody works on it any more
    store._conn.execute("PRAGMA busy_timeout = 5000")
    recovered = recover_paid_answers(store)
    assert [v.job_id for v in recovered] == [job.id]
    assert store.get_job(job.id).status == "succeeded" and store.usage_totals().images == 1


# ---------------------------------------------------------------------------------------------- item 4: full disk
def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_that_also_loses_the_raw_answer_says_the_image_is_lost(store, monkeypatch):
    monkeypatch.setattr(pipeline_module, "atomic_write", _no_space)
    monkeypatch.setattr(store.files, "put", _no_space)
    outcome, _ = _run(store, send(images_body([png()])))
    assert outcome.status == "failed"
    assert "lost" in outcome.error and "disk is full" in outcome.error
    assert "kept" not in outcome.error and "will be" not in outcome.error


def test_a_full_disk_with_the_raw_answer_kept_says_it_is_kept_and_recovery_finishes_it(store, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(store.files, "put", _no_space)
        outcome, _ = _run(store, send(images_body([png()])))
    assert outcome.status == "failed" and "kept on disk" in outcome.error and "disk is full" in outcome.error
    assert [v.job_id for v in recover_paid_answers(store)] == [outcome.job.id]


# ---------------------------------------------------------------------------------------------- item 8: usage, count, format
def _ledger_notes(store, job_id):
    return store.usage_notes(job_id)


def test_missing_usage_records_the_estimate_and_says_so(store):
    outcome, _ = _run(store, send(images_body([png()], usage=None)))
    assert outcome.status == "succeeded"
    estimate = ImageRequest("a paid lighthouse", size="1024x1024").estimate(JobPipeline(store, None).prices)  # type: ignore[arg-type]
    assert outcome.versions[0].cost_usd == pytest.approx(estimate.cost_usd) and outcome.versions[0].cost_usd > 0
    assert _ledger_notes(store, outcome.job.id) == ["estimated"]
    assert any("did not say what it used" in n for n in outcome.notes)


def test_absurd_usage_is_capped_and_flagged(store):
    usage = {"input_tokens": 10**6, "output_tokens": 4 * 10**15, "total_tokens": 4 * 10**15 + 10**6}
    outcome, _ = _run(store, send(images_body([png()], usage=usage)))
    assert outcome.status == "succeeded"
    assert store.usage_totals().cost_usd < 5
    assert _ledger_notes(store, outcome.job.id) == ["capped"]
    assert any("far more than this request can use" in n for n in outcome.notes)


def test_only_the_n_images_asked_for_are_kept_and_charged(store):
    outcome, _ = _run(store, send(images_body([png(color=(i * 40, 0, 0)) for i in range(5)])))
    assert outcome.status == "succeeded" and len(outcome.versions) == 1
    assert store.usage_totals().images == 1 and store.usage_totals().credits == outcome.versions[0].credits
    assert any("5 images for the 1 asked for" in n for n in outcome.notes)


def test_a_jpeg_sent_when_png_was_asked_for_is_stored_and_named_as_jpeg(store):
    outcome, _ = _run(store, send(images_body([png(fmt="JPEG")], output_format="png")))
    version = outcome.versions[0]
    assert version.format == "jpeg" and version.file.endswith(".jpeg")
    assert version.path.read_bytes()[:3] == b"\xff\xd8\xff"
    assert any("JPEG although PNG" in n for n in outcome.notes)


def test_recovery_of_a_saved_answer_keeps_only_n_images(store):
    job_id = _saved_answer(store, images_body([png(), png(color=(1, 2, 3))]))
    assert len(recover_paid_answers(store)) == 1 and len(store.versions_for_job(job_id)) == 1


def test_base64_that_is_text_reads_as_an_answer_problem(store):
    body = json.dumps({"data": [{"b64_json": base64.b64encode(b"hello, I am text").decode()}]}).encode()
    outcome, _ = _run(store, send(body))
    assert outcome.status == "failed" and "is text" in outcome.error
