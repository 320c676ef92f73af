"""What the local Images API answers with: images for a call, usage, ImagesResponse bodies and stream events.

Shapes follow shared/docs/openai-images-api.md §4 (ImagesResponse) and §5 (stream events).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from PIL import Image

from ..core.pricing import PARTIAL_IMAGE_OUTPUT_TOKENS, input_image_tokens, output_tokens_per_image, text_tokens
from . import render
from .intake import ImageCall


def render_image(call: ImageCall, index: int) -> Image.Image:
    """The final picture number ``index`` (0-based) for ``call``; each index gives a different picture."""
    req = call.request
    transparent = call.background == "transparent"
    width, height = call.size.width, call.size.height
    if not call.sources:
        return render.generate(req.prompt, width, height, index, transparent=transparent)
    return render.edit(
        req.prompt,
        call.sources[0],
        width,
        height,
        index,
        mask=call.mask,
        references=call.sources[1:],
        transparent=transparent,
    )


# Base64 and JSON of a 4K image take 20-40 ms each in one C call that holds the GIL; in demo mode this
# server shares the editor's process, so its UI thread would stall that long. Work in slices instead.
_B64_SLICE = 3 * 1024 * 1024  # bytes per base64 call, a multiple of 3 so the slices join exactly


def encode_b64(call: ImageCall, img: Image.Image) -> str:
    data = memoryview(render.encode(img, call.request.output_format, call.request.output_compression))
    return b"".join(base64.b64encode(data[i : i + _B64_SLICE]) for i in range(0, len(data), _B64_SLICE)).decode()


def event_bytes(name: str, payload: dict[str, Any]) -> list[bytes]:
    """One SSE event, ``f"event: {name}\\ndata: {json.dumps(payload)}\\n\\n"``, as byte pieces to write in turn.

    The base64 field goes in as it is (it never needs escaping) instead of through json.dumps: same bytes.
    """
    pieces, text = [], f"event: {name}\ndata: {{"
    for i, (key, value) in enumerate(payload.items()):
        text += (", " if i else "") + json.dumps(key) + ": "
        if key == "b64_json" and isinstance(value, str):
            pieces += [(text + '"').encode(), value.encode("ascii")]
            text = '"'
        else:
            text += json.dumps(value)
    return [*pieces, (text + "}\n\n").encode()]


def input_tokens(call: ImageCall) -> tuple[int, int]:
    """(text tokens, image tokens) of the request's input."""
    image_tokens = sum(input_image_tokens(img.width, img.height) for img in call.request.images)
    return text_tokens(call.request.prompt), image_tokens


def image_output_tokens(call: ImageCall) -> int:
    return output_tokens_per_image(call.request.spec, call.size, call.quality)


def usage(call: ImageCall, images: int, partials_sent: int = 0, with_input: bool = True) -> dict[str, Any]:
    """ImageGenUsage for ``images`` finished images and ``partials_sent`` partial images."""
    text_in, image_in = input_tokens(call) if with_input else (0, 0)
    out = images * image_output_tokens(call) + PARTIAL_IMAGE_OUTPUT_TOKENS * partials_sent
    return {
        "input_tokens": text_in + image_in,
        "output_tokens": out,
        "total_tokens": text_in + image_in + out,
        "input_tokens_details": {"text_tokens": text_in, "image_tokens": image_in},
        "output_tokens_details": {"image_tokens": out, "text_tokens": 0},
    }


def images_response(call: ImageCall, b64_images: list[str], created: int | None = None) -> dict[str, Any]:
    """The non-streaming ImagesResponse body."""
    return {
        "created": int(time.time()) if created is None else created,
        "data": [{"b64_json": b64} for b64 in b64_images],
        **_resolved(call),
        "usage": usage(call, len(b64_images)),
    }


def partial_event(call: ImageCall, b64: str, partial_index: int) -> tuple[str, dict[str, Any]]:
    name = f"{call.event_prefix}.partial_image"
    return name, {
        "type": name,
        "b64_json": b64,
        "created_at": int(time.time()),
        **_resolved(call),
        "partial_image_index": partial_index,
    }


def completed_event(call: ImageCall, b64: str, event_usage: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``completed`` event; its usage is ImagesUsage, which has no output_tokens_details."""
    name = f"{call.event_prefix}.completed"
    stream_usage = {key: value for key, value in event_usage.items() if key != "output_tokens_details"}
    return name, {
        "type": name,
        "b64_json": b64,
        "created_at": int(time.time()),
        **_resolved(call),
        "usage": stream_usage,
    }


def _resolved(call: ImageCall) -> dict[str, str]:
    return {
        "background": call.background,
        "output_format": call.request.output_format,
        "size": str(call.size),
        "quality": call.quality,
    }
