"""Injected failures for the local Images API: what the next matching requests suffer instead of a normal answer.

Tests push a ``Fault`` (in process, over ``POST /__faults`` or through GPTIMG_DEVSERVER_FAULTS) and the next
``times`` matching requests get it. The error wording copies the real service (openai-images-api.md §6).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .api_errors import ApiError, invalid_key

FAULT_KINDS = (
    "rate_limit",
    "quota",
    "server_error",
    "cut_stream",
    "slow",
    "moderation",
    "non_json",
    "truncated",
    "auth",
    "org_unverified",
    "model_gone",
)
# Which requests a fault hits: "images" is both image endpoints.
FAULT_ENDPOINTS = ("images", "generations", "edits", "models", "any")

_SERVER_ERROR_MESSAGES = {
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    504: "Gateway timeout.",
}


@dataclass
class Fault:
    """One failure to inject. Only the options that matter for ``kind`` are read."""

    kind: str
    status: int | None = None  # server_error (500 by default), non_json (200 by default)
    retry_after: float | None = None  # seconds, sent as retry-after
    retry_after_ms: int | None = None  # sent as retry-after-ms
    after_partials: int = 0  # cut_stream: partial-image events sent before the connection drops
    delay: float = 0.0  # slow: seconds to wait before answering normally
    times: int = 1  # how many consecutive matching requests it hits
    categories: list[str] = field(default_factory=list)  # moderation: empty means ["violence"]
    stage: str = "input"  # moderation: input | output | unknown
    endpoint: str = "images"  # one of FAULT_ENDPOINTS

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind '{self.kind}'; use one of: {', '.join(FAULT_KINDS)}.")
        if self.endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"Unknown fault endpoint '{self.endpoint}'; use one of: {', '.join(FAULT_ENDPOINTS)}.")
        if not isinstance(self.times, int) or self.times < 1:
            raise ValueError(f"A fault must hit at least one request (times={self.times!r}).")
        if self.status is not None and not (isinstance(self.status, int) and 100 <= self.status <= 599):
            raise ValueError(f"Fault status must be an HTTP status code (got {self.status!r}).")
        if self.after_partials < 0 or self.delay < 0:
            raise ValueError("Fault after_partials and delay cannot be negative.")
        self.categories = list(self.categories or [])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        if not isinstance(data, dict) or "kind" not in data:
            raise ValueError("Each fault must be an object with at least a 'kind'.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown fault option(s): {', '.join(unknown)}.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, endpoint: str) -> bool:
        """Whether a request to ``endpoint`` (generations | edits | models) is hit by this fault."""
        if self.endpoint == "any":
            return True
        if self.endpoint == "images":
            return endpoint in ("generations", "edits")
        return self.endpoint == endpoint

    def retry_headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(int(self.retry_after_ms))
        return headers


def faults_from_json(text: str | bytes) -> list[Fault]:
    """A JSON list of fault objects (or one object) as Faults; ValueError says what is wrong."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"Faults must be JSON: {exc}.") from None
    items = data if isinstance(data, list) else [data]
    try:
        return [Fault.from_dict(item) for item in items]
    except TypeError as exc:  # a wrongly typed option
        raise ValueError(f"Bad fault: {exc}.") from None


class FaultQueue:
    """Pending faults in push order; thread-safe because handler threads take from it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[list[Any]] = []  # [fault, requests left to hit]

    def push(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append([fault, fault.times])

    def extend(self, faults: list[Fault]) -> None:
        for fault in faults:
            self.push(fault)

    def clear(self) -> int:
        """Drop every pending fault; returns how many there were."""
        with self._lock:
            count = len(self._pending)
            self._pending.clear()
            return count

    def take(self, endpoint: str) -> Fault | None:
        """The first pending fault that matches ``endpoint``, spending one of its hits."""
        with self._lock:
            for entry in self._pending:
                fault = entry[0]
                if fault.matches(endpoint):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._pending.remove(entry)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [entry[0] for entry in self._pending]

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)


def fault_error(fault: Fault, *, model: str, request_id: str, api_key: str) -> ApiError | None:
    """The error answer for a fault that is an error JSON; None for the kinds the server acts out itself."""
    headers = fault.retry_headers()
    kind = fault.kind
    if kind == "rate_limit":
        wait = fault.retry_after if fault.retry_after is not None else (fault.retry_after_ms or 20_000) / 1000
        headers.update(
            {
                "x-ratelimit-limit-requests": "5",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{wait:g}s",
            }
        )
        return ApiError(
            fault.status or 429,
            f"Rate limit reached for requests per minute (RPM) on {model} in organization org-devserver: "
            f"Limit 5, Used 5, Requested 1. Please try again in {wait:g}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if kind == "quota":
        return ApiError(
            fault.status or 429,
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
            headers=headers,
        )
    if kind == "server_error":
        status = fault.status or 500
        message = _SERVER_ERROR_MESSAGES.get(status, _SERVER_ERROR_MESSAGES[500])
        return ApiError(status, message, type="server_error", headers=headers)
    if kind == "moderation":
        categories = fault.categories or ["violence"]
        return ApiError(
            fault.status or 400,
            "Your request was rejected by the safety system. If you believe this is an error, contact us at "
            f"help.openai.com and include the request ID {request_id}. "
            f"safety_violations=[{', '.join(categories)}].",
            type="image_generation_user_error",
            code="moderation_blocked",
            extra={"moderation_details": {"moderation_stage": fault.stage or "input", "categories": categories}},
            headers=headers,
        )
    if kind == "auth":
        error = invalid_key(api_key or "sk-unknown-key")
        error.headers.update(headers)
        return error
    if kind == "org_unverified":
        return ApiError(
            fault.status or 403,
            f"Your organization must be verified to use the model `{model}`. Please go to: "
            "https://platform.openai.com/settings/organization/general and click on Verify Organization. "
            "If you just verified, it can take up to 15 minutes for access to propagate.",
            headers=headers,
        )
    if kind == "model_gone":
        return ApiError(
            fault.status or 404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
            headers=headers,
        )
    return None  # cut_stream, slow, non_json, truncated: acted out by the server
