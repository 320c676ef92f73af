"""A quick check that the local image tools work in this install (used by --selftest, so a bundle proves it
carries the OCR models and OpenCV): read a rendered word, and cut out a drawn square."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


class SelfCheckFailed(RuntimeError):
    pass


def check_local_tools() -> str:
    from ..core.cutout import foreground_fraction, remove_background
    from ..ocr.engine import shared_engine

    img = Image.new("RGB", (640, 200), (245, 245, 240))
    draw = ImageDraw.Draw(img)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype("DejaVuSans-Bold.ttf", 80)
    except OSError:  # no DejaVu on this machine: Pillow's built-in font, scaled up
        font = ImageFont.load_default(80)
    draw.text((40, 50), "PROOF", font=font, fill=(20, 20, 20))
    readings = shared_engine().read(img, "quick")
    text = " ".join(r.text for r in readings)
    if "PROOF" not in text.upper().replace(" ", ""):
        raise SelfCheckFailed(f"OCR read {text!r} instead of 'PROOF'")
    square = np.full((120, 160, 3), 240, np.uint8)
    square[30:90, 50:110] = (200, 40, 40)
    share = foreground_fraction(remove_background(Image.fromarray(square)))
    if not 0.15 < share < 0.25:
        raise SelfCheckFailed(f"Remove Background kept {share:.0%} of a picture that is 19% subject")
    return f"OCR read {text!r}; Remove Background kept {share:.0%}"
