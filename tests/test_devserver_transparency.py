"""The local server answers transparent backgrounds like the real API: real alpha where the model makes it,
the API's own 400 where it doesn't (gpt-image-2 without the preview) or can't (JPEG)."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from gptimg_desktop.devserver.server import DevServer


def _generate(server, **params):
    body = {"prompt": "a sticker of a fox", "size": "1024x1024", "background": "transparent", **params}
    return httpx.post(f"{server.url}/images/generations", json=body, headers={"Authorization": "Bearer sk-test"},
                      timeout=60)


@pytest.mark.parametrize(("model", "fmt"), [("gpt-image-2.6-sunburst", "png"), ("gpt-image-2.5-flare", "webp")])
def test_models_with_transparency_answer_with_real_alpha(dev_server, model, fmt):
    response = _generate(dev_server, model=model, output_format=fmt)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["background"] == "transparent" and body["output_format"] == fmt
    with Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"]))) as img:
        alpha = np.asarray(img.convert("RGBA").getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255


def test_gpt_image_2_without_the_preview_and_jpeg_are_refused_like_the_api(dev_server):
    preview = _generate(dev_server, model="gpt-image-2")
    assert preview.status_code == 400
    assert preview.json()["error"]["message"] == "Transparent background is not supported for this model."
    jpeg = _generate(dev_server, model="gpt-image-2.6-sunburst", output_format="jpeg")
    assert jpeg.status_code == 400 and jpeg.json()["error"]["param"] == "output_format"


def test_gpt_image_2_with_the_preview_on_the_account_gets_alpha():
    with DevServer(delay=0.0, allow_transparent=True) as server:
        response = _generate(server, model="gpt-image-2")
    assert response.status_code == 200 and response.json()["background"] == "transparent"
