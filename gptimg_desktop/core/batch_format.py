"""The Batch API's file formats for image requests, and what a batch costs: pure functions, no I/O.

Input lines are ``{"custom_id", "method": "POST", "url", "body"}`` with the JSON edit body for edits
(``images: [{"image_url": data URL}]``, optional ``mask``); output and error lines are matched back by
``custom_id`` (shared/docs/openai-images-api.md §14). Batch requests cost half the synchronous price.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import RequestRefused
from .pricing import Estimate, PriceTable, Usage
from .requests import ImageInput, ImageRequest

GENERATIONS_URL = "/v1/images/generations"
EDITS_URL = "/v1/images/edits"
BATCH_ENDPOINTS = (GENERATIONS_URL, EDITS_URL)
COMPLETION_WINDOW = "24h"
MAX_REQUESTS_PER_BATCH = 50_000
MAX_INPUT_FILE_BYTES = 200 * 1024 * 1024
MAX_IMAGE_URL_CHARS = 20_971_520
# OpenAI's announced discount for the Batch API; gpt-image-2's own is unconfirmed (api doc §14), so it lives here,
# in one place, like the rest of the price table.
BATCH_PRICE_FACTOR = 0.5
TERMINAL_STATUSES = ("completed", "failed", "expired", "cancelled")
ACTIVE_STATUSES = ("validating", "in_progress", "finalizing", "cancelling")


def endpoint_for(request: ImageRequest) -> str:
    """The batch endpoint a request belongs to: generations and edits never share a batch."""
    return EDITS_URL if request.images else GENERATIONS_URL


def data_url(image: ImageInput) -> str:
    return f"data:{image.mime_type};base64," + base64.b64encode(image.data).decode("ascii")


def request_body(request: ImageRequest) -> dict[str, Any]:
    """The JSON body of one batch line: the request's parameters, never streaming, with images inline."""
    body = request.with_changes(stream=False, partial_images=0).parameters()
    if not request.images:
        return body
    body["images"] = [{"image_url": _checked_url(img)} for img in request.images]
    if request.mask is not None:
        body["mask"] = {"image_url": _checked_url(request.mask)}
    return body


def _checked_url(image: ImageInput) -> str:
    # base64 grows the bytes by 4/3; check before encoding so a huge image is refused without building it.
    expected = len(f"data:{image.mime_type};base64,") + 4 * math.ceil(len(image.data) / 3)
    if expected > MAX_IMAGE_URL_CHARS:
        raise RequestRefused(
            f"{image.filename} is {len(image.data) / 1e6:.1f} MB, too large to send inside a batch "
            f"(at most about {MAX_IMAGE_URL_CHARS * 3 // 4 / 1e6:.0f} MB per image); use a smaller image or run it now.",
            param="image",
        )
    return data_url(image)


def input_line(custom_id: str, request: ImageRequest) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": endpoint_for(request), "body": request_body(request)}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line, separators=(",", ":")).encode("utf-8") + b"\n" for line in lines)


@dataclass(frozen=True)
class LineResult:
    """One line of a batch's output or error file."""

    custom_id: str
    ok: bool
    status_code: int | None
    request_id: str | None
    body: dict[str, Any] | None  # the ImagesResponse on success, the error body otherwise
    message: str | None  # what went wrong, in the API's words, for a failed line
    code: str | None = None  # the API's error code, e.g. batch_expired or batch_cancelled


def parse_result_lines(data: bytes) -> list[LineResult]:
    """Every readable line of an output or error file; a cut or unreadable line is skipped (the file is re-read
    at the next collect)."""
    results = []
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
            results.append(_line_result(line))
    return results


def _line_result(line: dict[str, Any]) -> LineResult:
    response = line.get("response") if isinstance(line.get("response"), dict) else None
    error = line.get("error") if isinstance(line.get("error"), dict) else None
    status = response.get("status_code") if response else None
    body = response.get("body") if response and isinstance(response.get("body"), dict) else None
    request_id = response.get("request_id") if response else None
    ok = error is None and isinstance(status, int) and 200 <= status < 300 and body is not None
    message = code = None
    if not ok:
        message = _error_message(error, body, status)
        inner = body.get("error") if body else None
        source = error if error is not None else inner if isinstance(inner, dict) else {}
        code = str(source["code"]) if source.get("code") else None
    return LineResult(line["custom_id"], ok, status if isinstance(status, int) else None,
                      request_id if isinstance(request_id, str) else None, body, message, code)


def _error_message(error: dict[str, Any] | None, body: dict[str, Any] | None, status: Any) -> str:
    if error is not None:
        text = str(error.get("message") or error.get("code") or "The request failed.")
        return text
    inner = body.get("error") if body else None
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"])
    if isinstance(inner, str) and inner:
        return inner
    return f"The request failed (HTTP {status})." if status else "The request failed."


def batch_cost_usd(prices: PriceTable, model: str, usage: Usage) -> float:
    return round(prices.cost_usd(model, usage) * BATCH_PRICE_FACTOR, 6)


def batch_credits(prices: PriceTable, images: int) -> int:
    return math.ceil(prices.credits(images) * BATCH_PRICE_FACTOR)


def batch_estimate(prices: PriceTable, request: ImageRequest) -> Estimate:
    """The synchronous estimate at batch price (no streaming previews in a batch)."""
    est = request.with_changes(stream=False, partial_images=0).estimate(prices)
    return Estimate(est.usage, round(est.cost_usd * BATCH_PRICE_FACTOR, 6), batch_credits(prices, est.images),
                    est.images)


class BatchPrices(PriceTable):
    """A price table that charges the batch price: what jobs/ hands the code that stores a batch's versions."""

    @classmethod
    def of(cls, table: PriceTable) -> BatchPrices:
        return cls(table.credits_per_image, dict(table.overrides))

    def cost_usd(self, model: str, usage: Usage) -> float:
        return round(super().cost_usd(model, usage) * BATCH_PRICE_FACTOR, 6)

    def credits(self, images: int) -> int:
        return math.ceil(super().credits(images) * BATCH_PRICE_FACTOR)
