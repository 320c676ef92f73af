"""The Files and Batches client against the local server's Files and Batch APIs, over real HTTP: the shapes,
the statuses, whole-file validation, listing, cancel, and the retry rule that never creates a batch twice."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
from PIL import Image

from gptimg_desktop.core.batch_format import input_line, jsonl, parse_result_lines
from gptimg_desktop.core.requests import ImageInput, ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.provider.batches import BatchesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.provider.errors import BadRequest, InvalidParameter, NotFound, ServerError

KEY = "sk-test-batch-api-0123456789abcdef"
FILE_KEYS = {"id", "object", "bytes", "created_at", "filename", "purpose"}
BATCH_KEYS = {"id", "object", "endpoint", "status", "input_file_id", "output_file_id", "error_file_id", "created_at",
              "in_progress_at", "completed_at", "failed_at", "expired_at", "cancelled_at", "request_counts", "errors",
              "metadata"}


@pytest.fixture
def client(dev_server):
    config = ProviderConfig(kind="compatible", base_url=dev_server.url, api_key=KEY, max_retries=2)
    with BatchesClient(config, sleep=lambda _s: None) as c:
        yield c


def _gen(i: int) -> dict:
    return input_line(f"gen-{i}", ImageRequest(prompt=f"a teapot {i}", size="1024x1024", quality="low"))


def _wait(client: BatchesClient, batch_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get_batch(batch_id)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
        time.sleep(0.05)
    raise AssertionError("the batch never finished")


def test_a_batch_goes_through_its_statuses_and_its_output_matches_by_custom_id(client, dev_server):
    uploaded = client.upload_file("in.jsonl", jsonl([_gen(i) for i in range(3)]))
    assert uploaded.purpose == "batch" and uploaded.bytes > 0
    raw_file = dev_server.batches.get_file(uploaded.id).to_dict()
    assert set(raw_file) == FILE_KEYS and raw_file["object"] == "file"
    created = client.create_batch(uploaded.id, "/v1/images/generations", {"who": "test"})
    assert created.status == "validating" and BATCH_KEYS <= set(created.raw)
    assert created.raw["completion_window"] == "24h" and created.metadata == {"who": "test"}
    seen = set()
    deadline = time.monotonic() + 30
    batch = created
    while batch.status not in ("completed", "failed") and time.monotonic() < deadline:
        seen.add(batch.status)
        batch = client.get_batch(created.id)
        time.sleep(0.01)
    assert batch.status == "completed" and "validating" in seen
    assert (batch.total, batch.completed, batch.failed) == (3, 3, 0) and batch.error_file_id is None
    results = parse_result_lines(client.file_content(batch.output_file_id or ""))
    assert sorted(r.custom_id for r in results) == ["gen-0", "gen-1", "gen-2"]
    for r in results:
        assert r.ok and r.status_code == 200 and r.request_id
        assert r.body is not None and r.body["usage"]["output_tokens"] > 0
        Image.open(io.BytesIO(__import__("base64").b64decode(r.body["data"][0]["b64_json"]))).verify()
    create_posts = [r for r in dev_server.requests if r.path == "/v1/batches" and r.method == "POST"]
    assert create_posts[0].json == {"input_file_id": uploaded.id, "endpoint": "/v1/images/generations",
                                    "completion_window": "24h", "metadata": {"who": "test"}}
    upload = next(r for r in dev_server.requests if r.path == "/v1/files")
    assert upload.is_multipart and upload.headers["authorization"] == f"Bearer {KEY}"


def test_every_bad_line_is_named_and_the_batch_fails(client, tmp_path):
    image = Image.new("RGB", (1024, 1024), (20, 40, 60))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    edit = ImageRequest(prompt="make it red", images=(ImageInput("a.png", buf.getvalue(), "png", 1024, 1024),))
    lines = [
        _gen(0),
        _gen(0),  # duplicate custom_id
        input_line("edit-1", edit),  # an edit in a generations batch
        {**_gen(3), "body": {**_gen(3)["body"], "size": "1000x1000"}},  # not a multiple of 16
        {**_gen(4), "method": "GET"},
    ]
    data = jsonl(lines) + b"{not json\n"
    batch = _wait(client, client.create_batch(client.upload_file("bad.jsonl", data).id,
                                              "/v1/images/generations").id)
    assert batch.status == "failed" and batch.output_file_id is None
    by_line = {e.line: e for e in batch.errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6]
    assert by_line[2].code == "duplicate_custom_id" and by_line[3].param == "url"
    assert by_line[4].param == "size" and "16" in by_line[4].message
    assert by_line[5].param == "method" and by_line[6].code == "invalid_json_line"


def test_edits_take_images_by_data_url_or_file_id(client):
    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), (200, 10, 10)).save(buf, "PNG")
    image_file = client.upload_file("photo.png", buf.getvalue(), purpose="vision")
    line = {"custom_id": "e1", "method": "POST", "url": "/v1/images/edits",
            "body": {"model": "gpt-image-2", "prompt": "a hat", "images": [{"file_id": image_file.id}]}}
    edit = ImageRequest(prompt="a scarf", images=(ImageInput("p.png", buf.getvalue(), "png", 1024, 1024),))
    batch = _wait(client, client.create_batch(client.upload_file("e.jsonl", jsonl([line, input_line("e2", edit)])).id,
                                              "/v1/images/edits").id)
    assert batch.status == "completed" and batch.completed == 2


def test_listing_pages_newest_first_and_cancel_rules(client, dev_server):
    dev_server.batches.settings.update({"line_seconds": 5})
    ids = []
    for i in range(3):
        f = client.upload_file(f"{i}.jsonl", jsonl([_gen(i)]))
        ids.append(client.create_batch(f.id, "/v1/images/generations").id)
    page, more = client.list_batches(limit=2)
    assert [b.id for b in page] == ids[::-1][:2] and more
    rest, more = client.list_batches(limit=2, after=page[-1].id)
    assert [b.id for b in rest] == [ids[0]] and not more
    assert client.find_batch("nothing", "x") is None
    cancelling = client.cancel_batch(ids[0])
    assert cancelling.status in ("cancelling", "cancelled")
    assert _wait(client, ids[0]).status == "cancelled"
    assert client.cancel_batch(ids[0]).status == "cancelled"  # asking again changes nothing
    dev_server.batches.settings.update({"line_seconds": 0.01})
    assert _wait(client, ids[2]).status == "completed"
    with pytest.raises(BadRequest) as info:
        client.cancel_batch(ids[2])
    assert "completed" in info.value.user_message
    with pytest.raises(NotFound):
        client.get_batch("batch_missing")


def test_uploads_and_creates_are_checked(client, dev_server):
    with pytest.raises(InvalidParameter):
        client.upload_file("in.txt", b"{}", purpose="batch")
    with pytest.raises(InvalidParameter):
        client.upload_file("in.jsonl", b"{}", purpose="pictures")
    vision = client.upload_file("pic.png", b"\x89PNG", purpose="vision")
    with pytest.raises(InvalidParameter):
        client.create_batch(vision.id, "/v1/images/generations")
    with pytest.raises(NotFound):
        client.create_batch("file-nope", "/v1/images/generations")
    good = client.upload_file("in.jsonl", jsonl([_gen(1)]))
    with pytest.raises(InvalidParameter):
        client.create_batch(good.id, "/v1/images/variations")
    raw = httpx.post(f"{dev_server.url}/batches", headers={"Authorization": f"Bearer {KEY}"},
                     json={"input_file_id": good.id, "endpoint": "/v1/images/generations", "completion_window": "1h"})
    assert raw.status_code == 400 and raw.json()["error"]["param"] == "completion_window"


def test_reads_are_retried_but_a_create_the_server_may_have_taken_is_not(client, dev_server):
    good = client.upload_file("in.jsonl", jsonl([_gen(1)]))
    dev_server.faults.push(Fault("server_error", status=503, endpoint="any"))
    listing, _ = client.list_batches()  # retried after the 503
    assert listing == []
    dev_server.faults.push(Fault("server_error", status=500, endpoint="any"))
    with pytest.raises(ServerError):
        client.create_batch(good.id, "/v1/images/generations")
    assert dev_server.batches.batches == {}  # not created, and not tried a second time
    dev_server.faults.push(Fault("rate_limit", retry_after=0.01, endpoint="any"))
    created = client.create_batch(good.id, "/v1/images/generations")  # a 429 says it was not taken: retried
    assert len(dev_server.batches.batches) == 1 and created.id in dev_server.batches.batches


def test_control_endpoint_switches_speed_and_faults(dev_server):
    answer = httpx.post(f"{dev_server.root}/__batches", json={"line_seconds": 0.5, "faults": [{"kind": "expire"}]})
    assert answer.status_code == 200 and answer.json()["line_seconds"] == 0.5
    assert json.loads(httpx.get(f"{dev_server.root}/__batches").text)["faults"][0]["kind"] == "expire"
    bad = httpx.post(f"{dev_server.root}/__batches", json={"faults": [{"kind": "explode"}]})
    assert bad.status_code == 400
