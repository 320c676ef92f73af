"""Exported files carry their provenance, read back with Pillow, in every format, in any script."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.export import (
    decode_user_comment,
    encode_user_comment,
    encode_with_metadata,
    format_for_path,
    read_metadata,
)

META = {"prompt": "Café — 東京 poster 😀", "model": "gpt-image-2", "size": "1024x1024", "quality": "high",
        "parent": None, "version": "0123456789ab"}


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_metadata_round_trips_with_non_ascii_prompts(fmt, mode):
    data = encode_with_metadata(Image.new(mode, (32, 24), (10, 20, 30, 128)[: len(mode)]), fmt, META)
    meta = read_metadata(data)
    assert meta == {k: v for k, v in META.items() if v is not None}
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt] and img.size == (32, 24)
        if fmt != "png":
            exif = img.getexif()
            assert exif.get_ifd(0x8769)[0x9286].startswith(b"UNICODE\0")  # in the Exif IFD, with its charset
            assert exif[0x0131] == "gptimg-desktop"
            assert META["prompt"].encode() in img.info["xmp"]


def test_user_comment_charset_codes():
    assert encode_user_comment("plain") == b"ASCII\0\0\0plain"
    assert encode_user_comment("東京") == b"UNICODE\0" + "東京".encode("utf-16-le")
    assert decode_user_comment(encode_user_comment("東京", ">"), ">") == "東京"
    assert decode_user_comment(b"UNICODE\0" + "東京".encode("utf-16")) == "東京"  # with a byte-order mark
    assert decode_user_comment(b"\0" * 8 + b"undefined code") == "undefined code"
    assert decode_user_comment('{"legacy": "str"}') == '{"legacy": "str"}'


def test_a_very_long_prompt_fits_a_jpeg_and_is_flagged_as_cut():
    prompt = "東京&<" * 8000
    jpeg = read_metadata(encode_with_metadata(Image.new("RGB", (8, 8)), "jpeg", {"prompt": prompt, "version": "x"}))
    assert jpeg["prompt_truncated"] is True and jpeg["version"] == "x"
    assert jpeg["prompt"].endswith("…") and prompt.startswith(jpeg["prompt"][:-1]) and len(jpeg["prompt"]) > 5000
    webp = read_metadata(encode_with_metadata(Image.new("RGB", (8, 8)), "webp", {"prompt": prompt}))
    assert webp == {"prompt": prompt}  # WebP has no 64 KB limit


def test_export_formats_follow_the_extension():
    assert [format_for_path(p) for p in ("a.png", "b.JPG", "c.jpeg", "d.webp")] == ["png", "jpeg", "jpeg", "webp"]
    for bad in ("a.gif", "noext"):
        with pytest.raises(RequestRefused, match="use .png, .jpg or .webp"):
            format_for_path(bad)


def test_a_file_without_provenance_reads_as_empty():
    for fmt in ("PNG", "JPEG", "WEBP"):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, fmt)
        assert read_metadata(buf.getvalue()) == {}
