"""The Images API client: one blocking ``run()`` per job, meant for a worker thread.

Retries follow the official SDK (connection errors, timeouts, 408/409/429/5xx, ``x-should-retry``,
``retry-after``), except that an exhausted quota is never retried and nothing that may already
have been billed (a streamed or downloaded answer cut short) is retried. ``CancelToken.cancel()``
from another thread shuts the socket down, so even a silent server stops the job at once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import httpx

from gptimg_desktop.core.models import DEFAULT_MODEL
from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.core.requests import ImageRequest

from .config import ProviderConfig
from .error_mapping import MAX_RETRY_AFTER, error_from_response, error_from_stream_event
from .errors import (
    Cancelled,
    MalformedResponse,
    NetworkError,
    ProviderConfigError,
    ProviderError,
    RequestTimeout,
    StreamInterrupted,
    clean_server_text,
    scrub_secret_bytes,
)
from .events import (
    ImageResult,
    PartialImage,
    decode_b64_image,
    iter_sse,
    parse_images_response,
    partial_from_event,
    result_from_completed_events,
    usage_from_api,
)
from .http import CONNECT_TIMEOUT, LazyHttpClient

log = logging.getLogger("gptimg.provider")

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
_ERROR_BODY_LIMIT = 1024 * 1024
# The most one image of an answer can take: a 4K PNG is ~25 MB, ~33 MB in base64. A bigger answer is refused
# instead of being read into memory whole (and kept on disk for every later start to read again).
MAX_BYTES_PER_IMAGE = 48 * 1024 * 1024
# A server that trickles a byte now and then never trips the read timeout, so each attempt also has a total
# deadline: about the read timeout for a small low-quality image (630 s by default), up to twice it (plus 30 s)
# for many large high-quality ones.
_QUALITY_EXTRA = {"low": 0.0, "medium": 0.05, "high": 0.15, "auto": 0.1}


def answer_byte_limit(request: ImageRequest) -> int:
    """The largest answer accepted for ``request``: n images at most, plus room for the JSON around them."""
    return max(1, request.n) * MAX_BYTES_PER_IMAGE + 1024 * 1024


def stream_byte_limit(request: ImageRequest) -> int:
    """The largest stream accepted for ``request``: each image may come with its partial images, each as big."""
    return answer_byte_limit(request) + max(1, request.n) * request.partial_images * MAX_BYTES_PER_IMAGE


def total_deadline(request: ImageRequest, read_timeout: float) -> float:
    """Seconds one attempt may take from sending to the last byte, scaled to size, quality and count."""
    from gptimg_desktop.core.sizes import parse_size

    try:
        size = parse_size(request.size)
    except Exception:
        size = None
    megapixels = (size.width * size.height / 1_000_000) if size is not None else 1.6
    share = 1.0 + _QUALITY_EXTRA.get(request.quality, 0.15)
    share += min(0.5, max(0.0, (megapixels - 1.6) / 13.0))  # 0 up to ~1.6 MP, 0.5 at 8.3 MP (4K)
    share += 0.05 * (max(1, request.n) - 1)
    # The margin keeps a plain stall (no byte for the read timeout) reported as the stall it is, and gives a
    # short timeout room for the transfer itself.
    return read_timeout * min(2.0, share) + min(30.0, max(5.0, 0.5 * read_timeout))


class _Deadline:
    """Breaks the attempt's socket when its total deadline passes, as a cancel would; ``hit`` says it did."""

    def __init__(self, seconds: float, breaker: _SocketBreaker) -> None:
        self.seconds = seconds
        self.hit = False
        self._breaker = breaker
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.hit = True
        self._breaker.break_now()

    def start(self) -> _Deadline:
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()


class CancelToken:
    """Thread-safe cancellation: the UI thread calls ``cancel()``, the worker checks or waits on it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            _call_quietly(callback)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True as soon as the token is cancelled."""
        return self._event.wait(timeout)

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on cancel (at once if already cancelled); returns a function that removes it."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._callbacks.append(callback)
        if already:
            _call_quietly(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove


class _SocketBreaker:
    """Remembers the socket of the request in flight (via httpcore's trace hook) so cancel can shut it down.

    Closing a socket does not wake a thread blocked in recv() on Linux; shutdown() does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._broken = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if not event.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sock = sock
            broken = self._broken
        if broken:
            _shutdown(sock)

    def break_now(self) -> None:
        with self._lock:
            self._broken = True
            sock = self._sock
        _shutdown(sock)


class ImagesClient:
    """Sends ImageRequests to one provider and returns ImageResults or raises ProviderError subclasses."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._rng = rng
        self._http = LazyHttpClient(transport=transport, timeout=config.timeout, keepalive=False)

    @property
    def config(self) -> ProviderConfig:
        return self._config

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public calls
    def run(
        self,
        request: ImageRequest,
        *,
        on_partial: Callable[[PartialImage], None] | None = None,
        cancel: CancelToken | None = None,
        response_sink: Callable[[bytes], None] | None = None,
        on_attempt: Callable[[int, str | None], None] | None = None,
        on_retry: Callable[[int, float, ProviderError], None] | None = None,
    ) -> ImageResult:
        """Send ``request`` (retrying as the SDK does) and return its images.

        ``on_attempt(n, request_id)`` is called once per attempt, as soon as its request id is known
        (None when the attempt failed before any answer). ``response_sink`` receives the raw bytes of
        a paid answer before they are decoded: the whole body, or one JSON line per completed event.
        """
        request.validate()  # RequestRefused propagates: nothing is sent
        self._config.check()
        token = cancel if cancel is not None else CancelToken()
        attempts = self._config.max_retries + 1
        for attempt in range(1, attempts + 1):
            if token.cancelled:
                raise Cancelled()
            try:
                return self._attempt(request, attempt, token, on_partial, response_sink, on_attempt)
            except Cancelled:
                raise
            except ProviderError as error:
                if token.cancelled:
                    raise Cancelled() from None
                if not error.retryable or attempt >= attempts:
                    raise
                delay = self._retry_delay(attempt, error.retry_after)
                log.warning(
                    "attempt %d failed (%s, status %s, request %s); retrying in %.2f s",
                    attempt,
                    type(error).__name__,
                    error.status,
                    error.request_id,
                    delay,
                )
                if on_retry is not None:
                    _call_quietly(on_retry, attempt, delay, error)
                self._pause(delay, token, cancel is not None)
        raise AssertionError("unreachable")  # the loop returns or raises

    def check_connection(self) -> str:
        """One cheap authenticated request (GET …/models); a short human answer or a ProviderError."""
        self._config.check()
        url = self._config.models_url()
        started = time.monotonic()
        try:
            response = self._http.get().get(url, headers=self._config.headers(), timeout=httpx.Timeout(30.0, connect=10.0))
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, None, retryable=False) from None
        request_id = response.headers.get("x-request-id")
        log.info(
            "GET %s -> %d (request %s, %.2f s)",
            httpx.URL(url).path,
            response.status_code,
            request_id,
            time.monotonic() - started,
        )
        if response.status_code >= 300:
            raise error_from_response(
                self._config, response.status_code, response.headers, response.content, path="/models"
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        ids = [m.get("id") for m in payload.get("data", []) if isinstance(m, dict)] if isinstance(payload, dict) else []
        where = f"Connected to {self._config.host}: the key works"
        if DEFAULT_MODEL in ids:
            return f"{where} and {DEFAULT_MODEL} is available."
        image_models = sorted(i for i in ids if isinstance(i, str) and "image" in i)
        if image_models:
            shown = ", ".join(image_models[:3]) + (" …" if len(image_models) > 3 else "")
            return f"{where}; image models listed: {shown}."
        if ids:
            return f"{where}, but none of its {len(ids)} listed models makes images."
        return f"{where}."

    # ------------------------------------------------------------------ one attempt
    def _attempt(
        self,
        request: ImageRequest,
        attempt: int,
        token: CancelToken,
        on_partial: Callable[[PartialImage], None] | None,
        sink: Callable[[bytes], None] | None,
        on_attempt: Callable[[int, str | None], None] | None,
    ) -> ImageResult:
        url = self._config.endpoint_url(request.endpoint, request.model)
        path = httpx.URL(url).path
        headers = self._config.headers()
        if request.stream:
            headers["Accept"] = "text/event-stream"
            headers["Cache-Control"] = "no-store"
        breaker = _SocketBreaker()
        http_request = self._http.get().build_request(
            "POST", url, headers=headers, extensions={"trace": breaker.trace}, **_body(request)
        )
        reported = False

        def report(request_id: str | None) -> None:
            nonlocal reported
            if not reported:
                reported = True
                if on_attempt is not None:
                    _call_quietly(on_attempt, attempt, request_id)

        remove_callback = token.add_callback(breaker.break_now)
        started = time.monotonic()
        deadline = _Deadline(total_deadline(request, self._config.timeout), breaker).start()
        try:
            try:
                response = self._http.get().send(http_request, stream=True)
            except httpx.HTTPError as exc:
                log.info("POST %s failed before an answer (attempt %d): %s", path, attempt, type(exc).__name__)
                if token.cancelled:
                    raise Cancelled() from None
                if deadline.hit:  # nothing answered yet, so nothing was billed: retrying is safe
                    raise self._deadline_error(deadline, None, None, retryable=True) from None
                if isinstance(exc, httpx.RemoteProtocolError) and "without sending" not in str(exc).lower():
                    # The server answered, but not in a form we can read (e.g. headers too large): it may have
                    # done the work and billed it, so this is never sent again.
                    raise MalformedResponse(
                        f"{self._config.host} sent an answer this app can't read ({_short(exc)}); it may have "
                        "charged for it, so it was not sent again. Check your provider's usage page before "
                        "trying again.",
                        retryable=False,
                    ) from None
                raise self._transport_error(exc, path) from None
            try:
                # Whatever the server sends is scrubbed before it is logged, stored or shown: a hostile or
                # broken server may echo the Authorization header into any of it.
                request_id = clean_server_text(response.headers.get("x-request-id"), [self._config.api_key])
                report(request_id)
                log.info(
                    "POST %s -> %d (request %s, attempt %d, headers after %.2f s)",
                    path,
                    response.status_code,
                    request_id,
                    attempt,
                    time.monotonic() - started,
                )
                result = self._read_answer(response, request, request_id, token, on_partial, sink, path, deadline)
                log.info(
                    "POST %s done: %d image(s), %d partial(s) (request %s, %.2f s)",
                    path,
                    len(result.images),
                    result.partial_images_received,
                    request_id,
                    time.monotonic() - started,
                )
                return result
            finally:
                response.close()
        finally:
            deadline.stop()
            remove_callback()
            report(None)

    def _deadline_error(
        self, deadline: _Deadline, status: int | None, request_id: str | None, retryable: bool = False
    ) -> RequestTimeout:
        """The attempt ran past its total deadline (the server kept the connection alive without finishing)."""
        paid = " it may still have charged for it." if status is not None and 200 <= status < 300 else ""
        return RequestTimeout(
            f"{self._config.host} did not finish the answer within {deadline.seconds:g} seconds in all, the most "
            f"this size and quality may take;{paid or ' '}Try again, or use a lower quality or a smaller size."
            .replace(";  ", "; ").replace("; Try", "; try"),
            status=status,
            request_id=request_id,
            retryable=retryable,
        )

    def _read_answer(
        self,
        response: httpx.Response,
        request: ImageRequest,
        request_id: str | None,
        token: CancelToken,
        on_partial: Callable[[PartialImage], None] | None,
        sink: Callable[[bytes], None] | None,
        path: str,
        deadline: _Deadline,
    ) -> ImageResult:
        status = response.status_code
        content_type = _content_type(response)
        if not 200 <= status < 300:
            try:
                body = self._read_body(response, token, limit=_ERROR_BODY_LIMIT)
            except httpx.HTTPError:
                if token.cancelled:
                    raise Cancelled() from None
                body = b""  # the status alone still says what happened
            raise error_from_response(self._config, status, response.headers, body, path=path, model=request.model)
        if content_type == "text/event-stream":
            return self._read_stream(response, request, request_id, token, on_partial, sink, deadline)
        limit = answer_byte_limit(request)
        try:
            declared = int(response.headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        try:
            body = self._read_body(response, token, limit=limit + 1) if declared <= limit else b""
        except httpx.HTTPError as exc:
            if token.cancelled:
                raise Cancelled() from None
            if deadline.hit:
                raise self._deadline_error(deadline, status, request_id) from None
            if isinstance(exc, httpx.TimeoutException):
                raise RequestTimeout(
                    f"{self._config.host} stopped sending the answer for {self._config.timeout:g} seconds; "
                    "the provider may still have charged for it. Try again.",
                    status=status,
                    request_id=request_id,
                    retryable=False,
                ) from None
            raise MalformedResponse(
                f"The provider's answer was cut short (HTTP {status}); it may still have charged for it. Try again.",
                status=status,
                request_id=request_id,
            ) from None
        if deadline.hit:  # the socket was shut on a body without a length: it reads as ended, but it was cut
            raise self._deadline_error(deadline, status, request_id)
        if declared > limit or len(body) > limit:
            size = max(declared, len(body))
            raise MalformedResponse(
                f"The provider's answer is over {size / 1024**2:,.0f} MB, more than {request.n} image(s) can "
                "take, so it was not read or kept; it may still have charged for it. Check your provider's "
                "usage page.",
                status=status,
                request_id=request_id,
                retryable=False,
            )
        if sink is not None:
            # A 200 is paid: keep the bytes before anything can go wrong (scrubbed: it may echo the key).
            _call_quietly(sink, scrub_secret_bytes(body, [self._config.api_key]))
        if not body.lstrip().startswith((b"{", b"[")):
            raise MalformedResponse(
                f"The provider sent an unreadable answer (HTTP {status}, {content_type or 'no content type'}). "
                "Try again; if it repeats, check the provider URL.",
                status=status,
                request_id=request_id,
            )
        try:
            return parse_images_response(body, request_id=request_id, requested_format=request.output_format)
        except MalformedResponse as error:
            error.status, error.request_id = status, request_id
            raise

    def _read_body(self, response: httpx.Response, token: CancelToken, limit: int | None = None) -> bytes:
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            if token.cancelled:
                raise Cancelled()
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                break
        if token.cancelled:
            raise Cancelled()
        return b"".join(chunks)

    def _read_stream(
        self,
        response: httpx.Response,
        request: ImageRequest,
        request_id: str | None,
        token: CancelToken,
        on_partial: Callable[[PartialImage], None] | None,
        sink: Callable[[bytes], None] | None,
        deadline: _Deadline,
    ) -> ImageResult:
        partials = 0
        limit = stream_byte_limit(request)
        last_partial: PartialImage | None = None
        completed: list[dict] = []  # the events without their base64 (a 4K image is ~20 MB of it)
        images: list[bytes] = []  # and their images, decoded once

        def interrupted(message: str) -> StreamInterrupted:
            usage = _usage_so_far(completed)
            return StreamInterrupted(
                message,
                last_partial=last_partial,
                usage=usage,
                images=list(images),
                partial_images_received=partials,
                status=response.status_code,
                request_id=request_id,
            )

        try:
            for event in iter_sse(response.iter_bytes()):
                if token.cancelled:
                    raise Cancelled()
                if response.num_bytes_downloaded > limit or len(event.data) > MAX_BYTES_PER_IMAGE * 1.4:
                    raise interrupted(
                        f"The provider's stream grew past {limit / 1024**2:,.0f} MB, more than {request.n} "
                        "image(s) can take, so the rest was not read; it may still have charged for it."
                    )
                data = event.data.strip()
                if not data:
                    continue
                if data.startswith("[DONE]"):
                    break
                try:
                    payload = json.loads(data)
                except ValueError:
                    raise MalformedResponse(
                        "The provider sent an unreadable stream event. Try again; if it repeats, turn streaming off.",
                        status=response.status_code,
                        request_id=request_id,
                    ) from None
                if not isinstance(payload, dict):
                    continue
                if event.event == "error" or payload.get("error") or payload.get("type") == "error":
                    raise error_from_stream_event(self._config, payload, request_id=request_id, model=request.model)
                kind = str(payload.get("type") or event.event)
                if kind.endswith("partial_image"):
                    last_partial = partial_from_event(payload, partials)
                    partials += 1
                    if on_partial is not None:
                        _call_quietly(on_partial, last_partial)
                elif kind.endswith(".completed"):
                    if sink is not None:
                        # One line per completed event; re-encode only if the data spanned several lines.
                        line = data if "\n" not in data else json.dumps(payload, separators=(",", ":"))
                        _call_quietly(sink, scrub_secret_bytes(line.encode("utf-8"), [self._config.api_key]) + b"\n")
                    images.append(decode_b64_image(payload.get("b64_json")))  # fail now, not after the stream ends
                    completed.append({**payload, "b64_json": None})
                    if len(completed) >= request.n:
                        break  # every image asked for is here: keep-alives after it must not hold the job
                else:
                    log.debug("ignoring stream event %s", kind)
        except httpx.HTTPError as exc:
            if token.cancelled:
                raise Cancelled() from None
            log.warning("stream cut after %d partial(s) (request %s): %s", partials, request_id, type(exc).__name__)
            if deadline.hit:
                raise interrupted(_deadline_stream_message(deadline)) from None
            if isinstance(exc, httpx.TimeoutException):
                raise interrupted(
                    f"The provider stopped sending for {self._config.timeout:g} seconds while the image was "
                    "streaming; it may still have charged for it. Try again."
                ) from None
            raise interrupted(_cut_message(partials, len(completed), request.n)) from None
        if token.cancelled:
            raise Cancelled()
        if len(completed) < request.n:
            if deadline.hit:
                raise interrupted(_deadline_stream_message(deadline))
            raise interrupted(_cut_message(partials, len(completed), request.n))
        return result_from_completed_events(
            completed, request_id=request_id, requested_format=request.output_format, partial_images_received=partials,
            images=images,
        )

    # ------------------------------------------------------------------ retries and errors
    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before the next attempt: the server's wish if reasonable, else jittered backoff."""
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
            return retry_after
        backoff = min(INITIAL_RETRY_DELAY * 2.0 ** (attempt - 1), MAX_RETRY_DELAY)
        return max(0.0, backoff * (1 - 0.25 * self._rng()))

    def _pause(self, delay: float, token: CancelToken, token_given: bool) -> None:
        if token_given and self._sleep is time.sleep:
            if token.wait(delay):  # wakes at once on cancel
                raise Cancelled()
            return
        self._sleep(delay)
        if token.cancelled:
            raise Cancelled()

    def _transport_error(self, exc: httpx.HTTPError, path: str | None, retryable: bool = True) -> ProviderError:
        """An httpx failure that happened before any answer arrived."""
        host = self._config.host
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return ProviderConfigError(f"'{self._config.base_url}' is not a usable provider URL; check Settings.")
        if isinstance(exc, httpx.ConnectTimeout):
            return NetworkError(
                f"Can't reach {host} (no answer to connect within {CONNECT_TIMEOUT:g} seconds). "
                "Check your internet connection or the provider URL.",
                retryable=retryable,
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(
                f"{host} did not answer within {self._config.timeout:g} seconds; try again, "
                "or use a lower quality or a smaller size.",
                retryable=retryable,
            )
        if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return NetworkError(
                f"The secure connection to {host} failed because its certificate is not trusted; "
                "check the provider URL.",
                retryable=False,
            )
        if isinstance(exc, httpx.ConnectError):
            return NetworkError(
                f"Can't reach {host}. Check your internet connection or the provider URL.", retryable=retryable
            )
        return NetworkError(
            f"The connection to {host} dropped before an answer came; check your connection and try again.",
            retryable=retryable,
        )


def _body(request: ImageRequest) -> dict[str, Any]:
    """httpx keyword arguments for the request body: JSON for generate, multipart for edit."""
    if not request.images:
        return {"json": request.json_body()}
    # As the SDK does: one image goes as `image`, several as repeated `image[]`.
    field = "image" if len(request.images) == 1 else "image[]"
    files = [(field, (os.path.basename(img.filename), img.data, img.mime_type)) for img in request.images]
    if request.mask is not None:
        mask = request.mask
        files.append(("mask", (os.path.basename(mask.filename), mask.data, mask.mime_type)))
    return {"data": request.form_fields(), "files": files}


def _usage_so_far(completed: list[dict]) -> Usage | None:
    usage: Usage | None = None
    for event in completed:
        if isinstance(event.get("usage"), dict):
            usage = (usage or Usage()) + usage_from_api(event["usage"])
    return usage


def _cut_message(partials: int, done: int = 0, wanted: int = 1) -> str:
    got = f"after {partials} preview{'s' if partials != 1 else ''}" if partials else "before the image arrived"
    if done:
        got = f"after {done} of {wanted} images"
    return (
        f"The connection dropped while the image was streaming ({got}); "
        "the provider may still have charged for it. Try again."
    )


def _deadline_stream_message(deadline: _Deadline) -> str:
    return (f"The provider did not finish streaming within {deadline.seconds:g} seconds in all, the most this "
            "size and quality may take; it may still have charged for it. Try again.")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "…"


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        # socket.socket.shutdown on purpose: SSLSocket.shutdown would also drop its TLS state under the reader.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _call_quietly(callback: Callable[..., Any], *args: Any) -> None:
    """Run a caller's callback; its failure is logged and must not lose a paid answer."""
    try:
        callback(*args)
    except Exception as exc:  # one line at warning level; the traceback only for -v debugging
        log.warning("a provider callback failed: %s", exc)
        log.debug("details", exc_info=True)
