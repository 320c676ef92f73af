"""core.masks: mask maths, blend-back, canvas expansion and valid expansion sizes."""

from __future__ import annotations

import numpy as np
import pytest

from gptimg_desktop.core import masks
from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.core.models import find_model, get_model
from gptimg_desktop.core.sizes import Size, is_valid

RNG = np.random.default_rng(7)


def brute_force(mask: np.ndarray, px: int, op, outside: int) -> np.ndarray:
    """Square-window max/min by looking at every offset; ``outside`` is the value beyond the canvas."""
    h, w = mask.shape
    padded = np.pad(mask, px, constant_values=outside)
    out = np.full_like(mask, outside)
    for dy in range(2 * px + 1):
        for dx in range(2 * px + 1):
            out = op(out, padded[dy : dy + h, dx : dx + w])
    return out


# ---------------------------------------------------------------------------------------- basics


def test_empty_coverage_invert_bbox():
    m = masks.empty_mask(10, 4)
    assert m.shape == (4, 10) and m.dtype == np.uint8
    assert masks.is_empty(m) and masks.coverage(m) == 0.0 and masks.bbox(m) is None
    m[1:3, 2:7] = 255
    assert not masks.is_empty(m)
    assert masks.coverage(m) == pytest.approx(10 / 40)
    assert masks.bbox(m) == (2, 1, 7, 3)
    inv = masks.invert(m)
    assert inv[0, 0] == 255 and inv[1, 2] == 0
    assert masks.coverage(inv) == pytest.approx(30 / 40)


def test_rect_polygon_and_combine():
    rect = masks.mask_from_rect(20, 10, 15, 8, 5, 2)  # corners in any order
    assert masks.bbox(rect) == (5, 2, 15, 8)
    assert masks.bbox(masks.mask_from_rect(20, 10, -5, -5, 3, 30)) == (0, 0, 3, 10)  # clipped
    tri = masks.mask_from_polygon([(0, 0), (19, 0), (0, 9)], 20, 10)
    assert tri[1, 1] == 255 and tri[9, 19] == 0
    assert masks.is_empty(masks.mask_from_polygon([(0, 0), (5, 5)], 20, 10))

    added = masks.combine(rect, tri, "add")
    assert added[1, 1] == 255 and added[7, 14] == 255 and added[9, 19] == 0
    cut = masks.combine(rect, tri, "subtract")
    assert cut[2, 5] == 0  # inside both: removed
    assert cut[7, 14] == 255  # only in rect: kept
    with pytest.raises(ValueError):
        masks.combine(rect, tri, "xor")
    with pytest.raises(ValueError):
        masks.combine(rect, masks.empty_mask(3, 3))


# ---------------------------------------------------------------------------------------- morphology


@pytest.mark.parametrize("seed", range(12))
def test_grow_and_shrink_match_a_brute_force_square_window(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(5, 30, 2)
    m = np.where(rng.random((h, w)) > 0.75, 255, 0).astype(np.uint8)
    if seed % 3 == 0:
        m[:, :4] = 255  # touches the canvas edge
    px = int(rng.integers(1, 7))
    assert np.array_equal(masks.grow(m, px), brute_force(m, px, np.maximum, 0))
    # Beyond the canvas counts as "edit" for shrinking, so the edge does not erode the mask.
    assert np.array_equal(masks.shrink(m, px), brute_force(m, px, np.minimum, 255))


def test_grow_and_shrink_simple_cases():
    m = masks.mask_from_rect(40, 30, 10, 10, 20, 20)
    assert masks.bbox(masks.grow(m, 3)) == (7, 7, 23, 23)
    assert masks.bbox(masks.shrink(m, 3)) == (13, 13, 17, 17)
    assert masks.is_empty(masks.shrink(m, 5))
    assert np.array_equal(masks.grow(m, 0), m)
    full = np.full((8, 8), 255, np.uint8)
    assert np.array_equal(masks.shrink(full, 3), full)
    assert masks.is_empty(masks.grow(masks.empty_mask(8, 8), 4))
    assert masks.grow(m.astype(bool), 1).dtype == np.uint8


def test_grow_by_16_on_a_4k_mask_is_correct():
    m = masks.mask_from_rect(3840, 2160, 1000, 500, 2800, 1700)
    assert masks.bbox(masks.grow(m, 16)) == (984, 484, 2816, 1716)
    assert masks.bbox(masks.shrink(m, 16)) == (1016, 516, 2784, 1684)


def test_feather_softens_only_near_the_edge():
    m = masks.mask_from_rect(100, 60, 30, 10, 70, 50)
    soft = masks.feather(m, 9)
    row = soft[30].astype(int)
    assert row[:20].max() == 0  # far outside: untouched
    assert row[45:55].min() == 255  # deep inside: untouched
    ramp = row[20:41]
    assert np.all(np.diff(ramp) >= 0) and 0 < row[30] < 255  # monotone ramp across the edge
    assert abs(int(row[29]) + int(row[30]) - 255) <= 4  # symmetric around the edge
    assert np.array_equal(masks.feather(m, 0), m)
    full = np.full((20, 20), 255, np.uint8)
    assert np.array_equal(masks.feather(full, 5), full)  # the canvas edge does not fade the mask


# ---------------------------------------------------------------------------------------- blend back


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("feather_px", [0, 1, 6])
def test_blend_back_changes_nothing_outside_the_mask(channels, feather_px):
    h, w = 80, 120
    original = RNG.integers(0, 256, (h, w, channels), dtype=np.uint8)
    result = RNG.integers(0, 256, (h, w, channels), dtype=np.uint8)
    mask = masks.mask_from_polygon([(20, 10), (100, 20), (60, 70)], w, h)

    out = masks.blend_back(original, result, mask, feather_px)

    outside = mask == 0
    assert np.array_equal(out[outside], original[outside])
    deep = masks.shrink(mask, feather_px + 2) == 255
    assert deep.any() and np.array_equal(out[deep], result[deep])
    if feather_px == 0:
        assert np.array_equal(out[~outside], result[~outside])


def test_blend_back_feather_ramps_inward_from_the_edge():
    h, w = 40, 60
    original = np.zeros((h, w, 3), np.uint8)
    result = np.full((h, w, 3), 200, np.uint8)
    mask = masks.mask_from_rect(w, h, 20, 0, 60, 40)
    out = masks.blend_back(original, result, mask, 8)[20, :, 0].astype(int)
    assert out[:20].max() == 0
    assert 0 < out[21] < out[24] < 200
    assert out[30:].min() == 200
    assert np.all(np.diff(out) >= 0)


def test_blend_back_rejects_mismatched_shapes():
    a = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(AssertionError):
        masks.blend_back(a, np.zeros((4, 5, 3), np.uint8), np.zeros((4, 4), np.uint8))


# ---------------------------------------------------------------------------------------- expansion


def test_expand_canvas_masks_the_new_area_and_keeps_the_old_mask():
    img = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    old = masks.mask_from_rect(30, 20, 5, 5, 10, 10)
    new_img, new_mask = masks.expand_canvas(img, old, 4, 3, 2, 1)
    assert new_img.shape == (24, 36, 3) and new_mask.shape == (24, 36)
    assert np.array_equal(new_img[3:23, 4:34], img)
    assert np.array_equal(new_mask[3:23, 4:34], old)
    assert new_mask[:3].min() == 255 and new_mask[:, :4].min() == 255
    assert new_mask[-1:].min() == 255 and new_mask[:, -2:].min() == 255
    assert np.array_equal(new_img[0, 4:34], img[0])  # edge-extended upward
    assert np.array_equal(new_img[10, 0], img[7, 0])  # and sideways


def test_expand_canvas_with_fill_and_without_mask():
    img = np.full((5, 5, 4), 9, np.uint8)
    new_img, new_mask = masks.expand_canvas(img, None, 2, 0, 0, 0, fill=(255, 0, 0))
    assert tuple(new_img[0, 0]) == (255, 0, 0, 255)
    assert new_mask[:, 2:].max() == 0 and new_mask[:, :2].min() == 255
    with pytest.raises(ValueError):
        masks.expand_canvas(img, None, -1, 0, 0, 0)


@pytest.mark.parametrize(
    ("w", "h", "growth"),
    [
        (1024, 1024, (100, 0, 0, 0)),
        (1000, 700, (10, 20, 30, 40)),
        (512, 512, (128, 0, 0, 0)),
        (1536, 1024, (0, 0, 0, 512)),
        (3000, 1000, (0, 0, 700, 0)),
        (1000, 1000, (0, 0, 0, 0)),
    ],
)
def test_expand_to_valid_gives_a_valid_canvas_at_least_as_large(w, h, growth):
    spec = get_model("gpt-image-2")
    left, top, right, bottom = masks.expand_to_valid(spec, w, h, *growth)
    assert min(left, top, right, bottom) >= 0
    size = Size(w + left + right, h + top + bottom)
    assert is_valid(spec, size), size
    assert left >= growth[0] and top >= growth[1] and right >= growth[2] and bottom >= growth[3]


def test_expand_to_valid_rounds_on_the_grown_side_only():
    spec = get_model("gpt-image-2")
    assert masks.expand_to_valid(spec, 1024, 1024, 100, 0, 0, 0) == (112, 0, 0, 0)
    left, top, right, bottom = masks.expand_to_valid(spec, 1000, 1024, 0, 0, 0, 0)
    assert (top, bottom) == (0, 0) and left + right == 8  # not grown on that axis: split both ways


def test_expand_to_valid_on_fixed_size_models():
    spec = find_model("gpt-image-1.5")
    assert masks.expand_to_valid(spec, 1024, 1024, 100, 0, 0, 0) == (512, 0, 0, 0)
    assert masks.expand_to_valid(spec, 1024, 1024, 0, 300, 0, 300) == (0, 256, 0, 256)
    left, top, right, bottom = masks.expand_to_valid(spec, 1200, 800, 0, 0, 0, 0)
    assert (1200 + left + right, 800 + top + bottom) == (1536, 1024)
    # More than any fixed size holds: the closest size that still holds the image.
    left, top, right, bottom = masks.expand_to_valid(spec, 1024, 1024, 0, 0, 900, 0)
    assert (1024 + left + right, 1024 + top + bottom) == (1536, 1024) and left == 0


def test_expand_to_valid_refuses_what_cannot_fit():
    with pytest.raises(RequestRefused):
        masks.expand_to_valid(get_model("gpt-image-2"), 3000, 3000, 0, 0, 0, 0)
    with pytest.raises(RequestRefused):
        masks.expand_to_valid(find_model("gpt-image-1.5"), 2000, 2000, 10, 0, 0, 0)
