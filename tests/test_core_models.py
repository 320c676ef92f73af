"""core.models and core.errors: the capability table, model lookup, lifecycle notes and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from gptimg_desktop.core.errors import InputImageError, RequestRefused
from gptimg_desktop.core.models import (
    DEFAULT_MODEL,
    FIXED_SIZES,
    MB,
    MODELS,
    RETIRED,
    ModelSpec,
    SizeRules,
    TokenPrices,
    find_model,
    get_model,
    model_names,
)

# The brief says "today" is 2026-11-24, a week before the 2026-12-01 shutdowns. Every date-dependent
# test passes an explicit date so the suite gives the same answer on any real day.
BEFORE_SHUTDOWN = dt.date(2026, 11, 24)
SHUTDOWN_DAY = dt.date(2026, 12, 1)
DAY_BEFORE_SHUTDOWN = dt.date(2026, 11, 30)
LONG_AFTER = dt.date(2031, 1, 1)

FLEXIBLE = ("gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare")
FIXED = ("gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest")
FAMILY_25_26 = FLEXIBLE[1:]


# ------------------------------------------------------------------------------------- the table


def test_default_model_is_gpt_image_2_and_listed_first():
    assert DEFAULT_MODEL == "gpt-image-2"
    assert model_names()[0] == "gpt-image-2"


def test_model_list_matches_the_sdk_3_54_list_without_retired_models():
    assert set(model_names()) == set(FLEXIBLE) | set(FIXED)
    assert len(model_names()) == len(set(model_names()))
    for retired in ("gpt-image-1", "dall-e-2", "dall-e-3"):
        assert retired not in model_names()


def test_every_name_and_snapshot_is_unique_across_the_table():
    names = [n for spec in MODELS for n in spec.names()]
    assert len(names) == len(set(names))
    assert not set(names) & {r.name for r in RETIRED}


def test_gpt_image_2_capabilities_follow_the_api_facts():
    spec = get_model("gpt-image-2")
    assert spec.flexible_sizes and spec.fixed_sizes is None
    assert spec.size_rules == SizeRules(16, 3840, 655_360, 8_294_400, 3.0, 2560 * 1440)
    assert spec.qualities == ("low", "medium", "high", "auto")
    assert spec.transparent == "preview"
    assert spec.input_fidelity == ()  # never sent
    assert (spec.max_n, spec.max_images, spec.max_partial_images) == (10, 16, 3)
    assert spec.max_image_bytes == 50 * MB and spec.max_mask_bytes == 4 * MB
    assert spec.max_prompt_chars == 32_000
    assert spec.output_formats == ("png", "jpeg", "webp")
    assert spec.moderations == ("auto", "low")
    assert spec.streaming
    assert spec.shutdown is None and spec.replacement is None
    p = spec.prices
    assert (p.text_in, p.text_in_cached, p.image_in, p.image_in_cached, p.image_out) == (5.0, 1.25, 8.0, 2.0, 30.0)
    assert p.confirmed


@pytest.mark.parametrize("name", FAMILY_25_26)
def test_25_and_26_families_add_xhigh_max_and_real_transparency(name):
    spec = get_model(name)
    assert spec.flexible_sizes
    assert spec.size_rules == get_model("gpt-image-2").size_rules
    assert {"low", "medium", "high", "auto", "xhigh", "max"} == set(spec.qualities)
    assert spec.transparent == "yes"
    assert "transparent" in spec.backgrounds
    assert spec.shutdown is None
    assert spec.lifecycle_note(LONG_AFTER) == ""


@pytest.mark.parametrize("name", FIXED)
def test_older_models_take_three_fixed_sizes_and_shut_down_on_2026_12_01(name):
    spec = get_model(name, today=BEFORE_SHUTDOWN)
    assert spec.fixed_sizes == FIXED_SIZES == ("1024x1024", "1536x1024", "1024x1536")
    assert not spec.flexible_sizes
    assert spec.qualities == ("low", "medium", "high", "auto")
    assert spec.shutdown == SHUTDOWN_DAY
    # The replacement must itself be a selectable model with no end date.
    replacement = get_model(spec.replacement, today=LONG_AFTER)
    assert replacement.shutdown is None


def test_input_fidelity_values_per_model():
    assert get_model("gpt-image-1.5", BEFORE_SHUTDOWN).input_fidelity == ("low", "high")
    assert get_model("gpt-image-1-mini", BEFORE_SHUTDOWN).input_fidelity == ("low",)
    for name in FLEXIBLE:
        assert get_model(name).input_fidelity == (), name


def test_backgrounds_follow_the_transparent_flag():
    assert ModelSpec("x", "X", transparent="no").backgrounds == ("auto", "opaque")
    assert ModelSpec("x", "X", transparent="preview").backgrounds == ("auto", "opaque", "transparent")
    assert ModelSpec("x", "X", transparent="yes").backgrounds == ("auto", "opaque", "transparent")


def test_token_prices_default_to_confirmed_with_no_text_output_price():
    p = TokenPrices(1, 2, 3, 4, 5)
    assert p.confirmed and p.text_out == 0.0


# ----------------------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("snapshot", "alias"),
    [
        ("gpt-image-2-2026-04-21", "gpt-image-2"),
        ("gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-sunburst"),
        ("gpt-image-2.5-flare-2026-09-08", "gpt-image-2.5-flare"),
        ("gpt-image-1.5-2025-12-16", "gpt-image-1.5"),
    ],
)
def test_snapshots_resolve_to_their_alias(snapshot, alias):
    assert get_model(snapshot, today=BEFORE_SHUTDOWN) is get_model(alias, today=BEFORE_SHUTDOWN)
    assert find_model(snapshot) is find_model(alias)
    assert snapshot in find_model(alias).names()


@pytest.mark.parametrize("name", ["gpt-image-1", "dall-e-2", "dall-e-3"])
def test_retired_models_are_refused_with_a_working_replacement(name):
    with pytest.raises(RequestRefused) as info:
        get_model(name)
    err = info.value
    assert err.param == "model"
    assert name in err.message and "retired" in err.message
    retired = next(r for r in RETIRED if r.name == name)
    assert retired.retired.isoformat() in err.message
    assert f"use {retired.replacement} instead" in err.message
    assert get_model(retired.replacement, today=LONG_AFTER).shutdown is None
    assert find_model(name) is None


def test_retired_dates_follow_the_lifecycle_facts():
    dates = {r.name: r.retired for r in RETIRED}
    assert dates == {
        "gpt-image-1": dt.date(2026, 10, 23),
        "dall-e-2": dt.date(2026, 5, 12),
        "dall-e-3": dt.date(2026, 5, 12),
    }


@pytest.mark.parametrize("name", ["gpt-image-3", "gpt-image-2-mini", ""])
def test_unknown_model_is_refused_listing_every_choice(name):
    with pytest.raises(RequestRefused) as info:
        get_model(name)
    assert info.value.param == "model"
    assert info.value.message.startswith(f"Unknown model '{name}'.")
    for choice in model_names():
        assert choice in info.value.message
    assert find_model(name) is None


# -------------------------------------------------------------------------------------- lifecycle


def test_lifecycle_note_before_the_shutdown_names_date_and_replacement():
    spec = get_model("chatgpt-image-latest", today=BEFORE_SHUTDOWN)
    assert spec.lifecycle_note(BEFORE_SHUTDOWN) == (
        "chatgpt-image-latest shuts down on 2026-12-01; move to gpt-image-2.6-sunburst."
    )
    assert not spec.is_shut_down(BEFORE_SHUTDOWN)
    assert not spec.is_shut_down(DAY_BEFORE_SHUTDOWN)


def test_lifecycle_note_on_and_after_the_shutdown_day():
    spec = find_model("chatgpt-image-latest")
    expected = "chatgpt-image-latest was shut down on 2026-12-01; use gpt-image-2.6-sunburst."
    assert spec.lifecycle_note(SHUTDOWN_DAY) == expected
    assert spec.lifecycle_note(LONG_AFTER) == expected
    assert spec.is_shut_down(SHUTDOWN_DAY)


@pytest.mark.parametrize("name", FLEXIBLE)
def test_models_without_end_date_have_no_note_on_any_day(name):
    spec = get_model(name)
    for day in (BEFORE_SHUTDOWN, SHUTDOWN_DAY, LONG_AFTER):
        assert spec.lifecycle_note(day) == ""
        assert not spec.is_shut_down(day)
        assert get_model(name, today=day) is spec


@pytest.mark.parametrize("name", FIXED)
def test_get_model_refuses_a_model_once_it_has_shut_down(name):
    assert get_model(name, today=DAY_BEFORE_SHUTDOWN).name == name
    with pytest.raises(RequestRefused) as info:
        get_model(name, today=SHUTDOWN_DAY)
    assert info.value.param == "model"
    assert info.value.message == f"{name} was shut down on 2026-12-01 — use gpt-image-2.6-sunburst instead."
    # find_model is a plain lookup: it still finds the entry, e.g. for showing old history.
    assert find_model(name).name == name


# ----------------------------------------------------------------------------------------- errors


def test_request_refused_carries_message_and_param():
    err = RequestRefused("Count must be between 1 and 10 images (got 11).", param="n")
    assert isinstance(err, ValueError)
    assert str(err) == err.message == "Count must be between 1 and 10 images (got 11)."
    assert err.param == "n"
    assert RequestRefused("x").param is None


def test_input_image_error_names_the_file_and_the_reason():
    err = InputImageError("cat.heic", "HEIC is not supported; export it as PNG or JPEG.")
    assert isinstance(err, ValueError)
    assert str(err) == "cat.heic: HEIC is not supported; export it as PNG or JPEG."
    assert (err.filename, err.reason) == ("cat.heic", "HEIC is not supported; export it as PNG or JPEG.")
