"""Turns a provider's error answer (status, headers, ``{"error": {...}}`` body) into the right ProviderError.

Branches on ``error.code`` first, then on the HTTP status, as the API docs advise; decides
``retryable`` the way the official SDK does, except that an exhausted quota is never retried.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from gptimg_desktop.core.models import DEFAULT_MODEL, RETIRED, find_model, model_names

from .config import ProviderConfig
from .errors import (
    AuthenticationError,
    BadRequest,
    InvalidParameter,
    MalformedResponse,
    ModelNotFound,
    ModerationBlocked,
    NotFound,
    OrganizationNotVerified,
    PermissionDenied,
    ProviderConfigError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    ServerError,
    clean_server_text,
    rate_limit_message,
    scrub_body,
    scrub_secrets,
)

# The SDK honours a server-directed delay up to two minutes; a longer one means "don't retry".
MAX_RETRY_AFTER = 120.0
_VERIFY_CODES = {"organization_not_verified", "org_not_verified", "unverified_organization", "org_unverified"}


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from retry-after-ms, else retry-after (seconds or an HTTP date); None when absent or unreadable."""
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            delay = float(value) / divisor
        except ValueError:
            continue
        return delay if math.isfinite(delay) else MAX_RETRY_AFTER + 1
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def should_retry(status: int, headers: Mapping[str, str] | None, code: str | None, retry_after: float | None) -> bool:
    """The SDK's rule: x-should-retry wins, else 408, 409, 429 and >= 500; never an exhausted quota."""
    if code == "insufficient_quota":
        return False
    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
        return False
    verdict = (headers or {}).get("x-should-retry")
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in (408, 409, 429) or status >= 500


def error_from_response(
    config: ProviderConfig,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    path: str,
    model: str | None = None,
) -> ProviderError:
    """The ProviderError for a non-2xx answer; the body may be JSON, HTML or empty."""
    payload: Any = None
    try:
        payload = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    details = _error_details(payload)
    retry_after = parse_retry_after(headers)
    content_type = headers.get("content-type", "").split(";")[0].strip() or "no content type"
    return _classify(
        config,
        status,
        details,
        common={
            "status": status,
            "request_id": clean_server_text(headers.get("x-request-id"), [config.api_key]),
            "code": details["code"],
            "param": details["param"],
            "type": details["type"],
            "body": scrub_body(payload, [config.api_key]) if isinstance(payload, dict) else None,
            "server_message": details["message"],
            "retryable": should_retry(status, headers, details["code"], retry_after),
            "retry_after": retry_after,
        },
        path=path,
        model=model,
        content_type=content_type,
    )


def error_from_stream_event(
    config: ProviderConfig, payload: dict, *, request_id: str | None, model: str | None
) -> ProviderError:
    """The ProviderError for an ``error`` event inside a 200 stream; never retried (the job had started)."""
    details = _error_details(payload if "error" in payload else {"error": payload})
    code = details["code"]
    status = {"insufficient_quota": 429, "rate_limit_exceeded": 429, "model_not_found": 404}.get(code or "", 0)
    if not status:
        status = 500 if details["type"] in ("server_error", "internal_error") else 400
    error = _classify(
        config,
        status,
        details,
        common={
            "status": None,
            "request_id": request_id,
            "code": code,
            "param": details["param"],
            "type": details["type"],
            "body": scrub_body(payload, [config.api_key]),
            "server_message": details["message"],
            "retryable": False,
            "retry_after": None,
        },
        path="",
        model=model,
        content_type="text/event-stream",
    )
    return error


def _error_details(payload: Any) -> dict[str, Any]:
    """message/type/code/param/moderation from ``{"error": {...}}`` (or a bare string error)."""
    details: dict[str, Any] = {"message": None, "type": None, "code": None, "param": None, "moderation": None}
    if not isinstance(payload, dict):
        return details
    error = payload.get("error")
    if isinstance(error, str):
        details["message"] = error
        return details
    if not isinstance(error, dict):
        return details
    for key in ("message", "type", "code", "param"):
        value = error.get(key)
        details[key] = str(value) if value is not None and not isinstance(value, (dict, list)) else None
    moderation = error.get("moderation_details")
    details["moderation"] = moderation if isinstance(moderation, dict) else None
    return details


def _classify(
    config: ProviderConfig,
    status: int,
    details: dict[str, Any],
    *,
    common: dict[str, Any],
    path: str,
    model: str | None,
    content_type: str,
) -> ProviderError:
    code = details["code"] or ""
    kind = details["type"] or ""
    message = scrub_secrets(details["message"] or "", [config.api_key]).strip()
    common["server_message"] = message or None
    host = config.host

    if code == "insufficient_quota" or kind == "insufficient_quota":
        common["retryable"] = False
        return QuotaExceeded(**common)
    if code in ("moderation_blocked", "contentFilter", "content_filter", "content_policy_violation") or (
        details["moderation"] is not None
    ):
        stage, categories = _moderation(details["moderation"], code, message)
        return ModerationBlocked(stage=stage, categories=categories, **common)
    if status == 401:
        return AuthenticationError(**common)
    if status == 403:
        lowered = message.lower()
        if code in _VERIFY_CODES or ("verif" in lowered and "organization" in lowered):
            return OrganizationNotVerified(_verify_message(model), **common)
        reason = f": {_sentence(message)}" if message else "."
        return PermissionDenied(f"The provider refused this request for your account{reason}", **common)
    if status == 404:
        if code == "DeploymentNotFound":
            name = config.deployment or model or "?"
            return NotFound(
                f"The Azure deployment '{name}' was not found; check the deployment name in Settings → Provider.",
                **common,
            )
        if code == "model_not_found" or (model and model in message) or "model" in message.lower():
            return ModelNotFound(_model_message(model), model=model, **common)
        return NotFound(
            f"{host} has no {path or 'such'} endpoint (HTTP 404); check the provider URL in Settings → Provider.",
            **common,
        )
    if status == 429:
        wait = common["retry_after"] if common["retry_after"] is not None else _wait_in_message(message)
        return RateLimited(rate_limit_message(wait), **common)
    if status == 408:
        return RequestTimeout(f"{host} gave up waiting for the request (HTTP 408); try again.", **common)
    if status == 409:
        return ServerError(f"{host} reported a conflict (HTTP 409); try again in a moment.", **common)
    if content_type == "text/event-stream" and (status >= 500 or (400 <= status < 500 and not details["param"])):
        # An error event inside a stream that had answered 200: there is no HTTP status to report.
        said = f": {_sentence(message)}" if message else "."
        kind_text = "a server error" if status >= 500 else "an error"
        return (ServerError if status >= 500 else BadRequest)(
            f"{host} reported {kind_text} while the image was streaming{said} It may have charged for the "
            "request; try again.",
            **common,
        )
    if status >= 500:
        if status == 503:
            text = f"{host} is overloaded right now (HTTP 503); try again in a few minutes."
        else:
            text = f"{host} had a server error (HTTP {status}); try again in a few minutes."
        return ServerError(text, **common)
    if 300 <= status < 400:
        return ProviderConfigError(
            f"The provider URL redirects elsewhere (HTTP {status}); put the final address in Settings → Provider.",
            **common,
        )
    if status == 413:
        return BadRequest("The upload is too large for the provider; use fewer or smaller images.", **common)
    if 400 <= status < 500:
        param = details["param"]
        if param:
            text = f"The provider rejected the '{param}' setting: {_sentence(message) if message else 'change it.'}"
            return InvalidParameter(text, **common)
        if message:
            return BadRequest(f"The provider rejected the request: {_sentence(message)}", **common)
        return BadRequest(
            f"The provider rejected the request (HTTP {status}, {content_type}); change the settings and try again.",
            **common,
        )
    return MalformedResponse(
        f"The provider sent an unexpected answer (HTTP {status}, {content_type}). Try again; "
        "if it repeats, check the provider URL.",
        **common,
    )


def _wait_in_message(message: str) -> float | None:
    """OpenAI's rate-limit text says "Please try again in 20s" (or 350ms); used for wording only."""
    match = re.search(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", message)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


def _moderation(moderation: dict | None, code: str, message: str) -> tuple[str | None, tuple[str, ...]]:
    if moderation:
        stage = moderation.get("moderation_stage") or moderation.get("stage")
        categories = moderation.get("categories") or ()
        return (str(stage) if stage else None), tuple(str(c) for c in categories if c)
    if code == "contentFilter":  # Azure says which side was filtered only in the wording
        return ("output" if "generated image" in message.lower() else "input"), ()
    return None, ()


def _verify_message(model: str | None) -> str:
    what = model or "this model"
    return (
        f"Your OpenAI organization must be verified to use {what}: verify it at platform.openai.com "
        "(Settings → Organization → General); access can take up to 15 minutes to start working."
    )


def _model_message(model: str | None) -> str:
    if not model:
        return "The model is not available from this provider; choose another model in the model menu."
    return (
        f"The model {model} is not available from this provider (it may have been shut down); "
        f"choose another model, such as {suggest_model(model)}."
    )


def suggest_model(model: str) -> str:
    """A model to offer instead of ``model``: its named replacement, else the default, else the next one."""
    spec = find_model(model)
    if spec is not None and spec.replacement:
        return spec.replacement
    for retired in RETIRED:
        if retired.name == model:
            return retired.replacement
    if model != DEFAULT_MODEL and (spec is None or spec.name != DEFAULT_MODEL):
        return DEFAULT_MODEL
    others = [name for name in model_names()
              if name != DEFAULT_MODEL and (spec := find_model(name)) is not None and not spec.shutdown]
    return others[0] if others else DEFAULT_MODEL


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."
