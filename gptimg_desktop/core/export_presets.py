"""Export presets: a format, a quality, an optional resize and sRGB conversion, named for what the file is for.

"Web" and "Social" files are viewed in browsers and apps that assume sRGB, so those presets convert pixels that
carry another ICC profile (Display P3, Adobe RGB) to sRGB and embed the sRGB profile; "Full quality" keeps the
pixels and their profile as they are. Resizing only ever shrinks (longest edge), never enlarges.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageCms

FORMATS = ("png", "jpeg", "webp")
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


@dataclass(frozen=True)
class ExportPreset:
    name: str
    fmt: str  # png, jpeg or webp
    quality: int = 92  # JPEG and WebP only
    max_edge: int | None = None  # shrink so the longest edge is at most this; None keeps the size
    srgb: bool = False  # convert to sRGB and embed its profile

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"an export format is one of {', '.join(FORMATS)}, not {self.fmt!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError("export quality is 1–100")
        if self.max_edge is not None and self.max_edge < 16:
            raise ValueError("resize to at least 16 px on the longest edge")

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.fmt]

    def describe(self) -> str:
        parts = [self.fmt.upper() if self.fmt != "jpeg" else "JPEG"]
        if self.fmt != "png":
            parts.append(f"quality {self.quality}")
        parts.append(f"longest edge {self.max_edge} px" if self.max_edge else "full size")
        if self.srgb:
            parts.append("sRGB")
        return " · ".join(parts)


PRESETS: tuple[ExportPreset, ...] = (
    ExportPreset("Full quality PNG", "png"),
    ExportPreset("Web JPEG", "jpeg", quality=85, max_edge=2048, srgb=True),
    ExportPreset("Social WebP", "webp", quality=82, max_edge=1080, srgb=True),
    ExportPreset("Print JPEG", "jpeg", quality=95),
)


def preset_named(name: str) -> ExportPreset:
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise KeyError(f"no export preset called {name!r}")


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB ICC profile embedded by sRGB presets (made once: each build stamps its creation time)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def apply_preset(img: Image.Image, preset: ExportPreset) -> tuple[Image.Image, bytes | None]:
    """The pixels to encode and the ICC profile to embed (None: keep whatever ``img`` carries, if anything)."""
    out = img
    if preset.max_edge and max(out.size) > preset.max_edge:
        scale = preset.max_edge / max(out.size)
        size = (max(1, round(out.width * scale)), max(1, round(out.height * scale)))
        out = out.resize(size, Image.Resampling.LANCZOS)
    if not preset.srgb:
        return out, out.info.get("icc_profile") or img.info.get("icc_profile")
    source = img.info.get("icc_profile")
    if source:
        mode = "RGBA" if "A" in out.getbands() else "RGB"
        out = out.convert(mode)
        src = ImageCms.ImageCmsProfile(io.BytesIO(source))
        dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        converted = ImageCms.profileToProfile(out, src, dst, outputMode=mode)
        if converted is not None:
            out = converted
    return out, srgb_profile()
