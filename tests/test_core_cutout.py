"""core.cutout on product photos made here: plain and gradient backdrops, a mug whose handle has a hole, a glass;
keying a flat key colour out; and the key colour chosen away from the subject's colours."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from gptimg_desktop.core import cutout, images

RNG = np.random.default_rng(15)
W, H = 480, 360


def backdrop(kind: str) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == "plain":
        base = np.full((H, W, 3), (236, 234, 230), np.float32)
    else:  # a studio sweep: light at the top left, darker and warmer towards the bottom right
        t = (xx / W * 0.4 + yy / H * 0.6)[..., None]
        base = np.array((225, 232, 240), np.float32) * (1 - t) + np.array((170, 160, 150), np.float32) * t
    return base + RNG.normal(0, 2.0, (H, W, 3))


def mug_mask() -> Image.Image:
    """The true silhouette (L, 255 = mug), drawn at 4x and reduced so the edges are anti-aliased."""
    s = 4
    m = Image.new("L", (W * s, H * s), 0)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle((150 * s, 90 * s, 290 * s, 280 * s), radius=18 * s, fill=255)  # body
    d.ellipse((262 * s, 130 * s, 362 * s, 240 * s), fill=255)  # handle ...
    d.ellipse((285 * s, 152 * s, 339 * s, 218 * s), fill=0)  # ... with its hole
    d.rounded_rectangle((150 * s, 90 * s, 290 * s, 280 * s), radius=18 * s, fill=255)
    return m.resize((W, H), Image.Resampling.LANCZOS)


def glass_mask() -> Image.Image:
    s = 4
    m = Image.new("L", (W * s, H * s), 0)
    ImageDraw.Draw(m).polygon([(170 * s, 60 * s), (310 * s, 60 * s), (290 * s, 300 * s), (190 * s, 300 * s)], fill=255)
    return m.resize((W, H), Image.Resampling.LANCZOS)


def photo(kind: str, mask: Image.Image, colour=(200, 40, 50), glass: bool = False) -> Image.Image:
    bg = backdrop(kind)
    a = np.asarray(mask, np.float32)[..., None] / 255
    if glass:  # tinted, see-through body: the backdrop darkened and cooled, with a bright highlight stripe
        subject = bg * np.array((0.62, 0.72, 0.80), np.float32) + 10
        subject[:, 200:214] = 250
    else:  # a shaded ceramic body
        shade = np.linspace(1.1, 0.75, W, dtype=np.float32)[None, :, None]
        subject = np.array(colour, np.float32) * shade + RNG.normal(0, 3, (H, W, 3))
    out = bg * (1 - a) + subject * a
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    if glass:  # a darker rim
        d = ImageDraw.Draw(img)
        d.line([(170, 60), (190, 300), (290, 300), (310, 60)], fill=(90, 100, 110), width=3)
    return img


def iou(alpha: np.ndarray, truth: Image.Image) -> float:
    got, want = alpha >= 128, np.asarray(truth) >= 128
    return float((got & want).sum() / max(1, (got | want).sum()))


def test_the_mug_on_a_plain_backdrop_is_cut_out_hole_and_all():
    truth = mug_mask()
    out = cutout.remove_background(photo("plain", truth))
    alpha = np.asarray(out.getchannel("A"))
    assert out.mode == "RGBA" and out.size == (W, H)
    assert iou(alpha, truth) >= 0.95
    assert alpha[185, 312] == 0  # the backdrop seen through the handle is transparent
    assert alpha[185, 220] == 255 and alpha[185, 275] == 255  # body and the handle itself stay
    assert alpha[5, 5] == 0 and alpha[-5, -5] == 0
    # Soft edges: the outline has partly transparent pixels, not a hard staircase.
    assert ((alpha > 0) & (alpha < 255)).sum() > 200


def test_a_recoloured_mug_is_kept_whole():
    # The old colour-key heuristic removed most of a mug whose colour sat near the backdrop's; this one is pale grey.
    truth = mug_mask()
    alpha = np.asarray(cutout.remove_background(photo("plain", truth, colour=(196, 192, 186))).getchannel("A"))
    assert iou(alpha, truth) >= 0.95


def test_the_glass_on_a_plain_backdrop_keeps_its_see_through_body():
    truth = glass_mask()
    alpha = np.asarray(cutout.remove_background(photo("plain", truth, glass=True)).getchannel("A"))
    assert iou(alpha, truth) >= 0.95
    assert alpha[180, 240] > 0 and alpha[20, 20] == 0


@pytest.mark.parametrize("make_mask", [mug_mask, glass_mask], ids=["mug", "glass"])
def test_gradient_backdrops_are_modelled_not_mistaken_for_the_subject(make_mask):
    truth = make_mask()
    glass = make_mask is glass_mask
    alpha = np.asarray(cutout.remove_background(photo("gradient", truth, glass=glass)).getchannel("A"))
    assert iou(alpha, truth) >= 0.92
    assert alpha[5, 5] == 0 and alpha[-5, -5] == 0 and alpha[5, -5] == 0


def test_a_busy_background_goes_to_grabcut_and_still_finds_the_product():
    truth = mug_mask()
    busy = Image.fromarray(RNG.integers(0, 255, (H // 8, W // 8, 3), dtype=np.uint8)).resize((W, H))
    busy = busy.filter(ImageFilter.GaussianBlur(2))
    a = np.asarray(truth, np.float32)[..., None] / 255
    img = np.asarray(busy, np.float32) * (1 - a) + np.array((30, 60, 200), np.float32) * a
    alpha = np.asarray(cutout.remove_background(Image.fromarray(img.astype(np.uint8))).getchannel("A"))
    assert iou(alpha, truth) >= 0.8
    assert alpha[5, 5] == 0


def test_cutout_background_in_core_images_uses_the_new_cutout():
    truth = mug_mask()
    alpha = np.asarray(images.cutout_background(photo("plain", truth)).getchannel("A"))
    assert alpha[185, 312] == 0 and iou(alpha, truth) >= 0.95


def test_tiny_and_transparent_inputs_do_not_fail():
    assert cutout.remove_background(Image.new("RGB", (4, 4), "red")).getchannel("A").getextrema() == (255, 255)
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = cutout.remove_background(rgba)
    assert out.mode == "RGBA" and out.size == (64, 64)


# ------------------------------------------------------------------------------------------- keying


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("a ceramic mug", "green"),
        ("a bunch of fresh green basil leaves", "magenta"),
        ("a pink flamingo float", "green"),
        ("a lime and a purple plum", "blue"),
    ],
)
def test_the_key_colour_stays_away_from_the_subjects_colours(prompt, name):
    key = cutout.choose_key_colour(prompt)
    assert key.name == name
    wording = cutout.for_cutout_prompt(prompt, key)
    assert prompt in wording and key.hex in wording and "flat" in wording


def test_keying_a_green_screen_product_gives_soft_edges_without_green_fringe():
    key = cutout.KEY_COLOURS[0]
    truth = mug_mask()
    a = np.asarray(truth, np.float32)[..., None] / 255
    screen = np.array((6, 170, 70), np.float32) + RNG.normal(0, 3, (H, W, 3))  # near, not exactly, the hex
    subject = np.array((235, 230, 220), np.float32)
    img = Image.fromarray(np.clip(screen * (1 - a) + subject * a, 0, 255).astype(np.uint8))

    out = cutout.key_out(img, key)

    rgba = np.asarray(out)
    alpha = rgba[..., 3]
    assert iou(alpha, truth) >= 0.95 and alpha[185, 312] == 0  # the handle's hole is keyed out too
    edge = (alpha > 30) & (alpha < 225)
    assert edge.sum() > 100
    r, g, b = (rgba[..., i][edge].astype(int) for i in range(3))
    assert (g <= np.maximum(r, b) + 2).all()  # no green spill left on the outline
    assert 0.1 < cutout.foreground_fraction(out) < 0.4


def test_opencv_is_the_headless_build():
    # opencv-python carries its own Qt, which clashes with PySide6; only the headless wheel may be installed.
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "opencv-python-headless" in names and "opencv-python" not in names
    import cv2

    assert "QT" not in cv2.getBuildInformation().split("GUI:")[1].split("\n")[1].upper()
