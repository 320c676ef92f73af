"""Fuzzing what the provider sends: response bodies, saved raw answers, event streams and error bodies.

Whatever the bytes, the parsers and the client raise nothing but the typed provider errors
(MalformedResponse, StreamInterrupted, …); a crash here would lose a paid answer or kill a worker.
"""

from __future__ import annotations

import base64
import io
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.provider.errors import ProviderError
from gptimg_desktop.provider.events import (
    ImageResult,
    parse_images_response,
    parse_saved_response,
    partial_from_event,
    result_from_completed_events,
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tiny_png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (1, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


TINY_PNG = _tiny_png()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Values that look like the real fields, or are subtly wrong in type.
field_values = st.one_of(
    json_values,
    st.just(TINY_PNG),
    st.just("!!not base64!!"),
    st.just(""),
    st.just(1e308),
    st.dictionaries(
        st.sampled_from(["input_tokens", "output_tokens", "total_tokens", "input_tokens_details",
                         "output_tokens_details", "text_tokens", "image_tokens"]),
        st.one_of(st.integers(-5, 10**6), st.text(max_size=5), st.none(), st.just(1e999), json_values),
        max_size=5,
    ),
)
FIELDS = ["data", "b64_json", "url", "usage", "created", "created_at", "size", "quality", "background",
          "output_format", "type", "partial_image_index", "error", "message", "code", "param",
          "moderation_details"]
api_objects = st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=6)
images_bodies = st.one_of(
    api_objects,
    st.builds(lambda items, extra: {**extra, "data": items}, st.lists(api_objects, max_size=3), api_objects),
)
# A paid answer whose images are fine but whose other fields (usage above all) are fuzzed: it must be kept.
fuzzed_usage = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={
        name: st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=4), st.none(), st.just(1e999),
                        st.floats(allow_nan=True), json_values)
        for name in ("input_tokens", "output_tokens", "total_tokens", "input_tokens_details",
                     "output_tokens_details")
    }),
)
paid_bodies = st.builds(
    lambda extra, usage, n: {**extra, "data": [{"b64_json": TINY_PNG}] * n, "usage": usage},
    api_objects, fuzzed_usage, st.integers(1, 2),
)
completed_events = st.builds(
    lambda extra, usage: {**extra, "type": "image_generation.completed", "b64_json": TINY_PNG, "usage": usage},
    api_objects, fuzzed_usage,
)


def _only_typed_errors(call) -> ImageResult | None:
    try:
        result = call()
    except ProviderError:
        return None
    assert isinstance(result, ImageResult) and result.images
    usage = result.usage
    assert min(usage.input_tokens, usage.output_tokens, usage.total_tokens) >= 0
    return result


# ---------------------------------------------------------------------------------------------- parsers


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_as_a_response_body(body):
    _only_typed_errors(lambda: parse_images_response(body))


@FUZZ
@given(images_bodies)
def test_any_json_shaped_like_a_response(payload):
    body = json.dumps(payload).encode()
    _only_typed_errors(lambda: parse_images_response(body, request_id="req_fuzz"))


@FUZZ
@given(paid_bodies)
def test_a_paid_answer_with_odd_fields_keeps_its_images(payload):
    body = json.dumps(payload).encode()
    result = _only_typed_errors(lambda: parse_images_response(body))
    assert result is not None and len(result.images) == len(payload["data"])
    saved = _only_typed_errors(lambda: parse_saved_response(body))
    assert saved is not None and saved.images == result.images


@FUZZ
@given(st.lists(completed_events, min_size=1, max_size=3))
def test_saved_finished_events_with_odd_fields_keep_their_images(events):
    data = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    result = _only_typed_errors(lambda: parse_saved_response(data))
    assert result is not None and len(result.images) == len(events)


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_as_a_saved_answer(data):
    _only_typed_errors(lambda: parse_saved_response(data))


@FUZZ
@given(st.lists(st.one_of(api_objects, json_values), min_size=1, max_size=4), st.booleans())
def test_any_saved_event_lines(events, cut_last):
    data = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    if cut_last:
        data = data[: max(1, len(data) - 7)]
    _only_typed_errors(lambda: parse_saved_response(data))


@FUZZ
@given(api_objects, st.integers(0, 5))
def test_any_stream_event_payloads(payload, index):
    try:
        partial_from_event(payload, index)
    except ProviderError:
        pass
    _only_typed_errors(lambda: result_from_completed_events([payload]))


# ---------------------------------------------------------------------------------------------- the client


class _Answer:
    """A MockTransport handler answering whatever the current example says (no network at all)."""

    def __init__(self) -> None:
        self.status = 200
        self.content_type = "application/json"
        self.body = b""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, headers={"content-type": self.content_type, "x-request-id": "req_fuzz"},
                              content=self.body)


def _client(answer: _Answer) -> ImagesClient:
    config = ProviderConfig(kind="compatible", base_url="https://images.gptimg.invalid/v1",
                            api_key="sk-fuzz-0123456789abcdef", max_retries=1)
    return ImagesClient(config, transport=httpx.MockTransport(answer), sleep=lambda _s: None)


STREAM = ImageRequest("a fuzzed fox", size="1024x1024", stream=True, partial_images=2)
PLAIN = ImageRequest("a fuzzed fox", size="1024x1024")

sse_events = st.lists(
    st.tuples(
        st.sampled_from(["image_generation.partial_image", "image_generation.completed", "error", "ping", ""]),
        st.one_of(api_objects.map(json.dumps), completed_events.map(json.dumps), st.text(max_size=30),
                  st.just("[DONE]")),
    ),
    max_size=5,
)


def _sse(events) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        out.extend(f"data: {line}\n" for line in (data.splitlines() or [""]))
        out.append("\n")
    return "".join(out).encode()


@FUZZ
@given(st.one_of(st.binary(max_size=400), sse_events.map(_sse)), st.booleans())
def test_any_event_stream(body, with_sink):
    answer = _Answer()
    answer.content_type, answer.body = "text/event-stream", body
    saved = []
    with _client(answer) as client:
        _only_typed_errors(lambda: client.run(STREAM, on_partial=lambda p: None,
                                              response_sink=saved.append if with_sink else None))


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.one_of(images_bodies, paid_bodies).map(lambda p: json.dumps(p).encode())))
def test_any_200_json_answer(body):
    answer = _Answer()
    answer.body = body
    with _client(answer) as client:
        _only_typed_errors(lambda: client.run(PLAIN))


@FUZZ
@given(st.integers(300, 599), st.one_of(st.binary(max_size=300), api_objects.map(lambda p: json.dumps(
    {"error": p}).encode())), st.sampled_from(["application/json", "text/html", ""]))
def test_any_error_answer(status, body, content_type):
    answer = _Answer()
    answer.status, answer.body, answer.content_type = status, body, content_type
    with _client(answer) as client:
        _only_typed_errors(lambda: client.run(PLAIN))
