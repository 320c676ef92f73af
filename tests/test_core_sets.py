"""Set templates, set plans and channel size maths (core, no network)."""

from __future__ import annotations

import pytest
from PIL import Image

from gptimg_desktop.core.channels import (
    CHANNEL_PRESETS,
    ChannelPreset,
    channel_preset,
    custom_preset,
    fit_exact,
    plan_channel,
)
from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.models import get_model
from gptimg_desktop.core.pricing import PriceTable
from gptimg_desktop.core.set_plan import SetReference, plan_set
from gptimg_desktop.core.sizes import is_valid, parse_size
from gptimg_desktop.core.templates import TemplateError, load_templates, parse_template

SPEC = get_model("gpt-image-2")
VI_FIELDS = {"brand": "Lume", "colours": "terracotta and cream"}

EXPECTED_ITEMS = {
    "ecommerce": {"main", "lifestyle", "detail", "infographic", "dimensions"},
    "vi": {"logo", "business-card", "letterhead", "storefront", "tote", "avatar", "brand-sheet"},
    "campaign": {"poster", "story", "banner", "square", "thumbnail"},
    "storyboard": {"cast", "panel"},
    "character": {"sheet", "expressions", "scene"},
    "cover": {"cover", "thumb-face", "thumb-square", "thumb-vertical"},
    "office": {"report", "slide", "resume-header"},
}


def test_every_builtin_template_loads_with_its_items_and_one_anchor():
    library = load_templates()
    assert library.problems == []
    assert set(library.templates) >= set(EXPECTED_ITEMS)
    for tid, items in EXPECTED_ITEMS.items():
        template = library.get(tid)
        assert {i.id for i in template.items} == items
        assert sum(i.anchor for i in template.items) == 1
        for item in template.items:
            assert is_valid(SPEC, parse_size(item.size)), (tid, item.id)
            for part in ("Scene:", "Subject:", "Details:", "Constraints:", "Intended use:"):
                assert part in item.prompt, (tid, item.id, part)
        assert set(template.to_json()) == {"id", "name", "description", "fields", "items"}


def test_designer_template_in_data_folder_is_added_and_broken_ones_are_reported(tmp_path):
    (tmp_path / "menu.toml").write_text(
        'id = "menu"\nname = "Menu"\n[[fields]]\nname = "dish"\nlabel = "Dish"\nrequired = true\n'
        '[[items]]\nid = "hero"\nname = "Hero"\nsize = "1024x1024"\nanchor = true\n'
        'prompt = "Scene: a table. Subject: {dish}. Details: x. Constraints: y. Intended use: menu."\n'
    )
    (tmp_path / "broken.toml").write_text('id = "broken"\nname = "B"\n[[items]]\nid = "a"\nsize = "1000x1000"\n'
                                         'anchor = true\nprompt = "x"\n')
    library = load_templates([tmp_path])
    assert library.get("menu").source.endswith("menu.toml")
    assert any("broken.toml" in p and "multiples of 16" in p for p in library.problems)


@pytest.mark.parametrize("text, phrase", [
    ('id = "x"\nname = "X"\n', "at least one"),
    ('id = "x"\nname = "X"\n[[items]]\nid = "a"\nsize = "1024x1024"\nprompt = "p"\n', "anchor"),
    ('id = "x"\nname = "X"\n[[items]]\nid = "a"\nsize = "1024x1024"\nanchor = true\nprompt = "{nope}"\n', "{nope}"),
    ('id = "X Y"\nname = "X"\n', "lower-case"),
    ("not toml = = =", "not valid TOML"),
])
def test_broken_templates_are_refused_with_a_reason(text, phrase):
    with pytest.raises(TemplateError, match=None) as info:
        parse_template(text, "t.toml")
    assert phrase in str(info.value)


def test_vi_plan_has_anchor_first_and_edits_with_consistency_and_labelled_inputs():
    plan = plan_set(load_templates().get("vi"), "A friendly coffee roaster in Lisbon.", VI_FIELDS,
                    [SetReference("/refs/mood.png", "style")])
    requests = plan.item_requests()
    assert requests[0].anchor and requests[0].item.id == "logo"
    assert not requests[0].uses_anchor
    assert '"Lume"' in requests[0].item.prompt
    for req in requests[1:]:
        assert req.uses_anchor and req.item.kind == "edit" and not req.anchor
        prompt = req.item.prompt
        assert prompt.startswith("Image 1: the approved logo")
        assert 'Image 2: pinned reference "mood.png" (style).' in prompt
        assert "Change only" in prompt and "Keep consistent across the set:" in prompt
        assert "terracotta and cream" in prompt
        assert '""' not in prompt  # the empty optional tagline left no empty quotes


def test_missing_required_field_is_refused_naming_it():
    with pytest.raises(RequestRefused) as info:
        plan_set(load_templates().get("vi"), "A bakery.", {"brand": "Lume"})
    assert "colours" in str(info.value) and info.value.param == "colours"
    with pytest.raises(RequestRefused, match="no field 'font'"):
        plan_set(load_templates().get("vi"), "A bakery.", {**VI_FIELDS, "font": "x"})


def test_repeated_items_follow_the_scene_list_and_items_filter_keeps_the_anchor():
    template = load_templates().get("storyboard")
    plan = plan_set(template, "A fox finds a key.", {"characters": "a red fox", "scenes": "wakes\nruns; falls\nsleeps"})
    assert [i.id for i in plan.items] == ["cast", "panel-1", "panel-2", "panel-3"]
    assert "panel 2: runs; falls" in plan.items[2].prompt
    only = plan_set(load_templates().get("vi"), "A bakery.", VI_FIELDS, only_items=["avatar"])
    assert [i.id for i in only.items] == ["logo", "avatar"] and only.notes
    with pytest.raises(RequestRefused, match="no item 'poster'"):
        plan_set(load_templates().get("vi"), "A bakery.", VI_FIELDS, only_items=["poster"])


def test_estimate_adds_up_every_item_and_counts_the_anchor_as_an_input():
    plan = plan_set(load_templates().get("vi"), "A bakery.", VI_FIELDS, quality="low")
    est = plan.estimate(PriceTable())
    assert est.credits == sum(c for _i, c, _u in est.per_item) > 0
    assert est.usd == pytest.approx(sum(u for _i, _c, u in est.per_item))
    data = plan.dry_run_json(PriceTable())
    assert data["set_id"] is None and set(data["estimate"]) == {"credits", "usd"}
    assert set(data["items"][0]) == {"id", "prompt", "size", "quality", "kind", "anchor"}
    single = plan.request_for(plan.items[1]).request.estimate(PriceTable(), input_sizes=((1024, 1024),))
    bare = plan.request_for(plan.items[1]).request.estimate(PriceTable())
    assert single.usage.input_tokens > bare.usage.input_tokens


def test_reference_parse_keeps_paths_with_colons():
    assert SetReference.parse("logo.png:text") == SetReference("logo.png", "text")
    assert SetReference.parse("C:/a/b.png") == SetReference("C:/a/b.png", None)
    assert SetReference.parse("a.png:nonsense").role is None


@pytest.mark.parametrize("preset", CHANNEL_PRESETS, ids=lambda p: p.name)
def test_every_channel_plan_is_a_valid_api_size_with_the_same_aspect(preset):
    plan = plan_channel(SPEC, preset)
    assert is_valid(SPEC, plan.api_size)
    target = preset.width / preset.height
    if plan.ratio_clamped:
        assert plan.api_size.ratio == pytest.approx(3.0, rel=0.02) and plan.note
    else:
        assert plan.api_size.width / plan.api_size.height == pytest.approx(target, rel=0.02)


def test_extreme_custom_aspect_is_clamped_and_said():
    plan = plan_channel(SPEC, custom_preset("4000x500"))
    assert plan.ratio_clamped and is_valid(SPEC, plan.api_size)
    assert "cropped" in plan.note and "middle" in plan.recompose_prompt()
    with pytest.raises(RequestRefused):
        channel_preset("tiktok-weird")
    with pytest.raises(RequestRefused):
        custom_preset("auto")


def test_fit_exact_delivers_exact_pixels_without_stretching():
    # A circle must stay a circle: measure its width and height after fitting a 3:1 image to 4:1.
    img = Image.new("RGB", (1584, 528), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(img).ellipse((692, 164, 892, 364), fill="black")
    out = fit_exact(img, 1584, 396)
    assert out.size == (1584, 396)
    box = Image.eval(out.convert("L"), lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None
    assert (box[2] - box[0]) == pytest.approx(box[3] - box[1], abs=2)
    small = fit_exact(Image.new("RGB", (1088, 1936)), 1080, 1920)
    assert small.size == (1080, 1920)
    assert ChannelPreset("x", 10, 10).to_json() == {"name": "x", "width": 10, "height": 10}
