"""core.pricing: output-token estimates, exact cost from returned usage, credits and the price table."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptimg_desktop.core.models import MODELS, TokenPrices, find_model, get_model
from gptimg_desktop.core.pricing import (
    DEFAULT_CREDITS_PER_IMAGE,
    PARTIAL_IMAGE_OUTPUT_TOKENS,
    Estimate,
    PriceTable,
    Usage,
    estimate,
    input_image_tokens,
    output_tokens_per_image,
    text_tokens,
)
from gptimg_desktop.core.sizes import SIZE_PRESETS, Size, is_valid

G2 = get_model("gpt-image-2")
G15 = find_model("gpt-image-1.5")
MINI = find_model("gpt-image-1-mini")
FLEXIBLE = [spec for spec in MODELS if spec.flexible_sizes]
fast = settings(max_examples=200, deadline=None)

# The gpt-image-2 calculator readings at high quality (openai-images-api.md §7).
HIGH_READINGS = {
    "1024x1024": 7024,
    "1536x1024": 5488,
    "1024x1536": 5488,
    "1024x640": 3824,
    "3072x1024": 3952,
    "2560x1440": 7370,
    "3840x1280": 5311,
    "2048x2048": 14272,
    "3840x2160": 13342,
}

# What a real non-streaming response carries, and what a streamed `*.completed` event carries.
API_USAGE = {
    "input_tokens": 1050,
    "output_tokens": 7100,
    "total_tokens": 8150,
    "input_tokens_details": {"text_tokens": 50, "image_tokens": 1000},
    "output_tokens_details": {"image_tokens": 7024, "text_tokens": 76},
}
STREAM_USAGE = {
    "input_tokens": 40,
    "output_tokens": 7324,
    "total_tokens": 7364,
    "input_tokens_details": {"text_tokens": 40, "image_tokens": 0},
}


def tokens(spec, text: str, quality: str) -> int:
    w, h = (int(v) for v in text.split("x"))
    return output_tokens_per_image(spec, Size(w, h), quality)


valid_g2_sizes = st.builds(
    Size, st.integers(30, 240).map(lambda k: k * 16), st.integers(30, 240).map(lambda k: k * 16)
).filter(lambda s: is_valid(G2, s))


# ------------------------------------------------------------------------------ output-token estimate


@pytest.mark.parametrize(("size", "expected"), sorted(HIGH_READINGS.items()))
def test_calculator_readings_are_reproduced_exactly_at_high(size, expected):
    assert tokens(G2, size, "high") == expected


def test_auto_quality_is_priced_as_high_the_worst_case():
    for size in HIGH_READINGS:
        assert tokens(G2, size, "auto") == tokens(G2, size, "high")
    assert tokens(G15, "1024x1024", "auto") == 4160


def test_auto_size_is_priced_as_1024_square():
    assert output_tokens_per_image(G2, None, "high") == 7024
    assert output_tokens_per_image(G15, None, "high") == 4160


@pytest.mark.parametrize("size", sorted(HIGH_READINGS))
def test_tokens_grow_with_quality_at_each_reading(size):
    low, medium, high = (tokens(G2, size, q) for q in ("low", "medium", "high"))
    assert 0 < low < medium < high


@fast
@given(size=valid_g2_sizes, spec=st.sampled_from(FLEXIBLE))
def test_tokens_grow_with_quality_for_any_valid_size(size, spec):
    order = [q for q in ("low", "medium", "high", "xhigh", "max") if q in spec.qualities]
    values = [output_tokens_per_image(spec, size, q) for q in order]
    assert all(a < b for a, b in itertools.pairwise(values)), (size, values)
    assert values[0] > 0


def test_tokens_grow_with_quality_for_every_preset_and_model():
    for spec in MODELS:
        for p in SIZE_PRESETS:
            size = p.size_for(spec)
            low, medium, high = (output_tokens_per_image(spec, size, q) for q in ("low", "medium", "high"))
            assert 0 < low < medium < high, (spec.name, p.key)


@pytest.mark.parametrize(
    ("size", "low", "medium", "high"),
    [("1024x1024", 0.006, 0.053, 0.211), ("1024x1536", 0.005, 0.041, 0.165), ("1536x1024", 0.005, 0.041, 0.165)],
)
def test_gpt_image_2_estimate_matches_the_guide_per_image_dollars(size, low, medium, high):
    """The guide's per-image output cost at $30/1M; low and medium are interpolated, so allow 6%."""
    for quality, dollars in (("low", low), ("medium", medium), ("high", high)):
        assert tokens(G2, size, quality) * 30 / 1e6 == pytest.approx(dollars, rel=0.06), quality


@pytest.mark.parametrize(
    ("quality", "square", "portrait", "landscape"),
    [("low", 272, 408, 400), ("medium", 1056, 1584, 1568), ("high", 4160, 6240, 6208)],
)
def test_older_models_use_the_guide_token_table(quality, square, portrait, landscape):
    for spec in (G15, MINI, find_model("chatgpt-image-latest")):
        assert tokens(spec, "1024x1024", quality) == square
        assert tokens(spec, "1024x1536", quality) == portrait
        assert tokens(spec, "1536x1024", quality) == landscape


def test_gpt_image_1_5_table_matches_the_guide_dollars():
    assert tokens(G15, "1024x1024", "high") * 32 / 1e6 == pytest.approx(0.133, rel=0.01)
    assert tokens(G15, "1024x1536", "medium") * 32 / 1e6 == pytest.approx(0.05, rel=0.02)


# --------------------------------------------------------------------------------- input estimates


def test_input_image_tokens_follow_the_tile_rule():
    # 1024² -> 768² -> 2x2 tiles; square adds 4160.
    assert input_image_tokens(1024, 1024) == 65 + 129 * 4 + 4160
    # 2048x1024 -> 1536x768 -> 3x2 tiles; non-square adds 6240.
    assert input_image_tokens(2048, 1024) == 65 + 129 * 6 + 6240
    # 4096x4096 first fits 2048, then 768 on the short side: 2x2 tiles.
    assert input_image_tokens(4096, 4096) == input_image_tokens(1024, 1024)


def test_text_tokens_are_a_quarter_of_the_characters_at_least_one():
    assert text_tokens("") == 1
    assert text_tokens("abcd") == 1
    assert text_tokens("abcde") == 2
    assert text_tokens("x" * 32_000) == 8000


# ---------------------------------------------------------------------------------------- Usage


def test_usage_from_a_real_response():
    u = Usage.from_api(API_USAGE)
    assert u == Usage(
        input_tokens=1050,
        output_tokens=7100,
        total_tokens=8150,
        input_text_tokens=50,
        input_image_tokens=1000,
        output_image_tokens=7024,
        output_text_tokens=76,
    )


def test_usage_from_a_streamed_completed_event_without_output_details():
    u = Usage.from_api(STREAM_USAGE)
    assert (u.input_tokens, u.output_tokens, u.total_tokens) == (40, 7324, 7364)
    assert u.input_text_tokens == 40 and u.input_image_tokens == 0
    assert u.output_image_tokens == 7324  # all output counts as image output when there is no breakdown
    assert u.output_text_tokens == 0


@pytest.mark.parametrize("missing", [None, {}])
def test_usage_from_nothing_is_zero(missing):
    assert Usage.from_api(missing) == Usage()
    assert Usage() == Usage(0, 0, 0, 0, 0, 0, 0)


def test_usage_without_total_adds_input_and_output():
    assert Usage.from_api({"input_tokens": 10, "output_tokens": 20}).total_tokens == 30


def test_usage_round_trips_through_the_api_shape():
    u = Usage.from_api(API_USAGE)
    assert u.to_api() == API_USAGE
    assert Usage.from_api(u.to_api()) == u
    assert json.loads(json.dumps(u.to_api())) == API_USAGE


def test_usages_add_field_by_field():
    a, b = Usage.from_api(API_USAGE), Usage.from_api(STREAM_USAGE)
    s = a + b
    assert s.input_tokens == 1090 and s.output_tokens == 14424 and s.total_tokens == 15514
    assert s.output_image_tokens == 7024 + 7324 and s.output_text_tokens == 76
    assert a + Usage() == a


# ---------------------------------------------------------------------------------------- cost


def test_cost_from_usage_uses_the_gpt_image_2_prices_exactly():
    u = Usage(
        input_tokens=3000,
        output_tokens=7024,
        total_tokens=10024,
        input_text_tokens=1000,
        input_image_tokens=2000,
        output_image_tokens=7024,
    )
    assert PriceTable().cost_usd("gpt-image-2", u) == (1000 * 5 + 2000 * 8 + 7024 * 30) / 1e6 == 0.23172
    assert PriceTable().cost_usd("gpt-image-2-2026-04-21", u) == 0.23172


def test_cost_of_one_high_1024_image_matches_the_guide():
    u = Usage(output_tokens=7024, total_tokens=7024, output_image_tokens=7024)
    assert PriceTable().cost_usd("gpt-image-2", u) == pytest.approx(0.211, abs=0.0005)


def test_cost_uses_each_models_prices():
    u = Usage(input_tokens=100, output_tokens=1000, total_tokens=1100, input_text_tokens=100, output_image_tokens=1000)
    assert PriceTable().cost_usd("gpt-image-1.5", u) == (100 * 5 + 1000 * 32) / 1e6
    assert PriceTable().cost_usd("gpt-image-1-mini", u) == (100 * 2 + 1000 * 8) / 1e6


def test_cost_without_an_input_breakdown_prices_input_as_text():
    u = Usage(input_tokens=1000, output_tokens=0, total_tokens=1000)
    assert PriceTable().cost_usd("gpt-image-2", u) == 1000 * 5 / 1e6


def test_text_output_is_priced_at_the_image_rate_when_no_text_price_is_known():
    u = Usage.from_api(API_USAGE)
    expected = (50 * 5 + 1000 * 8 + 7024 * 30 + 76 * 30) / 1e6
    assert PriceTable().cost_usd("gpt-image-2", u) == pytest.approx(expected, abs=1e-9)
    table = PriceTable(overrides={"gpt-image-2": TokenPrices(5, 1.25, 8, 2, 30, text_out=10)})
    assert table.cost_usd("gpt-image-2", u) == pytest.approx((50 * 5 + 1000 * 8 + 7024 * 30 + 76 * 10) / 1e6)


def test_streamed_usage_cost_counts_all_output_as_image_output():
    assert PriceTable().cost_usd("gpt-image-2", Usage.from_api(STREAM_USAGE)) == (40 * 5 + 7324 * 30) / 1e6


def test_overrides_replace_a_models_prices_and_unknown_models_get_gpt_image_2_prices():
    u = Usage(output_tokens=1_000_000, total_tokens=1_000_000, output_image_tokens=1_000_000)
    table = PriceTable(overrides={"gpt-image-2": TokenPrices(1, 1, 1, 1, 12.5)})
    assert table.cost_usd("gpt-image-2", u) == 12.5
    assert table.cost_usd("gpt-image-2.6-sunburst", u) == 30.0
    assert PriceTable().cost_usd("some-relay-model", u) == 30.0
    assert PriceTable().prices("some-relay-model").confirmed is False


# ------------------------------------------------------------------------------------------ credits


def test_credits_are_60_per_image_by_default_and_configurable():
    assert DEFAULT_CREDITS_PER_IMAGE == 60
    assert PriceTable().credits(1) == 60
    assert PriceTable().credits(4) == 240
    assert PriceTable(credits_per_image=25).credits(3) == 75
    assert PriceTable().credits(0) == 0


def test_price_table_round_trips_through_a_dict_and_json():
    table = PriceTable(
        credits_per_image=45,
        overrides={
            "gpt-image-2": TokenPrices(4.0, 1.0, 7.0, 1.5, 28.0, text_out=10.0),
            "my-relay": TokenPrices(1.0, 0.5, 2.0, 0.5, 9.0, confirmed=False),
        },
    )
    data = table.to_dict()
    assert data["credits_per_image"] == 45
    assert data["overrides"]["gpt-image-2"]["image_out"] == 28.0
    assert PriceTable.from_dict(data) == table
    assert PriceTable.from_dict(json.loads(json.dumps(data))) == table


def test_price_table_from_nothing_is_the_default():
    assert PriceTable.from_dict(None) == PriceTable()
    assert PriceTable.from_dict({}) == PriceTable()
    assert PriceTable.from_dict(PriceTable().to_dict()) == PriceTable()


def test_editing_the_saved_dict_does_not_change_the_table():
    table = PriceTable(overrides={"gpt-image-2": TokenPrices(5, 1.25, 8, 2, 30)})
    data = table.to_dict()
    data["overrides"]["gpt-image-2"]["image_out"] = 99.0
    assert table.overrides["gpt-image-2"].image_out == 30


# ----------------------------------------------------------------------------------------- estimate


def test_estimate_of_one_high_square_image():
    est = estimate(PriceTable(), "gpt-image-2", "abcdefgh", "1024x1024", "high")
    assert isinstance(est, Estimate)
    assert est.images == 1 and est.credits == 60
    assert est.usage.output_tokens == est.usage.output_image_tokens == 7024
    assert est.usage.input_text_tokens == 2 and est.usage.input_image_tokens == 0
    assert est.usage.total_tokens == 7026
    assert est.cost_usd == PriceTable().cost_usd("gpt-image-2", est.usage) == (2 * 5 + 7024 * 30) / 1e6


def test_each_partial_image_adds_100_output_tokens():
    assert PARTIAL_IMAGE_OUTPUT_TOKENS == 100
    base = estimate(PriceTable(), "gpt-image-2", "x", "1536x1024", "medium")
    for partials in (1, 2, 3):
        est = estimate(PriceTable(), "gpt-image-2", "x", "1536x1024", "medium", partial_images=partials)
        assert est.usage.output_tokens - base.usage.output_tokens == 100 * partials
        assert est.cost_usd > base.cost_usd


def test_estimate_scales_with_n_per_image_including_partials():
    one = estimate(PriceTable(), "gpt-image-2", "x", "2048x1152", "high", n=1, partial_images=2)
    four = estimate(PriceTable(credits_per_image=10), "gpt-image-2", "x", "2048x1152", "high", n=4, partial_images=2)
    per_image = output_tokens_per_image(G2, Size(2048, 1152), "high") + 200
    assert one.usage.output_tokens == per_image
    assert four.usage.output_tokens == 4 * per_image
    assert four.usage.input_text_tokens == one.usage.input_text_tokens  # the prompt is sent once
    assert (four.images, four.credits, one.credits) == (4, 40, 60)


def test_estimate_grows_with_quality():
    costs = [estimate(PriceTable(), "gpt-image-2", "x", "3840x2160", q).cost_usd for q in ("low", "medium", "high")]
    assert costs[0] < costs[1] < costs[2]


def test_estimate_counts_input_images_and_auto_follows_the_first_image():
    inputs = ((1024, 1536), (512, 512))
    est = estimate(PriceTable(), "gpt-image-1.5", "x", "auto", "high", input_sizes=inputs)
    assert est.usage.input_image_tokens == input_image_tokens(1024, 1536) + input_image_tokens(512, 512)
    assert est.usage.output_tokens == 6240  # portrait, like the first image
    g2 = estimate(PriceTable(), "gpt-image-2", "x", "auto", "high", input_sizes=((3840, 2160),))
    assert g2.usage.output_tokens == 13342


def test_estimate_never_raises_on_a_bad_size_or_unknown_model():
    assert estimate(PriceTable(), "gpt-image-2", "x", "garbage", "high").usage.output_tokens == 7024
    unknown = estimate(PriceTable(), "relay-model", "x", "1024x1024", "high")
    assert unknown.usage.output_tokens == 7024 and unknown.credits == 60
