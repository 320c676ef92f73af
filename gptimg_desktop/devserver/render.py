"""Stand-in images for the local Images API: deterministic pictures derived from the prompt.

Generations paint gradients and soft shapes from a prompt hash; edits change the first input
image (only where the mask is transparent, when there is a mask). Everything is built at low
resolution with numpy and resized, so even 3840x2160 takes a fraction of a second.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import re
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_WORK_EDGE = 256  # long edge of the low-resolution canvas that gets upscaled
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def prompt_rng(prompt: str, index: int = 0, salt: str = "") -> np.random.Generator:
    digest = hashlib.sha256(f"{salt}|{index}|{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def palette(rng: np.random.Generator, count: int = 4) -> np.ndarray:
    """``count`` harmonious RGB colours (floats 0..255) around a random base hue."""
    base = rng.random()
    colours = []
    for i in range(count):
        hue = (base + i * rng.uniform(0.08, 0.3)) % 1.0
        sat = rng.uniform(0.45, 0.9)
        val = rng.uniform(0.55, 0.95)
        colours.append([c * 255 for c in colorsys.hsv_to_rgb(hue, sat, val)])
    return np.array(colours, dtype=np.float32)


_KEY_BACKDROP = re.compile(r"solid [a-z]+ \((#[0-9A-Fa-f]{6})\) background")


def generate(prompt: str, width: int, height: int, index: int = 0, transparent: bool = False) -> Image.Image:
    """A new picture for ``prompt``: RGB, or RGBA with a clear background when ``transparent``.

    A prompt asking for a flat key-colour backdrop ("Generate for cutout") gets the subject on that colour.
    """
    key = _KEY_BACKDROP.search(prompt)
    if key and not transparent:
        subject = generate(prompt, width, height, index, transparent=True)
        flat = Image.new("RGB", subject.size, key.group(1))
        flat.paste(subject, mask=subject.getchannel("A"))
        return flat
    rng = prompt_rng(prompt, index, "generate")
    colours = palette(rng)
    sw, sh = _work_size(width, height)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xx /= sw
    yy /= sh
    angle = rng.uniform(0, 2 * np.pi)
    t = np.clip(0.5 + (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle), 0, 1)[..., None]
    rgb = colours[0] * (1 - t) + colours[1] * t
    alpha = np.zeros((sh, sw), dtype=np.float32)
    # Soft blobs: the "subject" of the picture, and the only opaque part when transparent.
    for k in range(int(rng.integers(3, 6))):
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        r = rng.uniform(0.08, 0.22)
        d2 = ((xx - cx) * sw / max(sw, sh)) ** 2 + ((yy - cy) * sh / max(sw, sh)) ** 2
        blob = np.exp(-d2 / (2 * r * r))[..., None]
        rgb = rgb * (1 - blob) + colours[2 + k % 2] * blob
        alpha = np.maximum(alpha, np.clip(blob[..., 0] * 2.2 - 0.6, 0, 1))
    img = _upscale(rgb, width, height)
    _draw_shapes(img, rng, colours)
    if transparent:
        mask = Image.fromarray((alpha * 255).astype(np.uint8), "L").resize((width, height), Image.Resampling.BILINEAR)
        img.putalpha(mask)
    _draw_headline(img, prompt)
    _draw_caption(img, prompt)
    return img


_QUOTED = re.compile(r"[\"“”'‘’«»]([^\"“”'‘’«»]{2,40})[\"“”'‘’«»]")


def _draw_headline(img: Image.Image, prompt: str) -> None:
    """Text the prompt quotes ('MORNING BREW') set large, as a stand-in for the model's in-image text."""
    match = _QUOTED.search(prompt)
    if not match:
        return
    text = match.group(1).strip()
    width, height = img.size
    draw = ImageDraw.Draw(img)
    size = max(12, int(min(width, height) * 0.11))
    font = ImageFont.load_default(size=size)
    while size > 12 and draw.textlength(text, font=font) > width * 0.86:
        size = int(size * 0.9)
        font = ImageFont.load_default(size=size)
    text_width = draw.textlength(text, font=font)
    x, y = (width - text_width) / 2, height * 0.12
    shadow = max(2, size // 18)
    opaque = img.mode == "RGBA"
    draw.text((x + shadow, y + shadow), text, font=font, fill=(0, 0, 0, 170) if opaque else (20, 20, 20))
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 255) if opaque else (250, 248, 240))


def edit(
    prompt: str,
    base: Image.Image,
    width: int,
    height: int,
    index: int = 0,
    mask: Image.Image | None = None,
    references: tuple[Image.Image, ...] = (),
    transparent: bool = False,
) -> Image.Image:
    """``base`` changed by ``prompt``: only where ``mask`` alpha is 0 when there is a mask, else as a whole.

    With a mask, every pixel whose mask alpha is not 0 keeps its exact value, so a lossless
    output shows precisely which pixels the "model" touched.
    """
    rng = prompt_rng(prompt, index, "edit")
    colours = palette(rng)
    source = base.convert("RGBA" if transparent else "RGB")
    if source.size != (width, height):
        source = source.resize((width, height), Image.Resampling.BICUBIC)
    rgb = source.convert("RGB") if transparent else source
    tint = colours[0]
    if references:
        # Reference images pull the result a little toward their average colour.
        tint = tint * 0.7 + _mean_colour(references) * 0.3
    if mask is None:
        # A colour grade: per-channel gain toward the prompt's tint, done with lookup tables.
        gain = rng.uniform(0.75, 1.2, size=3)
        levels = np.arange(256, dtype=np.float32)
        lut = np.concatenate([np.clip(levels * g * 0.8 + t * 0.2, 0, 255) for g, t in zip(gain, tint, strict=False)])
        changed = rgb.point(lut.astype(np.uint8).tolist())
        _vignette(changed, rng)
    else:
        overlay = _upscale(_overlay(width, height, rng, tint, colours[1]), width, height)
        # composite() with a constant mask is blend(rgb, overlay, 0.65) but lets go of the GIL meanwhile:
        # in demo mode this server shares the editor's process, and blend() at 4K stalls its UI ~25 ms.
        changed = Image.composite(overlay, rgb, Image.new("L", rgb.size, round(0.65 * 255)))
    _draw_headline(changed, prompt)  # an edit that quotes text carries it, as a generated image does
    _draw_caption(changed, prompt)
    if transparent:
        changed.putalpha(source.getchannel("A"))
    if mask is None:
        return changed
    # composite() copies each pixel exactly from one side where the mask is 0 or 255.
    return Image.composite(changed, source, _edit_area(mask, width, height))


def partials(final: Image.Image, count: int) -> Iterator[Image.Image]:
    """``count`` previews of ``final`` at full size, coarse to fine, like a model refining its output.

    Made one at a time as they are taken: a 4K frame is 33 MB, and the server sends each before the next.
    """
    width, height = final.size
    for i in range(count):
        divisor = 2 ** (count - i + 2)  # 32, 16, 8 for three partials
        small = final.reduce(min(divisor, width, height))  # box filter: fast at any size
        yield small.resize((width, height), Image.Resampling.BILINEAR)


def encode(img: Image.Image, output_format: str, compression: int | None = None) -> bytes:
    """``img`` as png | jpeg | webp bytes; ``compression`` (0-100) is the JPEG/WebP quality."""
    buf = io.BytesIO()
    if output_format == "png":
        img.save(buf, "PNG", compress_level=1)  # speed over size: a local stand-in
    else:
        quality = 100 if compression is None else max(1, min(100, compression))
        if output_format == "jpeg" and img.mode != "RGB":
            img = img.convert("RGB")
        options = {"method": 0} if output_format == "webp" else {}
        img.save(buf, _PIL_FORMATS[output_format], quality=quality, **options)
    return buf.getvalue()


# ---------------------------------------------------------------------- helpers
def _work_size(width: int, height: int) -> tuple[int, int]:
    scale = _WORK_EDGE / max(width, height)
    return max(8, round(width * scale)), max(8, round(height * scale))


def _upscale(rgb: np.ndarray, width: int, height: int) -> Image.Image:
    small = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return small.resize((width, height), Image.Resampling.BICUBIC)


def _draw_shapes(img: Image.Image, rng: np.random.Generator, colours: np.ndarray) -> None:
    draw = ImageDraw.Draw(img)
    width, height = img.size
    unit = min(width, height)
    for _ in range(int(rng.integers(2, 5))):
        colour = tuple(int(c) for c in colours[int(rng.integers(0, len(colours)))])
        cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        r = rng.uniform(0.04, 0.12) * unit
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=max(2, unit // 200))
        else:
            points = [
                (cx + r * np.cos(a), cy + r * np.sin(a))
                for a in rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3
            ]
            draw.polygon(points, fill=colour)


def _draw_caption(img: Image.Image, prompt: str) -> None:
    """The prompt in small type at the bottom-left, so each prompt's picture is visibly its own.

    Not when the prompt quotes text: the picture carries that text (_draw_headline), and a caption would be
    text nobody asked for, which proofing rightly flags: every demo poster came out with a false alarm.
    """
    if _QUOTED.search(prompt):
        return
    width, height = img.size
    size = max(10, min(width, height) // 48)
    font = ImageFont.load_default(size=size)
    text = " ".join(prompt.split())
    text = text if len(text) <= 60 else text[:57] + "..."
    draw = ImageDraw.Draw(img)
    margin = size // 2
    _left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    y = height - (bottom - top) - 2 * margin
    box_fill = (0, 0, 0, 160) if img.mode == "RGBA" else (0, 0, 0)
    draw.rectangle((0, y - margin, min(width, right + 2 * margin), height), fill=box_fill)
    text_fill = (255, 255, 255, 255) if img.mode == "RGBA" else (255, 255, 255)
    draw.text((margin, y - top), text, font=font, fill=text_fill)


def _overlay(width: int, height: int, rng: np.random.Generator, tint: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Low-resolution RGB stripes in the prompt's colours; angle and frequency come from the prompt."""
    sw, sh = _work_size(width, height)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    freq = rng.uniform(0.08, 0.2)
    wave = (0.5 + 0.5 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * freq * 2 * np.pi))[..., None]
    return tint * (0.55 + 0.45 * wave) + second * 0.45 * (1 - wave)


def _edit_area(mask: Image.Image, width: int, height: int) -> Image.Image:
    """An L image, 255 where the mask is fully transparent (the area to edit) and 0 elsewhere."""
    alpha = mask.convert("RGBA").getchannel("A")
    if alpha.size != (width, height):
        alpha = alpha.resize((width, height), Image.Resampling.NEAREST)
    return alpha.point([255] + [0] * 255)


def _mean_colour(images: tuple[Image.Image, ...]) -> np.ndarray:
    means = [
        np.asarray(img.convert("RGB").resize((16, 16), Image.Resampling.BILINEAR), dtype=np.float32).mean(axis=(0, 1))
        for img in images
    ]
    return np.mean(means, axis=0)


def _vignette(img: Image.Image, rng: np.random.Generator) -> None:
    draw = ImageDraw.Draw(img)
    width, height = img.size
    line = max(2, min(width, height) // 64)
    colour = tuple(int(c) for c in rng.integers(0, 80, size=3))
    draw.rectangle((0, 0, width - 1, height - 1), outline=colour, width=line)
