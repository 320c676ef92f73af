"""core.requests: ImageRequest validation against the model, the exact API payloads, history and warnings."""

from __future__ import annotations

import datetime as dt
import io
from functools import cache

import pytest
from PIL import Image

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.models import MB
from gptimg_desktop.core.requests import ImageInput, ImageRequest

BEFORE_SHUTDOWN = dt.date(2026, 11, 24)
SHUTDOWN_DAY = dt.date(2026, 12, 1)


# ---------------------------------------------------------------------------------------- helpers


@cache
def encoded(fmt: str, w: int, h: int, alpha: bool) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    img = Image.new(mode, (w, h), (200, 120, 40, 0) if alpha else (200, 120, 40))
    buf = io.BytesIO()
    img.save(buf, {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt])
    return buf.getvalue()


def image(name="photo.png", fmt="png", w=64, h=48, alpha=False, pad_to: int | None = None) -> ImageInput:
    """A real encoded image; ``pad_to`` appends bytes after the image end to reach an exact file size."""
    data = encoded(fmt, w, h, alpha)
    if pad_to is not None:
        data = data + b"\0" * (pad_to - len(data))
    return ImageInput(name, data, fmt, w, h, has_alpha=alpha, source_path=f"/tmp/{name}")


def mask(w=64, h=48, **kw) -> ImageInput:
    return image("mask.png", "png", w, h, alpha=True, **kw)


def refused(request: ImageRequest, today: dt.date | None = None) -> RequestRefused:
    with pytest.raises(RequestRefused) as info:
        request.validate(today)
    return info.value


def walk(value):
    """Every leaf in a nested structure of dicts, lists and tuples."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from walk(v)
    else:
        yield value


# ----------------------------------------------------------------------------------- basic shape


def test_default_request_is_a_gpt_image_2_generate_that_validates():
    r = ImageRequest("a red fox in snow")
    assert r.model == "gpt-image-2"
    assert r.validate() is r
    assert (r.kind, r.endpoint) == ("generate", "/images/generations")
    assert r.spec.name == "gpt-image-2"


def test_request_with_images_is_an_edit():
    r = ImageRequest("make it night", images=(image(),))
    assert (r.kind, r.endpoint) == ("edit", "/images/edits")
    assert r.validate() is r


def test_with_changes_returns_a_new_request():
    r = ImageRequest("a")
    r2 = r.with_changes(n=3, quality="high")
    assert (r.n, r.quality) == (1, "auto")
    assert (r2.n, r2.quality, r2.prompt) == (3, "high", "a")


def test_image_input_mime_size_and_no_bytes_in_repr():
    for fmt, mime in (("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")):
        assert image(fmt=fmt).mime_type == mime
    img = image(w=30, h=20)
    assert (img.size.width, img.size.height) == (30, 20)
    assert "data" not in repr(img) and "PNG" not in repr(img)


# ----------------------------------------------------------------------------------------- prompt


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt_is_refused(prompt):
    err = refused(ImageRequest(prompt))
    assert err.param == "prompt"
    assert err.message == "The prompt is empty: describe the image or the change you want."


def test_prompt_length_limit_is_32000_characters():
    ImageRequest("a" * 32_000).validate()
    err = refused(ImageRequest("a" * 32_001))
    assert err.param == "prompt"
    assert err.message == (
        "The prompt is 32,001 characters; gpt-image-2 takes at most 32,000. Shorten it by 1 characters."
    )


# ------------------------------------------------------------------------------------------- size


@pytest.mark.parametrize("size", ["auto", "1024x1024", "3840x2160", "2160x3840", "2880x2880", "1024x640", "1440x480"])
def test_valid_sizes_pass(size):
    ImageRequest("x", size=size).validate()


def test_invalid_size_is_refused_with_the_nearest_valid_sizes():
    err = refused(ImageRequest("x", size="1000x1000"))
    assert err.param == "size"
    assert err.message == "1000x1000: both sides must be multiples of 16 — nearest valid: 992x992 or 1008x1008"


@pytest.mark.parametrize("size", ["3840x2176", "1392x464", "4000x1000", "1024x1024x1", "abc", "0x0", "-16x16"])
def test_invalid_sizes_are_refused(size):
    assert refused(ImageRequest("x", size=size)).param == "size"


def test_fixed_size_models_refuse_free_sizes():
    r = ImageRequest("x", model="gpt-image-1.5", size="2048x1152")
    assert refused(r, BEFORE_SHUTDOWN).param == "size"
    ImageRequest("x", model="gpt-image-1.5", size="1536x1024").validate(BEFORE_SHUTDOWN)


# ------------------------------------------------------------------------------ quality, n, format


@pytest.mark.parametrize("quality", ["low", "medium", "high", "auto"])
def test_gpt_image_2_qualities(quality):
    ImageRequest("x", quality=quality).validate()


@pytest.mark.parametrize("quality", ["xhigh", "max", "standard", "hd", "HIGH"])
def test_other_qualities_are_refused_for_gpt_image_2(quality):
    err = refused(ImageRequest("x", quality=quality))
    assert err.param == "quality"
    assert err.message == f"Quality '{quality}' is not available; choose one of: low, medium, high, auto."


@pytest.mark.parametrize("model", ["gpt-image-2.5-sunburst", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst",
                                   "gpt-image-2.6-flare"])
@pytest.mark.parametrize("quality", ["xhigh", "max"])
def test_25_and_26_families_take_xhigh_and_max(model, quality):
    ImageRequest("x", model=model, quality=quality).validate()


@pytest.mark.parametrize("n", [1, 2, 10])
def test_n_between_1_and_10(n):
    ImageRequest("x", n=n).validate()


@pytest.mark.parametrize("n", [0, 11, -1])
def test_n_outside_1_to_10_is_refused(n):
    err = refused(ImageRequest("x", n=n))
    assert err.param == "n"
    assert err.message == f"Count must be between 1 and 10 images (got {n})."


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_output_formats(fmt):
    ImageRequest("x", output_format=fmt).validate()


@pytest.mark.parametrize("fmt", ["gif", "jpg", "svg", "PNG"])
def test_other_output_formats_are_refused(fmt):
    assert refused(ImageRequest("x", output_format=fmt)).param == "output_format"


@pytest.mark.parametrize(("fmt", "compression"), [("jpeg", 0), ("jpeg", 100), ("webp", 50), ("png", None)])
def test_compression_0_to_100_for_jpeg_and_webp(fmt, compression):
    ImageRequest("x", output_format=fmt, output_compression=compression).validate()


@pytest.mark.parametrize(("fmt", "compression"), [("jpeg", -1), ("jpeg", 101), ("webp", 150)])
def test_compression_outside_0_to_100_is_refused(fmt, compression):
    err = refused(ImageRequest("x", output_format=fmt, output_compression=compression))
    assert err.param == "output_compression"
    assert err.message == f"Compression must be between 0 and 100 (got {compression})."


def test_compression_with_png_is_refused():
    err = refused(ImageRequest("x", output_format="png", output_compression=80))
    assert err.param == "output_compression"
    assert "JPEG and WebP only" in err.message


# ------------------------------------------------------------------------------------- background


@pytest.mark.parametrize("background", ["auto", "opaque"])
def test_auto_and_opaque_backgrounds(background):
    ImageRequest("x", background=background).validate()


def test_background_must_be_one_of_three():
    err = refused(ImageRequest("x", background="clear"))
    assert err.param == "background"


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg"])
def test_transparent_is_refused_for_gpt_image_2_without_the_preview(fmt):
    err = refused(ImageRequest("x", background="transparent", output_format=fmt))
    assert err.param == "background"
    assert err.message.startswith("gpt-image-2 does not make transparent backgrounds. Use background opaque or auto")
    # The snapshot is the same model and follows the same rule.
    snap = ImageRequest("x", model="gpt-image-2-2026-04-21", background="transparent", output_format=fmt)
    assert refused(snap).param == "background"


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_preview_allows_png_and_webp(fmt):
    r = ImageRequest("x", background="transparent", output_format=fmt, allow_transparent_preview=True)
    assert r.validate() is r
    assert r.json_body()["background"] == "transparent"


def test_transparent_preview_still_refuses_jpeg():
    r = ImageRequest("x", background="transparent", output_format="jpeg", allow_transparent_preview=True)
    err = refused(r)
    assert err.param == "output_format"
    assert err.message == "A transparent background needs PNG or WebP output; JPEG has no alpha."


@pytest.mark.parametrize("model", ["gpt-image-2.5-sunburst", "gpt-image-2.6-flare"])
def test_transparent_works_on_the_25_and_26_families_without_a_preview_switch(model):
    ImageRequest("x", model=model, background="transparent", output_format="webp").validate()
    assert refused(ImageRequest("x", model=model, background="transparent", output_format="jpeg")).param == (
        "output_format"
    )


# -------------------------------------------------------------------------------------- moderation


@pytest.mark.parametrize("moderation", ["auto", "low"])
def test_moderation_auto_or_low(moderation):
    ImageRequest("x", moderation=moderation).validate()


@pytest.mark.parametrize("moderation", ["high", "off", ""])
def test_other_moderation_is_refused(moderation):
    assert refused(ImageRequest("x", moderation=moderation)).param == "moderation"


# -------------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("partials", [0, 1, 2, 3])
def test_streaming_with_0_to_3_partial_images(partials):
    r = ImageRequest("x", stream=True, partial_images=partials)
    r.validate()
    assert r.json_body()["partial_images"] == partials


@pytest.mark.parametrize("partials", [-1, 4])
def test_partial_images_outside_0_to_3_are_refused(partials):
    err = refused(ImageRequest("x", stream=True, partial_images=partials))
    assert err.param == "partial_images"
    assert err.message == f"Partial images must be between 0 and 3 (got {partials})."


def test_partial_images_without_streaming_are_refused():
    err = refused(ImageRequest("x", stream=False, partial_images=2))
    assert err.param == "partial_images"
    assert err.message == "Partial images need streaming; turn streaming on."


# --------------------------------------------------------------------------------- input fidelity


@pytest.mark.parametrize("fidelity", ["high", "low", ""])
@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2-2026-04-21"])
def test_input_fidelity_is_refused_and_never_sent_for_gpt_image_2(model, fidelity):
    for images in ((), (image(),)):
        r = ImageRequest("x", model=model, images=images, input_fidelity=fidelity)
        err = refused(r)
        assert err.param == "input_fidelity"
        assert err.message == "gpt-image-2 always uses high input fidelity; remove the input fidelity setting."
        assert "input_fidelity" not in r.json_body()
        assert "input_fidelity" not in r.form_fields()
        assert "input_fidelity" not in r.parameters()


def test_input_fidelity_is_sent_on_gpt_image_1_5_edits_only():
    edit = ImageRequest("x", model="gpt-image-1.5", images=(image(),), input_fidelity="high")
    edit.validate(BEFORE_SHUTDOWN)
    assert edit.form_fields()["input_fidelity"] == "high"
    # Generations have no input_fidelity parameter at all: sending it would be an unknown parameter.
    gen = ImageRequest("x", model="gpt-image-1.5", input_fidelity="high")
    assert "input_fidelity" not in gen.json_body()


def test_gpt_image_1_mini_takes_only_low_input_fidelity():
    ImageRequest("x", model="gpt-image-1-mini", images=(image(),), input_fidelity="low").validate(BEFORE_SHUTDOWN)
    r = ImageRequest("x", model="gpt-image-1-mini", images=(image(),), input_fidelity="high")
    err = refused(r, BEFORE_SHUTDOWN)
    assert err.param == "input_fidelity"
    assert err.message == "Input fidelity 'high' is not available; choose one of: low."


# ------------------------------------------------------------------------------------------ edits


@pytest.mark.parametrize("count", [1, 2, 16])
def test_1_to_16_input_images(count):
    imgs = tuple(image(f"ref{i}.png") for i in range(count))
    ImageRequest("combine", images=imgs).validate()


def test_17_input_images_are_refused():
    imgs = tuple(image(f"ref{i}.png") for i in range(17))
    err = refused(ImageRequest("combine", images=imgs))
    assert err.param == "image"
    assert err.message == (
        "17 input images; gpt-image-2 takes at most 16 (the image being edited counts). Remove 1."
    )


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_input_image_formats(fmt):
    ImageRequest("x", images=(image(f"a.{fmt}", fmt),)).validate()


@pytest.mark.parametrize("fmt", ["gif", "bmp", "heic"])
def test_other_input_formats_are_refused(fmt):
    bad = ImageInput(f"a.{fmt}", encoded("png", 8, 8, False), fmt, 8, 8)
    err = refused(ImageRequest("x", images=(image(), bad)))
    assert err.param == "image"
    assert err.message == f"a.{fmt}: input images must be PNG, JPEG or WebP."


def test_each_input_image_must_be_under_50_mb():
    ImageRequest("x", images=(image(pad_to=50 * MB - 1),)).validate()
    err = refused(ImageRequest("x", images=(image(), image("huge.png", pad_to=50 * MB))))
    assert err.param == "image"
    assert err.message.startswith("huge.png is ") and err.message.endswith("; each image must be under 50 MB.")


def test_mask_png_with_alpha_same_size_as_first_image():
    first = image("base.png", w=64, h=48)
    other = image("ref.png", w=32, h=32)  # later images may differ: the mask applies to the first
    ImageRequest("x", images=(first, other), mask=mask(64, 48)).validate()


def test_mask_without_alpha_is_refused():
    no_alpha = image("mask.png", "png", 64, 48, alpha=False)
    err = refused(ImageRequest("x", images=(image(),), mask=no_alpha))
    assert err.param == "mask"
    assert err.message == "mask.png: the mask must be a PNG with an alpha channel (transparent = edit)."


@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_mask_must_be_png(fmt):
    m = ImageInput("mask." + fmt, encoded(fmt, 64, 48, fmt == "webp"), fmt, 64, 48, has_alpha=fmt == "webp")
    assert refused(ImageRequest("x", images=(image(),), mask=m)).param == "mask"


def test_mask_of_another_size_is_refused():
    err = refused(ImageRequest("x", images=(image("base.png", w=64, h=48),), mask=mask(48, 64)))
    assert err.param == "mask"
    assert err.message == "The mask is 48x64 but base.png is 64x48; they must be the same size."


def test_mask_must_be_under_4_mb():
    ImageRequest("x", images=(image(),), mask=mask(pad_to=4 * MB - 1)).validate()
    err = refused(ImageRequest("x", images=(image(),), mask=mask(pad_to=4 * MB)))
    assert err.param == "mask"
    assert err.message.endswith("; it must be under 4 MB.")


def test_mask_without_an_image_is_refused():
    err = refused(ImageRequest("x", mask=mask()))
    assert err.param == "mask"
    assert err.message == "A mask needs an image to edit; add the image first."


# ----------------------------------------------------------------------------------------- models


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-2", "dall-e-3"])
def test_retired_models_are_refused_naming_a_replacement(model):
    err = refused(ImageRequest("x", model=model))
    assert err.param == "model"
    assert model in err.message and "use gpt-image-2 instead" in err.message


def test_unknown_model_is_refused_listing_choices():
    err = refused(ImageRequest("x", model="gpt-image-9"))
    assert err.param == "model"
    assert "gpt-image-2, " in err.message and "chatgpt-image-latest" in err.message


def test_snapshot_is_accepted_and_sent_as_given():
    r = ImageRequest("x", model="gpt-image-2-2026-04-21", size="3840x2160")
    r.validate()
    assert r.json_body()["model"] == "gpt-image-2-2026-04-21"
    assert r.spec.name == "gpt-image-2"


def test_chatgpt_image_latest_works_until_its_shutdown_and_warns():
    r = ImageRequest("x", model="chatgpt-image-latest", size="1024x1536")
    assert r.validate(BEFORE_SHUTDOWN) is r
    assert r.warnings(BEFORE_SHUTDOWN) == [
        "chatgpt-image-latest shuts down on 2026-12-01; move to gpt-image-2.6-sunburst."
    ]
    err = refused(r, SHUTDOWN_DAY)
    assert err.param == "model"
    assert "use gpt-image-2.6-sunburst instead" in err.message
    with pytest.raises(RequestRefused):
        r.warnings(SHUTDOWN_DAY)


# ---------------------------------------------------------------------------------------- payload


def test_default_json_body_has_exactly_the_required_keys():
    assert ImageRequest("a cat").json_body() == {
        "model": "gpt-image-2",
        "prompt": "a cat",
        "size": "auto",
        "quality": "auto",
        "output_format": "png",
    }


def test_full_json_body_uses_api_names_and_values():
    r = ImageRequest(
        "a cat",
        size="2048x1152",
        quality="high",
        n=3,
        output_format="webp",
        output_compression=70,
        background="opaque",
        moderation="low",
        stream=True,
        partial_images=2,
    )
    body = r.validate().json_body()
    assert body == {
        "model": "gpt-image-2",
        "prompt": "a cat",
        "n": 3,
        "size": "2048x1152",
        "quality": "high",
        "output_format": "webp",
        "output_compression": 70,
        "background": "opaque",
        "moderation": "low",
        "stream": True,
        "partial_images": 2,
    }
    assert body["stream"] is True


@pytest.mark.parametrize(("fmt", "sent"), [("jpeg", True), ("webp", True), ("png", False)])
def test_output_compression_is_sent_only_for_jpeg_and_webp(fmt, sent):
    body = ImageRequest("x", output_format=fmt, output_compression=0).json_body()
    assert ("output_compression" in body) is sent
    if sent:
        assert body["output_compression"] == 0  # zero is a value, not "unset"


def test_defaults_are_left_out_of_the_body():
    body = ImageRequest("x", n=1, background="auto", moderation="auto", stream=False, partial_images=0).json_body()
    for key in ("n", "background", "moderation", "stream", "partial_images", "output_compression", "input_fidelity"):
        assert key not in body


def test_stream_with_zero_partials_still_sends_both_fields():
    body = ImageRequest("x", stream=True).json_body()
    assert body["stream"] is True and body["partial_images"] == 0


@pytest.mark.parametrize(("typed", "sent"), [("1024 X 1024", "1024x1024"), ("1536×1024", "1536x1024"),
                                             (" AUTO ", "auto"), ("auto", "auto")])
def test_size_is_sent_as_the_api_spells_it(typed, sent):
    r = ImageRequest("x", size=typed)
    r.validate()
    assert r.json_body()["size"] == sent
    assert r.form_fields()["size"] == sent


def test_form_fields_are_strings_with_lowercase_booleans():
    r = ImageRequest(
        "make it night",
        n=2,
        output_format="jpeg",
        output_compression=85,
        stream=True,
        partial_images=1,
        moderation="low",
        images=(image(),),
        mask=mask(),
    )
    fields = r.validate().form_fields()
    assert fields == {
        "model": "gpt-image-2",
        "prompt": "make it night",
        "n": "2",
        "size": "auto",
        "quality": "auto",
        "output_format": "jpeg",
        "output_compression": "85",
        "moderation": "low",
        "stream": "true",
        "partial_images": "1",
    }
    assert all(isinstance(v, str) for v in fields.values())
    # No file content and no file fields among the text fields.
    assert "image" not in fields and "mask" not in fields


def test_form_fields_write_false_for_a_false_boolean(monkeypatch):
    """The API wants "true"/"false", never Python's "True"/"False"."""
    r = ImageRequest("x")
    monkeypatch.setattr(ImageRequest, "parameters", lambda self: {"stream": False, "flag": True, "n": 2})
    assert r.form_fields() == {"stream": "false", "flag": "true", "n": "2"}


# ---------------------------------------------------------------------------------------- describe


def test_describe_has_file_names_and_no_bytes():
    big = image("base.png", pad_to=4096)
    r = ImageRequest("x", images=(big, image("ref.webp", "webp")), mask=mask(), quality="high")
    d = r.describe()
    assert d["kind"] == "edit"
    assert d["image_files"] == ["base.png", "ref.webp"]
    assert d["mask_file"] == "mask.png"
    assert d["quality"] == "high" and d["prompt"] == "x" and d["model"] == "gpt-image-2"
    assert "images" not in d and "mask" not in d
    for leaf in walk(d):
        assert not isinstance(leaf, (bytes, bytearray, memoryview))


def test_describe_of_a_generate():
    d = ImageRequest("x", size="1024x1536").describe()
    assert d["kind"] == "generate" and d["image_files"] == [] and d["mask_file"] is None
    assert d["size"] == "1024x1536"


# ---------------------------------------------------------------------------------------- warnings


def test_no_warnings_for_a_plain_request():
    assert ImageRequest("x", size="2560x1440").warnings() == []
    assert ImageRequest("x").warnings() == []


@pytest.mark.parametrize("size", ["3840x2160", "2576x1440", "2880x2880"])
def test_sizes_above_2560x1440_warn_as_experimental(size):
    assert ImageRequest("x", size=size).warnings() == [
        f"{size} is above 2560x1440: gpt-image-2 treats it as experimental."
    ]


def test_streaming_several_images_warns():
    notes = ImageRequest("x", stream=True, n=2).warnings()
    assert notes == ["Streaming with more than one image: previews may not say which image they belong to."]
    assert ImageRequest("x", stream=True, n=1).warnings() == []


def test_transparent_preview_warns_but_a_supporting_model_does_not():
    r = ImageRequest("x", background="transparent", allow_transparent_preview=True)
    assert r.warnings() == ["Transparent backgrounds are a preview on gpt-image-2; some accounts get an error."]
    assert ImageRequest("x", model="gpt-image-2.5-sunburst", background="transparent").warnings() == []
