"""Reference roles turn into plain prompt sentences that name the right image numbers."""

from __future__ import annotations

from dataclasses import dataclass

from gptimg_desktop.core.prompt_roles import ROLE_KEYS, normalise_role, role_label, role_wording


@dataclass
class _Ref:
    role: str | None


def test_edit_numbering_starts_after_the_canvas_image():
    roles = ["subject", "style", "palette", "layout", "text"]
    assert role_wording(roles, first_number=2) == (
        "Use image 2 as the subject. Match the style of image 3. Take the colour palette from image 4. "
        "Follow the layout of image 5. Reproduce the text and logo from image 6 exactly."
    )


def test_generate_numbering_starts_at_one_and_skips_images_without_a_role():
    assert role_wording([None, "style", "—", "layout"], first_number=1) == (
        "Match the style of image 2. Follow the layout of image 4."
    )


def test_several_images_with_one_role_are_named_together_in_tray_order():
    text = role_wording(["style", "subject", "style", "style"], first_number=2)
    assert text == "Match the style of images 2, 4 and 5. Use image 3 as the subject."


def test_accepts_objects_with_a_role_attribute_and_label_spellings():
    refs = [_Ref("Text/logo"), _Ref(None), _Ref("Palette")]
    assert role_wording(refs) == "Reproduce the text and logo from image 1 exactly. Take the colour palette from image 3."


def test_no_roles_gives_empty_text():
    assert role_wording([]) == ""
    assert role_wording([None, "", "unknown-role"]) == ""


def test_normalise_and_labels():
    assert normalise_role("Text/logo") == "text"
    assert normalise_role("  STYLE ") == "style"
    assert normalise_role("—") is None
    assert normalise_role("nonsense") is None
    assert role_label("palette") == "Palette"
    assert role_label(None) == "—"
    assert ROLE_KEYS == ("subject", "style", "palette", "layout", "text")
