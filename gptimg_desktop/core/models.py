"""The capability table: what each GPT Image model accepts, as data.

Every rule the CLI, the editor and the local server enforce comes from here, so
adding a model is adding one ``ModelSpec``. Facts come from
shared/docs/openai-images-api.md (SPEC, SDK 3.54.0, deprecation pages).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .errors import RequestRefused

DEFAULT_MODEL = "gpt-image-2"

MB = 1024 * 1024
FIXED_SIZES = ("1024x1024", "1536x1024", "1024x1536")


@dataclass(frozen=True)
class TokenPrices:
    """USD per one million tokens (Standard tier)."""

    text_in: float
    text_in_cached: float
    image_in: float
    image_in_cached: float
    image_out: float
    text_out: float = 0.0
    confirmed: bool = True  # False where the public price is not published yet


@dataclass(frozen=True)
class SizeRules:
    """Limits for models that take an arbitrary WIDTHxHEIGHT."""

    multiple: int = 16
    max_edge: int = 3840
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400
    max_ratio: float = 3.0
    experimental_above_pixels: int = 2560 * 1440


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    snapshots: tuple[str, ...] = ()
    # None means flexible sizes governed by ``size_rules``; otherwise the only WxH values allowed.
    fixed_sizes: tuple[str, ...] | None = None
    size_rules: SizeRules = field(default_factory=SizeRules)
    qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
    # "yes", "preview" (off unless the user opts in) or "no"
    transparent: str = "yes"
    input_fidelity: tuple[str, ...] = ()  # allowed values; empty means never send the field
    max_n: int = 10
    max_images: int = 16
    max_image_bytes: int = 50 * MB
    max_mask_bytes: int = 4 * MB
    max_prompt_chars: int = 32_000
    streaming: bool = True
    max_partial_images: int = 3
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    moderations: tuple[str, ...] = ("auto", "low")
    shutdown: _dt.date | None = None
    replacement: str | None = None
    prices: TokenPrices = TokenPrices(5.0, 1.25, 8.0, 2.0, 30.0)
    # "table": fixed output-token table per size class; "calculator": gpt-image-2 style readings
    token_model: str = "calculator"
    notes: str = ""

    @property
    def flexible_sizes(self) -> bool:
        return self.fixed_sizes is None

    @property
    def backgrounds(self) -> tuple[str, ...]:
        return ("auto", "opaque") if self.transparent == "no" else ("auto", "opaque", "transparent")

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.snapshots)

    def is_shut_down(self, today: _dt.date | None = None) -> bool:
        return self.shutdown is not None and (today or _dt.date.today()) >= self.shutdown

    def lifecycle_note(self, today: _dt.date | None = None) -> str:
        """A short line for the model picker: empty for a model with no end date."""
        if self.shutdown is None:
            return ""
        when = self.shutdown.isoformat()
        if self.is_shut_down(today):
            return f"{self.name} was shut down on {when}; use {self.replacement}."
        return f"{self.name} shuts down on {when}; move to {self.replacement}."


@dataclass(frozen=True)
class RetiredModel:
    name: str
    retired: _dt.date
    replacement: str


_GPT_IMAGE_2_NOTES = (
    "Sizes up to 3840 px on the long edge (both sides multiples of 16); "
    "above 2560x1440 is experimental. Transparent backgrounds are a preview on some accounts only."
)
_V25_PRICES = TokenPrices(5.0, 1.25, 8.0, 2.0, 30.0, confirmed=False)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="gpt-image-2",
        label="GPT Image 2",
        snapshots=("gpt-image-2-2026-04-21",),
        transparent="preview",
        notes=_GPT_IMAGE_2_NOTES,
    ),
    ModelSpec(
        name="gpt-image-2.6-sunburst",
        label="GPT Image 2.6 Sunburst",
        qualities=("low", "medium", "high", "xhigh", "max", "auto"),
        notes="Same size rules as gpt-image-2; adds xhigh and max quality.",
    ),
    ModelSpec(
        name="gpt-image-2.6-flare",
        label="GPT Image 2.6 Flare",
        qualities=("low", "medium", "high", "xhigh", "max", "auto"),
        prices=_V25_PRICES,
        notes="Same size rules as gpt-image-2; adds xhigh and max quality. Price assumed equal to gpt-image-2.",
    ),
    ModelSpec(
        name="gpt-image-2.5-sunburst",
        label="GPT Image 2.5 Sunburst",
        snapshots=("gpt-image-2.5-sunburst-2026-09-08",),
        qualities=("low", "medium", "high", "xhigh", "max", "auto"),
        prices=_V25_PRICES,
        notes="Same size rules as gpt-image-2; adds xhigh and max quality. Price assumed equal to gpt-image-2.",
    ),
    ModelSpec(
        name="gpt-image-2.5-flare",
        label="GPT Image 2.5 Flare",
        snapshots=("gpt-image-2.5-flare-2026-09-08",),
        qualities=("low", "medium", "high", "xhigh", "max", "auto"),
        prices=_V25_PRICES,
        notes="Same size rules as gpt-image-2; adds xhigh and max quality. Price assumed equal to gpt-image-2.",
    ),
    ModelSpec(
        name="gpt-image-1.5",
        label="GPT Image 1.5",
        snapshots=("gpt-image-1.5-2025-12-16",),
        fixed_sizes=FIXED_SIZES,
        input_fidelity=("low", "high"),
        shutdown=_dt.date(2026, 12, 1),
        replacement="gpt-image-2.6-sunburst",
        prices=TokenPrices(5.0, 1.25, 8.0, 2.0, 32.0, confirmed=False),
        token_model="table",
        notes="Three sizes only: 1024x1024, 1536x1024, 1024x1536.",
    ),
    ModelSpec(
        name="gpt-image-1-mini",
        label="GPT Image 1 mini",
        fixed_sizes=FIXED_SIZES,
        input_fidelity=("low",),
        shutdown=_dt.date(2026, 12, 1),
        replacement="gpt-image-2.6-sunburst",
        prices=TokenPrices(2.0, 0.2, 2.5, 0.25, 8.0),
        token_model="table",
        notes="Cheapest drafts; three sizes only.",
    ),
    ModelSpec(
        name="chatgpt-image-latest",
        label="ChatGPT Image (latest)",
        fixed_sizes=FIXED_SIZES,
        shutdown=_dt.date(2026, 12, 1),
        replacement="gpt-image-2.6-sunburst",
        prices=TokenPrices(5.0, 1.25, 8.0, 2.0, 32.0, confirmed=False),
        token_model="table",
        notes="Three sizes only.",
    ),
)

RETIRED: tuple[RetiredModel, ...] = (
    RetiredModel("gpt-image-1", _dt.date(2026, 10, 23), "gpt-image-2"),
    RetiredModel("dall-e-3", _dt.date(2026, 5, 12), "gpt-image-2"),
    RetiredModel("dall-e-2", _dt.date(2026, 5, 12), "gpt-image-2"),
)

_BY_NAME = {name: spec for spec in MODELS for name in spec.names()}
_RETIRED_BY_NAME = {r.name: r for r in RETIRED}


def model_names() -> list[str]:
    """The selectable models, default first."""
    return [spec.name for spec in MODELS]


def find_model(name: str) -> ModelSpec | None:
    return _BY_NAME.get(name)


def get_model(name: str, today: _dt.date | None = None) -> ModelSpec:
    """The spec for ``name`` (an alias or a snapshot), or RequestRefused naming a replacement."""
    spec = _BY_NAME.get(name)
    if spec is not None:
        if spec.is_shut_down(today):
            raise RequestRefused(
                f"{name} was shut down on {spec.shutdown} — use {spec.replacement} instead.",
                param="model",
            )
        return spec
    retired = _RETIRED_BY_NAME.get(name)
    if retired is not None:
        raise RequestRefused(
            f"{name} was retired on {retired.retired.isoformat()} and no longer works — "
            f"use {retired.replacement} instead.",
            param="model",
        )
    known = ", ".join(model_names())
    raise RequestRefused(f"Unknown model '{name}'. Choose one of: {known}.", param="model")
