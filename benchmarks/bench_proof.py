"""Text proofing benchmark: OCR plus comparison of a 1536x1024 poster with four lines over a busy background.

The baseline, measured in the same run, is rapidocr with its stock settings (full-resolution detection and the
direction classifier); the app's "full" mode caps detection at 1280 px, "quick" at 960 px without the classifier.
Model loading is reported separately: it happens once per process, on a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ._util import Context, Figure, Target, benchmark, median

PROOF = Target("proof_poster_1536x1024", "s", "<=", 3.0)
FONTS = "/usr/share/fonts/truetype/dejavu/"
LINES = [
    ("GRAND OPENING", "DejaVuSans-Bold.ttf", 140, (255, 230, 40), (60, 70)),
    ("Fresh bread and coffee every morning", "DejaVuSerif-BoldItalic.ttf", 60, (30, 20, 70), (70, 380)),
    ("Saturday 9am - 6pm", "DejaVuSansMono-Bold.ttf", 54, (255, 255, 255), (80, 620)),
    ("12 Harbour Street", "DejaVuSansCondensed.ttf", 48, (20, 20, 20), (900, 860)),
]


def poster() -> Image.Image:
    rng = np.random.default_rng(15)
    h, w = 1024, 1536
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.array((150, 60, 90), np.float32) * (1 - xx[..., None] / w) + np.array((40, 120, 160), np.float32) * (
        xx[..., None] / w)
    for _ in range(8):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(80, 300)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
        rgb = rgb * (1 - 0.5 * blob) + rng.uniform(0, 255, 3) * 0.5 * blob
    rgb += rng.normal(0, 8, rgb.shape)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    draw = ImageDraw.Draw(img)
    for text, face, size, fill, xy in LINES:
        font = ImageFont.truetype(FONTS + face, size)
        box = draw.textbbox(xy, text, font=font)
        draw.rectangle((box[0] - 18, box[1] - 12, box[2] + 18, box[3] + 12), fill=tuple(255 - c for c in fill))
        draw.text(xy, text, font=font, fill=fill)
    return img


@benchmark("proof", PROOF)
def bench_proof(ctx: Context) -> Iterator[Figure]:
    from rapidocr import RapidOCR

    from gptimg_desktop.core.proofing import compare
    from gptimg_desktop.ocr.engine import OcrEngine

    image = poster()
    expected = [line[0] for line in LINES]
    engine = OcrEngine()
    repeats = ctx.pick(3, 1)

    def run(mode: str) -> tuple[float, bool]:
        times, ok = [], True
        for _ in range(repeats):
            t0 = time.perf_counter()
            report = compare(expected, engine.read(image, mode))
            times.append(time.perf_counter() - t0)
            ok = ok and report.ok
        return median(times), ok

    t0 = time.perf_counter()
    engine.read(image, "full")  # loads the models
    load_s = time.perf_counter() - t0
    full_s, full_ok = run("full")
    engine.read(image, "quick")
    quick_s, quick_ok = run("quick")
    stock = RapidOCR(params={"Global.log_level": "warning"})
    rgb = np.asarray(image)
    stock(rgb)
    stock_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        stock(rgb)
        stock_times.append(time.perf_counter() - t0)
    stock_s = median(stock_times)
    note = (f"ratio to target {full_s / PROOF.bound:.2f}; quick mode {quick_s:.2f} s "
            f"(ratio {quick_s / PROOF.bound:.2f}); rapidocr stock settings {stock_s:.2f} s "
            f"(full/stock {full_s / stock_s:.2f}); model load {load_s:.1f} s; "
            f"text correct: full {full_ok}, quick {quick_ok}")
    yield PROOF.measured(full_s, note, quick_s=round(quick_s, 3), stock_s=round(stock_s, 3),
                         load_s=round(load_s, 2), repeats=repeats, full_ok=full_ok, quick_ok=quick_ok)
