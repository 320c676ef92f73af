"""The job pipeline against the real local server and a real SQLite history: record, send, keep, recover."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.jobs.pipeline import JobListener, JobPipeline, JobSpec
from gptimg_desktop.provider.client import CancelToken, ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store.history import HistoryStore


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def client(dev_server):
    c = ImagesClient(ProviderConfig(kind="compatible", base_url=dev_server.url, api_key="sk-test-pipeline"),
                     sleep=lambda s: None)
    yield c
    c.close()


def _image(path, size=(1024, 1024)):
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    arr[..., 2] = 90
    Image.fromarray(arr).save(path)
    return path


class Recorder(JobListener):
    def __init__(self):
        self.partials, self.stages, self.retries = [], [], []

    def stage(self, job_id, text):
        self.stages.append(text)

    def partial(self, job_id, partial, expected):
        self.partials.append((partial.index, expected))

    def retrying(self, job_id, attempt, delay, error):
        self.retries.append(attempt)


def test_generate_records_job_versions_and_ledger(store, client):
    spec = JobSpec(ImageRequest("a teal teapot", size="1024x1024", quality="medium", n=2), project="Mugs")
    outcome = JobPipeline(store, client).run(spec)
    assert outcome.status == "succeeded"
    assert len(outcome.versions) == 2
    for v in outcome.versions:
        assert v.path.is_file() and v.project == "Mugs" and v.job_status == "succeeded"
        assert Image.open(v.path).size == (1024, 1024)
    totals = store.usage_totals()
    assert totals.images == 2 and totals.credits == 120
    assert totals.output_tokens == outcome.result.usage.output_tokens
    job = store.get_job(outcome.job.id)
    assert job.request_ids and job.params["quality"] == "medium"


def test_masked_edit_keeps_every_pixel_outside_the_mask(store, client, tmp_path):
    src = _image(tmp_path / "in.png")
    mask = np.zeros((1024, 1024), np.uint8)
    mask[200:500, 300:700] = 255
    spec = JobSpec(ImageRequest("turn it gold", size="1024x1024", stream=True, partial_images=2),
                   images=(str(src),), mask=mask, keep_outside_mask=True, feather_px=6)
    rec = Recorder()
    outcome = JobPipeline(store, client).run(spec, rec)
    assert outcome.status == "succeeded"
    assert [p[0] for p in rec.partials] == [0, 1]
    before = np.asarray(Image.open(src).convert("RGB"))
    after = np.asarray(Image.open(outcome.versions[0].path).convert("RGB"))
    outside = mask == 0
    assert (before[outside] == after[outside]).all()
    assert np.abs(before[300:400, 400:600].astype(int) - after[300:400, 400:600]).mean() > 5
    inputs = store.job_inputs(outcome.job.id)
    assert len(inputs.images) == 1 and inputs.mask is not None and inputs.mask.is_file()


def test_pixels_source_is_encoded_in_the_worker(store, client):
    pixels = np.full((640, 1024, 4), 200, np.uint8)
    outcome = JobPipeline(store, client).run(JobSpec(ImageRequest("add a moon", size="1024x640"), images=(pixels,)))
    assert outcome.status == "succeeded"
    assert Image.open(outcome.versions[0].path).size == (1024, 640)


def test_refused_request_records_nothing_and_sends_nothing(store, client, dev_server):
    with pytest.raises(RequestRefused):
        JobPipeline(store, client).run(JobSpec(ImageRequest("x", size="1000x1000")))
    assert store.list_jobs() == []
    assert dev_server.requests == []


def test_empty_mask_is_refused_with_a_clear_message(store, client, tmp_path):
    src = _image(tmp_path / "in.png")
    with pytest.raises(RequestRefused, match="mask is empty"):
        JobPipeline(store, client).run(JobSpec(ImageRequest("x"), images=(str(src),), mask=np.zeros((1024, 1024), np.uint8)))


def test_rate_limit_is_retried_and_reported(store, client, dev_server):
    dev_server.faults.push(Fault(kind="rate_limit", retry_after=1))
    rec = Recorder()
    outcome = JobPipeline(store, client).run(JobSpec(ImageRequest("a kite", size="1024x1024")), rec)
    assert outcome.status == "succeeded" and rec.retries == [1]
    assert len(store.get_job(outcome.job.id).request_ids) == 2


def test_failure_is_recorded_with_the_message_and_inputs_kept(store, client, dev_server, tmp_path):
    dev_server.faults.push(Fault(kind="moderation", categories=["violence"]))
    src = _image(tmp_path / "in.png")
    outcome = JobPipeline(store, client).run(JobSpec(ImageRequest("a fight scene"), images=(str(src),)))
    assert outcome.status == "failed" and "violence" in outcome.error
    job = store.get_job(outcome.job.id)
    assert job.status == "failed" and job.error == outcome.error
    assert store.job_inputs(job.id).images[0][0].read_bytes() == src.read_bytes()


def test_cut_stream_fails_without_a_version(store, client, dev_server):
    dev_server.faults.push(Fault(kind="cut_stream", after_partials=1))
    rec = Recorder()
    spec = JobSpec(ImageRequest("a tower", size="1024x1024", stream=True, partial_images=3))
    outcome = JobPipeline(store, client).run(spec, rec)
    assert outcome.status == "failed" and rec.partials
    assert store.list_versions() == []


def test_cancel_before_sending(store, client, dev_server):
    token = CancelToken()
    token.cancel()
    outcome = JobPipeline(store, client).run(JobSpec(ImageRequest("x", size="1024x1024")), cancel=token)
    assert outcome.status == "cancelled" and store.get_job(outcome.job.id).status == "cancelled"
    assert not [r for r in dev_server.requests if "/images/" in r.path]


def test_paid_answer_on_disk_is_recovered_without_sending_again(store, client, dev_server, tmp_path):
    """The app died after the answer reached disk but before versions were stored."""
    pipeline = JobPipeline(store, client)

    def crash(*_args, **_kwargs):
        raise SystemExit("killed")  # like SIGKILL right after the raw answer was written

    pipeline._store_result = crash
    with pytest.raises(SystemExit):
        pipeline.run(JobSpec(ImageRequest("a paid lighthouse", size="1024x1024")))
    job = store.list_jobs()[0]
    assert job.status == "running" and job.response_file
    sent_before = len(dev_server.requests)

    reopened = HistoryStore(store.root)
    try:
        recovered = JobPipeline(reopened, client).recover_paid_answers()
        assert len(recovered) == 1 and recovered[0].path.is_file()
        assert reopened.get_job(job.id).status == "succeeded"
        assert reopened.usage_totals().images == 1
        assert len(dev_server.requests) == sent_before  # no second bill
    finally:
        reopened.close()
