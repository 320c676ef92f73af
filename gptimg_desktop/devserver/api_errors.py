"""Error answers of the local Images API, shaped and worded like the real service's.

Every error body is ``{"error": {"message", "type", "param", "code"}}`` with all four keys
(shared/docs/openai-images-api.md §6); moderation adds ``moderation_details``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOCS_KEYS_URL = "https://platform.openai.com/account/api-keys"


@dataclass(eq=False)  # exceptions stay hashable
class ApiError(Exception):
    """One HTTP error answer; raised anywhere in request handling and sent by the server."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. moderation_details
    headers: dict[str, str] = field(default_factory=dict)  # e.g. retry-after

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.status} {self.code or self.type}: {self.message}"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        error.update(self.extra)
        return {"error": error}


def mask_key(key: str) -> str:
    """The form the real service echoes a wrong key in: a prefix and the last four characters only."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}...{key[-4:]}"


def invalid_value(message: str, param: str | None) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


def invalid_type(param: str, expected: str, got: Any) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(got)} instead.",
        param=param,
        code="invalid_type",
    )


def unknown_parameter(name: str) -> ApiError:
    return ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")


def missing_parameter(name: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")


def empty_string(name: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{name}': string too short. Expected a string with minimum length 1, but got an empty string instead.",
        param=name,
        code="string_below_min_length",
    )


def bad_json() -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
        "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    )


def invalid_image_file(filename: str, param: str, reason: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid image file '{filename}': {reason}. Supported file formats are 'image/jpeg', 'image/png', "
        "and 'image/webp'.",
        param=param,
        code="invalid_image_file",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found")


def deployment_not_found() -> ApiError:
    return ApiError(
        404,
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        "5 minutes, please wait a moment and try again.",
        code="DeploymentNotFound",
    )


def missing_api_version() -> ApiError:
    return ApiError(
        400,
        "The api-version query parameter (?api-version=) is required for all requests.",
        param="api-version",
        code="MissingApiVersionParameter",
    )


def missing_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
        "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
        f"accessing the API from your browser and are prompted for a username. You can obtain an API key from "
        f"{DOCS_KEYS_URL}.",
    )


def invalid_key(key: str) -> ApiError:
    return ApiError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at {DOCS_KEYS_URL}.",
        code="invalid_api_key",
    )


def invalid_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


def too_large(limit_bytes: int) -> ApiError:
    return ApiError(
        413,
        f"Request Entity Too Large: the body must be under {limit_bytes // (1024 * 1024)} MB.",
        code="request_too_large",
    )


def length_required() -> ApiError:
    return ApiError(411, "A request body needs a Content-Length header or chunked transfer encoding.")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unsupported value"
