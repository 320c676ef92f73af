"""core.export_presets: resize, format, quality and sRGB conversion of exports."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from gptimg_desktop.core.export import encode_with_metadata, read_metadata
from gptimg_desktop.core.export_presets import PRESETS, ExportPreset, apply_preset, preset_named, srgb_profile


def test_presets_are_named_and_described():
    assert {p.name for p in PRESETS} >= {"Full quality PNG", "Web JPEG", "Social WebP"}
    assert preset_named("Web JPEG").describe() == "JPEG · quality 85 · longest edge 2048 px · sRGB"
    with pytest.raises(KeyError):
        preset_named("Fax")
    with pytest.raises(ValueError):
        ExportPreset("x", "gif")
    with pytest.raises(ValueError):
        ExportPreset("x", "jpeg", quality=0)


def test_resize_only_shrinks_on_the_longest_edge():
    big = Image.new("RGB", (3840, 2160), (10, 120, 200))
    out, _ = apply_preset(big, preset_named("Social WebP"))
    assert out.size == (1080, 608)
    small = Image.new("RGB", (800, 600))
    assert apply_preset(small, preset_named("Social WebP"))[0].size == (800, 600)


def test_srgb_presets_convert_from_another_profile_and_embed_srgb():
    rgb = Image.new("RGB", (64, 64), (200, 40, 40))
    tagged = rgb.copy()
    tagged.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out, icc = apply_preset(tagged, preset_named("Web JPEG"))
    assert icc == srgb_profile()  # the sRGB profile is embedded
    assert out.getpixel((10, 10)) == pytest.approx((200, 40, 40), abs=2)  # sRGB to sRGB keeps the pixels
    data = encode_with_metadata(out, "jpeg", {"prompt": "a mug"}, quality=85, icc_profile=icc)
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "JPEG" and decoded.info.get("icc_profile") == icc
    assert read_metadata(data)["prompt"] == "a mug"
    untagged, icc = apply_preset(Image.new("RGB", (8, 8), (5, 6, 7)), preset_named("Social WebP"))
    assert icc == srgb_profile() and untagged.getpixel((0, 0)) == (5, 6, 7)  # untagged pixels are taken as sRGB


def test_full_quality_keeps_pixels_and_profile():
    img = Image.new("RGBA", (300, 200), (1, 2, 3, 128))
    img.info["icc_profile"] = b"fake-profile"
    out, icc = apply_preset(img, preset_named("Full quality PNG"))
    assert out is img and icc == b"fake-profile"
