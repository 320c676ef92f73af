"""The Files and Batches APIs: upload a JSONL file, create, read, list and cancel batches, download results.

Same settings, headers and error mapping as the Images client (``config.py``, ``error_mapping.py``); retries
follow the SDK rule (408/409/429/5xx, connection errors, ``retry-after``) with one exception: creating a batch
is retried only when the provider answered that it did not take it, because a second batch costs twice.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote, urlencode

import httpx

from .client import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY
from .config import AZURE_V1_API_VERSION, ProviderConfig
from .error_mapping import MAX_RETRY_AFTER, error_from_response
from .errors import MalformedResponse, NetworkError, ProviderConfigError, ProviderError, RequestTimeout
from .http import LazyHttpClient

log = logging.getLogger("gptimg.provider.batches")

_DOWNLOAD_TIMEOUT = 300.0


@dataclass(frozen=True)
class FileObject:
    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str

    @classmethod
    def from_api(cls, data: Any) -> FileObject:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise MalformedResponse("The provider's answer to a file upload has no file id. Try again.")
        return cls(data["id"], int(data.get("bytes") or 0), int(data.get("created_at") or 0),
                   str(data.get("filename") or ""), str(data.get("purpose") or ""))


@dataclass(frozen=True)
class BatchError:
    code: str | None
    message: str
    param: str | None
    line: int | None


@dataclass(frozen=True)
class BatchObject:
    """A Batch as the API returns it; ``raw`` keeps every field, including ones added later."""

    id: str
    status: str
    endpoint: str
    input_file_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    created_at: int | None
    total: int
    completed: int
    failed: int
    errors: tuple[BatchError, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> BatchObject:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
            raise MalformedResponse("The provider's answer about a batch has no id or status. Try again.")
        counts = _dict(data.get("request_counts"))
        errors_block = _dict(data.get("errors"))
        errors = tuple(
            BatchError(_text(e.get("code")), str(e.get("message") or "invalid line"), _text(e.get("param")),
                       e.get("line") if isinstance(e.get("line"), int) else None)
            for e in (errors_block.get("data") or []) if isinstance(e, dict)
        )
        metadata = _dict(data.get("metadata"))
        return cls(
            id=data["id"],
            status=data["status"],
            endpoint=str(data.get("endpoint") or ""),
            input_file_id=_text(data.get("input_file_id")),
            output_file_id=_text(data.get("output_file_id")),
            error_file_id=_text(data.get("error_file_id")),
            created_at=data.get("created_at") if isinstance(data.get("created_at"), int) else None,
            total=_count(counts, "total"),
            completed=_count(counts, "completed"),
            failed=_count(counts, "failed"),
            errors=errors,
            metadata={str(k): str(v) for k, v in metadata.items()},
            raw=dict(data),
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(counts: Mapping[str, Any], key: str) -> int:
    value = counts.get(key)
    return value if isinstance(value, int) and value >= 0 else 0


class BatchesClient:
    """Blocking calls for a worker thread (or the CLI). Raises ProviderError subclasses with one clear sentence."""

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
        self._http = LazyHttpClient(transport=transport, timeout=min(config.timeout, _DOWNLOAD_TIMEOUT))

    @property
    def config(self) -> ProviderConfig:
        return self._config

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ files
    def upload_file(self, filename: str, data: bytes, purpose: str = "batch") -> FileObject:
        """POST /files (multipart ``purpose`` + ``file``)."""
        files = {"file": (filename, data, "application/jsonl" if filename.endswith(".jsonl") else "application/octet-stream")}
        response = self._call("POST", "/files", data={"purpose": purpose}, files=files)
        return FileObject.from_api(_json(response))

    def file_content(self, file_id: str) -> bytes:
        """GET /files/{id}/content: the file's bytes."""
        return self._call("GET", f"/files/{quote(file_id, safe='')}/content").content

    # ------------------------------------------------------------------ batches
    def create_batch(self, input_file_id: str, endpoint: str, metadata: Mapping[str, str] | None = None) -> BatchObject:
        body: dict[str, Any] = {"input_file_id": input_file_id, "endpoint": endpoint, "completion_window": "24h"}
        if metadata:
            body["metadata"] = dict(metadata)
        return BatchObject.from_api(_json(self._call("POST", "/batches", json=body, idempotent=False)))

    def get_batch(self, batch_id: str) -> BatchObject:
        return BatchObject.from_api(_json(self._call("GET", f"/batches/{quote(batch_id, safe='')}")))

    def cancel_batch(self, batch_id: str) -> BatchObject:
        return BatchObject.from_api(_json(self._call("POST", f"/batches/{quote(batch_id, safe='')}/cancel")))

    def list_batches(self, limit: int = 20, after: str | None = None) -> tuple[list[BatchObject], bool]:
        """One page of batches, newest first, and whether more follow."""
        query: dict[str, str] = {"limit": str(limit)}
        if after:
            query["after"] = after
        payload = _json(self._call("GET", "/batches", query=query))
        items = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedResponse("The provider's list of batches is unreadable. Try again.")
        return [BatchObject.from_api(item) for item in items], bool(payload.get("has_more"))

    def find_batch(self, key: str, value: str, pages: int = 5) -> BatchObject | None:
        """The newest batch whose metadata[key] == value, looking through a few pages; None if none."""
        after = None
        for _ in range(pages):
            items, more = self.list_batches(limit=100, after=after)
            for item in items:
                if item.metadata.get(key) == value:
                    return item
            if not more or not items:
                return None
            after = items[-1].id
        return None

    # ------------------------------------------------------------------ plumbing
    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        config = self._config
        base = config.base_url.strip().rstrip("/")
        params = dict(query or {})
        if config.kind == "azure":
            if not config.is_azure_v1:
                raise ProviderConfigError(
                    "Batches need Azure's v1 endpoint (…/openai/v1) or an OpenAI key; change the provider URL "
                    "in Settings, or run the jobs now."
                )
            params["api-version"] = AZURE_V1_API_VERSION
        return base + path + (f"?{urlencode(params)}" if params else "")

    def _call(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, idempotent: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        self._config.check()
        url = self._url(path, query)
        attempts = self._config.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, url, path, idempotent, **kwargs)
            except ProviderError as error:
                if not error.retryable or attempt >= attempts:
                    raise
                delay = self._retry_delay(attempt, error.retry_after)
                log.warning("%s %s failed (%s, status %s); retrying in %.2f s", method, path, type(error).__name__,
                            error.status, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(self, method: str, url: str, path: str, idempotent: bool, **kwargs: Any) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._http.get().request(method, url, headers=self._config.headers(), **kwargs)
        except httpx.HTTPError as exc:
            # A request that never connected was not received: safe to retry even when not idempotent.
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise self._transport_error(exc, retryable=idempotent or never_sent) from None
        log.info("%s %s -> %d (request %s, %.2f s)", method, httpx.URL(url).path, response.status_code,
                 response.headers.get("x-request-id"), time.monotonic() - started)
        if response.status_code >= 300:
            error = error_from_response(self._config, response.status_code, response.headers, response.content,
                                        path=path)
            if not idempotent and (response.status_code in (408, 409) or response.status_code >= 500):
                error.retryable = False  # the provider may have taken it; the engine looks before trying again
            raise error
        return response

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
            return retry_after
        backoff = min(INITIAL_RETRY_DELAY * 2.0 ** (attempt - 1), MAX_RETRY_DELAY)
        return max(0.0, backoff * (1 - 0.25 * self._rng()))

    def _transport_error(self, exc: httpx.HTTPError, retryable: bool) -> ProviderError:
        host = self._config.host
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return ProviderConfigError(f"'{self._config.base_url}' is not a usable provider URL; check Settings.")
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(f"{host} did not answer in time; check your connection and try again.",
                                  retryable=retryable)
        return NetworkError(f"Can't reach {host}. Check your internet connection or the provider URL.",
                            retryable=retryable)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise MalformedResponse(
            f"The provider sent an unreadable answer (HTTP {response.status_code}). Try again; if it repeats, "
            "check the provider URL.",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from None
