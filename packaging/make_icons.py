"""Draws the app icon once and writes every size the platforms need into resources/icons/.

Run: python packaging/make_icons.py   (the results are committed; rerun only to change the design)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)


def draw(size: int = 1024) -> Image.Image:
    s = size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    # Rounded square with a blue-to-violet gradient.
    grad = Image.new("RGBA", (s, s))
    px = grad.load()
    for y in range(s):
        for x in range(s):
            t = (x + y) / (2 * s)
            px[x, y] = (int(58 + 90 * t), int(116 - 40 * t), int(255 - 30 * t), 255)
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle((s * 0.06, s * 0.06, s * 0.94, s * 0.94), radius=s * 0.2, fill=255)
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    # A framed picture: mountains and a sun.
    frame = (s * 0.22, s * 0.24, s * 0.78, s * 0.70)
    d.rounded_rectangle(frame, radius=s * 0.05, fill=(255, 255, 255, 235))
    d.polygon([(s * 0.26, s * 0.66), (s * 0.42, s * 0.44), (s * 0.54, s * 0.58), (s * 0.62, s * 0.50),
               (s * 0.74, s * 0.66)], fill=(76, 141, 255, 255))
    d.ellipse((s * 0.58, s * 0.30, s * 0.68, s * 0.40), fill=(255, 184, 76, 255))
    # A mask-brush stroke across the corner, in the app's mask colour.
    stroke = Image.new("L", (s, s), 0)
    ImageDraw.Draw(stroke).line([(s * 0.30, s * 0.80), (s * 0.55, s * 0.74), (s * 0.80, s * 0.78)],
                                fill=255, width=int(s * 0.09), joint="curve")
    stroke = stroke.filter(ImageFilter.GaussianBlur(s * 0.004))
    tint = Image.new("RGBA", (s, s), (255, 40, 90, 255))
    img.paste(tint, (0, 0), stroke.point(lambda v: int(v * 0.9)))
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw(1024)
    for size in SIZES:
        big.resize((size, size), Image.Resampling.LANCZOS).save(OUT / f"app-{size}.png", optimize=True)
    big.save(OUT / "app.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    big.save(OUT / "app.icns")
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
