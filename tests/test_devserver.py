"""The local Images API over real HTTP: images, validation, streaming, auth, faults and Azure paths."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import signal
import socket
import subprocess
import sys
import threading

import httpx
import numpy as np
import pytest
from httpx_sse import connect_sse
from PIL import Image

from gptimg_desktop.core.models import get_model
from gptimg_desktop.core.pricing import input_image_tokens, output_tokens_per_image
from gptimg_desktop.core.sizes import Size
from gptimg_desktop.devserver import DevServer, Fault, render

REQUEST_ID = re.compile(r"req_[0-9a-f]{32}")
GPT2 = get_model("gpt-image-2")


# ---------------------------------------------------------------------- helpers
@pytest.fixture
def client(dev_server):
    with httpx.Client(base_url=dev_server.url, headers={"Authorization": "Bearer demo"}, timeout=20) as c:
        yield c


def generate(client, **params):
    return client.post("/images/generations", json={"model": "gpt-image-2", "prompt": "a lighthouse", **params})


def png(width, height, colour=(40, 90, 160), mode="RGB", noise=False) -> bytes:
    if noise:
        rng = np.random.default_rng(width * 7 + height)
        img = Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8), "RGB")
    else:
        img = Image.new(mode, (width, height), colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mask_png(width, height, hole) -> bytes:
    """Opaque black with a fully transparent rectangle ``hole`` (the area to edit)."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    img.paste((0, 0, 0, 0), hole)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def assert_error(response, status, type_, param, code, message=None):
    assert response.status_code == status, response.text
    assert REQUEST_ID.fullmatch(response.headers["x-request-id"])
    error = response.json()["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    assert (error["type"], error["param"], error["code"]) == (type_, param, code), error
    if message is not None:
        assert message in error["message"]
    return error


# ---------------------------------------------------------------------- generations
def test_generation_returns_an_image_of_the_exact_size_and_the_resolved_settings(client):
    response = generate(client, size="1536x1024", quality="high")

    assert response.status_code == 200
    assert REQUEST_ID.fullmatch(response.headers["x-request-id"])
    body = response.json()
    assert set(body) == {"created", "data", "background", "output_format", "size", "quality", "usage"}
    assert (body["size"], body["quality"], body["background"], body["output_format"]) == (
        "1536x1024",
        "high",
        "opaque",
        "png",
    )
    img = decode(body["data"][0]["b64_json"])
    assert (img.format, img.size) == ("PNG", (1536, 1024))
    usage = body["usage"]
    assert usage["input_tokens_details"] == {"text_tokens": math.ceil(len("a lighthouse") / 4), "image_tokens": 0}
    assert usage["output_tokens"] == output_tokens_per_image(GPT2, Size(1536, 1024), "high")
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_each_output_format_decodes_as_that_format(client, fmt, pil_format):
    response = generate(client, size="1024x640", output_format=fmt)

    body = response.json()
    img = decode(body["data"][0]["b64_json"])
    assert (img.format, img.size, body["output_format"]) == (pil_format, (1024, 640), fmt)


def test_output_compression_sets_the_jpeg_quality(client):
    small = generate(client, size="1024x640", output_format="jpeg", output_compression=10).json()
    large = generate(client, size="1024x640", output_format="jpeg", output_compression=95).json()

    assert len(small["data"][0]["b64_json"]) < len(large["data"][0]["b64_json"]) / 2


def test_two_images_are_different_pictures(client):
    body = generate(client, size="1024x640", n=2).json()

    first, second = (np.asarray(decode(item["b64_json"])) for item in body["data"])
    assert len(body["data"]) == 2
    assert first.shape == second.shape
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 5
    assert body["usage"]["output_tokens"] == 2 * output_tokens_per_image(GPT2, Size(1024, 640), "medium")


def test_different_prompts_give_different_pictures_and_the_same_prompt_the_same():
    a1 = np.asarray(render.generate("a red fox", 320, 200))
    a2 = np.asarray(render.generate("a red fox", 320, 200))
    b = np.asarray(render.generate("a blue whale", 320, 200))

    assert np.array_equal(a1, a2)
    assert np.abs(a1.astype(int) - b.astype(int)).mean() > 5


def test_usage_grows_with_quality_and_with_size(client):
    def output_tokens(**params):
        return generate(client, **params).json()["usage"]["output_tokens"]

    low, medium, high = (output_tokens(size="1024x1024", quality=q) for q in ("low", "medium", "high"))
    big = output_tokens(size="2048x2048", quality="high")

    assert low < medium < high < big


@pytest.mark.parametrize(
    ("prompt", "size"),
    [("a lighthouse", "1024x1024"), ("a portrait of a sailor", "1024x1536"), ("a landscape at dusk", "1536x1024")],
)
def test_auto_size_follows_the_prompt_and_auto_quality_resolves_to_medium(client, prompt, size):
    body = client.post("/images/generations", json={"model": "gpt-image-2", "prompt": prompt}).json()

    assert (body["size"], body["quality"], body["background"]) == (size, "medium", "opaque")
    assert "x".join(map(str, decode(body["data"][0]["b64_json"]).size)) == size


def test_transparent_background_works_when_the_server_allows_the_preview():
    with DevServer(delay=0.0, allow_transparent=True) as server:
        response = httpx.post(
            f"{server.url}/images/generations",
            headers={"Authorization": "Bearer demo"},
            json={"model": "gpt-image-2", "prompt": "a sticker", "size": "1024x640", "background": "transparent"},
        )

    body = response.json()
    img = decode(body["data"][0]["b64_json"])
    assert body["background"] == "transparent"
    assert img.mode == "RGBA"
    assert np.asarray(img.getchannel("A")).min() == 0


# ---------------------------------------------------------------------- edits
def test_edit_with_one_image_keeps_its_size_on_auto_and_counts_its_tokens(client):
    files = [("image", ("photo.png", png(1000, 700), "image/png"))]
    response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "make it dusk"}, files=files)

    body = response.json()
    assert response.status_code == 200, body
    assert body["size"] == "1000x700"  # auto on an edit keeps the first image's shape, even off the 16 grid
    assert decode(body["data"][0]["b64_json"]).size == (1000, 700)
    assert body["usage"]["input_tokens_details"]["image_tokens"] == input_image_tokens(1000, 700)


def test_edit_takes_sixteen_images_and_refuses_seventeen(client):
    def edit(count):
        files = [("image[]", (f"ref{i}.png", png(64, 64, (i * 15, 80, 200)), "image/png")) for i in range(count)]
        data = {"model": "gpt-image-2", "prompt": "combine them", "size": "1024x1024"}
        return client.post("/images/edits", data=data, files=files)

    ok = edit(16)
    assert ok.status_code == 200, ok.text
    assert ok.json()["usage"]["input_tokens_details"]["image_tokens"] == 16 * input_image_tokens(64, 64)
    assert_error(edit(17), 400, "invalid_request_error", "image", "invalid_value", "at most 16")


def test_a_masked_edit_changes_only_the_transparent_part_of_the_mask(client):
    original = png(1024, 1024, noise=True)
    hole = (200, 300, 600, 700)
    files = [
        ("image", ("photo.png", original, "image/png")),
        ("mask", ("mask.png", mask_png(1024, 1024, hole), "image/png")),
    ]
    response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "a red door"}, files=files)

    assert response.status_code == 200, response.text
    before = np.asarray(Image.open(io.BytesIO(original)).convert("RGB"))
    after = np.asarray(decode(response.json()["data"][0]["b64_json"]).convert("RGB"))
    inside = np.zeros(before.shape[:2], bool)
    inside[hole[1] : hole[3], hole[0] : hole[2]] = True
    assert np.array_equal(after[~inside], before[~inside])
    assert (after[inside] != before[inside]).any(axis=-1).mean() > 0.9


def test_an_edit_without_a_mask_changes_the_whole_image_and_references_change_the_result(client):
    base = png(1024, 640, (120, 120, 120))

    def edit(*references):
        files = [("image[]", ("base.png", base, "image/png"))]
        files += [("image[]", (f"ref{i}.png", ref, "image/png")) for i, ref in enumerate(references)]
        response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "warm grade"}, files=files)
        return np.asarray(decode(response.json()["data"][0]["b64_json"]).convert("RGB")).astype(int)

    plain = edit()
    with_red_reference = edit(png(64, 64, (255, 0, 0)))
    grey = np.full_like(plain, 120)
    centre = (slice(200, 400), slice(300, 700))
    assert np.abs(plain[centre] - grey[centre]).mean() > 3
    assert with_red_reference[centre][..., 0].mean() > plain[centre][..., 0].mean()


def test_a_json_edit_takes_data_urls_for_images_and_mask(client):
    def data_url(data):
        return "data:image/png;base64," + base64.b64encode(data).decode()

    body = {
        "model": "gpt-image-2",
        "prompt": "add a moon",
        "images": [{"image_url": data_url(png(1024, 640, noise=True))}],
        "mask": {"image_url": data_url(mask_png(1024, 640, (0, 0, 100, 100)))},
        "n": 2,
    }
    response = client.post("/images/edits", json=body)

    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    assert (
        client.post("/images/edits", json={**body, "images": [{"image_url": "https://example.com/a.png"}]}).json()[
            "error"
        ]["param"]
        == "images[0].image_url"
    )


def test_multipart_fields_are_strings_that_become_numbers_and_booleans(client):
    files = [("image", ("photo.png", png(1024, 640), "image/png"))]
    data = {"model": "gpt-image-2", "prompt": "snow", "n": "2", "moderation": "low"}
    response = client.post("/images/edits", data=data, files=files)
    assert len(response.json()["data"]) == 2

    data = {"model": "gpt-image-2", "prompt": "snow", "stream": "true", "partial_images": "1"}
    response = client.post("/images/edits", data=data, files=files)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: image_edit.partial_image" in response.text


def test_requests_are_recorded_with_fields_files_and_headers(client, dev_server):
    files = [("image[]", ("a.png", png(1024, 640), "image/png")), ("image[]", ("b.png", png(64, 64), "image/png"))]
    client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "x"}, files=files)
    generate(client, size="1024x640")

    edit, gen = dev_server.requests[-2:]
    assert (edit.method, edit.path) == ("POST", "/v1/images/edits")
    assert edit.fields == {"model": "gpt-image-2", "prompt": "x"}
    assert [(f[0], f[1], f[2]) for f in edit.files] == [
        ("image[]", "a.png", "image/png"),
        ("image[]", "b.png", "image/png"),
    ]
    assert edit.headers["authorization"] == "Bearer demo"
    assert "demo" not in repr(edit)
    assert gen.json == {"model": "gpt-image-2", "prompt": "a lighthouse", "size": "1024x640"}


# ---------------------------------------------------------------------- streaming
def test_a_stream_sends_partials_coarse_to_fine_then_the_completed_image(client):
    params = {"model": "gpt-image-2", "prompt": "a lighthouse", "size": "1024x640", "quality": "low"}
    with connect_sse(
        client, "POST", "/images/generations", json={**params, "stream": True, "partial_images": 3}
    ) as events:
        assert events.response.headers["content-type"].startswith("text/event-stream")
        assert REQUEST_ID.fullmatch(events.response.headers["x-request-id"])
        received = [(sse.event, sse.json()) for sse in events.iter_sse()]

    names = [name for name, _ in received]
    assert names == ["image_generation.partial_image"] * 3 + ["image_generation.completed"]
    for name, data in received:
        assert data["type"] == name
        assert (data["size"], data["quality"], data["background"], data["output_format"]) == (
            "1024x640",
            "low",
            "opaque",
            "png",
        )
        assert isinstance(data["created_at"], int)
    assert [data["partial_image_index"] for _, data in received[:3]] == [0, 1, 2]
    final = np.asarray(decode(received[-1][1]["b64_json"])).astype(int)
    distances = [np.abs(np.asarray(decode(d["b64_json"])).astype(int) - final).mean() for _, d in received[:3]]
    assert distances[0] > distances[1] > distances[2] > 0
    usage = received[-1][1]["usage"]
    assert set(usage) == {"input_tokens", "output_tokens", "total_tokens", "input_tokens_details"}
    assert usage["output_tokens"] == output_tokens_per_image(GPT2, Size(1024, 640), "low") + 300


def test_an_edit_stream_names_its_events_image_edit(client):
    files = [("image", ("photo.png", png(1024, 640), "image/png"))]
    data = {"model": "gpt-image-2", "prompt": "rain", "stream": "true", "partial_images": "0"}
    with connect_sse(client, "POST", "/images/edits", data=data, files=files) as events:
        names = [sse.event for sse in events.iter_sse()]

    assert names == ["image_edit.completed"]


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("params", "status", "type_", "param", "code", "message"),
    [
        (
            {"size": "1000x1000"},
            400,
            "invalid_request_error",
            "size",
            "invalid_value",
            "Invalid size '1000x1000'. Width and height must both be divisible by 16.",
        ),
        ({"size": "4096x1024"}, 400, "invalid_request_error", "size", "invalid_value", "3840"),
        ({"size": "huge"}, 400, "invalid_request_error", "size", "invalid_value", None),
        ({"response_format": "b64_json"}, 400, "invalid_request_error", "response_format", "unknown_parameter", None),
        ({"style": "vivid"}, 400, "invalid_request_error", "style", "unknown_parameter", "Unknown parameter: 'style'."),
        ({"quality": "ultra"}, 400, "invalid_request_error", "quality", "invalid_value", None),
        ({"n": 11}, 400, "invalid_request_error", "n", "invalid_value", None),
        ({"n": "2"}, 400, "invalid_request_error", "n", "invalid_type", "expected an integer"),
        ({"output_format": "gif"}, 400, "invalid_request_error", "output_format", "invalid_value", None),
        ({"output_compression": 50}, 400, "invalid_request_error", "output_compression", "invalid_value", None),
        ({"stream": True, "partial_images": 4}, 400, "invalid_request_error", "partial_images", "invalid_value", None),
        (
            {"background": "transparent"},
            400,
            "image_generation_user_error",
            "background",
            "invalid_value",
            "Transparent background is not supported for this model.",
        ),
        ({"prompt": None}, 400, "invalid_request_error", "prompt", "missing_required_parameter", None),
        ({"prompt": ""}, 400, "invalid_request_error", "prompt", "string_below_min_length", None),
        ({"model": "dall-e-2"}, 404, "invalid_request_error", None, "model_not_found", "`dall-e-2` does not exist"),
        ({"model": "gpt-image-1"}, 404, "invalid_request_error", None, "model_not_found", None),
    ],
)
def test_generation_rules_answer_with_the_real_error(client, params, status, type_, param, code, message):
    body = {"model": "gpt-image-2", "prompt": "a lighthouse", **params}
    body = {k: v for k, v in body.items() if v is not None}

    assert_error(client.post("/images/generations", json=body), status, type_, param, code, message)


def test_input_fidelity_is_refused_for_gpt_image_2(client):
    files = [("image", ("photo.png", png(1024, 640), "image/png"))]
    data = {"model": "gpt-image-2", "prompt": "x", "input_fidelity": "high"}

    assert_error(
        client.post("/images/edits", data=data, files=files),
        400,
        "image_generation_user_error",
        "input_fidelity",
        "invalid_input_fidelity_model",
        "The model 'gpt-image-2' does not support the 'input_fidelity' parameter.",
    )


@pytest.mark.parametrize(
    ("mask", "text"),
    [
        (png(1024, 640, mode="RGB"), "alpha"),  # no alpha channel
        (mask_png(512, 512, (0, 0, 10, 10)), "same size"),
    ],
)
def test_a_mask_must_be_a_png_with_alpha_of_the_first_images_size(client, mask, text):
    files = [("image", ("photo.png", png(1024, 640), "image/png")), ("mask", ("mask.png", mask, "image/png"))]
    response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "x"}, files=files)

    assert_error(response, 400, "invalid_request_error", "mask", "invalid_value", text)


def test_an_undecodable_upload_is_refused_by_name(client):
    files = [("image", ("notes.png", b"this is not a picture", "image/png"))]
    response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "x"}, files=files)

    assert_error(response, 400, "invalid_request_error", "image", "invalid_image_file", "notes.png")


def test_an_edit_without_an_image_is_missing_its_image(client):
    response = client.post("/images/edits", data={"model": "gpt-image-2", "prompt": "x"}, files=[])

    assert_error(response, 400, "invalid_request_error", "image", "missing_required_parameter")


def test_malformed_bodies_get_400_and_the_server_keeps_serving(client, dev_server):
    bad_json = client.post("/images/generations", content=b"{not json", headers={"content-type": "application/json"})
    bad_form = client.post(
        "/images/edits", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    with socket.create_connection(("127.0.0.1", dev_server.port), timeout=5) as raw:
        raw.sendall(b"GET /v1/models HTTP/1.1 junk\r\n\r\n")
        raw_answer = raw.recv(4096)

    assert_error(bad_json, 400, "invalid_request_error", None, None, "could not parse the JSON body")
    assert bad_form.status_code == 400
    assert raw_answer.startswith(b"HTTP/1.1 400") and b"x-request-id: req_" in raw_answer
    assert generate(client, size="1024x640").status_code == 200


# ---------------------------------------------------------------------- auth, routes, headers
def test_a_missing_key_and_an_invalid_key_are_refused(dev_server):
    missing = httpx.post(f"{dev_server.url}/images/generations", json={"prompt": "x"})
    key = "sk-invalid-0123456789abcdefWXYZ"
    wrong = httpx.post(
        f"{dev_server.url}/images/generations", json={"prompt": "x"}, headers={"Authorization": f"Bearer {key}"}
    )

    assert_error(missing, 401, "invalid_request_error", None, None, "You didn't provide an API key")
    error = assert_error(wrong, 401, "invalid_request_error", None, "invalid_api_key", "Incorrect API key provided")
    assert key not in error["message"] and "WXYZ" in error["message"]


def test_every_answer_carries_a_request_id_and_unknown_urls_are_404(client, dev_server):
    answers = [
        httpx.get(f"{dev_server.root}/health"),
        client.get("/models"),
        client.get("/images/generations"),
        client.post("/images/variations", json={}),
        generate(client, size="1024x640"),
    ]

    assert [a.status_code for a in answers] == [200, 200, 404, 404, 200]
    assert answers[0].text == "ok"
    assert all(REQUEST_ID.fullmatch(a.headers["x-request-id"]) for a in answers)
    assert len({a.headers["x-request-id"] for a in answers}) == len(answers)
    assert answers[3].json()["error"]["message"] == "Invalid URL (POST /v1/images/variations)"


def test_models_lists_the_live_models(client):
    models = client.get("/models").json()

    ids = [m["id"] for m in models["data"]]
    assert models["object"] == "list"
    assert "gpt-image-2" in ids and "dall-e-2" not in ids and "gpt-image-1" not in ids
    for entry in models["data"]:
        assert {"id", "object", "created", "owned_by"} <= set(entry) and entry["object"] == "model"
        if "shutdown_date" in entry:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["shutdown_date"])
    assert client.get("/models/gpt-image-2").json()["id"] == "gpt-image-2"


def test_azure_deployment_paths_need_an_api_version_and_take_the_api_key_header(dev_server):
    base = f"{dev_server.root}/openai/deployments"
    headers = {"api-key": "azure-key"}
    body = {"prompt": "a lighthouse", "size": "1024x640"}

    ok = httpx.post(f"{base}/gpt-image-2/images/generations?api-version=2025-04-01-preview", json=body, headers=headers)
    no_version = httpx.post(f"{base}/gpt-image-2/images/generations", json=body, headers=headers)
    unknown = httpx.post(f"{base}/my-images/images/generations?api-version=preview", json=body, headers=headers)
    files = [("image[]", ("photo.png", png(1024, 640), "image/png"))]
    edit = httpx.post(
        f"{base}/gpt-image-2/images/edits?api-version=preview", data={"prompt": "x"}, files=files, headers=headers
    )

    assert ok.status_code == 200 and ok.json()["size"] == "1024x640"
    assert dev_server.requests[-4].query == {"api-version": "2025-04-01-preview"}
    assert_error(no_version, 400, "invalid_request_error", "api-version", "MissingApiVersionParameter")
    assert_error(unknown, 404, "invalid_request_error", None, "DeploymentNotFound")
    assert edit.status_code == 200, edit.text


def test_only_loopback_hosts_are_allowed():
    with pytest.raises(ValueError, match="only listens on this computer"):
        DevServer(host="0.0.0.0")


# ---------------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("fault", "status", "type_", "code", "message"),
    [
        (Fault("rate_limit"), 429, "requests", "rate_limit_exceeded", "Rate limit reached for requests"),
        (Fault("quota"), 429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota"),
        (Fault("server_error"), 500, "server_error", None, "The server had an error"),
        (Fault("server_error", status=503), 503, "server_error", None, "The server is overloaded or not ready yet."),
        (Fault("auth"), 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
        (
            Fault("org_unverified"),
            403,
            "invalid_request_error",
            None,
            "must be verified to use the model `gpt-image-2`",
        ),
        (Fault("model_gone"), 404, "invalid_request_error", "model_not_found", "`gpt-image-2` does not exist"),
    ],
)
def test_an_error_fault_hits_the_next_request_only(client, dev_server, fault, status, type_, code, message):
    dev_server.faults.push(fault)

    assert_error(generate(client, size="1024x640"), status, type_, None, code, message)
    assert generate(client, size="1024x640").status_code == 200


def test_a_rate_limit_fault_sends_retry_headers_and_times_repeats_it(client, dev_server):
    dev_server.faults.push(Fault("rate_limit", retry_after=2, retry_after_ms=1500, times=2))

    first, second, third = (generate(client, size="1024x640") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert (first.headers["retry-after"], first.headers["retry-after-ms"]) == ("2", "1500")


def test_a_moderation_fault_names_the_request_id_and_the_categories(client, dev_server):
    dev_server.faults.push(Fault("moderation", categories=["sexual", "violence"], stage="output"))

    response = generate(client, size="1024x640")
    error = assert_error(response, 400, "image_generation_user_error", None, "moderation_blocked")
    assert response.headers["x-request-id"] in error["message"]
    assert error["moderation_details"] == {"moderation_stage": "output", "categories": ["sexual", "violence"]}


def test_a_cut_stream_sends_some_partials_then_drops_the_connection(client, dev_server):
    dev_server.faults.push(Fault("cut_stream", after_partials=1))
    body = {"model": "gpt-image-2", "prompt": "x", "size": "1024x640", "stream": True, "partial_images": 3}
    names = []
    with pytest.raises(httpx.RemoteProtocolError), connect_sse(client, "POST", "/images/generations", json=body) as es:
        names.extend(sse.event for sse in es.iter_sse())

    assert names == ["image_generation.partial_image"]


def test_a_cut_non_streaming_answer_stops_half_way(client, dev_server):
    dev_server.faults.push(Fault("cut_stream"))

    with pytest.raises(httpx.RemoteProtocolError):
        generate(client, size="1024x640")
    assert generate(client, size="1024x640").status_code == 200


def test_non_json_and_truncated_answers(client, dev_server):
    dev_server.faults.push(Fault("non_json"))
    dev_server.faults.push(Fault("non_json", status=502))
    dev_server.faults.push(Fault("truncated"))

    html, html_502, truncated = (generate(client, size="1024x640") for _ in range(3))
    assert (html.status_code, html.headers["content-type"], html.text) == (
        200,
        "text/html; charset=utf-8",
        "<html>502 Bad Gateway</html>",
    )
    assert html_502.status_code == 502
    assert truncated.status_code == 200 and truncated.headers["content-type"] == "application/json"
    assert truncated.text.startswith('{"created"')
    with pytest.raises(json.JSONDecodeError):
        truncated.json()


def test_a_slow_fault_outlasts_a_client_timeout(client, dev_server):
    dev_server.faults.push(Fault("slow", delay=1.0))

    with pytest.raises(httpx.ReadTimeout):
        client.post("/images/generations", json={"model": "gpt-image-2", "prompt": "x"}, timeout=0.2)
    assert generate(client, size="1024x640").status_code == 200


def test_stopping_the_server_ends_a_request_that_is_still_working(dev_server):
    dev_server.faults.push(Fault("slow", delay=30))
    outcome = []

    def call():
        try:
            httpx.post(
                f"{dev_server.url}/images/generations",
                json={"model": "gpt-image-2", "prompt": "x"},
                headers={"Authorization": "Bearer demo"},
                timeout=60,
            )
            outcome.append("answered")
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    worker = threading.Thread(target=call)
    worker.start()
    while not dev_server.requests:
        threading.Event().wait(0.01)
    dev_server.stop()
    worker.join(timeout=20)

    assert not worker.is_alive()
    assert outcome == ["RemoteProtocolError"]


def test_faults_can_be_queued_listed_and_cleared_over_http(client, dev_server):
    control = f"{dev_server.root}/__faults"

    queued = httpx.post(control, json=[{"kind": "quota"}, {"kind": "server_error", "status": 502}])
    assert queued.json() == {"queued": 2, "pending": 2}
    assert [f["kind"] for f in httpx.get(control).json()["pending"]] == ["quota", "server_error"]
    assert generate(client, size="1024x640").status_code == 429
    assert httpx.delete(control).json() == {"cleared": 1}
    assert generate(client, size="1024x640").status_code == 200
    assert httpx.post(control, json=[{"kind": "meteor"}]).status_code == 400


def test_faults_from_the_environment_are_queued_at_start(monkeypatch):
    monkeypatch.setenv("GPTIMG_DEVSERVER_FAULTS", json.dumps([{"kind": "rate_limit", "retry_after": 1}]))

    with DevServer(delay=0.0) as server:
        answers = [
            httpx.post(
                f"{server.url}/images/generations",
                json={"model": "gpt-image-2", "prompt": "x", "size": "1024x640"},
                headers={"Authorization": "Bearer demo"},
            )
            for _ in range(2)
        ]

    assert [a.status_code for a in answers] == [429, 200]
    assert answers[0].headers["retry-after"] == "1"


def test_serve_forever_prints_its_url_takes_faults_over_http_and_stops_on_ctrl_c():
    code = "from gptimg_desktop.devserver.server import serve_forever; serve_forever(0, delay=0.0)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/v1", line).group(0)
        httpx.post(url.removesuffix("/v1") + "/__faults", json=[{"kind": "model_gone"}])
        gone = httpx.post(
            f"{url}/images/generations",
            json={"model": "gpt-image-2", "prompt": "x", "size": "1024x640"},
            headers={"Authorization": "Bearer demo"},
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"
