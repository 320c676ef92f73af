"""core.sizes: parsing, the gpt-image-2 size rules, refusal messages, snapping and presets."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.models import MODELS, find_model, get_model
from gptimg_desktop.core.sizes import (
    SIZE_PRESETS,
    Size,
    check_size,
    is_experimental,
    is_valid,
    nearest_valid_sizes,
    parse_size,
    preset,
    size_problems,
    snap_ratio,
    snap_size,
)

G2 = get_model("gpt-image-2")
FIXED = find_model("gpt-image-1.5")  # find_model: no lifecycle check, so this works on any date
SPECS = {"gpt-image-2": G2, "gpt-image-1.5": FIXED}
sides = st.integers(min_value=1, max_value=10_000)
spec_names = st.sampled_from(sorted(SPECS))
fast = settings(max_examples=200, deadline=None)


def assert_all_valid(spec, sizes):
    for s in sizes:
        assert isinstance(s, Size)
        assert is_valid(spec, s), f"{s} is not valid for {spec.name}: {size_problems(spec, s)}"


# ---------------------------------------------------------------------------------------- Size


def test_size_text_pixels_ratio_and_order():
    s = Size(1536, 1024)
    assert str(s) == "1536x1024"
    assert s.pixels == 1_572_864
    assert s.ratio == 1.5 == Size(1024, 1536).ratio
    assert Size(1024, 1536) < Size(1536, 1024)


# ---------------------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1536x1024", Size(1536, 1024)),
        ("1024X1024", Size(1024, 1024)),
        ("1024×1024", Size(1024, 1024)),
        (" 1024 x 640 ", Size(1024, 640)),
        ("auto", None),
        (" AUTO ", None),
    ],
)
def test_parse_size_accepts_wxh_and_auto(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1024", "1024x", "x1024", "1024x1024x1", "0x0", "0x1024", "-16x16", "16x-16", "10.5x16",
     "1e3x1e3", "²x16", "١٠٢٤x١٠٢٤", "1" + "0" * 400 + "x16", "1024*1024"],
)
def test_parse_size_refuses_everything_else_with_a_hint(text):
    with pytest.raises(RequestRefused) as info:
        parse_size(text)
    assert info.value.param == "size"
    assert info.value.message == f"'{text}' is not a size: write WIDTHxHEIGHT, e.g. 1536x1024, or auto."


@fast
@given(text=st.text(max_size=30))
def test_parse_size_returns_a_size_or_refuses_never_anything_else(text):
    try:
        result = parse_size(text)
    except RequestRefused as err:
        assert err.param == "size"
        return
    assert result is None or (result.width > 0 and result.height > 0)


@fast
@given(spec_name=spec_names, text=st.from_regex(r"\A-?[0-9]{1,12}[xX×]-?[0-9]{1,12}\Z"))
def test_check_size_only_ever_returns_or_refuses(spec_name, text):
    """No OverflowError or ValueError leaks out of the snapping maths, whatever the digits."""
    spec = SPECS[spec_name]
    try:
        size = check_size(spec, text)
    except RequestRefused as err:
        assert err.param == "size"
        return
    assert is_valid(spec, size)


# ------------------------------------------------------------------------------ gpt-image-2 rules


@pytest.mark.parametrize("text", ["3840x2160", "2160x3840", "2880x2880", "1024x640", "1440x480", "480x1440",
                                  "1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "2560x1440"])
def test_check_size_accepts_sizes_inside_every_limit(text):
    size = check_size(G2, text)
    assert str(size) == text
    assert size_problems(G2, size) == []


def test_check_size_auto_is_none_for_every_model():
    for spec in MODELS:
        assert check_size(spec, "auto") is None


@pytest.mark.parametrize("text", ["3840x2176", "1392x464", "4000x1000", "1024x1024x1", "abc", "0x0", "-16x16"])
def test_check_size_refuses(text):
    with pytest.raises(RequestRefused) as info:
        check_size(G2, text)
    assert info.value.param == "size"


def test_refusal_message_names_the_rule_and_the_nearest_valid_sizes():
    with pytest.raises(RequestRefused) as info:
        check_size(G2, "1000x1000")
    assert str(info.value) == "1000x1000: both sides must be multiples of 16 — nearest valid: 992x992 or 1008x1008"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("1000x1008", "both sides must be multiples of 16"),
        ("3856x1296", "the long edge must be at most 3840 px"),  # 16-aligned, ratio and pixels fine
        ("2048x672", "the aspect ratio must be between 1:3 and 3:1"),  # ratio 3.05 only
        ("1008x640", "it must have at least 655,360 pixels (e.g. 1024x640)"),  # 645,120 px only
        ("2896x2896", "it must have at most 8,294,400 pixels (e.g. 3840x2160)"),  # 8,386,816 px only
    ],
)
def test_each_rule_alone_is_named_with_valid_suggestions(text, phrase):
    size = parse_size(text)
    assert size_problems(G2, size) == [phrase]
    with pytest.raises(RequestRefused) as info:
        check_size(G2, text)
    message = info.value.message
    assert message.startswith(f"{text}: {phrase} — nearest valid: ")
    suggested = [parse_size(s) for s in message.split("nearest valid: ")[1].split(" or ")]
    assert 1 <= len(suggested) <= 2
    assert_all_valid(G2, suggested)


def test_every_broken_rule_is_listed():
    assert size_problems(G2, Size(4000, 1000)) == [
        "both sides must be multiples of 16",
        "the long edge must be at most 3840 px",
        "the aspect ratio must be between 1:3 and 3:1",
    ]


def test_limits_are_inclusive_at_their_exact_values():
    assert is_valid(G2, Size(1024, 640))  # exactly 655,360 px
    assert not is_valid(G2, Size(1024, 624))
    assert is_valid(G2, Size(2880, 2880))  # exactly 8,294,400 px
    assert not is_valid(G2, Size(2880, 2896))
    assert is_valid(G2, Size(1440, 480)) and is_valid(G2, Size(480, 1440))  # exactly 3:1
    assert not is_valid(G2, Size(1456, 480))
    assert is_valid(G2, Size(3840, 1280))  # exactly 3840 on the long edge
    assert not is_valid(G2, Size(3856, 1296))
    assert not is_valid(G2, Size(1392, 464))  # 3:1 but below the pixel floor


def test_experimental_is_strictly_above_2560x1440_and_only_for_flexible_models():
    assert not is_experimental(G2, Size(2560, 1440))
    assert is_experimental(G2, Size(2576, 1440))
    assert is_experimental(G2, Size(3840, 2160))
    assert is_experimental(G2, Size(2880, 2880))
    assert not is_experimental(G2, None)  # auto
    assert not is_experimental(G2, Size(2048, 1152))
    assert not is_experimental(FIXED, Size(1536, 1024))
    for name in ("gpt-image-2.5-sunburst", "gpt-image-2.6-flare"):
        assert is_experimental(find_model(name), Size(3840, 2160))


# --------------------------------------------------------------------------------- fixed-size models


def test_fixed_size_model_takes_its_three_sizes_and_auto_only():
    for text in ("1024x1024", "1536x1024", "1024x1536"):
        assert str(check_size(FIXED, text)) == text
    with pytest.raises(RequestRefused) as info:
        check_size(FIXED, "2048x2048")
    assert info.value.message == (
        "2048x2048: gpt-image-1.5 only takes 1024x1024, 1536x1024, 1024x1536 or auto "
        "— nearest valid: 1024x1024 or 1024x1536"
    )
    # A size gpt-image-2 would take is still refused here.
    assert not is_valid(FIXED, Size(2048, 1152))


def test_fixed_size_snapping_picks_the_closest_shape():
    assert snap_size(FIXED, 1920, 1080) == Size(1536, 1024)
    assert snap_size(FIXED, 1080, 1920) == Size(1024, 1536)
    assert snap_size(FIXED, 999, 1001) == Size(1024, 1024)
    assert snap_ratio(FIXED, 16, 9) == Size(1536, 1024)


# ----------------------------------------------------------------------------------------- snapping


def test_snap_keeps_an_already_valid_size():
    for s in (Size(1024, 1024), Size(3840, 2160), Size(1440, 480), Size(2880, 2880), Size(1024, 640)):
        assert snap_size(G2, s.width, s.height) == s
        assert nearest_valid_sizes(G2, s)[0] == s


def test_snap_ratio_hits_the_popular_sizes():
    assert snap_ratio(G2, 1, 1, long_edge=1024) == Size(1024, 1024)
    assert snap_ratio(G2, 3, 2) == Size(1536, 1024)
    assert snap_ratio(G2, 2, 3) == Size(1024, 1536)
    assert snap_ratio(G2, 16, 9, long_edge=3840) == Size(3840, 2160)
    assert snap_ratio(G2, 9, 16, long_edge=3840) == Size(2160, 3840)
    assert snap_ratio(G2, 16, 9, long_edge=2048) == Size(2048, 1152)


def test_snap_clamps_ratio_area_and_edge():
    wide = snap_size(G2, 10_000, 100)
    assert wide.ratio == pytest.approx(3.0, rel=0.02) and wide.width > wide.height
    huge = snap_size(G2, 10_000, 10_000)
    assert huge.pixels <= 8_294_400 and max(huge.width, huge.height) <= 3840
    tiny = snap_size(G2, 1, 1)
    assert tiny.pixels >= 655_360


@pytest.mark.parametrize(("w", "h"), [(0, 10), (10, 0), (-5, 10)])
def test_snap_refuses_non_positive_sides(w, h):
    with pytest.raises(RequestRefused) as info:
        snap_size(G2, w, h)
    assert info.value.param == "size"


def test_nearest_valid_sizes_are_sorted_nearest_first_and_counted():
    got = nearest_valid_sizes(G2, Size(1000, 1000), count=4)
    assert len(got) == 4
    assert got[:2] == [Size(1008, 1008), Size(992, 992)]
    assert_all_valid(G2, got)
    assert len(nearest_valid_sizes(FIXED, Size(1000, 1000), count=5)) == 3


@fast
@given(spec_name=spec_names, w=sides, h=sides)
def test_snap_size_and_nearest_always_return_valid_sizes(spec_name, w, h):
    spec = SPECS[spec_name]
    assert_all_valid(spec, [snap_size(spec, w, h)])
    near = nearest_valid_sizes(spec, Size(w, h))
    assert 1 <= len(near) <= 2
    assert_all_valid(spec, near)


@fast
@given(spec_name=spec_names, rw=sides, rh=sides, long_edge=sides)
def test_snap_ratio_always_returns_a_valid_size(spec_name, rw, rh, long_edge):
    spec = SPECS[spec_name]
    assert_all_valid(spec, [snap_ratio(spec, rw, rh), snap_ratio(spec, rw, rh, long_edge=long_edge)])


@fast
@given(w=sides, h=sides)
def test_snapping_keeps_the_aspect_ratio_when_it_is_allowed(w, h):
    ratio = w / h
    if not 1 / 3 <= ratio <= 3:
        return
    for s in (snap_size(G2, w, h), snap_ratio(G2, w, h)):
        assert abs(math.log((s.width / s.height) / ratio)) < 0.04, (w, h, s)


@fast
@given(w=sides, h=sides)
def test_check_size_suggestions_are_valid_for_any_refused_size(w, h):
    text = f"{w}x{h}"
    try:
        check_size(G2, text)
    except RequestRefused as err:
        assert err.message.startswith(f"{text}: ")
        suggested = [parse_size(s) for s in err.message.split("nearest valid: ")[1].split(" or ")]
        assert_all_valid(G2, suggested)
    else:
        assert is_valid(G2, Size(w, h))


# ------------------------------------------------------------------------------------------ presets


def test_presets_are_valid_for_every_model():
    for p in SIZE_PRESETS:
        for spec in MODELS:
            assert_all_valid(spec, [p.size_for(spec)])


def test_preset_keys_are_unique_and_looked_up_by_key():
    keys = [p.key for p in SIZE_PRESETS]
    assert len(keys) == len(set(keys))
    assert preset("uhd-4k").size_for(G2) == Size(3840, 2160)
    assert preset("square").size_for(G2) == Size(1024, 1024)
    with pytest.raises(KeyError):
        preset("no-such-preset")


def test_experimental_presets_say_so_and_others_do_not():
    for p in SIZE_PRESETS:
        assert is_experimental(G2, p.size_for(G2)) == ("experimental" in p.label), p.key
