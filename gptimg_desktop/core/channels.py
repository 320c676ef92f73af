"""Channel sizes: presets, the API size to generate at for each, and delivering exactly the preset's pixels.

For a target W x H the model is asked for the nearest valid size with the same aspect (multiples of 16, long
edge at most 3840, ratio within 1:3-3:1, pixel count within the floor and ceiling), preferring one at least
as large as the target so the delivery only ever shrinks. A target outside 1:3-3:1 is generated at the
nearest allowed ratio and then cropped, and the plan says so. Delivery scales the result to cover the target
with a high-quality filter and crops the overflow from the centre: the aspect is never changed (no stretch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from .errors import RequestRefused
from .models import ModelSpec
from .sizes import Size, is_valid, parse_size, snap_size


@dataclass(frozen=True)
class ChannelPreset:
    name: str
    width: int
    height: int

    @property
    def size(self) -> Size:
        return Size(self.width, self.height)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "width": self.width, "height": self.height}


CHANNEL_PRESETS: tuple[ChannelPreset, ...] = (
    ChannelPreset("instagram-post", 1080, 1080),
    ChannelPreset("instagram-portrait", 1080, 1350),
    ChannelPreset("story", 1080, 1920),
    ChannelPreset("youtube-thumbnail", 1280, 720),
    ChannelPreset("x-post", 1600, 900),
    ChannelPreset("x-header", 1500, 500),
    ChannelPreset("linkedin-banner", 1584, 396),
    ChannelPreset("facebook-cover", 820, 312),
    ChannelPreset("a4-poster", 2480, 3508),
)
CUSTOM = "custom"
MAX_DELIVERY_EDGE = 20_000  # a custom size bigger than this is a typo, not a channel


def channel_preset(name: str) -> ChannelPreset:
    for preset in CHANNEL_PRESETS:
        if preset.name == name.strip().lower():
            return preset
    known = ", ".join(p.name for p in CHANNEL_PRESETS)
    raise RequestRefused(f"There is no channel preset '{name}'; choose from: {known}, or give --size WxH.",
                         param="preset")


def custom_preset(text: str) -> ChannelPreset:
    """A ``WxH`` typed by the user as a channel ("custom")."""
    size = parse_size(text)
    if size is None:
        raise RequestRefused("A custom channel size needs WIDTHxHEIGHT, not auto.", param="size")
    if max(size.width, size.height) > MAX_DELIVERY_EDGE:
        raise RequestRefused(f"{size} is too large to deliver; keep each side at most {MAX_DELIVERY_EDGE:,} px.",
                             param="size")
    return ChannelPreset(CUSTOM, size.width, size.height)


@dataclass(frozen=True)
class ChannelPlan:
    preset: ChannelPreset
    api_size: Size
    ratio_clamped: bool  # the target's aspect is outside what the model makes: generated at the limit, then cropped

    @property
    def target(self) -> Size:
        return self.preset.size

    @property
    def note(self) -> str | None:
        if not self.ratio_clamped:
            return None
        return (f"{self.preset.name} ({self.target}) is wider or taller than the model's 1:3-3:1 limit: it is "
                f"generated at {self.api_size} and cropped to {self.target}.")

    def recompose_prompt(self, source_prompt: str = "") -> str:
        """The edit instruction that re-lays the source out for this format (prompting-guide wording)."""
        t = self.target
        shape = "square" if t.width == t.height else ("landscape" if t.width > t.height else "portrait")
        lines = [
            "Image 1: the approved design to adapt.",
            f"Recompose Image 1 for a {shape} {t.width}x{t.height} {self.preset.name} format.",
            "Change only the framing and layout: extend or rearrange the background so the composition fits the "
            "new shape naturally.",
            "Keep the subject, style, colours, lighting and any text exactly as in Image 1; do not add new text.",
        ]
        if self.ratio_clamped:
            long_is_width = t.width >= t.height
            keep = t.height / self.api_size.height if long_is_width else t.width / self.api_size.width
            band = "height" if long_is_width else "width"
            lines.append(f"The result will be cropped to the middle {keep:.0%} of its {band}: keep the subject and "
                         "all text inside that band.")
        if source_prompt:
            lines.append(f"Original brief: {source_prompt.strip()[:600]}")
        return "\n".join(lines)


def plan_channel(spec: ModelSpec, preset: ChannelPreset) -> ChannelPlan:
    """The API size for one channel: same aspect, valid, and at least the target's size where the limits allow."""
    w, h = preset.width, preset.height
    if w <= 0 or h <= 0:
        raise RequestRefused("Channel sizes must be positive.", param="size")
    if spec.fixed_sizes is not None:
        return ChannelPlan(preset, snap_size(spec, w, h), abs(math.log(w / h)) > math.log(1.5) + 1e-9)
    rules = spec.size_rules
    ratio = w / h
    clamped_ratio = min(max(ratio, 1 / rules.max_ratio), rules.max_ratio)
    clamped = abs(clamped_ratio - ratio) > 1e-9
    # Cover the target at the clamped ratio: keep the long side and let the crop take the short side.
    if clamped:
        w_c, h_c = (float(w), w / clamped_ratio) if ratio > 1 else (h * clamped_ratio, float(h))
    else:
        w_c, h_c = float(w), float(h)
    scale = max(1.0, math.sqrt(rules.min_pixels / (w_c * h_c)))  # up to the pixel floor
    scale = min(scale, math.sqrt(rules.max_pixels / (w_c * h_c)), rules.max_edge / max(w_c, h_c))
    return ChannelPlan(preset, _best_multiple_fit(spec, w_c * scale, h_c * scale), clamped)


def _best_multiple_fit(spec: ModelSpec, w: float, h: float) -> Size:
    """The valid size near ``w`` x ``h`` with the closest aspect, preferring sizes that cover it."""
    m = spec.size_rules.multiple
    target = math.log(w / h)
    best: tuple[float, Size] | None = None
    for cw in range(max(m, (int(w) // m - 3) * m), (int(w) // m + 4) * m + 1, m):
        for ch in range(max(m, (int(h) // m - 3) * m), (int(h) // m + 4) * m + 1, m):
            cand = Size(cw, ch)
            if not is_valid(spec, cand):
                continue
            aspect_error = abs(math.log(cw / ch) - target)
            shortfall = max(0.0, math.log(w / cw)) + max(0.0, math.log(h / ch))  # would need upscaling
            growth = abs(math.log(cw * ch / (w * h)))
            cost = aspect_error * 20 + shortfall * 4 + growth
            if best is None or cost < best[0] - 1e-12:
                best = (cost, cand)
    return best[1] if best is not None else snap_size(spec, w, h)


def fit_exact(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` scaled (Lanczos) to cover ``width`` x ``height`` and centre-cropped to it: exact pixels, the
    aspect of the content unchanged."""
    if image.size == (width, height):
        return image.copy()
    scale = max(width / image.width, height / image.height)
    scaled_w = max(width, round(image.width * scale))
    scaled_h = max(height, round(image.height * scale))
    resized = image.resize((scaled_w, scaled_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    left = (scaled_w - width) // 2
    top = (scaled_h - height) // 2
    return resized.crop((left, top, left + width, top + height))
