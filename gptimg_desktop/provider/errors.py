"""Provider failures: one exception class per failure a caller handles differently.

Every error carries what the API said (status, request id, type, code, param, body) plus a
``user_message`` a designer can act on and ``retryable``. ``str(error)`` is the user message,
scrubbed of anything that looks like an API key.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gptimg_desktop.core.text import strip_controls

if TYPE_CHECKING:
    from gptimg_desktop.core.pricing import Usage

    from .events import PartialImage

# OpenAI keys (sk-…, sk-proj-…) and anything after "Bearer " are secrets wherever they appear.
_KEY_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]{6,}"),
)
REDACTED = "[redacted]"


def scrub_secrets(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with every given secret and anything shaped like an API key replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _KEY_PATTERNS[0].sub(REDACTED, text)
    return _KEY_PATTERNS[1].sub(lambda m: m.group(1) + REDACTED, text)


_KEY_PATTERNS_BYTES = (
    re.compile(rb"\bsk-[A-Za-z0-9_\-*]{6,}"),
    re.compile(rb"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]{6,}"),
)


def scrub_secret_bytes(data: bytes, secrets: tuple[str, ...] | list[str] = ()) -> bytes:
    """``scrub_secrets`` for a raw answer before it is kept on disk. Base64 image data is never touched: it
    holds neither "-" nor spaces, which both patterns need."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            data = data.replace(secret.encode("utf-8", "ignore"), REDACTED.encode())
    # The patterns run only where their literal start occurs: on a 4K answer (~33 MB) the two regex scans
    # take ~0.4 s, the substring checks ~0.06 s.
    if b"sk-" in data:
        data = _KEY_PATTERNS_BYTES[0].sub(REDACTED.encode(), data)
    if b"bearer" in data.lower():
        data = _KEY_PATTERNS_BYTES[1].sub(lambda m: m.group(1) + REDACTED.encode(), data)
    return data


def clean_server_text(text: str | None, secrets: tuple[str, ...] | list[str] = (), limit: int = 200) -> str | None:
    """A short string the server sent (a request id, a code) fit to store and show: secrets scrubbed, control
    and bidi characters stripped, cut to ``limit`` characters."""
    if text is None:
        return None
    cleaned = strip_controls(scrub_secrets(str(text), secrets)).strip()
    return (cleaned[:limit] or None) if cleaned else None


def scrub_body(value: Any, secrets: tuple[str, ...] | list[str] = ()) -> Any:
    """A copy of a decoded JSON value with secrets scrubbed from every string in it."""
    if isinstance(value, str):
        return scrub_secrets(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_body(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_body(v, secrets) for v in value]
    return value


class ProviderError(Exception):
    """Base class: something went wrong between the app and the provider."""

    default_message = "The provider could not complete the request. Try again."
    default_retryable = False

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,  # the API's own field name
        body: dict | None = None,
        server_message: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.user_message = strip_controls(scrub_secrets(user_message or self.default_message))
        super().__init__(self.user_message)
        self.status = status
        self.request_id = clean_server_text(request_id)
        self.code = code
        self.param = param
        self.type = type
        self.body = scrub_body(body) if body is not None else None
        # What the provider itself said, for the details pane and logs (already scrubbed).
        self.server_message = strip_controls(scrub_secrets(server_message)) if server_message else None
        self.retryable = self.default_retryable if retryable is None else retryable
        # Seconds the provider asked us to wait (retry-after-ms / retry-after), when it said.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.user_message

    def __repr__(self) -> str:
        parts = [repr(self.user_message)]
        for name in ("status", "code", "request_id"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ProviderConfigError(ProviderError):
    """The provider settings are unusable (no key, bad URL, unencrypted key); nothing was sent."""

    default_message = "The provider settings are incomplete. Check Settings → Provider."


class AuthenticationError(ProviderError):
    """401: the key is wrong, revoked, or not for this organization."""

    default_message = "The API key was rejected. Check it in Settings → Provider."


class PermissionDenied(ProviderError):
    """403: the account may not do this (region, model access)."""

    default_message = "The provider refused access to this model for your account. Check your account's access."


class OrganizationNotVerified(PermissionDenied):
    """403: GPT Image models need a verified organization."""

    default_message = (
        "Your OpenAI organization must be verified to use this model: verify it at "
        "platform.openai.com (Settings → Organization → General); access can take up to 15 minutes to start working."
    )


class NotFound(ProviderError):
    """404: the endpoint (or an Azure deployment) does not exist at this URL."""

    default_message = "The provider has no images endpoint at this address. Check the provider URL in Settings."


class ModelNotFound(NotFound):
    """404: the model is unknown to this provider or has been shut down."""

    def __init__(self, user_message: str | None = None, *, model: str | None = None, **kwargs: Any) -> None:
        super().__init__(user_message, **kwargs)
        self.model = model


class BadRequest(ProviderError):
    """400 (and 413/422): the provider refused the request as sent; retrying the same request won't help."""

    default_message = "The provider rejected the request. Change the settings and try again."


class InvalidParameter(BadRequest):
    """400 naming one parameter (``param``)."""


class ModerationBlocked(BadRequest):
    """400 moderation_blocked / Azure contentFilter: the safety system refused the prompt or the result."""

    def __init__(
        self,
        user_message: str | None = None,
        *,
        stage: str | None = None,
        categories: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        self.stage = stage
        self.categories = tuple(categories)
        super().__init__(user_message or moderation_message(stage, self.categories), **kwargs)


def moderation_message(stage: str | None, categories: tuple[str, ...]) -> str:
    details = []
    if stage and stage != "unknown":
        details.append(f"stage: {stage}")
    if categories:
        details.append(f"categories: {', '.join(categories)}")
    where = f" ({'; '.join(details)})" if details else ""
    return f"The safety system blocked this request{where}. Rephrase the prompt or change the images."


class RateLimited(ProviderError):
    """429 rate limit: too many requests or tokens per minute; waiting helps."""

    default_retryable = True

    def __init__(self, user_message: str | None = None, **kwargs: Any) -> None:
        super().__init__(user_message or rate_limit_message(kwargs.get("retry_after")), **kwargs)


def rate_limit_message(wait: float | None) -> str:
    """What to tell the user about a rate limit, with the wait the provider said, in words that match it."""
    if wait is None or wait != wait or wait <= 0:
        return "The provider's rate limit was reached; wait a minute and try again."
    if wait < 1:
        return "The provider's rate limit was reached; try again in a moment."
    return f"The provider's rate limit was reached; wait {_duration(wait)} and try again."


def _duration(seconds: float) -> str:
    """A wait in the unit a person would use: 20 seconds, 5 minutes, 27 hours, 3 days."""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= 2 * size or (unit != "day" and seconds >= size and seconds % size == 0):
            count = round(seconds / size) if seconds < 1e9 * size else None
            if count is None:
                return "over a billion days (the provider's figure)"
            prefix = "" if abs(seconds - count * size) < size / 20 else "about "
            return f"{prefix}{count:,} {unit}{'s' if count != 1 else ''}"
    count = round(seconds)
    return f"{count} second{'s' if count != 1 else ''}"


class QuotaExceeded(ProviderError):
    """429 insufficient_quota: the account is out of credit; retrying never helps."""

    default_message = (
        "Your API account has run out of credit: add credit or check billing at platform.openai.com, then try again."
    )


class ServerError(ProviderError):
    """5xx: the provider failed or is overloaded."""

    default_message = "The provider had a server error; try again in a few minutes."
    default_retryable = True


class NetworkError(ProviderError):
    """The provider could not be reached (connection refused, DNS failure, TLS failure)."""

    default_message = "Can't reach the provider. Check your internet connection or the provider URL."
    default_retryable = True


class RequestTimeout(ProviderError):
    """No answer within the read timeout (or HTTP 408)."""

    default_message = "The provider took too long to answer; try again, or use a lower quality or smaller size."
    default_retryable = True


class MalformedResponse(ProviderError):
    """The answer could not be read (not JSON, cut short, no images in it)."""

    default_message = "The provider sent an unreadable answer. Try again; if it repeats, check the provider URL."


class StreamInterrupted(ProviderError):
    """The transfer stopped part-way after the provider accepted the job; it may have been billed."""

    default_message = (
        "The connection dropped while the image was arriving; the provider may still have charged for it. Try again."
    )

    def __init__(
        self,
        user_message: str | None = None,
        *,
        last_partial: PartialImage | None = None,
        usage: Usage | None = None,
        images: list[bytes] | None = None,
        partial_images_received: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(user_message, **kwargs)
        self.last_partial = last_partial
        self.usage = usage
        # Images whose completed event did arrive before the cut (also handed to response_sink).
        self.images = list(images or [])
        self.partial_images_received = partial_images_received


class Cancelled(ProviderError):
    """The user cancelled; nothing more will be received."""

    default_message = "Cancelled."
