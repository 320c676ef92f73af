"""Image sizes: parsing, the model's size rules, snapping and presets by use."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import RequestRefused
from .models import ModelSpec


@dataclass(frozen=True, order=True)
class Size:
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def ratio(self) -> float:
        """Long edge over short edge (>= 1)."""
        return max(self.width, self.height) / min(self.width, self.height)


_MAX_DIGITS = 9


def parse_size(text: str) -> Size | None:
    """``"1536x1024"`` -> Size; ``"auto"`` -> None. Raises RequestRefused on anything else."""
    value = text.strip().lower()
    if value == "auto":
        return None
    parts = [p.strip() for p in value.replace("×", "x").split("x")]
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and few enough that the
    # snapping maths stays within float range.
    if len(parts) == 2 and all(p.isascii() and p.isdigit() and len(p) <= _MAX_DIGITS for p in parts):
        w, h = (int(p) for p in parts)
        if w > 0 and h > 0:
            return Size(w, h)
    raise RequestRefused(f"'{text}' is not a size: write WIDTHxHEIGHT, e.g. 1536x1024, or auto.", param="size")


def size_problems(spec: ModelSpec, size: Size) -> list[str]:
    """Every rule ``size`` breaks for ``spec``, as short phrases; empty when valid."""
    if spec.fixed_sizes is not None:
        if str(size) in spec.fixed_sizes:
            return []
        return [f"{spec.name} only takes {', '.join(spec.fixed_sizes)} or auto"]
    r = spec.size_rules
    problems = []
    if size.width % r.multiple or size.height % r.multiple:
        problems.append(f"both sides must be multiples of {r.multiple}")
    if max(size.width, size.height) > r.max_edge:
        problems.append(f"the long edge must be at most {r.max_edge} px")
    if size.ratio > r.max_ratio + 1e-9:
        problems.append(f"the aspect ratio must be between 1:{r.max_ratio:g} and {r.max_ratio:g}:1")
    if size.pixels < r.min_pixels:
        problems.append(f"it must have at least {r.min_pixels:,} pixels (e.g. 1024x640)")
    if size.pixels > r.max_pixels:
        problems.append(f"it must have at most {r.max_pixels:,} pixels (e.g. 3840x2160)")
    return problems


def is_valid(spec: ModelSpec, size: Size) -> bool:
    return not size_problems(spec, size)


def is_experimental(spec: ModelSpec, size: Size | None) -> bool:
    return (
        size is not None
        and spec.flexible_sizes
        and size.pixels > spec.size_rules.experimental_above_pixels
    )


def nearest_valid_sizes(spec: ModelSpec, size: Size, count: int = 2) -> list[Size]:
    """The valid sizes closest to ``size`` (by relative change of each side), nearest first."""
    candidates: set[Size]
    if spec.fixed_sizes is not None:
        candidates = {parse_size(s) for s in spec.fixed_sizes}  # type: ignore[misc]
    else:
        m = spec.size_rules.multiple
        candidates = set()
        # Search a neighbourhood of multiples around each side, then the aspect-preserving fits.
        for w in _multiples_near(size.width, m):
            for h in _multiples_near(size.height, m):
                cand = Size(w, h)
                if is_valid(spec, cand):
                    candidates.add(cand)
        if not candidates:
            fitted = snap_size(spec, size.width, size.height)
            candidates.add(fitted)
    def distance(c: Size) -> float:
        dw = math.log(c.width / size.width)
        dh = math.log(c.height / size.height)
        return abs(dw) + abs(dh) + abs(dw - dh)  # moving both sides together keeps the aspect

    return sorted(candidates, key=lambda c: (distance(c), c))[:count]


def _multiples_near(value: int, m: int) -> list[int]:
    base = value // m
    return [k * m for k in range(base - 2, base + 4) if k > 0]


def snap_size(spec: ModelSpec, width: float, height: float) -> Size:
    """The valid size closest to ``width`` x ``height`` that keeps its aspect ratio as well as it can.

    Used for custom sizes typed by the user, for aspect-ratio presets and for canvas
    expansion. The ratio is clamped to the model's limits, the area to its pixel limits
    and the long edge to its maximum, then each side is rounded to the multiple.
    """
    if width <= 0 or height <= 0:
        raise RequestRefused("Width and height must be positive.", param="size")
    if spec.fixed_sizes is not None:
        target = width / height
        sizes = [parse_size(s) for s in spec.fixed_sizes]
        return min(sizes, key=lambda s: (abs(math.log((s.width / s.height) / target)), s))  # type: ignore[union-attr]
    r = spec.size_rules
    ratio = min(max(width / height, 1 / r.max_ratio), r.max_ratio)
    area = min(max(width * height, r.min_pixels), r.max_pixels)
    w = math.sqrt(area * ratio)
    h = w / ratio
    scale = min(1.0, r.max_edge / max(w, h))
    w, h = w * scale, h * scale
    best: Size | None = None
    best_cost = math.inf
    m = r.multiple
    for cw in (math.floor(w / m) * m, math.ceil(w / m) * m, round(w / m) * m):
        for ch in (math.floor(h / m) * m, math.ceil(h / m) * m, round(h / m) * m):
            if cw <= 0 or ch <= 0:
                continue
            cand = Size(int(cw), int(ch))
            if not is_valid(spec, cand):
                continue
            cost = abs(math.log(cand.width / w)) + abs(math.log(cand.height / h))
            if cost < best_cost - 1e-12:
                best, best_cost = cand, cost
    if best is None:
        # Fall back to a walk over multiples that is guaranteed to land inside the limits.
        best = nearest_valid_sizes(spec, Size(max(m, int(w) // m * m), max(m, int(h) // m * m)), 1)[0]
    return best


def snap_ratio(spec: ModelSpec, ratio_w: float, ratio_h: float, long_edge: int = 1536) -> Size:
    """The valid size with aspect ``ratio_w:ratio_h`` and roughly ``long_edge`` on its long side."""
    if ratio_w >= ratio_h:
        return snap_size(spec, long_edge, long_edge * ratio_h / ratio_w)
    return snap_size(spec, long_edge * ratio_w / ratio_h, long_edge)


def check_size(spec: ModelSpec, text: str) -> Size | None:
    """Parse and validate ``text`` for ``spec``. Returns None for ``auto``.

    Raises RequestRefused with the rules broken and the nearest valid sizes, e.g.
    "1000x1000: both sides must be multiples of 16 — nearest valid: 992x992 or 1008x1008".
    """
    size = parse_size(text)
    if size is None:
        return None
    problems = size_problems(spec, size)
    if not problems:
        return size
    nearest = " or ".join(str(s) for s in sorted(nearest_valid_sizes(spec, size)))
    raise RequestRefused(f"{size}: {'; '.join(problems)} — nearest valid: {nearest}", param="size")


@dataclass(frozen=True)
class SizePreset:
    key: str
    label: str
    use: str
    ratio: tuple[int, int]
    long_edge: int

    def size_for(self, spec: ModelSpec) -> Size:
        return snap_ratio(spec, *self.ratio, long_edge=self.long_edge)


# Presets by use. On fixed-size models each snaps to the nearest of the three sizes.
SIZE_PRESETS: tuple[SizePreset, ...] = (
    SizePreset("square", "Square 1024", "social posts, icons, product shots", (1, 1), 1024),
    SizePreset("portrait", "Portrait 2:3", "covers, posters, character sheets", (2, 3), 1536),
    SizePreset("landscape", "Landscape 3:2", "scenes, hero images", (3, 2), 1536),
    SizePreset("square-2k", "Square 2K (experimental)", "detailed square art", (1, 1), 2048),
    SizePreset("wide-2k", "2K 16:9", "slides, report visuals", (16, 9), 2048),
    SizePreset("uhd-4k", "4K 16:9 (experimental)", "wallpapers, large displays", (16, 9), 3840),
    SizePreset("uhd-4k-portrait", "4K 9:16 (experimental)", "tall displays", (9, 16), 3840),
    SizePreset("poster", "Poster 2:3 (large)", "print posters, menus", (2, 3), 2304),
    SizePreset("story", "Story 9:16", "Instagram and TikTok stories", (9, 16), 1920),
    SizePreset("banner", "Banner 3:1", "web banners, headers", (3, 1), 2400),
    SizePreset("thumbnail", "Thumbnail 16:9", "video thumbnails", (16, 9), 1280),
    SizePreset("slide", "Slide 16:9", "presentation slides", (16, 9), 1920),
)


def preset(key: str) -> SizePreset:
    for p in SIZE_PRESETS:
        if p.key == key:
            return p
    raise KeyError(key)


def largest_valid_within(spec: ModelSpec, width: int, height: int) -> Size | None:
    """The largest size ``spec`` accepts that fits inside ``width`` x ``height`` (a crop), or None if none does.

    Flexible models: each side rounds down to the multiple, then the long side shrinks until the ratio,
    edge and pixel limits hold. Fixed-size models: the largest fixed size that fits.
    """
    if width <= 0 or height <= 0:
        return None
    if spec.fixed_sizes is not None:
        fits = [s for s in (parse_size(t) for t in spec.fixed_sizes) if s and s.width <= width and s.height <= height]
        return max(fits, key=lambda s: (s.pixels, s.width), default=None)
    r = spec.size_rules
    m = r.multiple
    w = min(width, r.max_edge) // m * m
    h = min(height, r.max_edge) // m * m
    if w <= 0 or h <= 0:
        return None
    if w > h * r.max_ratio:
        w = int(h * r.max_ratio) // m * m
    elif h > w * r.max_ratio:
        h = int(w * r.max_ratio) // m * m
    if w * h > r.max_pixels:
        scale = math.sqrt(r.max_pixels / (w * h))
        w, h = int(w * scale) // m * m, int(h * scale) // m * m
    cand = Size(w, h)
    return cand if w > 0 and h > 0 and is_valid(spec, cand) else None
