"""Parsing ImagesResponse bodies and the saved raw answers used for crash recovery."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image

from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.provider import MalformedResponse, parse_images_response, parse_saved_response


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


USAGE = {
    "input_tokens": 50,
    "output_tokens": 200,
    "total_tokens": 250,
    "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
    "output_tokens_details": {"image_tokens": 200, "text_tokens": 0},
}


def response_body(*images: bytes) -> bytes:
    return json.dumps(
        {
            "created": 1700000000,
            "data": [{"b64_json": b64(img)} for img in images],
            "background": "opaque",
            "output_format": "webp",
            "size": "1024x640",
            "quality": "high",
            "usage": USAGE,
        }
    ).encode()


def completed_line(image: bytes, tokens: int) -> bytes:
    event = {
        "type": "image_generation.completed",
        "b64_json": b64(image),
        "created_at": 1700000001,
        "size": "64x32",
        "quality": "low",
        "background": "opaque",
        "output_format": "png",
        "usage": {"input_tokens": 5, "output_tokens": tokens, "total_tokens": 5 + tokens},
    }
    return json.dumps(event).encode() + b"\n"


def test_parse_images_response_reads_images_metadata_and_usage():
    first, second = png(64, 32), png(32, 64)
    result = parse_images_response(response_body(first, second), request_id="req_1")
    assert result.images == [first, second]
    assert (result.size, result.quality, result.background, result.output_format) == (
        "1024x640",
        "high",
        "opaque",
        "webp",
    )
    assert result.usage == Usage.from_api(USAGE)
    assert result.usage.input_image_tokens == 40
    assert (result.request_id, result.created, result.partial_images_received) == ("req_1", 1700000000, 0)


def test_missing_output_format_falls_back_to_the_requested_one():
    body = json.dumps({"created": 1, "data": [{"b64_json": b64(png(8, 8))}]}).encode()
    result = parse_images_response(body, requested_format="jpeg")
    assert result.output_format == "jpeg" and result.usage == Usage() and result.size is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html>502</html>", "unreadable"),
        (b'{"created": 1, "data": [{"b64_json": "abc', "unreadable"),
        (b'{"created": 1}', "no images"),
        (b'{"created": 1, "data": []}', "no images"),
        (b'{"created": 1, "data": [{"b64_json": "!!not base64!!"}]}', "not base64"),
        (b'{"created": 1, "data": [{"url": "https://x.test/a.png"}]}', "image links"),
        (b"\xff\xfe", "not text"),
    ],
)
def test_malformed_bodies_raise_malformed_response(body, fragment):
    with pytest.raises(MalformedResponse) as info:
        parse_images_response(body)
    assert fragment in str(info.value)


def test_saved_whole_body_round_trips():
    image = png(40, 20)
    saved = parse_saved_response(response_body(image), request_id="req_saved")
    assert saved.images == [image] and saved.request_id == "req_saved"
    assert saved.usage.total_tokens == 250


def test_saved_stream_lines_round_trip_and_sum_usage():
    first, second = png(64, 32), png(64, 32)
    saved = parse_saved_response(completed_line(first, 100) + completed_line(second, 120))
    assert saved.images == [first, second]
    assert saved.usage.output_tokens == 220 and saved.usage.input_tokens == 10
    assert (saved.size, saved.output_format, saved.created) == ("64x32", "png", 1700000001)


def test_saved_stream_with_a_last_line_cut_by_a_crash_keeps_the_complete_events():
    image = png(16, 16)
    data = completed_line(image, 100) + completed_line(png(16, 16), 100)[:50]
    assert parse_saved_response(data).images == [image]


@pytest.mark.parametrize("data", [b"", b"garbage\n", b'{"type": "image_generation.partial_image"}\n'])
def test_saved_data_without_finished_images_is_malformed(data):
    with pytest.raises(MalformedResponse):
        parse_saved_response(data)


# ---------------------------------------------------------------------------------------------- SSE from bytes


def _events_by_reference(body: bytes) -> list[tuple[str, str]]:
    """What httpx-sse's own text-line reader makes of the same body: the reference iter_sse must match."""
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    lines, decoder, out = SSELineDecoder(), SSEDecoder(), []
    for line in lines.decode(body.decode()) + lines.flush():
        event = decoder.decode(line.rstrip("\n"))
        if event is not None:
            out.append((event.event, event.data))
    return out


def test_iter_sse_matches_the_standard_for_any_line_ends_and_any_chunking():
    import random

    from gptimg_desktop.provider.events import iter_sse

    rng = random.Random(7)
    for _ in range(1500):
        body = ""
        for _event in range(rng.randint(0, 4)):
            newline = rng.choice(["\n", "\r\n", "\r"])
            fields = [f"event: e{rng.randint(0, 9)}"] if rng.random() < 0.5 else []
            fields += [": a comment"] if rng.random() < 0.3 else []
            fields += ["data:" + rng.choice(["", " "]) + "x" * rng.randint(0, 20) + rng.choice(["", ":y"])
                       for _ in range(rng.randint(0, 3))]
            body += newline.join(fields) + newline * 2
        raw = body.encode()
        cuts = sorted(rng.sample(range(len(raw) + 1), min(len(raw) + 1, rng.randint(0, 6))))
        chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        assert [(e.event, e.data) for e in iter_sse(chunks)] == _events_by_reference(raw), (raw, chunks)


def test_iter_sse_joins_a_huge_data_line_from_small_chunks_once():
    from gptimg_desktop.provider.events import iter_sse

    payload = b64(png(64, 64)) * 2000  # ~300 kB of base64 in one line
    raw = f'event: image_edit.completed\ndata: {{"b64_json": "{payload}"}}\n\n'.encode()
    events = list(iter_sse(raw[i : i + 997] for i in range(0, len(raw), 997)))
    assert len(events) == 1 and events[0].event == "image_edit.completed"
    assert json.loads(events[0].data)["b64_json"] == payload


@pytest.mark.parametrize("value", ["QUJD\nRA==", "QUJD RA==", "QU=JDRA==", "QUJDRA=", "QUJ$RA==", "QUJDRA==QUJD",
                                   "QUJDRA==é", "QUJD" * 2_000_000 + "R=A="])
def test_base64_image_data_is_decoded_strictly(value):
    from gptimg_desktop.provider.errors import MalformedResponse
    from gptimg_desktop.provider.events import decode_b64_image

    with pytest.raises(MalformedResponse, match="not base64"):
        decode_b64_image(value)


def test_base64_image_data_over_many_slices_decodes_exactly():
    from gptimg_desktop.provider.events import decode_b64_image

    data = os.urandom(9_000_001)  # several 4 MB slices and padding at the end
    assert decode_b64_image(b64(data)) == data


@pytest.mark.parametrize("secret", ["sk-proj-abcdef123456", "BeArEr tok-abcdef123456", "bearer\tabcdefghijkl"])
def test_a_raw_answer_is_scrubbed_of_keys_however_large_it_is(secret):
    from gptimg_desktop.provider.errors import scrub_secret_bytes

    body = b'{"data": [{"b64_json": "' + base64.b64encode(os.urandom(3_000_000)) + b'"}], "echo": "'
    scrubbed = scrub_secret_bytes(body + secret.encode() + b'"}')
    assert secret.split()[-1].encode() not in scrubbed and b"[redacted]" in scrubbed
    assert scrubbed.startswith(body)  # the image data is left exactly as it came
