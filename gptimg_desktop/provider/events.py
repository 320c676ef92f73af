"""What the provider sends back, as typed immutable values, and the parsers that build them.

``parse_images_response`` reads a non-streaming ImagesResponse body; ``parse_saved_response``
rebuilds a result from the raw bytes the client handed to ``response_sink`` (crash recovery).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from httpx_sse import ServerSentEvent

from gptimg_desktop.core.pricing import Usage

from .errors import MalformedResponse


@dataclass(frozen=True)
class PartialImage:
    """A streamed preview of the image being made."""

    index: int  # partial_image_index, 0-based
    image: bytes
    size: str
    output_format: str
    quality: str
    background: str


@dataclass(frozen=True)
class ImageResult:
    """The finished images of one request and what they cost in tokens."""

    images: list[bytes]
    size: str | None
    quality: str | None
    background: str | None
    output_format: str
    usage: Usage
    request_id: str | None
    created: int | None
    partial_images_received: int = 0


def decode_b64_image(value: Any, what: str = "image") -> bytes:
    """Base64 image data -> bytes; MalformedResponse when it is missing or not base64."""
    if not isinstance(value, str) or not value:
        raise MalformedResponse(f"The provider's answer has no {what} data. Try again.")
    try:
        data = _b64decode(value)
    except (binascii.Error, ValueError):
        raise MalformedResponse(f"The provider's {what} data is damaged (not base64). Try again.") from None
    if not data:
        raise MalformedResponse(f"The provider sent an empty {what}. Try again.")
    return data


_B64_SLICE = 4 * 1024 * 1024  # characters per call, a multiple of 4 so the slices decode independently


def _b64decode(value: str) -> bytes:
    """Strict base64 decoding in slices: one call on a 4K image (~20 MB) holds the GIL ~30 ms, long enough
    to stall the editor's UI thread while a worker decodes an answer."""
    if len(value) <= _B64_SLICE:
        return _strict_b64decode(value)
    if value.find("=", 0, len(value) - 2) != -1:  # padding belongs at the very end only
        raise binascii.Error("padding inside the data")
    return b"".join(_strict_b64decode(value[i : i + _B64_SLICE]) for i in range(0, len(value), _B64_SLICE))


def _strict_b64decode(value: str) -> bytes:
    """``base64.b64decode(value, validate=True)`` checked in C: the same errors, a third faster on 30 MB (the
    standard library's validate runs a regular expression over the whole value first)."""
    if not value.isascii():
        raise binascii.Error("not base64")
    return binascii.a2b_base64(value, strict_mode=True)


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Server-sent events (WHATWG rules: CR, LF or CRLF line ends; ``event``/``data`` fields; comments) from
    the body's raw byte chunks.

    A 4K image's event is one ~30 MB ``data:`` line spread over hundreds of chunks. Its pieces are kept as they
    come and joined once when the line ends, and the field's value becomes text in one decode, without the
    per-chunk text decoding and the extra whole-line copies of a generic text-line reader.
    """
    pending: list[bytes] = []  # pieces of the line not yet ended
    trailing_cr = False
    name, data = "", []
    for chunk in chunks:
        if not chunk:
            continue
        if trailing_cr:  # a CR ended the last chunk: a CRLF split in two is one line end
            chunk = chunk[1:] if chunk[:1] == b"\n" else chunk
            if not chunk:
                continue
        trailing_cr = chunk[-1:] == b"\r"
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # a CR last (trailing_cr) ends a line too
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            piece = chunk[start:end]
            start = end + 1
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending = []
            if piece:
                name = _sse_field(piece, name, data)
            elif name or data:
                yield ServerSentEvent(event=name, data="\n".join(data))
                name, data = "", []
        if start < len(chunk):
            pending.append(chunk[start:])
    # A last event not ended by a blank line is incomplete and dropped, as the standard says.


def _sse_field(line: bytes, name: str, data: list[str]) -> str:
    """Apply one non-empty line to the event being built; returns its (possibly new) event name."""
    colon = line.find(b":")
    if colon == 0:
        return name  # a comment
    field, value_at = (line, len(line)) if colon < 0 else (line[:colon], colon + 1)
    if line[value_at : value_at + 1] == b" ":
        value_at += 1
    if field == b"data":
        data.append(str(memoryview(line)[value_at:], "utf-8", "replace"))  # one copy, straight to text
    elif field == b"event":
        name = str(line[value_at:], "utf-8", "replace")
    return name


def parse_images_response(body: bytes, request_id: str | None = None, requested_format: str = "png") -> ImageResult:
    """A non-streaming ``ImagesResponse`` body -> ImageResult."""
    return _images_result(_load_json(body), request_id, requested_format)


def _images_result(payload: Any, request_id: str | None, requested_format: str) -> ImageResult:
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise MalformedResponse(
            "The provider's answer has no images in it. Try again; if it repeats, check the provider URL.",
            request_id=request_id,
        )
    images = []
    for item in payload["data"]:
        if not isinstance(item, dict):
            raise MalformedResponse("The provider's answer lists something that is not an image. Try again.")
        if not item.get("b64_json") and item.get("url"):
            raise MalformedResponse(
                "The provider sent image links instead of image data; this model or server is not supported.",
                request_id=request_id,
            )
        images.append(decode_b64_image(item.get("b64_json")))
    if not images:
        raise MalformedResponse("The provider's answer has no images in it. Try again.", request_id=request_id)
    usage = usage_from_api(payload.get("usage"))
    created = payload.get("created")
    return ImageResult(
        images=images,
        size=_text(payload.get("size")),
        quality=_text(payload.get("quality")),
        background=_text(payload.get("background")),
        output_format=_text(payload.get("output_format")) or requested_format,
        usage=usage,
        request_id=request_id,
        created=created if isinstance(created, int) else None,
        partial_images_received=0,
    )


def usage_from_api(value: Any) -> Usage:
    """The token usage an answer reports. A malformed usage block (wrong types, negative or absurd numbers)
    reads as unknown rather than failing: the images of a paid answer matter more than its accounting."""
    if not isinstance(value, dict):
        return Usage()
    try:
        usage = Usage.from_api(value)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return Usage()
    if any(not 0 <= getattr(usage, f) < 2**53 for f in ("input_tokens", "output_tokens", "total_tokens",
                                                       "input_text_tokens", "input_image_tokens",
                                                       "output_image_tokens", "output_text_tokens")):
        return Usage()
    return usage


def partial_from_event(payload: dict, fallback_index: int) -> PartialImage:
    """A ``*.partial_image`` stream event -> PartialImage."""
    index = payload.get("partial_image_index")
    return PartialImage(
        index=index if isinstance(index, int) else fallback_index,
        image=decode_b64_image(payload.get("b64_json"), "preview image"),
        size=_text(payload.get("size")) or "",
        output_format=_text(payload.get("output_format")) or "",
        quality=_text(payload.get("quality")) or "",
        background=_text(payload.get("background")) or "",
    )


def result_from_completed_events(
    events: list[dict],
    request_id: str | None = None,
    requested_format: str = "png",
    partial_images_received: int = 0,
    images: list[bytes] | None = None,
) -> ImageResult:
    """The ``*.completed`` stream events of one request -> ImageResult (usage summed over them).

    ``images``: the events' images, already decoded (the events' base64 is then not read again).
    """
    if not events:
        raise MalformedResponse("The provider's answer has no finished images in it. Try again.")
    if images is None:
        images = [decode_b64_image(event.get("b64_json")) for event in events]
    usage = Usage()
    for event in events:
        usage = usage + usage_from_api(event.get("usage"))
    last = events[-1]
    created = last.get("created_at", last.get("created"))
    return ImageResult(
        images=images,
        size=_text(last.get("size")),
        quality=_text(last.get("quality")),
        background=_text(last.get("background")),
        output_format=_text(last.get("output_format")) or requested_format,
        usage=usage,
        request_id=request_id,
        created=created if isinstance(created, int) else None,
        partial_images_received=partial_images_received,
    )


def parse_saved_response(data: bytes, request_id: str | None = None) -> ImageResult:
    """Rebuild a result from what the client wrote to ``response_sink``.

    That is either a whole ImagesResponse body (non-streaming) or one JSON line per
    ``*.completed`` event (streaming). A last line cut short by a crash is ignored.
    """
    text = _decode_text(data)
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("data"), list):  # a whole body, not one event line
        try:
            return _images_result(whole, request_id, "png")
        except MalformedResponse:
            if "b64_json" not in whole:
                raise  # else: one completed event that happens to carry a "data" key; read it as such
    lines = [line for line in text.splitlines() if line.strip()]
    events = []
    for number, line in enumerate(lines):
        try:
            event = json.loads(line)
        except ValueError:
            if number == len(lines) - 1 and events:
                break  # the write of the last event was cut short; keep the complete ones
            raise MalformedResponse("The saved answer is damaged and cannot be read.") from None
        if not isinstance(event, dict) or "b64_json" not in event:
            raise MalformedResponse("The saved answer is not an image answer.")
        events.append(event)
    if not events:
        raise MalformedResponse("The saved answer has no finished images in it.")
    return result_from_completed_events(events, request_id=request_id)


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(_decode_text(body))
    except ValueError:
        raise MalformedResponse(
            "The provider sent an unreadable answer (cut short or not JSON). Try again; "
            "if it repeats, check the provider URL."
        ) from None


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedResponse("The provider sent an unreadable answer (not text). Try again.") from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
