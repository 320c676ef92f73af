"""core.selection: the magic wand and Select Colour Range, contiguous and global, adding to and subtracting from a mask."""

from __future__ import annotations

import numpy as np
import pytest

from gptimg_desktop.core import selection
from gptimg_desktop.core.masks import EDIT, KEEP, mask_from_rect
from gptimg_desktop.core.selection import SelectionMode


def two_red_boxes() -> np.ndarray:
    """A grey 200x120 picture with two separate red boxes and a blue one; the left red box has slight grain."""
    img = np.full((120, 200, 3), 128, dtype=np.uint8)
    rng = np.random.default_rng(3)
    img[10:50, 10:60] = np.clip(np.array([200, 30, 30]) + rng.integers(-5, 6, (40, 50, 3)), 0, 255)
    img[70:110, 120:190] = (200, 30, 30)
    img[10:40, 120:150] = (30, 30, 200)
    return img


def test_the_wand_selects_a_uniform_region_and_nothing_else():
    img = two_red_boxes()
    sel = selection.magic_wand(img, 150, 90, tolerance=0)
    expected = mask_from_rect(200, 120, 120, 70, 190, 110)
    assert np.array_equal(sel, expected)


def test_contiguous_stops_at_the_edge_global_takes_every_match():
    img = two_red_boxes()
    contiguous = selection.magic_wand(img, 30, 30, tolerance=12)
    assert contiguous[10:50, 10:60].all() and not contiguous[70:110, 120:190].any()
    everywhere = selection.magic_wand(img, 30, 30, tolerance=12, contiguous=False)
    assert everywhere[10:50, 10:60].all() and everywhere[70:110, 120:190].all()
    assert not everywhere[10:40, 120:150].any() and not everywhere[0:5, :].any()  # blue box, grey background


def test_tolerance_decides_how_much_grain_is_taken():
    img = two_red_boxes()
    tight = selection.magic_wand(img, 30, 30, tolerance=0)
    loose = selection.magic_wand(img, 30, 30, tolerance=12)
    assert 0 < np.count_nonzero(tight) < np.count_nonzero(loose) == 40 * 50
    assert selection.magic_wand(img, 0, 0, tolerance=255).all()  # everything is within 255 of anything


def test_rgba_and_grey_pictures_are_accepted_and_alpha_is_not_a_colour():
    img = two_red_boxes()
    rgba = np.dstack([img, np.zeros(img.shape[:2], dtype=np.uint8)])
    rgba[:, :100, 3] = 255
    assert np.array_equal(selection.magic_wand(rgba, 150, 90, 0), selection.magic_wand(img, 150, 90, 0))
    grey = img[:, :, 0].copy()
    assert selection.magic_wand(grey, 0, 0, 0)[0, 0] == EDIT


@pytest.mark.parametrize("point", [(-1, 0), (200, 0), (0, 120)])
def test_a_click_outside_the_picture_is_refused(point):
    with pytest.raises(ValueError, match="outside"):
        selection.magic_wand(two_red_boxes(), *point)


def test_bad_pictures_are_refused_in_plain_words():
    with pytest.raises(ValueError, match="uint8"):
        selection.magic_wand(np.zeros((4, 4, 3), dtype=np.float32), 0, 0)
    with pytest.raises(ValueError, match="shape"):
        selection.magic_wand(np.zeros((4, 4, 2), dtype=np.uint8), 0, 0)
    with pytest.raises(ValueError, match="empty"):
        selection.magic_wand(np.zeros((0, 4, 3), dtype=np.uint8), 0, 0)


def test_colour_range_is_global_with_soft_edges():
    img = np.zeros((1, 256, 3), dtype=np.uint8)
    img[0, :, 0] = np.arange(256)  # a red ramp
    soft = selection.color_range(img, [(100, 0, 0)], fuzziness=10)
    assert soft[0, 100] == EDIT and soft[0, 90] == EDIT and soft[0, 110] == EDIT
    assert 0 < soft[0, 115] < EDIT  # fading beyond the fuzziness
    assert soft[0, 121] == KEEP and soft[0, 79] == KEEP
    assert np.all(np.diff(soft[0, 100:130].astype(int)) <= 0)  # never rises away from the colour


def test_colour_range_takes_several_colours_and_can_be_contiguous():
    img = two_red_boxes()
    both = selection.color_range(img, [(200, 30, 30), (30, 30, 200)], fuzziness=8)
    assert both[90, 150] == EDIT and both[20, 130] == EDIT and both[0, 0] == KEEP
    one = selection.color_range(img, [(200, 30, 30)], fuzziness=8, contiguous=True, seed=(150, 90))
    assert one[90, 150] == EDIT and not one[10:50, 10:60].any()
    assert not selection.color_range(img, [(200, 30, 30)], 8, contiguous=True, seed=(0, 0)).any()
    with pytest.raises(ValueError, match="starts from"):
        selection.color_range(img, [(200, 30, 30)], 8, contiguous=True)
    with pytest.raises(ValueError, match="colour"):
        selection.color_range(img, [], 8)


def test_selections_add_to_subtract_from_or_replace_the_mask():
    img = two_red_boxes()
    painted = mask_from_rect(200, 120, 0, 0, 20, 20)
    sel = selection.magic_wand(img, 150, 90, 0)
    added = selection.apply_selection(painted, sel, SelectionMode.ADD)
    assert added[5, 5] == EDIT and added[90, 150] == EDIT
    removed = selection.apply_selection(added, sel, "subtract")
    assert removed[5, 5] == EDIT and removed[90, 150] == KEEP
    replaced = selection.apply_selection(painted, sel, SelectionMode.REPLACE)
    assert replaced[5, 5] == KEEP and np.array_equal(replaced, sel)
    with pytest.raises(ValueError):
        selection.apply_selection(painted, sel, "multiply")


def test_sample_colour_averages_a_square_clipped_to_the_picture():
    img = two_red_boxes()
    assert selection.sample_color(img, 150, 90) == (200, 30, 30)
    assert selection.sample_color(img, 0, 0, radius=2) == (128, 128, 128)


def test_the_mask_colour_contrasts_with_the_picture():
    red_product = np.zeros((300, 400, 3), dtype=np.uint8)
    red_product[:] = (200, 30, 40)
    assert selection.contrasting_color(red_product) == selection.MASK_COLORS[0]  # cyan on red
    cyan_sky = np.zeros((300, 400, 3), dtype=np.uint8)
    cyan_sky[:] = (10, 220, 250)
    chosen = selection.contrasting_color(cyan_sky)
    assert chosen != selection.MASK_COLORS[0]
    assert max(abs(a - b) for a, b in zip(chosen, (10, 220, 250), strict=True)) > 150
