"""ImagesClient against the real local Images API over loopback HTTP (plus MockTransport for exact header cases)."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time

import httpx
import pytest
from PIL import Image

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.requests import ImageInput, ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.provider import (
    AuthenticationError,
    Cancelled,
    CancelToken,
    ImagesClient,
    InvalidParameter,
    MalformedResponse,
    ModelNotFound,
    ModerationBlocked,
    NetworkError,
    NotFound,
    OrganizationNotVerified,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamInterrupted,
    parse_saved_response,
)

KEY = "sk-test-PROVIDERSECRET0123456789"


def png(width: int, height: int, color=(200, 40, 40, 255), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def image_input(name: str, width: int = 1024, height: int = 1024, alpha: bool = False) -> ImageInput:
    color = (30, 120, 200, 0 if alpha else 255)
    return ImageInput(name, png(width, height, color), "png", width, height, has_alpha=alpha)


def pixel_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.size


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_client(url: str, *, key: str = KEY, sleep=None, rng=lambda: 0.0, transport=None, **config) -> ImagesClient:
    kind = config.pop("kind", "compatible")
    cfg = ProviderConfig(kind=kind, base_url=url, api_key=key, **config)
    return ImagesClient(cfg, transport=transport, sleep=sleep or SleepRecorder(), rng=rng)


def small_request(**changes) -> ImageRequest:
    return ImageRequest(prompt="a red bicycle", size="1024x1024", quality="low").with_changes(**changes)


@pytest.fixture
def client(dev_server):
    c = make_client(dev_server.url)
    yield c
    c.close()


# ---------------------------------------------------------------------------------------------- happy paths


def test_generate_sends_json_with_auth_and_returns_decoded_images(dev_server, client):
    attempts = []
    request = small_request(size="1536x1024")
    result = client.run(request, on_attempt=lambda n, rid: attempts.append((n, rid)))

    (sent,) = dev_server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.json == request.json_body()
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["user-agent"].startswith("gptimg-desktop/")
    assert len(result.images) == 1
    assert pixel_size(result.images[0]) == (1536, 1024)
    assert (result.size, result.quality, result.output_format) == ("1536x1024", "low", "png")
    assert result.usage.output_tokens > 0 and result.usage.total_tokens >= result.usage.output_tokens
    assert result.request_id and result.request_id.startswith("req_")
    assert attempts == [(1, result.request_id)]
    assert isinstance(result.created, int)


def test_edit_with_one_image_sends_field_image_and_no_input_fidelity(dev_server, client):
    request = small_request(images=(image_input("photo.png"),), prompt="make it blue")
    result = client.run(request)

    (sent,) = dev_server.requests
    assert sent.path == "/v1/images/edits"
    assert sent.is_multipart
    assert [(name, filename, ctype) for name, filename, ctype, _ in sent.files] == [("image", "photo.png", "image/png")]
    assert sent.files[0][3] == request.images[0].data
    assert sent.fields["model"] == "gpt-image-2"
    assert sent.fields["prompt"] == "make it blue"
    assert "input_fidelity" not in sent.fields
    assert pixel_size(result.images[0]) == (1024, 1024)


def test_edit_with_sixteen_images_and_mask_sends_image_array_and_mask(dev_server, client):
    images = tuple(image_input(f"ref{i:02d}.png") for i in range(16))
    mask = image_input("mask.png", alpha=True)
    result = client.run(small_request(images=images, mask=mask))

    (sent,) = dev_server.requests
    names = [name for name, *_ in sent.files]
    assert names == ["image[]"] * 16 + ["mask"]
    assert [filename for _, filename, _, _ in sent.files[:16]] == [f"ref{i:02d}.png" for i in range(16)]
    assert sent.files[16][3] == mask.data
    assert "input_fidelity" not in sent.fields
    assert len(result.images) == 1


def test_streaming_generate_calls_on_partial_in_order_and_returns_final_images(dev_server, client):
    partials = []
    sunk: list[bytes] = []
    request = small_request(size="1536x1024", stream=True, partial_images=3)
    result = client.run(request, on_partial=partials.append, response_sink=sunk.append)

    (sent,) = dev_server.requests
    assert sent.json["stream"] is True and sent.json["partial_images"] == 3
    assert sent.headers["accept"] == "text/event-stream"
    assert [p.index for p in partials] == [0, 1, 2]
    assert all(p.size == "1536x1024" and p.output_format == "png" for p in partials)
    assert pixel_size(partials[-1].image) == (1536, 1024)
    assert result.partial_images_received == 3
    assert pixel_size(result.images[0]) == (1536, 1024)
    assert result.usage.output_tokens > 0
    # One JSON line per completed event, and it rebuilds the same result.
    assert len(sunk) == 1 and sunk[0].endswith(b"\n") and sunk[0].count(b"\n") == 1
    assert json.loads(sunk[0])["type"] == "image_generation.completed"
    saved = parse_saved_response(b"".join(sunk))
    assert saved.images == result.images
    assert saved.usage == result.usage


def test_streaming_edit_with_two_images_collects_both_completed_events(dev_server, client):
    sunk: list[bytes] = []
    request = small_request(images=(image_input("a.png"),), n=2, stream=True, partial_images=1)
    result = client.run(request, response_sink=sunk.append)

    assert dev_server.requests[0].fields["stream"] == "true"
    assert len(result.images) == 2 and result.images[0] != result.images[1]
    assert result.partial_images_received == 2
    assert [json.loads(line)["type"] for line in sunk] == ["image_edit.completed"] * 2
    saved = parse_saved_response(b"".join(sunk))
    assert saved.images == result.images
    assert saved.usage == result.usage


def test_response_sink_gets_the_whole_body_before_decoding(dev_server, client):
    sunk: list[bytes] = []
    result = client.run(small_request(n=2), response_sink=sunk.append)

    assert len(sunk) == 1
    body = json.loads(sunk[0])
    assert len(body["data"]) == 2
    saved = parse_saved_response(sunk[0], request_id=result.request_id)
    assert saved.images == result.images
    assert saved.usage == result.usage
    assert saved.request_id == result.request_id


def test_check_connection_reports_the_key_works(dev_server, client):
    message = client.check_connection()
    assert "gpt-image-2" in message and "127.0.0.1" in message
    assert dev_server.requests[0].path == "/v1/models"


def test_check_connection_with_a_rejected_key_raises_authentication_error(dev_server):
    bad = make_client(dev_server.url, key="sk-invalid-0123456789abcdef")
    with bad, pytest.raises(AuthenticationError) as info:
        bad.check_connection()
    assert info.value.status == 401


def test_azure_deployment_url_api_version_and_api_key_header(dev_server):
    with make_client(dev_server.root, kind="azure", key="azure-key-0123456789", deployment="paint-deploy") as azure:
        result = azure.run(small_request())

    (sent,) = dev_server.requests
    assert sent.path == "/openai/deployments/paint-deploy/images/generations"
    assert sent.query == {"api-version": "2025-04-01-preview"}
    assert sent.headers["api-key"] == "azure-key-0123456789"
    assert "authorization" not in sent.headers
    assert sent.json["model"] == "gpt-image-2"
    assert pixel_size(result.images[0]) == (1024, 1024)


# ---------------------------------------------------------------------------------------------- refusals and faults


def test_refused_request_makes_no_http_call(dev_server, client):
    with pytest.raises(RequestRefused):
        client.run(small_request(size="1000x1000"))
    with pytest.raises(RequestRefused):
        client.run(small_request(prompt="   "))
    assert dev_server.requests == []


def test_bad_config_is_refused_before_any_http_call(dev_server):
    with make_client(dev_server.url, key="") as no_key, pytest.raises(ProviderConfigError):
        no_key.run(small_request())
    assert dev_server.requests == []


FAULT_CASES = [
    (Fault(kind="quota"), QuotaExceeded, "add credit", False, 429),
    (Fault(kind="server_error", status=503), ServerError, "overloaded", True, 503),
    (
        Fault(kind="moderation", stage="output", categories=["sexual", "violence"]),
        ModerationBlocked,
        (
            "The safety system blocked this request (stage: output; categories: sexual, violence). "
            "Rephrase the prompt or change the images."
        ),
        False,
        400,
    ),
    (
        Fault(kind="non_json"),
        MalformedResponse,
        "The provider sent an unreadable answer (HTTP 200, text/html). Try again; if it repeats, check the provider URL.",
        False,
        200,
    ),
    (Fault(kind="non_json", status=502), ServerError, "HTTP 502", True, 502),
    (Fault(kind="truncated"), MalformedResponse, "unreadable answer", False, 200),
    (Fault(kind="auth"), AuthenticationError, "The API key was rejected. Check it in Settings → Provider.", False, 401),
    (Fault(kind="org_unverified"), OrganizationNotVerified, "15 minutes", False, 403),
    (Fault(kind="model_gone"), ModelNotFound, "gpt-image-2", False, 404),
    (Fault(kind="rate_limit", retry_after=7), RateLimited, "wait 7 seconds", True, 429),
]


@pytest.mark.parametrize(
    ("fault", "error_class", "message", "retryable", "status"),
    FAULT_CASES,
    ids=[f"{case[0].kind}-{case[4]}" for case in FAULT_CASES],
)
def test_each_fault_maps_to_its_error_class(dev_server, fault, error_class, message, retryable, status):
    dev_server.faults.push(fault)
    with make_client(dev_server.url, max_retries=0) as c, pytest.raises(ProviderError) as info:
        c.run(small_request())
    error = info.value
    assert type(error) is error_class
    assert message in error.user_message
    assert str(error) == error.user_message
    assert error.retryable is retryable
    assert error.status == status
    assert error.request_id and error.request_id.startswith("req_")


def test_moderation_and_model_details_are_kept(dev_server):
    dev_server.faults.push(Fault(kind="moderation", categories=["violence"]))
    dev_server.faults.push(Fault(kind="model_gone"))
    with make_client(dev_server.url) as c:
        with pytest.raises(ModerationBlocked) as blocked:
            c.run(small_request())
        with pytest.raises(ModelNotFound) as gone:
            c.run(small_request())
    assert blocked.value.stage == "input" and blocked.value.categories == ("violence",)
    assert blocked.value.code == "moderation_blocked"
    assert blocked.value.body["error"]["moderation_details"]["categories"] == ["violence"]
    assert gone.value.model == "gpt-image-2" and gone.value.code == "model_not_found"
    assert "such as gpt-image-2.6-sunburst" in gone.value.user_message
    assert len(dev_server.requests) == 2  # neither is retried


def test_server_refusal_naming_a_parameter_is_invalid_parameter(dev_server):
    # The server refuses a transparent background on gpt-image-2 unless the account has the preview.
    request = small_request(background="transparent", allow_transparent_preview=True)
    with make_client(dev_server.url) as c, pytest.raises(InvalidParameter) as info:
        c.run(request)
    assert info.value.param == "background"
    assert "'background'" in info.value.user_message
    assert len(dev_server.requests) == 1


# ---------------------------------------------------------------------------------------------- retries


def test_rate_limit_with_retry_after_then_success_takes_two_attempts(dev_server):
    dev_server.faults.push(Fault(kind="rate_limit", retry_after=3))
    sleep = SleepRecorder()
    attempts, retries = [], []
    with make_client(dev_server.url, sleep=sleep) as c:
        result = c.run(
            small_request(),
            on_attempt=lambda n, rid: attempts.append((n, rid)),
            on_retry=lambda n, delay, err: retries.append((n, delay, type(err))),
        )
    assert len(dev_server.requests) == 2
    assert sleep.delays == [3.0]
    assert retries == [(1, 3.0, RateLimited)]
    assert [n for n, _ in attempts] == [1, 2]
    assert attempts[0][1] != attempts[1][1] and all(rid for _, rid in attempts)
    assert attempts[1][1] == result.request_id


def test_retry_after_ms_wins_over_retry_after(dev_server):
    dev_server.faults.push(Fault(kind="rate_limit", retry_after=30, retry_after_ms=1500))
    sleep = SleepRecorder()
    with make_client(dev_server.url, sleep=sleep) as c:
        c.run(small_request())
    assert sleep.delays == [1.5]


def test_quota_is_not_retried(dev_server):
    dev_server.faults.push(Fault(kind="quota", times=3))
    sleep = SleepRecorder()
    with make_client(dev_server.url, sleep=sleep) as c, pytest.raises(QuotaExceeded):
        c.run(small_request())
    assert len(dev_server.requests) == 1
    assert sleep.delays == []


def test_server_error_burst_of_two_then_success_uses_exponential_backoff(dev_server):
    dev_server.faults.push(Fault(kind="server_error", times=2))
    sleep = SleepRecorder()
    with make_client(dev_server.url, sleep=sleep, rng=lambda: 1.0) as c:
        result = c.run(small_request())
    assert len(dev_server.requests) == 3
    assert sleep.delays == [0.375, 0.75]  # 0.5 s and 1 s, minus the full 25 % jitter
    assert len(result.images) == 1


def test_three_server_errors_exhaust_the_retries(dev_server):
    dev_server.faults.push(Fault(kind="server_error", times=3))
    sleep = SleepRecorder()
    with make_client(dev_server.url, sleep=sleep) as c, pytest.raises(ServerError) as info:
        c.run(small_request())
    assert len(dev_server.requests) == 3
    assert sleep.delays == [0.5, 1.0]
    assert info.value.status == 500 and info.value.retryable


def test_connection_refused_is_network_error_after_retries():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = SleepRecorder()
    attempts = []
    with make_client(f"http://127.0.0.1:{port}/v1", sleep=sleep) as c, pytest.raises(NetworkError) as info:
        c.run(small_request(), on_attempt=lambda n, rid: attempts.append((n, rid)))
    assert info.value.user_message == "Can't reach 127.0.0.1. Check your internet connection or the provider URL."
    assert len(sleep.delays) == 2
    assert attempts == [(1, None), (2, None), (3, None)]


def test_dns_failure_is_network_error():
    def resolve_fails(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    c = make_client("https://images.example.invalid/v1", transport=httpx.MockTransport(resolve_fails))
    with c, pytest.raises(NetworkError) as info:
        c.run(small_request())
    assert "Can't reach images.example.invalid" in str(info.value)


def test_read_timeout_is_request_timeout(dev_server):
    dev_server.faults.push(Fault(kind="slow", delay=3.0))
    with make_client(dev_server.url, timeout=0.2, max_retries=0) as c, pytest.raises(RequestTimeout) as info:
        c.run(small_request())
    assert info.value.retryable
    assert "did not answer within 0.2 seconds" in info.value.user_message


def test_read_timeout_is_retried(dev_server):
    dev_server.faults.push(Fault(kind="slow", delay=3.0))
    with make_client(dev_server.url, timeout=0.3, max_retries=1) as c:
        result = c.run(small_request())
    assert len(dev_server.requests) == 2
    assert len(result.images) == 1


def test_cut_stream_is_stream_interrupted_with_last_partial_and_not_retried(dev_server):
    dev_server.faults.push(Fault(kind="cut_stream", after_partials=2))
    partials = []
    with make_client(dev_server.url) as c, pytest.raises(StreamInterrupted) as info:
        c.run(small_request(stream=True, partial_images=3), on_partial=partials.append)
    error = info.value
    assert error.last_partial is not None and error.last_partial.index == 1
    assert error.last_partial == partials[-1]
    assert error.partial_images_received == 2
    assert error.usage is None and error.images == []
    assert not error.retryable
    assert "may still have charged" in error.user_message
    assert len(dev_server.requests) == 1


# ---------------------------------------------------------------------------------------------- cancel


def test_cancel_from_another_thread_stops_a_silent_server_at_once(dev_server):
    dev_server.faults.push(Fault(kind="slow", delay=30.0))
    token = CancelToken()
    timer = threading.Timer(0.2, token.cancel)
    with make_client(dev_server.url) as c:
        started = time.monotonic()
        timer.start()
        with pytest.raises(Cancelled):
            c.run(small_request(), cancel=token)
        elapsed = time.monotonic() - started
    timer.join()
    assert elapsed < 10  # did not wait for the 30 s server
    assert len(dev_server.requests) == 1


def test_cancel_during_streaming_stops_after_the_current_event(dev_server):
    token = CancelToken()
    seen = []

    def on_partial(partial):
        seen.append(partial.index)
        token.cancel()

    with make_client(dev_server.url) as c, pytest.raises(Cancelled):
        c.run(small_request(stream=True, partial_images=3), on_partial=on_partial, cancel=token)
    assert seen == [0]


def test_cancel_during_backoff_wakes_the_wait_and_sends_nothing_more(dev_server):
    dev_server.faults.push(Fault(kind="server_error", times=3))
    token = CancelToken()
    cfg = ProviderConfig(kind="compatible", base_url=dev_server.url, api_key=KEY)
    c = ImagesClient(cfg, rng=lambda: 0.0)  # the real sleep: the token's wait must be used
    with c, pytest.raises(Cancelled):
        c.run(small_request(), cancel=token, on_retry=lambda *_: token.cancel())
    assert len(dev_server.requests) == 1


def test_already_cancelled_token_sends_nothing(dev_server, client):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        client.run(small_request(), cancel=token)
    assert dev_server.requests == []


def test_cancel_token_callbacks_run_once_and_can_be_removed():
    token = CancelToken()
    calls = []
    remove = token.add_callback(lambda: calls.append("a"))
    token.add_callback(lambda: calls.append("b"))
    remove()
    token.cancel()
    token.cancel()
    token.add_callback(lambda: calls.append("late"))  # already cancelled: runs at once
    assert calls == ["b", "late"]
    assert token.cancelled and token.wait(0)


# ---------------------------------------------------------------------------------------------- the key stays secret


def test_api_key_never_in_errors_or_logs(dev_server, caplog):
    caplog.set_level(logging.DEBUG)  # includes httpx and httpcore debug output
    secret = "sk-invalid-TOPSECRETKEY0123456789"
    with make_client(dev_server.url, key=secret) as c:
        with pytest.raises(AuthenticationError) as info:
            c.run(small_request())
        assert secret not in repr(c.config) and secret not in str(c.config)
    error = info.value
    for text in (str(error), repr(error), json.dumps(error.body), error.server_message or ""):
        assert secret not in text
    assert "sk-…" in str(c.config.redacted()["api_key"]) and secret[-4:] in c.config.redacted()["api_key"]
    assert caplog.records, "the request was logged"
    assert secret not in caplog.text


def test_a_server_echoing_the_whole_key_is_scrubbed(caplog):
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        body = {
            "error": {
                "message": f"Bad key {key} for you",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        return httpx.Response(400, json=body, headers={"x-request-id": "req_echo"})

    with (
        make_client(
            "https://api.example.test/v1", key="opaque-key-without-prefix-123", transport=httpx.MockTransport(echo)
        ) as c,
        pytest.raises(ProviderError) as info,
    ):
        c.run(small_request())
    error = info.value
    for text in (str(error), repr(error), json.dumps(error.body), error.server_message):
        assert "opaque-key-without-prefix-123" not in text
    assert "[redacted]" in str(error)
    assert "opaque-key-without-prefix-123" not in caplog.text


# ---------------------------------------------------------------------------------------------- exact header cases


def mock_client(responses: list, **config):
    """A client whose transport answers from ``responses`` in order; returns (client, sent requests, sleeps)."""
    sent: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return queue.pop(0)

    sleep = SleepRecorder()
    c = make_client("https://api.example.test/v1", transport=httpx.MockTransport(handler), sleep=sleep, **config)
    return c, sent, sleep


def ok_response(**headers) -> httpx.Response:
    import base64

    body = {"created": 1, "data": [{"b64_json": base64.b64encode(png(16, 16)).decode()}], "output_format": "png"}
    return httpx.Response(200, json=body, headers={"x-request-id": "req_ok", **headers})


def error_response(status: int, code: str | None = None, **headers) -> httpx.Response:
    body = {"error": {"message": "nope", "type": "server_error", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers={"x-request-id": f"req_{status}", **headers})


def test_x_should_retry_false_stops_a_retry_and_true_forces_one():
    c, sent, _ = mock_client([error_response(500, **{"x-should-retry": "false"})])
    with pytest.raises(ServerError):
        c.run(small_request())
    assert len(sent) == 1

    c, sent, sleep = mock_client([error_response(400, **{"x-should-retry": "true"}), ok_response()])
    c.run(small_request())
    assert len(sent) == 2 and sleep.delays == [0.5]


@pytest.mark.parametrize("status", [408, 409, 429, 502, 504])
def test_sdk_retry_statuses_are_retried(status):
    c, sent, _ = mock_client([error_response(status), ok_response()])
    assert len(c.run(small_request()).images) == 1
    assert len(sent) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_other_client_errors_are_not_retried(status):
    c, sent, _ = mock_client([error_response(status), ok_response()])
    with pytest.raises(ProviderError) as info:
        c.run(small_request())
    assert len(sent) == 1 and not info.value.retryable


def test_retry_after_http_date_and_too_long_waits():
    from email.utils import formatdate

    c, sent, sleep = mock_client(
        [error_response(503, **{"retry-after": formatdate(time.time() + 30, usegmt=True)}), ok_response()]
    )
    c.run(small_request())
    assert len(sleep.delays) == 1 and 25 < sleep.delays[0] <= 30

    # Over two minutes: the SDK gives up rather than block for that long.
    c, sent, sleep = mock_client([error_response(429, **{"retry-after": "600"}), ok_response()])
    with pytest.raises(RateLimited) as info:
        c.run(small_request())
    assert len(sent) == 1 and not info.value.retryable

    # Zero or unreadable: fall back to backoff.
    c, sent, sleep = mock_client([error_response(429, **{"retry-after": "0"}), ok_response()])
    c.run(small_request())
    assert sleep.delays == [0.5]


def test_backoff_doubles_and_is_capped_at_eight_seconds():
    c, _sent, sleep = mock_client([error_response(500)] * 7 + [ok_response()], max_retries=7)
    c.run(small_request())
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_redirect_is_reported_not_followed():
    c, sent, _ = mock_client([httpx.Response(301, headers={"location": "https://elsewhere.test/v1"})])
    with pytest.raises(ProviderConfigError) as info:
        c.run(small_request())
    assert len(sent) == 1 and "redirects" in str(info.value)


def test_html_404_from_a_wrong_base_url_is_not_found():
    c, _, _ = mock_client([httpx.Response(404, text="<html>nope</html>", headers={"content-type": "text/html"})])
    with pytest.raises(NotFound) as info:
        c.run(small_request())
    assert type(info.value) is NotFound and "/v1/images/generations" in str(info.value)


def sse(*events: tuple[str | None, object]) -> httpx.Response:
    lines = []
    for name, data in events:
        if name:
            lines.append(f"event: {name}")
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}")
        lines.append("")
    return httpx.Response(200, text="\n".join(lines) + "\n", headers={"content-type": "text/event-stream"})


def completed_event(kind="image_generation") -> dict:
    import base64

    return {
        "type": f"{kind}.completed",
        "b64_json": base64.b64encode(png(32, 16)).decode(),
        "created_at": 5,
        "size": "32x16",
        "quality": "low",
        "background": "opaque",
        "output_format": "png",
        "usage": {
            "input_tokens": 3,
            "output_tokens": 10,
            "total_tokens": 13,
            "input_tokens_details": {"text_tokens": 3, "image_tokens": 0},
        },
    }


def test_stream_error_event_maps_to_its_class_and_is_not_retried():
    error = {
        "error": {
            "message": "blocked",
            "type": "image_generation_user_error",
            "param": None,
            "code": "moderation_blocked",
            "moderation_details": {"moderation_stage": "output", "categories": ["violence"]},
        }
    }
    c, sent, _ = mock_client([sse(("error", error)), ok_response()])
    with pytest.raises(ModerationBlocked) as info:
        c.run(small_request(stream=True))
    assert info.value.stage == "output" and len(sent) == 1


def test_stream_done_sentinel_is_tolerated_and_missing_images_interrupt():
    c, _, _ = mock_client([sse(("image_generation.completed", completed_event()), (None, "[DONE]"))])
    result = c.run(small_request(stream=True))
    assert pixel_size(result.images[0]) == (32, 16)
    assert result.usage.total_tokens == 13 and result.created == 5

    c, _, _ = mock_client([sse(("image_generation.completed", completed_event()), (None, "[DONE]"))])
    with pytest.raises(StreamInterrupted) as info:
        c.run(small_request(stream=True, n=2))
    assert len(info.value.images) == 1 and info.value.usage.total_tokens == 13


def test_stream_request_answered_with_plain_json_still_works():
    c, _, _ = mock_client([ok_response()])
    sunk: list[bytes] = []
    result = c.run(small_request(stream=True), response_sink=sunk.append)
    assert pixel_size(result.images[0]) == (16, 16)
    assert parse_saved_response(sunk[0]).images == result.images


class DroppingStream(httpx.SyncByteStream):
    """A response body that sends ``chunks`` and then loses the connection."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self):
        yield from self.chunks
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_connection_drop_after_a_completed_image_keeps_it_and_is_not_retried():
    first = f"event: image_generation.completed\ndata: {json.dumps(completed_event())}\n\n".encode()
    dropped = httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "x-request-id": "req_cut"},
        stream=DroppingStream([first, b"event: image_generation.partial_image\ndata: {"]),
    )
    c, sent, _ = mock_client([dropped, ok_response()])
    sunk: list[bytes] = []
    with pytest.raises(StreamInterrupted) as info:
        c.run(small_request(stream=True, n=2), response_sink=sunk.append)
    error = info.value
    assert len(sent) == 1
    assert len(error.images) == 1 and error.usage.total_tokens == 13
    assert error.request_id == "req_cut"
    assert parse_saved_response(b"".join(sunk)).images == error.images


# ---------------------------------------------------------------------------------------------- the HTTP client


def test_the_http_client_is_built_by_the_first_request_and_is_gone_after_close(dev_server):
    """Opening the window builds a client; the SSL context it costs is paid by the first request, off the GUI."""
    client = make_client(dev_server.url)
    assert client._http._client is None
    assert client.run(small_request()).images
    assert isinstance(client._http._client, httpx.Client)
    client.close()
    assert client._http._client is None
    with pytest.raises(RuntimeError, match="closed"):
        client.run(small_request())
    unused = make_client(dev_server.url)
    unused.close()  # closing a client that never sent anything builds nothing
    assert unused._http._client is None
