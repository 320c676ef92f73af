"""Every provider failure over real HTTP: the right retry or one clear sentence, and nothing lost.

Each fault is acted out by the local server on 127.0.0.1 (or, for DNS and a cut after a finished image,
by an httpx MockTransport so nothing leaves the machine). After each: the job's inputs are still on disk
byte for byte, the job is failed with the message, no version exists, and the ledger is untouched unless
the provider reported usage.
"""

from __future__ import annotations

import base64
import io
import json
import socket

import httpx
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from support import gradient_photo

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.jobs.pipeline import JobListener, JobPipeline, JobSpec, recover_paid_answers
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-test-reliability-faults-0123"
TIMEOUT_MS = 30_000


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(dev_server, sleeps):
    clients = []

    def make(base_url: str | None = None, transport=None, **config) -> ImagesClient:
        cfg = ProviderConfig(kind="compatible", base_url=base_url or dev_server.url, api_key=KEY, **config)
        client = ImagesClient(cfg, transport=transport, sleep=sleeps.append)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


class Partials(JobListener):
    def __init__(self):
        self.partials = []
        self.retries = []

    def partial(self, job_id, partial, expected):
        self.partials.append(partial.index)

    def retrying(self, job_id, attempt, delay, error):
        self.retries.append((attempt, delay, error.user_message))


_photo = gradient_photo


@pytest.fixture
def edit(tmp_path):
    """A masked edit: the canvas photo (sent byte for byte) and a painted mask."""
    src = _photo(tmp_path / "photo.png")
    mask = np.zeros((1024, 1024), np.uint8)
    mask[300:600, 200:700] = 255

    def spec(**request) -> JobSpec:
        req = ImageRequest("Replace the sky with a sunset", size="1024x1024", quality="low", **request)
        return JobSpec(req, images=(str(src),), mask=mask)

    spec.src_bytes = src.read_bytes()
    spec.mask = mask
    return spec


def _image_requests(dev_server) -> int:
    return len([r for r in dev_server.requests if "/images/" in r.path])


def _edit_area(mask_file) -> np.ndarray:
    """The edit area of a stored mask, whichever form history keeps (painted L, or API RGBA)."""
    with Image.open(mask_file) as im:
        if "A" in im.getbands():
            alpha = np.asarray(im.getchannel("A"))
            if alpha.min() < 255:
                return alpha == 0
        return np.asarray(im.convert("L")) >= 128


def assert_failed_and_nothing_lost(store, outcome, edit, *fragments: str, billed: bool = False) -> None:
    assert outcome.status == "failed", outcome.error
    for fragment in fragments:
        assert fragment.lower() in outcome.error.lower(), outcome.error
    assert KEY not in outcome.error
    job = store.get_job(outcome.job.id)
    assert job.status == "failed" and job.error == outcome.error
    assert store.versions_for_job(job.id) == [] and store.list_versions() == []
    totals = store.usage_totals()
    if not billed:
        assert (totals.images, totals.input_tokens, totals.output_tokens, totals.credits) == (0, 0, 0, 0)
        assert totals.cost_usd == 0
    inputs = store.job_inputs(job.id)
    assert inputs.images[0][0].read_bytes() == edit.src_bytes  # the photo, byte for byte
    assert inputs.mask is not None and np.array_equal(_edit_area(inputs.mask), edit.mask == 255)


def assert_succeeded_once(store, outcome) -> None:
    assert outcome.status == "succeeded", outcome.error
    assert len(outcome.versions) == 1 and outcome.versions[0].path.is_file()
    assert store.get_job(outcome.job.id).status == "succeeded"
    assert store.usage_totals().images == 1


# ---------------------------------------------------------------------------------------------- retried


def test_429_with_retry_after_is_retried_after_that_wait_and_succeeds(store, make_client, dev_server, edit, sleeps):
    dev_server.faults.push(Fault(kind="rate_limit", retry_after=1.5))
    listener = Partials()
    outcome = JobPipeline(store, make_client()).run(edit(), listener)
    assert_succeeded_once(store, outcome)
    assert sleeps == [1.5]  # the server's retry-after, not our own backoff
    assert listener.retries and "rate limit" in listener.retries[0][2]
    assert _image_requests(dev_server) == 2
    assert len(store.get_job(outcome.job.id).request_ids) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_burst_of_server_errors_is_retried_with_backoff(store, make_client, dev_server, edit, sleeps, status):
    dev_server.faults.push(Fault(kind="server_error", status=status, times=2))
    outcome = JobPipeline(store, make_client()).run(edit())
    assert_succeeded_once(store, outcome)
    assert len(sleeps) == 2 and 0 < sleeps[0] <= sleeps[1]
    assert _image_requests(dev_server) == 3


def test_server_errors_beyond_the_retries_fail_with_a_clear_message(store, make_client, dev_server, edit, sleeps):
    dev_server.faults.push(Fault(kind="server_error", status=503, times=3))
    outcome = JobPipeline(store, make_client()).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, "overloaded", "try again")
    assert _image_requests(dev_server) == 3 and len(sleeps) == 2


def test_a_read_timeout_is_retried_and_succeeds(store, make_client, dev_server, edit, sleeps):
    dev_server.faults.push(Fault(kind="slow", delay=3.0))
    outcome = JobPipeline(store, make_client(timeout=0.4, max_retries=1)).run(edit())
    assert_succeeded_once(store, outcome)
    assert len(sleeps) == 1


def test_a_read_timeout_without_retries_left_fails_clearly(store, make_client, dev_server, edit):
    dev_server.faults.push(Fault(kind="slow", delay=3.0))
    outcome = JobPipeline(store, make_client(timeout=0.4, max_retries=0)).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, "did not answer within 0.4 seconds")


# ---------------------------------------------------------------------------------------------- not retried


def test_exhausted_quota_is_not_retried(store, make_client, dev_server, edit, sleeps):
    dev_server.faults.push(Fault(kind="quota"))
    outcome = JobPipeline(store, make_client()).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, "run out of credit", "billing")
    assert _image_requests(dev_server) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("fault", "fragments"),
    [
        (Fault(kind="auth"), ("API key was rejected", "Settings")),
        (Fault(kind="org_unverified"), ("organization must be verified", "platform.openai.com")),
        (Fault(kind="model_gone"), ("gpt-image-2",)),
        (Fault(kind="moderation", stage="output", categories=["sexual", "violence"]),
         ("safety system", "stage: output", "categories: sexual, violence")),
        (Fault(kind="non_json"), ("unreadable",)),
        (Fault(kind="truncated"), ("cut short",)),
    ],
    ids=["401", "403-unverified", "404-model-gone", "moderation", "non-json", "truncated"],
)
def test_final_errors_say_what_to_do_and_keep_everything(store, make_client, dev_server, edit, sleeps, fault,
                                                         fragments):
    dev_server.faults.push(fault)
    outcome = JobPipeline(store, make_client()).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, *fragments)
    assert _image_requests(dev_server) == 1 and sleeps == []  # none of these is retried
    # Recovery at the next start finds nothing to finish and bills nothing.
    assert recover_paid_answers(store) == []
    assert store.usage_totals().images == 0 and store.get_job(outcome.job.id).status == "failed"


def test_connection_refused_is_retried_then_fails_clearly(store, make_client, edit, sleeps):
    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = JobPipeline(store, make_client(base_url=f"http://127.0.0.1:{port}/v1")).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, "Can't reach 127.0.0.1", "internet connection")
    assert len(sleeps) == 2  # connection errors are retried like the SDK does


def test_a_host_that_does_not_resolve_fails_clearly(store, make_client, edit, sleeps):
    attempts = []

    def no_such_host(request: httpx.Request) -> httpx.Response:
        # What the resolver says for a *.invalid name; raised locally so no DNS query leaves the machine.
        attempts.append(request.url.host)
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    client = make_client(base_url="https://images.gptimg.invalid/v1", transport=httpx.MockTransport(no_such_host))
    outcome = JobPipeline(store, client).run(edit())
    assert_failed_and_nothing_lost(store, outcome, edit, "Can't reach images.gptimg.invalid", "provider URL")
    assert attempts == ["images.gptimg.invalid"] * 3


# ---------------------------------------------------------------------------------------------- streams cut


def test_a_stream_cut_mid_way_fails_unbilled_with_previews_seen(store, make_client, dev_server, edit):
    dev_server.faults.push(Fault(kind="cut_stream", after_partials=1))
    listener = Partials()
    outcome = JobPipeline(store, make_client()).run(edit(stream=True, partial_images=3), listener)
    assert listener.partials == [0]
    assert_failed_and_nothing_lost(store, outcome, edit, "connection dropped", "after 1 preview", "try again")
    assert recover_paid_answers(store) == []


def _png_b64(color) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), color).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


class _CutAfterFirstImage(httpx.SyncByteStream):
    """An SSE body that delivers one finished image (with usage) of two, then the connection drops."""

    def __init__(self, first_event: bytes) -> None:
        self.first_event = first_event

    def __iter__(self):
        yield self.first_event
        raise httpx.ReadError("connection reset by peer")


def test_a_stream_cut_after_a_finished_image_keeps_it_and_bills_its_usage_once(store, make_client, edit):
    usage = {"input_tokens": 300, "output_tokens": 1000, "total_tokens": 1300,
             "input_tokens_details": {"text_tokens": 20, "image_tokens": 280},
             "output_tokens_details": {"image_tokens": 1000, "text_tokens": 0}}
    event = {"type": "image_edit.completed", "b64_json": _png_b64((200, 30, 30)), "size": "1024x1024",
             "quality": "low", "background": "opaque", "output_format": "png", "created_at": 1, "usage": usage}
    sse = f"event: image_edit.completed\ndata: {json.dumps(event)}\n\n".encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream", "x-request-id": "req_cut"},
                              stream=_CutAfterFirstImage(sse))

    client = make_client(base_url="https://images.gptimg.invalid/v1", transport=httpx.MockTransport(answer))
    outcome = JobPipeline(store, client).run(edit(n=2, stream=True, partial_images=0))
    assert outcome.status == "failed" and "after 1 of 2 images" in outcome.error and "kept" in outcome.error
    job = store.get_job(outcome.job.id)
    assert job.status == "failed" and job.error == outcome.error
    versions = store.versions_for_job(job.id)
    assert len(versions) == 1 and versions[0].path.is_file()
    totals = store.usage_totals()
    assert (totals.images, totals.output_tokens, totals.input_tokens) == (1, 1000, 300)
    # The raw answer is on disk, but the next start must not store (and bill) that image a second time.
    assert recover_paid_answers(store) == []
    assert store.usage_totals() == totals and len(store.versions_for_job(job.id)) == 1
    assert store.job_inputs(job.id).images[0][0].read_bytes() == edit.src_bytes


# ---------------------------------------------------------------------------------------------- in the window


def _open_and_paint(qtbot, window, tmp_path):
    window.open_image(str(_photo(tmp_path / "canvas.png")))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=5000)
    canvas = window.canvas
    start = canvas.rect().center() - QPoint(40, 20)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 10):
        QTest.mouseMove(canvas, start + QPoint(i * 9, i * 3))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(81, 27))
    assert canvas.has_mask()
    return canvas.mask_array()


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        (Fault(kind="quota"), "run out of credit"),
        (Fault(kind="org_unverified"), "must be verified"),
        (Fault(kind="model_gone"), "gpt-image-2"),
        (Fault(kind="server_error", status=502, times=3), "server error"),
    ],
    ids=["quota", "403-unverified", "404-model-gone", "502-burst"],
)
def test_the_window_shows_the_message_inline_and_keeps_prompt_and_mask(qtbot, window, tmp_path, fault, fragment):
    mask = _open_and_paint(qtbot, window, tmp_path)
    prompt = "Turn the painted area into a field of poppies"
    window.prompt.set_prompt(prompt)
    server = window.services.choice.demo_server
    server.faults.push(fault)
    with qtbot.waitSignal(window.jobs.jobFailed, timeout=TIMEOUT_MS) as failed:
        assert window.prompt.request_run()
    message = failed.args[1]
    assert fragment.lower() in message.lower()
    assert fragment.lower() in window.prompt.error_text().lower()  # inline, in the prompt panel
    assert window.prompt.prompt() == prompt
    assert np.array_equal(window.canvas.mask_array(), mask)
    assert not window.canvas.image().isNull() and window.source.path.endswith("canvas.png")
    job = window.store.list_jobs()[0]
    assert job.status == "failed" and job.error == message
    # Only the opened original was recorded (no cost); the failed job made no version and billed nothing.
    assert [v.kind for v in window.store.list_versions()] == ["original"]
    assert window.store.usage_totals().images == 0
    assert window.store.job_inputs(job.id).images[0][0].read_bytes() == (tmp_path / "canvas.png").read_bytes()


def test_the_window_retries_a_rate_limit_and_then_succeeds(qtbot, window):
    window.prompt.set_prompt("A paper boat on a pond")
    window.services.choice.demo_server.faults.push(Fault(kind="rate_limit", retry_after=0.2))
    retries = []
    window.jobs.jobRetrying.connect(lambda ticket, text: retries.append(text))
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        assert window.prompt.request_run()
    assert retries and "rate limit" in retries[0] and "Retrying" in retries[0]
    assert len(done.args[1].versions) == 1 and window.prompt.error_text() == ""


def test_a_cut_stream_keeps_the_last_preview_on_the_canvas_and_bills_nothing(qtbot, window, tmp_path):
    """Depends on JobFeedback._job_failed not clearing the preview (the window keeps what arrived)."""
    mask = _open_and_paint(qtbot, window, tmp_path)
    prompt = "Make the painted area glow"
    window.prompt.set_prompt(prompt)
    window.prompt.stream_check.setChecked(True)
    window.prompt.partial_spin.setValue(3)
    window.services.choice.demo_server.faults.push(Fault(kind="cut_stream", after_partials=2))
    previews = []
    window.jobs.jobPartial.connect(lambda ticket, image, index, expected: previews.append(index))
    with qtbot.waitSignal(window.jobs.jobFailed, timeout=TIMEOUT_MS) as failed:
        assert window.prompt.request_run()
    assert previews == [0, 1]
    assert "connection dropped" in failed.args[1] and "after 2 previews" in failed.args[1]
    assert window.canvas.has_preview()  # the last preview that arrived stays visible
    assert "connection dropped" in window.prompt.error_text()
    assert window.prompt.prompt() == prompt and np.array_equal(window.canvas.mask_array(), mask)
    job = window.store.list_jobs()[0]
    assert job.status == "failed" and window.store.versions_for_job(job.id) == []
    assert window.store.usage_totals().images == 0 and window.store.usage_totals().cost_usd == 0
