"""Local transparency: Remove Background for any picture, and keying out a flat key colour ("Generate for cutout").

Remove Background models the backdrop from the image border (a smooth surface, so gradients work), labels what
differs from it with OpenCV's connected components, treats enclosed backdrop-coloured regions as holes (the space
inside a mug's handle), and keeps soft edges from the colour distance along the outline. Busy backgrounds that no
smooth surface describes go to OpenCV's grabCut instead.

Keying is for pictures the model made on a flat key colour chosen not to clash with the subject: the colour is
measured from the border, keyed with a soft ramp, edge colours are un-mixed from the key and the key's spill is
suppressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

_BUSY_NOISE = 28.0  # border residual (RGB distance) above which the backdrop is not a smooth surface


# ------------------------------------------------------------------------------------------- helpers


def _rgb_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


def _border_mask(h: int, w: int, width: int) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[:width], m[-width:], m[:, :width], m[:, -width:] = True, True, True, True
    return m


def _design(xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
    x = xs.astype(np.float32) / max(1, w - 1) - 0.5
    y = ys.astype(np.float32) / max(1, h - 1) - 0.5
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


def _backdrop(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """A smooth (quadratic) surface fitted to the border, robust to a subject touching the edge; and the noise."""
    h, w = rgb.shape[:2]
    width = max(2, min(h, w) // 100)
    ys, xs = np.nonzero(_border_mask(h, w, width))
    step = max(1, len(xs) // 20000)
    xs, ys = xs[::step], ys[::step]
    values = rgb[ys, xs].astype(np.float32)
    design = _design(xs, ys, w, h)
    keep = np.ones(len(xs), bool)
    coef = np.zeros((design.shape[1], 3), np.float32)
    residual = np.zeros(len(xs), np.float32)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = np.sqrt(((design @ coef - values) ** 2).sum(axis=1))
        limit = max(6.0, float(np.median(residual[keep])) * 3.0)
        keep = residual <= limit
        if keep.sum() < design.shape[1] * 4:
            keep = np.ones(len(xs), bool)
            break
    noise = float(np.percentile(residual[keep], 95)) if keep.any() else 0.0
    gy, gx = np.mgrid[0:h, 0:w]
    surface = (_design(gx.ravel(), gy.ravel(), w, h) @ coef).reshape(h, w, 3)
    return surface.astype(np.float32), noise


def _drop_specks(fg: np.ndarray, share: float = 0.01) -> np.ndarray:
    """Keep components of at least ``share`` of the largest (a second shoe stays, dust goes)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if count <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= max(areas.max() * share, 4)) + 1
    return np.isin(labels, big)


def foreground_fraction(img: Image.Image) -> float:
    """Share of the picture that is subject (mean alpha, 0..1)."""
    if img.mode != "RGBA":
        return 1.0
    return float(np.asarray(img.getchannel("A"), dtype=np.float32).mean() / 255.0)


# ------------------------------------------------------------------------------------------- remove background


def remove_background(img: Image.Image) -> Image.Image:
    """The subject of ``img`` on a transparent background (RGBA, colours untouched)."""
    rgb = _rgb_array(img)
    alpha = background_alpha(rgb)
    return Image.fromarray(np.dstack([rgb, (alpha * 255 + 0.5).astype(np.uint8)]), "RGBA")


def background_alpha(rgb: np.ndarray) -> np.ndarray:
    """Alpha (float 0..1) for an RGB array: 0 on the backdrop and inside holes, 1 on the subject, soft edges."""
    h, w = rgb.shape[:2]
    if h < 8 or w < 8:
        return np.ones((h, w), np.float32)
    surface, noise = _backdrop(rgb)
    if noise > _BUSY_NOISE:
        return _grabcut_alpha(rgb)
    dist = np.sqrt(((rgb.astype(np.float32) - surface) ** 2).sum(axis=2))
    lo = max(12.0, noise * 1.5)
    hi = lo + 40.0
    ramp = np.clip((dist - lo) / (hi - lo), 0.0, 1.0)

    # Tight: only what is within the backdrop's own noise floods in from the border, so a highlight that touches
    # the outline (glass) is not taken for backdrop; the ramp still softens the outline.
    backdrop_like = (dist < lo + 0.15 * (hi - lo)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(backdrop_like, connectivity=4)
    if count <= 1:
        return np.ones((h, w), np.float32)
    # Mean distance per region: a hole shows the backdrop itself (close to it), a pale label only resembles it.
    sums = np.bincount(labels.ravel(), weights=dist.ravel(), minlength=count)
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    means = sums / np.maximum(areas, 1)
    touches = np.zeros(count, bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        touches[np.unique(edge)] = True
    min_hole = max(16.0, h * w * 0.0002)
    is_hole = (~touches) & (areas >= min_hole) & (means < lo * 0.75)
    background = touches | is_hole
    background[0] = False  # label 0 is "not backdrop-like"
    bg = background[labels]
    fg = _drop_specks(~bg)
    if not fg.any():
        return _grabcut_alpha(rgb)
    # Near the outline the colour ramp gives soft, anti-aliased edges; inside the subject all is opaque.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    fg8 = fg.astype(np.uint8)
    near_fg = cv2.dilate(fg8, kernel).astype(bool)
    band = near_fg & ~cv2.erode(fg8, kernel).astype(bool)
    alpha = np.where(band, ramp, fg.astype(np.float32))
    alpha[~near_fg] = 0.0
    return alpha.astype(np.float32)


def _grabcut_alpha(rgb: np.ndarray) -> np.ndarray:
    """grabCut on a reduced copy for busy backdrops: the border is background, the centre probably subject."""
    h, w = rgb.shape[:2]
    scale = min(1.0, 512 / max(h, w))
    small = cv2.resize(rgb, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    my, mx = max(1, sh // 12), max(1, sw // 12)
    mask[my:-my, mx:-mx] = cv2.GC_PR_FGD
    mask[_border_mask(sh, sw, max(1, min(sh, sw) // 60))] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[..., ::-1])
    cv2.grabCut(bgr, mask, (0, 0, sw, sh), bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)  # rect unused with a mask
    fg = _drop_specks((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))
    soft = cv2.GaussianBlur(fg.astype(np.float32), (0, 0), 0.8)
    alpha = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
    # Re-sharpen after upscaling so edges stay about two pixels soft, not 1/scale pixels.
    return np.clip((alpha - 0.5) * 2.0 + 0.5, 0.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------------- key colours


@dataclass(frozen=True)
class KeyColour:
    name: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)

    @property
    def hue(self) -> float:
        r, g, b = (c / 255 for c in self.rgb)
        h, _, _ = cv2.cvtColor(np.array([[[r, g, b]]], np.float32), cv2.COLOR_RGB2HSV)[0, 0]
        return float(h)


KEY_COLOURS = (
    KeyColour("green", (0, 177, 64)),
    KeyColour("magenta", (255, 0, 255)),
    KeyColour("blue", (0, 71, 187)),
)
# Colour words (and things that are usually that colour) in degrees of hue.
_HUES = {
    "red": 0, "crimson": 350, "scarlet": 5, "ruby": 345, "cherry": 350, "strawberry": 355, "tomato": 8,
    "rose": 340, "pink": 330, "magenta": 300, "fuchsia": 300, "purple": 275, "violet": 280, "lavender": 270,
    "plum": 300, "lilac": 280, "orange": 30, "amber": 40, "gold": 50, "golden": 50, "yellow": 55, "lemon": 58,
    "banana": 55, "lime": 90, "olive": 75, "green": 120, "leaf": 110, "leaves": 110, "plant": 115, "grass": 105,
    "forest": 125, "emerald": 140, "mint": 150, "jade": 150, "sage": 100, "teal": 175, "turquoise": 175,
    "cyan": 185, "aqua": 180, "sky": 205, "ocean": 210, "sea": 205, "denim": 215, "blue": 225, "navy": 230,
    "cobalt": 220, "sapphire": 225, "indigo": 250,
}
_WORD = re.compile(r"[a-z]+")


def choose_key_colour(prompt: str) -> KeyColour:
    """The key colour furthest in hue from every colour the prompt mentions (green when none is mentioned)."""
    hues = [_HUES[word] for word in _WORD.findall((prompt or "").lower()) if word in _HUES]
    if not hues:
        return KEY_COLOURS[0]

    def clearance(key: KeyColour) -> float:
        return min(min(abs(key.hue - h), 360 - abs(key.hue - h)) for h in hues)

    return max(KEY_COLOURS, key=clearance)  # max keeps the first of equals: green, then magenta


def for_cutout_prompt(prompt: str, key: KeyColour) -> str:
    """The prompt for a cut-out: the subject alone on a flat key colour, everything else as the designer wrote."""
    return (
        f"{prompt.strip()}\n\nShow only the subject, whole and uncropped, on a perfectly flat, uniform solid "
        f"{key.name} ({key.hex}) background that fills the whole frame: no gradient, no texture, no shadow, "
        f"no floor, no reflections. Do not use {key.name} anywhere on the subject."
    )


def key_out(img: Image.Image, key: KeyColour | None = None) -> Image.Image:
    """Make the flat key colour transparent with soft edges, un-mixed edge colours and spill suppression."""
    rgb = _rgb_array(img).astype(np.float32)
    h, w = rgb.shape[:2]
    border = rgb[_border_mask(h, w, max(2, min(h, w) // 100))]
    measured = np.median(border, axis=0)  # the model never hits the hex exactly
    if key is not None and np.linalg.norm(measured - np.array(key.rgb, np.float32)) > 120:
        measured = np.array(key.rgb, np.float32)  # the border is mostly subject: trust the requested colour
    dist = np.sqrt(((rgb - measured) ** 2).sum(axis=2))
    # 75th percentile, capped: a caption or the subject may cover part of the border and must not count as noise.
    noise = min(30.0, float(np.percentile(np.sqrt(((border - measured) ** 2).sum(axis=1)), 75)))
    lo = max(20.0, noise * 1.5)
    hi = lo + 70.0
    alpha = np.clip((dist - lo) / (hi - lo), 0.0, 1.0)
    solid = _drop_specks(alpha > 0.5)
    near = cv2.dilate(solid.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))).astype(bool)
    alpha = np.where(near, alpha, 0.0)

    # Un-mix: an edge pixel is a*subject + (1-a)*key, so recover the subject's own colour.
    a = alpha[..., None]
    unmixed = np.where(a > 0.05, (rgb - (1 - a) * measured) / np.maximum(a, 0.05), rgb)
    out = np.clip(unmixed, 0, 255)
    out = _suppress_spill(out, measured, near & ~cv2.erode(solid.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool))
    rgba = np.dstack([out.astype(np.uint8), (alpha * 255 + 0.5).astype(np.uint8)])
    return Image.fromarray(rgba, "RGBA")


def _suppress_spill(rgb: np.ndarray, key: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Limit the key's dominant channels to the others near the edge (green: G <= max(R, B))."""
    strong = key >= key.max() * 0.5
    if strong.all() or not strong.any():
        return rgb
    dominant = rgb[..., strong].min(axis=-1)
    others = rgb[..., ~strong].max(axis=-1)
    spill = np.clip(dominant - others, 0, None) * where
    out = rgb.copy()
    out[..., strong] -= spill[..., None]
    return out
