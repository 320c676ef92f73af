"""Posters rendered here with Pillow for the proofing tests: real fonts, sizes, colours and busy backgrounds.

Each text placed returns its true box, so a test can check that a problem is reported where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def cjk_font() -> Path | None:
    return next((p for p in CJK_FONTS if p.is_file()), None)


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = Path(name) if "/" in name else DEJAVU / name
    return ImageFont.truetype(str(path), size)


@dataclass
class Poster:
    image: Image.Image
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def text(self, xy: tuple[int, int], text: str, face: str, size: int, fill, band=None) -> None:
        draw = ImageDraw.Draw(self.image)
        f = font(face, size)
        box = draw.textbbox(xy, text, font=f)
        if band is not None:  # a solid band behind the text, like a banner
            draw.rectangle((box[0] - 20, box[1] - 14, box[2] + 20, box[3] + 14), fill=band)
        draw.text(xy, text, font=f, fill=fill)
        self.boxes[text] = tuple(int(v) for v in box)  # type: ignore[assignment]


def busy_background(width: int, height: int, seed: int = 7) -> Image.Image:
    """A gradient with soft blobs, noise and a few shapes: what a generated poster's backdrop looks like."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    a, b = rng.uniform(60, 200, 3), rng.uniform(60, 200, 3)
    t = ((xx / width + yy / height) / 2)[..., None]
    rgb = a * (1 - t) + b * t
    for _ in range(6):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(60, 260)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
        rgb = rgb * (1 - 0.5 * blob) + rng.uniform(0, 255, 3) * 0.5 * blob
    rgb += rng.normal(0, 6, rgb.shape)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        s = int(rng.uniform(20, 80))
        draw.ellipse((x, y, x + s, y + s), outline=tuple(int(v) for v in rng.uniform(0, 255, 3)), width=3)
    return img.filter(ImageFilter.GaussianBlur(0.6))


def coffee_poster(headline="SUMMER SALE", subline="Fresh coffee every morning", footer="Open daily 7am",
                  extra: str | None = None, size=(1024, 768)) -> Poster:
    p = Poster(busy_background(*size))
    p.text((70, 60), headline, "DejaVuSans-Bold.ttf", 110, (250, 240, 60), band=(150, 20, 40))
    p.text((80, 330), subline, "DejaVuSerif-BoldItalic.ttf", 52, (20, 30, 90), band=(245, 240, 230))
    p.text((90, 560), footer, "DejaVuSansMono-Bold.ttf", 44, (255, 255, 255), band=(30, 30, 30))
    if extra:
        p.text((700, 600), extra, "DejaVuSansCondensed-Bold.ttf", 60, (20, 120, 40), band=(240, 250, 240))
    return p


def overlap(a, b) -> float:
    """Intersection over the smaller box: 1 when one box lies inside the other."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(1, smaller)
