"""The fast paths the benchmarks led to give exactly what the slow ones gave.

GIL-free QImage decoding, the direct PNG encoder, PNG checking by CRC, tiled mask undo, the split blend-back,
sliced base64 on both sides of the stream, and the demo server not keeping uploads.
"""

from __future__ import annotations

import base64
import io
import json
import os
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms
from PySide6.QtGui import QImage

from gptimg_desktop.core import images, masks
from gptimg_desktop.core.errors import InputImageError
from gptimg_desktop.core.mask_undo import TILE, MaskUndoStack
from gptimg_desktop.jobs import pipeline
from gptimg_desktop.jobs.qimage_decoding import decode_qimage
from gptimg_desktop.malloc_tuning import return_big_buffers_to_os
from gptimg_desktop.provider.errors import MalformedResponse
from gptimg_desktop.provider.events import decode_b64_image


def png_bytes(img: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **params)
    return buf.getvalue()


def noise(h: int, w: int, c: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


# ------------------------------------------------------------------------------------------ QImage decoding


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16", "CMYK"])
def test_decode_qimage_matches_qt_for_every_mode(mode):
    src = Image.fromarray(noise(9, 13, 4)[..., :4], "RGBA")
    if mode == "CMYK":
        data = io.BytesIO()
        src.convert("CMYK").save(data, "JPEG", quality=100)
        data = data.getvalue()
    else:
        data = png_bytes(src.convert(mode))
    ours, qt = decode_qimage(data), QImage.fromData(data)
    assert ours.size() == qt.size()
    assert ours.format() in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)
    for x, y in ((0, 0), (5, 4), (12, 8)):
        a, b = ours.pixelColor(x, y), qt.pixelColor(x, y)
        assert abs(a.alpha() - b.alpha()) <= 1
        if b.alpha() > 16:  # premultiplied colours round differently where almost transparent
            assert max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= 2


def test_decode_qimage_turns_exif_rotated_photos_upright_and_scales(tmp_path):
    im = Image.fromarray(noise(20, 40, 3))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    path = tmp_path / "phone.jpg"
    im.save(path, "JPEG", exif=exif.tobytes())
    assert decode_qimage(path).size().toTuple() == (20, 40)
    assert max(decode_qimage(png_bytes(Image.new("RGB", (1000, 400))), max_side=100).size().toTuple()) == 100


def test_decode_qimage_refuses_what_is_not_an_image():
    with pytest.raises(OSError, match="not an image"):
        decode_qimage(b"certainly not a picture")


# ------------------------------------------------------------------------------------------ PNG encoding


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_fast_png_is_lossless(mode):
    arr = noise(37, 53, {"L": 1, "RGB": 3, "RGBA": 4}[mode])
    img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
    back = Image.open(io.BytesIO(images.encode_image(img, "png", png_level=1)))
    back.load()
    assert back.mode == mode and np.array_equal(np.asarray(back), np.asarray(img))


def test_fast_png_keeps_the_colour_profile():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    img.info["icc_profile"] = icc
    back = Image.open(io.BytesIO(images.encode_image(img, "png", png_level=1)))
    assert back.info["icc_profile"] == icc


def test_parallel_deflate_is_one_valid_zlib_stream():
    data = np.random.default_rng(3).integers(0, 20, 9 * 1024 * 1024, dtype=np.uint8).tobytes()
    assert zlib.decompress(images._deflate_parallel(memoryview(data), 1)) == data


# ------------------------------------------------------------------------------------------ PNG checking


def test_input_png_is_checked_by_crc_and_sent_unchanged(tmp_path):
    data = png_bytes(Image.fromarray(noise(60, 80, 3)))
    prepared = images.prepare_input_image(data, filename="a.png")
    assert prepared.input.data == data and not prepared.notes
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x40
    for bad in (bytes(damaged), data[:-6], data[:100]):
        with pytest.raises(InputImageError, match="damaged or incomplete"):
            images.prepare_input_image(bad, filename="b.png")


def test_png_with_exif_orientation_after_its_pixels_is_still_turned_upright():
    im = Image.fromarray(noise(20, 40, 3))
    exif = im.getexif()
    exif[0x0112] = 6
    prepared = images.prepare_input_image(png_bytes(im, exif=exif.tobytes()), filename="r.png")
    assert (prepared.input.width, prepared.input.height) == (20, 40)
    assert any("rotated upright" in note for note in prepared.notes)


# ------------------------------------------------------------------------------------------ undo tiles


def test_undo_step_keeps_only_changed_tiles_and_restores_exactly():
    before = np.zeros((700, 900), np.uint8)
    after = before.copy()
    after[10:20, 10:30] = 255  # two far-apart marks: one box, two tiles
    after[650:660, 850:880] = 128
    edit = MaskUndoStack().push(0, 0, before, after)
    assert (edit.x, edit.y, edit.width, edit.height) == (10, 10, 870, 650)
    assert sum(w * h for _, _, w, h in edit.tiles) <= 2 * TILE * TILE
    restored = after.copy()
    for x, y, values in edit.before():
        restored[y : y + values.shape[0], x : x + values.shape[1]] = values
    assert np.array_equal(restored, before)
    for x, y, values in edit.after():
        restored[y : y + values.shape[0], x : x + values.shape[1]] = values
    assert np.array_equal(restored, after)


# ------------------------------------------------------------------------------------------ blend-back


def test_split_blend_equals_blend_back():
    original, result = noise(90, 120, 3, 1), noise(90, 120, 3, 2)
    mask = np.zeros((90, 120), np.uint8)
    mask[20:70, 30:100] = 255
    expected = masks.blend_back(original, result, mask, 8)
    base = pipeline.blend_base(png_bytes(Image.fromarray(original)), mask, 8)
    data, pixels = pipeline.blend_onto(base, png_bytes(Image.fromarray(result)), "png", None)
    assert np.array_equal(np.asarray(pixels), expected)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), expected)


# ------------------------------------------------------------------------------------------ base64 on the stream


def test_sliced_base64_decoding_is_exact_and_strict():
    data = os.urandom(7_000_003)
    text = base64.b64encode(data).decode()
    assert decode_b64_image(text) == data
    for bad in (text[:-1], text[:1000] + "=" + text[1001:], text[:6_000_000] + "*" + text[6_000_001:]):
        with pytest.raises(MalformedResponse):
            decode_b64_image(bad)


def test_devserver_events_are_byte_for_byte_what_json_dumps_gives():
    from gptimg_desktop.devserver.responses import event_bytes

    payload = {"type": "image_edit.partial_image", "b64_json": base64.b64encode(os.urandom(999)).decode(),
               "size": "1024x1024", "note": "é \"quoted\"", "partial_image_index": 2}
    expected = f"event: image_edit.partial_image\ndata: {json.dumps(payload)}\n\n".encode()
    assert b"".join(event_bytes("image_edit.partial_image", payload)) == expected


def test_demo_server_forgets_uploaded_bytes_once_answered():
    import httpx

    from gptimg_desktop.devserver.server import DevServer

    server = DevServer(port=0, delay=0.0, keep_uploads=False)
    server.start()
    try:
        files = [("image", ("a.png", png_bytes(Image.new("RGB", (64, 64), (9, 9, 9))), "image/png"))]
        response = httpx.post(f"{server.url}/images/edits", headers={"Authorization": "Bearer x"},
                              data={"model": "gpt-image-2", "prompt": "a test", "size": "1024x1024"}, files=files,
                              timeout=60)
        assert response.status_code == 200
        name, filename, ctype, data = server.requests[-1].files[0]
        assert (name, filename, ctype, data) == ("image", "a.png", "image/png", b"")
    finally:
        server.stop()


def test_malloc_tuning_is_harmless_to_call_again():
    assert return_big_buffers_to_os() in (True, False)
    assert return_big_buffers_to_os() in (True, False)
