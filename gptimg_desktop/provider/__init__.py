"""The provider layer: talks to OpenAI, Azure OpenAI or a compatible Images API over HTTP (httpx, no Qt)."""

from __future__ import annotations

from .client import CancelToken, ImagesClient
from .config import DEMO_API_KEY, ProviderConfig, demo_config, redact_key
from .errors import (
    AuthenticationError,
    BadRequest,
    Cancelled,
    InvalidParameter,
    MalformedResponse,
    ModelNotFound,
    ModerationBlocked,
    NetworkError,
    NotFound,
    OrganizationNotVerified,
    PermissionDenied,
    ProviderConfigError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamInterrupted,
)
from .events import ImageResult, PartialImage, parse_images_response, parse_saved_response
from .keys import KeyStorageUnavailable, delete_api_key, get_api_key, keyring_status, set_api_key

__all__ = [
    "DEMO_API_KEY",
    "AuthenticationError",
    "BadRequest",
    "CancelToken",
    "Cancelled",
    "ImageResult",
    "ImagesClient",
    "InvalidParameter",
    "KeyStorageUnavailable",
    "MalformedResponse",
    "ModelNotFound",
    "ModerationBlocked",
    "NetworkError",
    "NotFound",
    "OrganizationNotVerified",
    "PartialImage",
    "PermissionDenied",
    "ProviderConfig",
    "ProviderConfigError",
    "ProviderError",
    "QuotaExceeded",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "StreamInterrupted",
    "delete_api_key",
    "demo_config",
    "get_api_key",
    "keyring_status",
    "parse_images_response",
    "parse_saved_response",
    "redact_key",
    "set_api_key",
]
