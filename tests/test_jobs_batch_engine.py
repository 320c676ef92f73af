"""BatchEngine against the local Batch API and a real history: the crash windows between its steps.

A create that went through before the app died is found by its metadata instead of being sent again; an answer
of several images cut between two of them is finished without a duplicate; a batch the server refused as a
whole fails each of its jobs with the line's own message."""

from __future__ import annotations

import json
import time

import pytest

from gptimg_desktop.core.pricing import PriceTable
from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.jobs.batch_engine import METADATA_KEY, BatchEngine, BatchItem
from gptimg_desktop.jobs.pipeline import JobSpec
from gptimg_desktop.provider.batches import BatchesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.provider.events import parse_images_response
from gptimg_desktop.store.batches import BatchStore
from gptimg_desktop.store.history import HistoryStore


@pytest.fixture
def engine(dev_server, tmp_path):
    store = HistoryStore(tmp_path / "home")
    client = BatchesClient(ProviderConfig(kind="compatible", base_url=dev_server.url, api_key="sk-test-engine-0123456789"))
    yield BatchEngine(store, client, PriceTable(), sleep=lambda _s: time.sleep(0.05))
    client.close()
    store.close()


def _item(prompt: str, n: int = 1) -> BatchItem:
    return BatchItem(JobSpec(request=ImageRequest(prompt=prompt, size="1024x1024", quality="low", n=n)), prompt)


def test_a_create_that_went_through_before_a_crash_is_found_not_sent_again(engine, dev_server):
    [record] = engine.record(engine.prepare([_item("a kite"), _item("a boat")]))
    # The first run uploaded and created, then died before it could write the batch id down.
    data = (engine.store.root / record.input_file).read_bytes()
    file_id = engine.client.upload_file("in.jsonl", data).id
    engine.batches.set_uploaded(record.key, file_id)
    created = engine.client.create_batch(file_id, record.endpoint, {METADATA_KEY: record.key})

    sent = engine.send(engine.batches.require(record.key))
    assert sent.remote_id == created.id
    assert len(dev_server.batches.batches) == 1  # never a second batch
    reports = engine.resume(wait=True)
    assert [len(r.versions) for r in reports] == [2]


def test_an_answer_cut_between_two_images_is_finished_without_a_duplicate(engine):
    [record] = engine.submit([_item("two lanterns", n=2)])
    engine.resume(wait=False)
    deadline = time.monotonic() + 30
    while not (record := engine.refresh(record)).finished and time.monotonic() < deadline:
        time.sleep(0.05)
    # A first collect stored image 1 of the answer and died before image 2 and before marking the line.
    results = engine._download(record)
    [line] = engine.batches.lines(record.key)
    job = engine.store.get_job(line.job_id)
    answer = parse_images_response(json.dumps(results[0].body).encode())
    from dataclasses import replace

    from gptimg_desktop.jobs.batch_engine import _restore
    from gptimg_desktop.jobs.pipeline import store_result

    prepared, spec = _restore(engine.store, job)
    first = replace(answer, images=answer.images[:1], usage=answer.usage)
    store_result(engine.store, engine.batch_prices, job, first, prepared, spec)
    assert len(engine.store.versions_for_job(job.id)) == 1

    report = engine.collect(record)
    versions = engine.store.versions_for_job(job.id)
    assert len(versions) == 2 and len(report.versions) == 2
    assert engine.collect(engine.batches.require(record.key)).versions == []  # collected: nothing more
    assert engine.store.get_job(job.id).status == "succeeded"


def test_a_batch_refused_as_a_whole_fails_each_job_with_its_lines_message(engine, dev_server):
    [record] = engine.record(engine.prepare([_item("fine"), _item("also fine")]))
    # Make line 2 invalid after recording (as a provider with stricter rules would judge it).
    path = engine.store.root / record.input_file
    lines = path.read_bytes().splitlines()
    bad = json.loads(lines[1])
    bad["body"]["size"] = "1000x1000"
    path.write_bytes(lines[0] + b"\n" + json.dumps(bad).encode() + b"\n")
    engine.send(record)
    [report] = engine.resume(wait=True)
    assert report.batch.status == "failed" and report.versions == []
    messages = dict(report.failed)
    assert "16" in messages[bad["custom_id"]]  # the size rule, said for its own line
    jobs = {j.id: j for j in engine.store.list_jobs()}
    assert {j.status for j in jobs.values()} == {"failed"}
    assert BatchStore(engine.store).require(record.key).collected_at is not None
