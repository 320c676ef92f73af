"""Selections made from pixel colours: the magic wand and Select Colour Range, as masks (255 = edit).

Designers recolour a product by clicking it, not by painting around it. Both tools compare every pixel with a
picked colour and keep the ones within a tolerance; the wand keeps only the region connected to the click
(contiguous) unless asked for every matching pixel (global), Colour Range does the opposite by default and
gives soft edges, like Photoshop's "fuzziness". The work runs in OpenCV (headless) whole-image kernels, so a
3840x2160 picture takes tens of milliseconds (benchmarks/bench_selection.py), never a Python loop per pixel.

Tolerance is the largest difference allowed in any one of R, G and B (0–255), the measure Photoshop's wand uses:
0 keeps exactly the picked colour, 255 keeps everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from .masks import EDIT, KEEP, combine

MAX_TOLERANCE = 255
BAND_ROWS = 64  # rows per cache-sized band in color_range


class SelectionMode(StrEnum):
    """How a new selection meets the mask already painted."""

    ADD = "add"
    SUBTRACT = "subtract"
    REPLACE = "replace"


@dataclass(frozen=True)
class WandOptions:
    """The magic wand's options as a designer sets them on the context bar."""

    tolerance: int = 32
    contiguous: bool = True


@dataclass(frozen=True)
class ColorRangeOptions:
    """Select Colour Range's options: ``fuzziness`` sets both the hard tolerance and the soft falloff beyond it."""

    fuzziness: int = 40
    contiguous: bool = False


# ---------------------------------------------------------------------------------------- public API


def magic_wand(image: np.ndarray, x: int, y: int, tolerance: int = 32, *, contiguous: bool = True) -> np.ndarray:
    """A hard mask of the pixels within ``tolerance`` of the colour at (x, y).

    ``contiguous`` keeps only the region 4-connected to (x, y), as a fill would; otherwise every matching pixel in
    the picture. Raises ValueError when (x, y) is outside the picture.
    """
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    _check_point(x, y, w, h)
    tol = _tolerance(tolerance)
    if contiguous:
        return _flood(rgb, x, y, tol)
    seed = rgb[y, x].astype(np.int16)
    return _within(rgb, seed, tol)


def color_range(
    image: np.ndarray,
    colors: Sequence[Sequence[int]],
    fuzziness: int = 40,
    *,
    contiguous: bool = False,
    seed: tuple[int, int] | None = None,
) -> np.ndarray:
    """A soft mask of the pixels near any of ``colors``: 255 within ``fuzziness``, fading to 0 at twice that.

    With ``contiguous`` only the soft region connected to ``seed`` (x, y) is kept; ``seed`` is then required.
    """
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    if not colors:
        raise ValueError("pick at least one colour")
    table = _falloff_table(_tolerance(fuzziness))
    picked = [_color(color) for color in colors]
    if contiguous:
        if seed is None:
            raise ValueError("a contiguous colour range needs the point it starts from")
        _check_point(seed[0], seed[1], w, h)
    soft = np.empty((h, w), dtype=np.uint8)
    # Band by band: each band's absdiff, split, max and LUT stay in the CPU cache, which makes the whole
    # selection 3-4x faster at 4K than one pass of each over 25 MB (benchmarks/bench_selection.py).
    for y in range(0, h, BAND_ROWS):
        band = rgb[y : y + BAND_ROWS]
        distance = _max_channel_distance(band, picked[0])
        for color in picked[1:]:
            distance = cv2.min(distance, _max_channel_distance(band, color))
        cv2.LUT(distance, table, dst=soft[y : y + BAND_ROWS])
    if not contiguous or seed is None:
        return soft
    sx, sy = seed
    if soft[sy, sx] == KEEP:
        return np.zeros((h, w), dtype=np.uint8)
    _, reached = cv2.threshold(soft, 0, EDIT, cv2.THRESH_BINARY)
    region = _flood(reached, sx, sy, 0)
    return cv2.bitwise_and(soft, region)


def sample_color(image: np.ndarray, x: int, y: int, radius: int = 0) -> tuple[int, int, int]:
    """The RGB colour at (x, y), averaged over a (2r+1)² square clipped to the picture (Photoshop's sample size)."""
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    _check_point(x, y, w, h)
    r = max(0, int(radius))
    patch = rgb[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, 3)
    mean = patch.mean(axis=0).round().astype(int)
    return int(mean[0]), int(mean[1]), int(mean[2])


def apply_selection(mask: np.ndarray, selection: np.ndarray, mode: SelectionMode | str) -> np.ndarray:
    """The mask after adding, subtracting or replacing with ``selection`` (same shape)."""
    mode = SelectionMode(mode)
    if mode is SelectionMode.REPLACE:
        if mask.shape != selection.shape:
            raise ValueError(f"mask shapes differ: {mask.shape} vs {selection.shape}")
        return np.ascontiguousarray(selection, dtype=np.uint8).copy()
    return combine(mask, selection, mode.value)


# Mask colours that read well as a tint: cyan first (rare in photos and skin), then green, magenta, yellow, blue.
MASK_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 229, 255), (57, 255, 20), (255, 43, 214), (255, 212, 0), (47, 107, 255), (255, 59, 48),
)


def contrasting_color(
    image: np.ndarray, candidates: Sequence[tuple[int, int, int]] = MASK_COLORS
) -> tuple[int, int, int]:
    """The candidate that the fewest pixels resemble, so the mask tint stays visible (a pink tint on a red
    product is invisible). Judged on a ~64x64 sample, so it costs well under a millisecond at any size."""
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    step = max(1, max(h, w) // 64)
    sample = rgb[::step, ::step].reshape(-1, 3).astype(np.int16)
    best, best_score = tuple(candidates[0]), np.inf
    for color in candidates:
        distance = np.abs(sample - np.array(color, dtype=np.int16)).max(axis=1)
        score = float(np.mean(np.clip(1.0 - distance / 160.0, 0.0, 1.0)))  # how many pixels look alike
        if score < best_score - 1e-9:
            best, best_score = tuple(color), score
    return int(best[0]), int(best[1]), int(best[2])


# ---------------------------------------------------------------------------------------- helpers


def _rgb(image: np.ndarray) -> np.ndarray:
    """A C-contiguous (H, W, 3) uint8 view of an RGB, RGBA or grey picture (alpha ignored: it is not a colour)."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"a picture is uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"a picture is (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError("the picture is empty")
    if a.shape[2] == 4:
        a = a[:, :, :3]
    return np.ascontiguousarray(a)


def _check_point(x: int, y: int, w: int, h: int) -> None:
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"({x}, {y}) is outside the {w}x{h} picture")


def _tolerance(value: int) -> int:
    return int(min(max(int(value), 0), MAX_TOLERANCE))


def _color(color: Sequence[int]) -> np.ndarray:
    if len(color) < 3:
        raise ValueError(f"a colour is (R, G, B), got {tuple(color)}")
    return np.array([min(max(int(c), 0), 255) for c in color[:3]], dtype=np.int16)


def _flood(pixels: np.ndarray, x: int, y: int, tol: int) -> np.ndarray:
    """The region 4-connected to (x, y) whose every channel is within ``tol`` of the seed's, as 0/255."""
    h, w = pixels.shape[:2]
    region = np.zeros((h + 2, w + 2), dtype=np.uint8)
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (EDIT << 8)
    diff = (float(tol),) * 4  # a Scalar: one value per channel, the unused ones ignored
    # floodFill writes only the mask here (MASK_ONLY), so the picture is passed as is, never copied.
    cv2.floodFill(pixels, region, (int(x), int(y)), (0.0,) * 4, diff, diff, flags)
    return region[1:-1, 1:-1].copy()


def _within(rgb: np.ndarray, seed: np.ndarray, tol: int) -> np.ndarray:
    lo = np.clip(seed - tol, 0, 255).astype(np.uint8)
    hi = np.clip(seed + tol, 0, 255).astype(np.uint8)
    return cv2.inRange(rgb, lo, hi)


def _max_channel_distance(rgb: np.ndarray, color: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the largest |channel - colour| of each pixel."""
    # One 3-channel absdiff against a scalar, then the channel maximum: ~5x faster than numpy's max(axis=2).
    scalar: Any = (float(color[0]), float(color[1]), float(color[2]), 0.0)  # a cv::Scalar; the stubs lack it
    diff = cv2.absdiff(rgb, scalar)
    dr, dg, db = cv2.split(diff)
    return cv2.max(cv2.max(dr, dg), db)


def _falloff_table(fuzz: int) -> np.ndarray:
    """256-entry lookup: distance -> selection strength (255 up to ``fuzz``, linear to 0 at 2·fuzz + 1)."""
    d = np.arange(256, dtype=np.float32)
    span = float(fuzz + 1)
    strength = np.clip((2.0 * fuzz + 1.0 - d) / span, 0.0, 1.0)
    return np.round(strength * 255.0).astype(np.uint8)
