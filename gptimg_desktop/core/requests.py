"""Image requests: one immutable object per job, checked against the model before sending.

``ImageRequest.validate()`` raises RequestRefused with a message that says what to change;
``json_body()`` and ``form_fields()`` are the exact parameters the provider sends, so no layer
above decides on its own which fields exist (input_fidelity is never sent for gpt-image-2).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import RequestRefused
from .models import DEFAULT_MODEL, ModelSpec, find_model, get_model
from .pricing import Estimate, PriceTable, estimate
from .sizes import Size, check_size, is_experimental, parse_size

INPUT_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class ImageInput:
    """An input image ready to upload: the exact bytes, their format and pixel size."""

    filename: str
    data: bytes = field(repr=False)
    format: str  # png | jpeg | webp
    width: int
    height: int
    has_alpha: bool = False
    source_path: str | None = None  # the file it came from, when there was one

    @property
    def mime_type(self) -> str:
        return INPUT_MIME_TYPES[self.format]

    @property
    def size(self) -> Size:
        return Size(self.width, self.height)


@dataclass(frozen=True)
class ImageRequest:
    """A generate (no images) or edit (one or more images) request."""

    prompt: str
    model: str = DEFAULT_MODEL
    size: str = "auto"
    quality: str = "auto"
    n: int = 1
    output_format: str = "png"
    output_compression: int | None = None
    background: str = "auto"
    moderation: str = "auto"
    stream: bool = False
    partial_images: int = 0
    images: tuple[ImageInput, ...] = ()
    mask: ImageInput | None = None
    input_fidelity: str | None = None
    # The user turned on the gpt-image-2 transparent-background preview for their account.
    allow_transparent_preview: bool = False

    @property
    def kind(self) -> str:
        return "edit" if self.images else "generate"

    @property
    def endpoint(self) -> str:
        return "/images/edits" if self.images else "/images/generations"

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    def with_changes(self, **changes: Any) -> ImageRequest:
        return replace(self, **changes)

    # ------------------------------------------------------------------ validation
    def validate(self, today: _dt.date | None = None) -> ImageRequest:
        """Raise RequestRefused on the first broken rule; return self when all hold."""
        spec = get_model(self.model, today)
        self._check_prompt(spec)
        check_size(spec, self.size)
        _choice("quality", self.quality, spec.qualities)
        if not isinstance(self.n, int) or not 1 <= self.n <= spec.max_n:
            raise RequestRefused(f"Count must be between 1 and {spec.max_n} images (got {self.n}).", param="n")
        _choice("output format", self.output_format, spec.output_formats, param="output_format")
        self._check_compression()
        self._check_background(spec)
        _choice("moderation", self.moderation, spec.moderations, param="moderation")
        self._check_streaming(spec)
        if self.input_fidelity is not None:
            if not spec.input_fidelity:
                raise RequestRefused(
                    f"{spec.name} always uses high input fidelity; remove the input fidelity setting.",
                    param="input_fidelity",
                )
            _choice("input fidelity", self.input_fidelity, spec.input_fidelity, param="input_fidelity")
        self._check_images(spec)
        return self

    def _check_prompt(self, spec: ModelSpec) -> None:
        if not self.prompt or not self.prompt.strip():
            raise RequestRefused("The prompt is empty: describe the image or the change you want.", param="prompt")
        if len(self.prompt) > spec.max_prompt_chars:
            raise RequestRefused(
                f"The prompt is {len(self.prompt):,} characters; {spec.name} takes at most "
                f"{spec.max_prompt_chars:,}. Shorten it by {len(self.prompt) - spec.max_prompt_chars:,} characters.",
                param="prompt",
            )

    def _check_compression(self) -> None:
        if self.output_compression is None:
            return
        if self.output_format == "png":
            raise RequestRefused(
                "Compression applies to JPEG and WebP only; choose one of those or leave compression unset.",
                param="output_compression",
            )
        if not isinstance(self.output_compression, int) or not 0 <= self.output_compression <= 100:
            raise RequestRefused(
                f"Compression must be between 0 and 100 (got {self.output_compression}).",
                param="output_compression",
            )

    def _check_background(self, spec: ModelSpec) -> None:
        if self.background not in ("auto", "opaque", "transparent"):
            raise RequestRefused(
                f"Background must be auto, opaque or transparent (got '{self.background}').", param="background"
            )
        if self.background != "transparent":
            return
        if spec.transparent == "no" or (spec.transparent == "preview" and not self.allow_transparent_preview):
            raise RequestRefused(
                f"{spec.name} does not make transparent backgrounds. Use background opaque or auto, "
                "then cut the subject out locally (Cutout), or turn on the transparency preview "
                "in Settings if your account has it.",
                param="background",
            )
        if self.output_format == "jpeg":
            raise RequestRefused(
                "A transparent background needs PNG or WebP output; JPEG has no alpha.", param="output_format"
            )

    def _check_streaming(self, spec: ModelSpec) -> None:
        if not isinstance(self.partial_images, int) or not 0 <= self.partial_images <= spec.max_partial_images:
            raise RequestRefused(
                f"Partial images must be between 0 and {spec.max_partial_images} (got {self.partial_images}).",
                param="partial_images",
            )
        if self.stream and not spec.streaming:
            raise RequestRefused(f"{spec.name} cannot stream; turn streaming off.", param="stream")
        if self.partial_images and not self.stream:
            raise RequestRefused("Partial images need streaming; turn streaming on.", param="partial_images")

    def _check_images(self, spec: ModelSpec) -> None:
        if self.mask is not None and not self.images:
            raise RequestRefused("A mask needs an image to edit; add the image first.", param="mask")
        if len(self.images) > spec.max_images:
            raise RequestRefused(
                f"{len(self.images)} input images; {spec.name} takes at most {spec.max_images} "
                f"(the image being edited counts). Remove {len(self.images) - spec.max_images}.",
                param="image",
            )
        limit_mb = spec.max_image_bytes // (1024 * 1024)
        for img in self.images:
            if img.format not in INPUT_MIME_TYPES:
                raise RequestRefused(f"{img.filename}: input images must be PNG, JPEG or WebP.", param="image")
            if len(img.data) >= spec.max_image_bytes:
                raise RequestRefused(
                    f"{img.filename} is {len(img.data) / 1e6:.1f} MB; each image must be under {limit_mb} MB.",
                    param="image",
                )
        if self.mask is None:
            return
        first, mask = self.images[0], self.mask
        if mask.format != "png" or not mask.has_alpha:
            raise RequestRefused(
                f"{mask.filename}: the mask must be a PNG with an alpha channel (transparent = edit).", param="mask"
            )
        if (mask.width, mask.height) != (first.width, first.height):
            raise RequestRefused(
                f"The mask is {mask.width}x{mask.height} but {first.filename} is {first.width}x{first.height}; "
                "they must be the same size.",
                param="mask",
            )
        if len(mask.data) >= spec.max_mask_bytes:
            raise RequestRefused(
                f"The mask is {len(mask.data) / 1e6:.1f} MB; it must be under {spec.max_mask_bytes // (1024 * 1024)} MB.",
                param="mask",
            )

    # ------------------------------------------------------------------ warnings
    def warnings(self, today: _dt.date | None = None) -> list[str]:
        """Things the user should know before paying, that do not block the request."""
        spec = get_model(self.model, today)
        notes = []
        size = check_size(spec, self.size)
        if is_experimental(spec, size):
            notes.append(f"{size} is above 2560x1440: {spec.name} treats it as experimental.")
        if spec.lifecycle_note(today):
            notes.append(spec.lifecycle_note(today))
        if self.stream and self.n > 1:
            notes.append("Streaming with more than one image: previews may not say which image they belong to.")
        if self.background == "transparent" and spec.transparent == "preview":
            notes.append(f"Transparent backgrounds are a preview on {spec.name}; some accounts get an error.")
        return notes

    # ------------------------------------------------------------------ cost
    def estimate(self, prices: PriceTable, input_sizes: tuple[tuple[int, int], ...] | None = None) -> Estimate:
        """Expected usage, USD and credits before sending. ``input_sizes`` stands in for images not prepared yet."""
        sizes = input_sizes if input_sizes is not None else tuple((img.width, img.height) for img in self.images)
        return estimate(prices, self.model, self.prompt, self.size, self.quality, self.n,
                        self.partial_images if self.stream else 0, tuple(sizes))

    # ------------------------------------------------------------------ payloads
    def parameters(self) -> dict[str, Any]:
        """The API parameters besides files, with defaults left out where the API's default is the same."""
        params: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        if self.n != 1:
            params["n"] = self.n
        params["size"] = _api_size(self.size)
        params["quality"] = self.quality
        params["output_format"] = self.output_format
        if self.output_compression is not None and self.output_format != "png":
            params["output_compression"] = self.output_compression
        if self.background != "auto":
            params["background"] = self.background
        if self.moderation != "auto":
            params["moderation"] = self.moderation
        if self.stream:
            params["stream"] = True
            params["partial_images"] = self.partial_images
        # An edit-only parameter, and one gpt-image-2 answers with a 400 even when null.
        spec = find_model(self.model)
        if self.input_fidelity is not None and self.images and spec is not None and spec.input_fidelity:
            params["input_fidelity"] = self.input_fidelity
        return params

    def json_body(self) -> dict[str, Any]:
        """Body for POST /images/generations."""
        return self.parameters()

    def form_fields(self) -> dict[str, str]:
        """Text fields of the multipart body for POST /images/edits."""
        out = {}
        for key, value in self.parameters().items():
            out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def describe(self) -> dict[str, Any]:
        """Everything that made this request, for history: parameters plus input file names (no bytes)."""
        data = asdict(self)
        data.pop("images")
        data.pop("mask")
        data["kind"] = self.kind
        data["image_files"] = [img.filename for img in self.images]
        data["mask_file"] = self.mask.filename if self.mask else None
        return data


def _api_size(text: str) -> str:
    """The size as the API spells it: "1024 X 1024" or "1024×1024" validate, so send "1024x1024"."""
    try:
        size = parse_size(text)
    except RequestRefused:
        return text  # validate() refuses it; never guess a different size here
    return "auto" if size is None else str(size)


def _choice(what: str, value: str, allowed: tuple[str, ...], param: str | None = None) -> None:
    if value not in allowed:
        raise RequestRefused(
            f"{what.capitalize()} '{value}' is not available; choose one of: {', '.join(allowed)}.",
            param=param or what,
        )
