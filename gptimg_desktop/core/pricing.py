"""What a job costs: token estimates before sending, exact cost from returned usage, and credits.

gpt-image-2 has no published output-token formula, only calculator readings; the estimate
interpolates between them. Older models use the fixed per-size table from the guide.
Every estimate is an upper-leaning guess; recorded costs come from the provider's usage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .models import ModelSpec, TokenPrices, find_model
from .sizes import Size, parse_size

DEFAULT_CREDITS_PER_IMAGE = 60
PARTIAL_IMAGE_OUTPUT_TOKENS = 100

# gpt-image-2 calculator readings at high quality (shared/docs/openai-images-api.md §7).
_HIGH_READINGS: dict[tuple[int, int], int] = {
    (1024, 1024): 7024,
    (1536, 1024): 5488,
    (1024, 1536): 5488,
    (1024, 640): 3824,
    (3072, 1024): 3952,
    (2560, 1440): 7370,
    (3840, 1280): 5311,
    (2048, 2048): 14272,
    (3840, 2160): 13342,
}
# Ratio of low/medium to high, from the readings at 1024x1024 and 3:2.
_QUALITY_FACTOR = {"low": 0.029, "medium": 0.25, "high": 1.0, "xhigh": 1.6, "max": 2.4}
# Older models: fixed output tokens per quality, for (square, portrait, landscape).
_TABLE_TOKENS = {"low": (272, 408, 400), "medium": (1056, 1584, 1568), "high": (4160, 6240, 6208)}
_AUTO_SIZE = Size(1024, 1024)


def output_tokens_per_image(spec: ModelSpec, size: Size | None, quality: str) -> int:
    """Estimated image output tokens for one image. ``auto`` quality is priced as high (worst case)."""
    size = size or _AUTO_SIZE
    q = quality if quality in _QUALITY_FACTOR else "high"
    if spec.token_model == "table":
        square, portrait, landscape = _TABLE_TOKENS.get(q, _TABLE_TOKENS["high"])
        if size.width == size.height:
            return square
        return portrait if size.height > size.width else landscape
    return max(1, round(_high_tokens(size) * _QUALITY_FACTOR[q]))


def _high_tokens(size: Size) -> float:
    key = (size.width, size.height)
    if key in _HIGH_READINGS:
        return _HIGH_READINGS[key]
    # Inverse-distance weighting in (log pixels, log aspect) space over the known readings.
    lp, la = math.log(size.pixels), math.log(size.ratio)
    weight_sum = value_sum = 0.0
    for (w, h), tokens in _HIGH_READINGS.items():
        d = math.hypot(math.log(w * h) - lp, 1.5 * (math.log(max(w, h) / min(w, h)) - la))
        wgt = 1.0 / (d**2 + 1e-9)
        # Scale each reading by the square root of the pixel ratio, which matches the square series.
        value_sum += wgt * tokens * math.sqrt(size.pixels / (w * h))
        weight_sum += wgt
    return value_sum / weight_sum


def input_image_tokens(width: int, height: int) -> int:
    """Estimated tokens for one input image at high fidelity (gpt-image-1 rule; gpt-image-2 unpublished)."""
    if width <= 0 or height <= 0:  # size not known yet (e.g. a reference still loading)
        return 0
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    fidelity = 4160 if abs(width - height) < 1 else 6240
    return 65 + 129 * tiles + fidelity


def text_tokens(prompt: str) -> int:
    return max(1, math.ceil(len(prompt) / 4))


@dataclass(frozen=True)
class Usage:
    """Token usage as the API reports it."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_image_tokens: int = 0
    output_text_tokens: int = 0

    @classmethod
    def from_api(cls, usage: dict | None) -> Usage:
        if not usage:
            return cls()
        ind = usage.get("input_tokens_details") or {}
        outd = usage.get("output_tokens_details") or {}
        inp = int(usage.get("input_tokens") or 0)
        out = int(usage.get("output_tokens") or 0)
        return cls(
            input_tokens=inp,
            output_tokens=out,
            total_tokens=int(usage.get("total_tokens") or inp + out),
            input_text_tokens=int(ind.get("text_tokens") or 0),
            input_image_tokens=int(ind.get("image_tokens") or 0),
            output_image_tokens=int(outd.get("image_tokens") or (out - int(outd.get("text_tokens") or 0))),
            output_text_tokens=int(outd.get("text_tokens") or 0),
        )

    def to_api(self) -> dict:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "input_tokens_details": {"text_tokens": self.input_text_tokens, "image_tokens": self.input_image_tokens},
            "output_tokens_details": {"image_tokens": self.output_image_tokens, "text_tokens": self.output_text_tokens},
        }

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(_fields(self), _fields(other), strict=False)))


def _fields(u: Usage) -> tuple[int, ...]:
    return (
        u.input_tokens,
        u.output_tokens,
        u.total_tokens,
        u.input_text_tokens,
        u.input_image_tokens,
        u.output_image_tokens,
        u.output_text_tokens,
    )


@dataclass(frozen=True)
class PriceTable:
    """Editable USD prices per 1M tokens by model, and credits per image."""

    credits_per_image: int = DEFAULT_CREDITS_PER_IMAGE
    overrides: dict[str, TokenPrices] = field(default_factory=dict)

    def prices(self, model: str) -> TokenPrices:
        if model in self.overrides:
            return self.overrides[model]
        spec = find_model(model)
        return spec.prices if spec else TokenPrices(5.0, 1.25, 8.0, 2.0, 30.0, confirmed=False)

    def cost_usd(self, model: str, usage: Usage) -> float:
        p = self.prices(model)
        text_in = usage.input_text_tokens
        image_in = usage.input_image_tokens
        if text_in + image_in == 0 and usage.input_tokens:
            text_in = usage.input_tokens  # provider gave no breakdown
        image_out = usage.output_image_tokens or usage.output_tokens - usage.output_text_tokens
        cost = (
            text_in * p.text_in
            + image_in * p.image_in
            + image_out * p.image_out
            + usage.output_text_tokens * (p.text_out or p.image_out)
        ) / 1_000_000
        return round(cost, 6)

    def credits(self, images: int) -> int:
        return images * self.credits_per_image

    def to_dict(self) -> dict:
        return {
            "credits_per_image": self.credits_per_image,
            "overrides": {k: asdict(v) for k, v in self.overrides.items()},  # copies, not the live __dict__
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> PriceTable:
        data = data or {}
        overrides = {k: TokenPrices(**v) for k, v in (data.get("overrides") or {}).items()}
        return cls(int(data.get("credits_per_image", DEFAULT_CREDITS_PER_IMAGE)), overrides)


@dataclass(frozen=True)
class Estimate:
    usage: Usage
    cost_usd: float
    credits: int
    images: int


def estimate(
    table: PriceTable,
    model: str,
    prompt: str,
    size: str,
    quality: str,
    n: int = 1,
    partial_images: int = 0,
    input_sizes: tuple[tuple[int, int], ...] = (),
) -> Estimate:
    """The expected usage, USD and credits of a request before it is sent."""
    spec = find_model(model)
    try:
        parsed = parse_size(size)
    except ValueError:
        parsed = None
    if parsed is None and input_sizes:  # auto on an edit follows the first image's shape
        w, h = input_sizes[0]
        parsed = Size(w, h)
    per_image = output_tokens_per_image(spec, parsed, quality) if spec else 7024
    out = n * (per_image + PARTIAL_IMAGE_OUTPUT_TOKENS * partial_images)
    text_in = text_tokens(prompt)
    image_in = sum(input_image_tokens(w, h) for w, h in input_sizes)
    usage = Usage(
        input_tokens=text_in + image_in,
        output_tokens=out,
        total_tokens=text_in + image_in + out,
        input_text_tokens=text_in,
        input_image_tokens=image_in,
        output_image_tokens=out,
    )
    return Estimate(usage, table.cost_usd(model, usage), table.credits(n), n)
