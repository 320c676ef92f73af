"""The prompt settings of the document: everything the prompt panel's inputs say, as one value.

Saved with a version, restored on demand, kept by autosave; ``to_request`` turns them into the request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..core.models import DEFAULT_MODEL
from ..core.requests import ImageRequest


@dataclass(frozen=True)
class PromptSettings:
    """Everything the prompt panel's inputs say, as one value: saved with a version, restored on demand."""

    prompt: str = ""
    model: str = DEFAULT_MODEL
    size: str = "auto"  # "auto" or "WxH"
    quality: str = "auto"
    n: int = 1
    output_format: str = "png"
    output_compression: int | None = None  # None for png
    background: str = "auto"
    moderation: str = "auto"
    stream: bool = True
    partial_images: int = 2
    keep_outside_mask: bool = True
    feather_px: int = 8

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PromptSettings:
        """Tolerates missing, unknown and loosely typed keys, so settings saved by any version load."""
        data = data or {}
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data or (data[f.name] is None and f.name != "output_compression"):
                continue
            raw, default = data[f.name], getattr(defaults, f.name)
            try:
                if f.name == "output_compression":
                    values[f.name] = None if raw is None else int(raw)
                elif isinstance(default, bool):
                    values[f.name] = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes")
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                else:
                    values[f.name] = str(raw)
            except (TypeError, ValueError):
                continue  # keep the default for a value that makes no sense
        return cls(**values)

    def to_request(self, prompt_suffix: str = "", *, size: str | None = None, quality: str | None = None,
                   allow_transparent_preview: bool = False) -> ImageRequest:
        """The request these settings make; ``prompt_suffix`` (reference-role wording) is appended.

        ``size`` overrides the chosen size (an edit goes out at the canvas size); ``quality`` likewise.
        """
        prompt = self.prompt if not prompt_suffix else f"{self.prompt.rstrip()}\n\n{prompt_suffix.strip()}"
        return ImageRequest(
            prompt=prompt,
            model=self.model,
            size=size or self.size,
            quality=quality or self.quality,
            n=self.n,
            output_format=self.output_format,
            output_compression=self.output_compression,
            background=self.background,
            moderation=self.moderation,
            stream=self.stream,
            partial_images=self.partial_images,
            allow_transparent_preview=allow_transparent_preview,
        )
