"""A hostile or broken server on 127.0.0.1: trickled bodies, keep-alives after the last image, echoed keys,
huge bodies and headers, lying error events and absurd retry-after values."""

from __future__ import annotations

import base64
import json
import logging
import socket
import sqlite3
import time

import pytest
from hostile import HostileServer, images_body, png, response, send, sse

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.jobs.pipeline import JobPipeline, JobSpec
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.provider.errors import MalformedResponse, ProviderError, RateLimited, StreamInterrupted
from gptimg_desktop.store.bundles import export_project
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-hostile-secret-key-0123456789abcdef"


def _client(url: str, **kwargs) -> ImagesClient:
    config = {"kind": "compatible", "base_url": url, "api_key": KEY, "max_retries": 0, **kwargs}
    return ImagesClient(ProviderConfig(**config), sleep=lambda s: None)


def _completed(image: bytes) -> dict:
    import base64

    return {"type": "image_generation.completed", "b64_json": base64.b64encode(image).decode(),
            "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110}}


# ---------------------------------------------------------------------------------------------- item 6: deadlines
def test_a_server_trickling_one_byte_at_a_time_is_stopped_by_the_total_deadline():
    from gptimg_desktop.provider.client import total_deadline

    def trickle(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
        for _ in range(300):
            conn.sendall(b" ")
            time.sleep(0.1)  # always well inside the read timeout; 30 s in all

    request = ImageRequest("a slow lighthouse", size="1024x1024", quality="low")
    with HostileServer(trickle) as server, _client(server.url, timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(ProviderError) as info:
            client.run(request)
        took = time.monotonic() - started
    assert took < total_deadline(request, 1.0) + 1.5 < 10, took  # not the 20 s the trickle would take
    assert "in all" in info.value.user_message and not info.value.retryable
    assert len(server.requests) == 1


def test_the_total_deadline_grows_with_size_quality_and_count():
    from gptimg_desktop.provider.client import total_deadline

    small = total_deadline(ImageRequest("x", size="1024x1024", quality="low"), 600)
    big = total_deadline(ImageRequest("x", size="3840x2160", quality="high", n=4), 600)
    assert 600 < small < 700 and small < big <= 2 * 600 + 30


def test_reading_stops_once_the_images_asked_for_have_arrived():
    def keep_alive_forever(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        conn.sendall(sse([_completed(png())]))
        for _ in range(300):
            conn.sendall(b": keep-alive\n\n")
            time.sleep(0.1)

    with HostileServer(keep_alive_forever) as server, _client(server.url, timeout=30.0) as client:
        started = time.monotonic()
        result = client.run(ImageRequest("a lighthouse", size="1024x1024", stream=True))
        assert time.monotonic() - started < 3
    assert len(result.images) == 1


# ---------------------------------------------------------------------------------------------- item 7: the key
def test_a_request_id_or_body_echoing_the_key_never_reaches_disk_logs_or_bundles(tmp_path, caplog):
    echo = {"x-request-id": f"req_1 Authorization: Bearer {KEY}"}
    body = images_body([png()], echoed_headers={"authorization": f"Bearer {KEY}"}, note=KEY)
    store = HistoryStore(tmp_path / "home")
    caplog.set_level(logging.INFO)  # what -v shows
    try:
        with HostileServer(send(body, headers=echo)) as server, _client(server.url) as client:
            outcome = JobPipeline(store, client).run(JobSpec(ImageRequest("a fox", size="1024x1024",
                                                                          output_format="png")))
        assert outcome.status == "succeeded", outcome.error
        export_project(store, "Default", tmp_path / "bundle.gptimg")
    finally:
        store.close()
    secret = KEY.encode()
    for path in [*(tmp_path / "home").rglob("*"), tmp_path / "bundle.gptimg"]:
        if path.is_file():
            assert secret not in path.read_bytes(), path
    with sqlite3.connect(tmp_path / "home" / "history.db") as conn:
        ids = json.loads(conn.execute("SELECT request_ids_json FROM jobs").fetchone()[0])
    assert ids and all("[redacted]" in i and KEY not in i for i in ids)
    assert KEY not in caplog.text


def test_server_text_with_terminal_escapes_is_cleaned_before_it_is_shown():
    error = {"error": {"message": "bad \x1b[2J\x1b[31mthing\u202e txt.exe", "type": "invalid_request_error"}}
    with HostileServer(send(json.dumps(error).encode(), status=400,
                            headers={"x-request-id": "req\x1b]0;owned\x07"})) as server, \
            _client(server.url) as client, pytest.raises(ProviderError) as info:
        client.run(ImageRequest("a fox", size="1024x1024"))
    shown = info.value.user_message + (info.value.request_id or "") + (info.value.server_message or "")
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "thing" in info.value.user_message


# ---------------------------------------------------------------------------------------------- item 8: body cap
def test_a_body_larger_than_any_real_answer_is_refused_without_reading_it_whole(monkeypatch):
    from gptimg_desktop.provider import client as client_module

    monkeypatch.setattr(client_module, "MAX_BYTES_PER_IMAGE", 256 * 1024)  # so the test sends MBs, not GBs
    sent = {"bytes": 0}

    def huge(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"data\": [{\"b64_json\": \"")
        chunk = b"A" * 65536
        for _ in range(200):  # 13 MB
            conn.sendall(chunk)
            sent["bytes"] += len(chunk)

    sunk: list[bytes] = []
    with HostileServer(huge) as server, _client(server.url) as client, pytest.raises(MalformedResponse) as info:
        client.run(ImageRequest("a fox", size="1024x1024"), response_sink=sunk.append)
    assert "more than 1 image" in info.value.user_message and not info.value.retryable
    assert sunk == []  # nothing kept for every later start to read again


def _noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, like a real photo-like 4K answer."""
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_a_stream_with_its_partial_images_each_as_big_as_the_final_one_is_read_whole(monkeypatch):
    # The cap counts the partial images asked for: 3 partials and the final image at full size is a real 4K stream.
    from gptimg_desktop.provider import client as client_module

    monkeypatch.setattr(client_module, "MAX_BYTES_PER_IMAGE", 256 * 1024)
    image = _noise_png(290)  # ~250 KB, ~340 KB in base64: four of them are over one image's cap plus the slack
    partial = {"type": "image_edit.partial_image", "b64_json": base64.b64encode(image).decode()}
    events = [{**partial, "partial_image_index": i} for i in range(3)] + [_completed(image)]

    def stream(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(response(200, sse(events), content_type="text/event-stream"))

    with HostileServer(stream) as server, _client(server.url) as client:
        result = client.run(ImageRequest("a fox", size="1024x1024", stream=True, partial_images=3))
    assert result.partial_images_received == 3 and result.images[0] == image


def test_a_stream_of_endless_partial_images_is_cut_at_the_cap(monkeypatch):
    from gptimg_desktop.provider import client as client_module

    monkeypatch.setattr(client_module, "MAX_BYTES_PER_IMAGE", 256 * 1024)
    image = _noise_png(290)
    partial = {"type": "image_edit.partial_image", "b64_json": base64.b64encode(image).decode()}

    def endless(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        for i in range(40):  # 13 MB, far past what one image and three partials can take
            conn.sendall(sse([{**partial, "partial_image_index": i}]))

    with HostileServer(endless) as server, _client(server.url) as client, \
            pytest.raises(StreamInterrupted) as info:
        client.run(ImageRequest("a fox", size="1024x1024", stream=True, partial_images=3))
    assert "grew past" in info.value.user_message and info.value.partial_images_received < 40


# ---------------------------------------------------------------------------------------------- item 12: messages, retries
def test_an_error_event_in_a_200_stream_is_not_reported_as_http_500():
    events = [{"type": "error", "error": {"type": "server_error", "message": "The model crashed."}}]

    def stream(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(response(200, sse(events), content_type="text/event-stream"))

    with HostileServer(stream) as server, _client(server.url) as client, pytest.raises(ProviderError) as info:
        client.run(ImageRequest("a fox", size="1024x1024", stream=True))
    assert "HTTP" not in info.value.user_message and "while the image was streaming" in info.value.user_message
    assert "The model crashed." in info.value.user_message


@pytest.mark.parametrize(("seconds", "words"), [(97200, "27 hours"), (20, "20 seconds"), (300, "5 minutes")])
def test_a_rate_limit_names_the_wait_the_server_asked_for(seconds, words):
    body = json.dumps({"error": {"type": "requests", "code": "rate_limit_exceeded", "message": "slow down"}})
    with HostileServer(send(body.encode(), status=429, headers={"retry-after": str(seconds)})) as server, \
            _client(server.url) as client, pytest.raises(RateLimited) as info:
        client.run(ImageRequest("a fox", size="1024x1024"))
    assert words in info.value.user_message and "a minute" not in info.value.user_message


def test_a_paid_200_with_oversized_headers_is_never_sent_again():
    def fat_headers(conn: socket.socket, _request: bytes) -> None:
        body = images_body([png()])
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     + b"x-padding: " + b"p" * 300_000 + b"\r\n"
                     + f"content-length: {len(body)}\r\n\r\n".encode() + body)

    with HostileServer(fat_headers) as server, _client(server.url, max_retries=2) as client, \
            pytest.raises(ProviderError) as info:
        client.run(ImageRequest("a fox", size="1024x1024"))
    time.sleep(0.2)
    assert len(server.requests) == 1
    assert "not sent again" in info.value.user_message and "usage page" in info.value.user_message


def test_a_stream_cut_by_the_deadline_keeps_the_images_that_completed():
    def half(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        conn.sendall(sse([_completed(png())]))
        for _ in range(200):
            conn.sendall(b": keep-alive\n\n")
            time.sleep(0.1)

    with HostileServer(half) as server, _client(server.url, timeout=1.0) as client, \
            pytest.raises(StreamInterrupted) as info:
        client.run(ImageRequest("a fox", size="1024x1024", quality="low", stream=True, n=2))
    assert len(info.value.images) == 1 and "in all" in info.value.user_message
