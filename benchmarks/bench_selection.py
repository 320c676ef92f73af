"""Selection benchmarks: magic wand and Select Colour Range on a 3840x2160 photo, against a plain-numpy baseline.

The worst realistic input: a grainy 4K photo with a large red product on it (a quarter of the frame), clicked on
the product with a tolerance that takes in its grain, so the fill really walks millions of pixels. The baseline is
the least any numpy selection must do: one int16 colour-distance pass over the picture (no fill, no soft edges),
timed interleaved with the tool in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._util import Context, Figure, Target, benchmark, median, ms, synthetic_photo, timed

W, H = 3840, 2160
WAND = Target("selection_magic_wand_3840x2160", "ms", "<=", 150)
WAND_GLOBAL = Target("selection_magic_wand_global_3840x2160", "ms", "<=", 150)
RANGE = Target("selection_color_range_3840x2160", "ms", "<=", 150)
RANGE_CONTIGUOUS = Target("selection_color_range_contiguous_3840x2160", "ms", "<=", 150)
WAND_SPEEDUP = Target("selection_magic_wand_speedup_vs_numpy_pass", "x", ">=", 1)
RANGE_SPEEDUP = Target("selection_color_range_speedup_vs_numpy_pass", "x", ">=", 1)

PRODUCT = (slice(540, 1620), slice(960, 2880))  # a quarter of the frame
PRODUCT_RGB = (196, 34, 40)
CLICK = (1900, 1000)
TOLERANCE = 24


def photo_with_product() -> np.ndarray:
    pixels = synthetic_photo(W, H, seed=11).copy()
    rng = np.random.default_rng(12)
    grain = rng.integers(-12, 13, (PRODUCT[0].stop - PRODUCT[0].start, PRODUCT[1].stop - PRODUCT[1].start, 3))
    pixels[PRODUCT] = np.clip(np.array(PRODUCT_RGB, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    return pixels


def numpy_pass(pixels: np.ndarray, color: tuple[int, int, int], tolerance: int) -> np.ndarray:
    """The baseline: |pixel - colour| per channel in int16, its maximum, compared with the tolerance."""
    diff = np.abs(pixels.astype(np.int16) - np.array(color, dtype=np.int16))
    return (diff.max(axis=2) <= tolerance).astype(np.uint8) * 255


@benchmark("selection", WAND, WAND_GLOBAL, RANGE, RANGE_CONTIGUOUS, WAND_SPEEDUP, RANGE_SPEEDUP)
def bench_selection(ctx: Context) -> Iterator[Figure]:
    from gptimg_desktop.core import selection

    pixels = ctx.cached("selection-photo", photo_with_product)
    repeats = ctx.pick(15, 5)
    x, y = CLICK
    seed_rgb = selection.sample_color(pixels, x, y)
    runs: dict[str, list[float]] = {"wand": [], "wand_global": [], "range": [], "range_contiguous": [], "numpy": []}
    covered: dict[str, float] = {}
    tools = {
        "wand": lambda: selection.magic_wand(pixels, x, y, TOLERANCE),
        "wand_global": lambda: selection.magic_wand(pixels, x, y, TOLERANCE, contiguous=False),
        "range": lambda: selection.color_range(pixels, [PRODUCT_RGB], TOLERANCE),
        "range_contiguous": lambda: selection.color_range(pixels, [PRODUCT_RGB], TOLERANCE, contiguous=True,
                                                          seed=(x, y)),
        "numpy": lambda: numpy_pass(pixels, seed_rgb, TOLERANCE),
    }
    for _ in range(1 + repeats):  # the first round warms caches and is dropped
        for name, fn in tools.items():  # interleaved, so a noisy neighbour hits tool and baseline alike
            seconds, mask = timed(fn)
            runs[name].append(seconds)
            covered[name] = float(np.count_nonzero(mask)) / mask.size
    for name in runs:
        runs[name] = runs[name][1:]
    med = {name: median(values) for name, values in runs.items()}
    details = {"repeats": repeats, "tolerance": TOLERANCE, "coverage": {k: round(v, 3) for k, v in covered.items()},
               "numpy_pass_ms": round(ms(med["numpy"]), 1)}
    yield WAND.measured(ms(med["wand"]), f"contiguous fill over {covered['wand']:.0%} of the frame", **details)
    yield WAND_GLOBAL.measured(ms(med["wand_global"]), **details)
    yield RANGE.measured(ms(med["range"]), "soft edges", **details)
    yield RANGE_CONTIGUOUS.measured(ms(med["range_contiguous"]), **details)
    yield WAND_SPEEDUP.measured(med["numpy"] / med["wand"], f"numpy pass {ms(med['numpy']):.0f} ms", **details)
    yield RANGE_SPEEDUP.measured(med["numpy"] / med["range"], f"numpy pass {ms(med['numpy']):.0f} ms", **details)
