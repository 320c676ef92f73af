"""Reference-image roles (subject, style, palette …) and the plain prompt wording they turn into.

The model only sees numbered images, so a role has to be spelled out in the prompt: "Match the
style of image 3." Image 1 is the canvas image when editing, so numbering starts where the caller says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceRole:
    key: str
    label: str  # what the role picker shows
    singular: str  # sentence for one image, "{images}" is "image 3"
    plural: str  # sentence for several, "{images}" is "images 3 and 4"


ROLES: tuple[ReferenceRole, ...] = (
    ReferenceRole("subject", "Subject", "Use {images} as the subject.", "Use {images} as the subjects."),
    ReferenceRole("style", "Style", "Match the style of {images}.", "Match the style of {images}."),
    ReferenceRole("palette", "Palette", "Take the colour palette from {images}.", "Take the colour palette from {images}."),
    ReferenceRole("layout", "Layout", "Follow the layout of {images}.", "Follow the layout of {images}."),
    ReferenceRole(
        "text",
        "Text/logo",
        "Reproduce the text and logo from {images} exactly.",
        "Reproduce the text and logos from {images} exactly.",
    ),
)
ROLE_KEYS: tuple[str, ...] = tuple(r.key for r in ROLES)
_BY_KEY = {r.key: r for r in ROLES}
# Spellings people (and older saved sessions) use for the same role.
_ALIASES = {"text/logo": "text", "logo": "text", "colour": "palette", "color": "palette", "colours": "palette"}
_NONE = {"", "-", "—", "none"}


def normalise_role(role: str | None) -> str | None:
    """The role key for ``role`` ("Text/logo" -> "text"); None for no role or an unknown one."""
    if role is None:
        return None
    value = role.strip().lower()
    if value in _NONE:
        return None
    value = _ALIASES.get(value, value)
    return value if value in _BY_KEY else None


def role_label(role: str | None) -> str:
    key = normalise_role(role)
    return _BY_KEY[key].label if key else "—"


def _role_of(item: object) -> str | None:
    # Accepts plain role strings or anything with a ``role`` attribute (the tray's Reference).
    if item is None or isinstance(item, str):
        return normalise_role(item)
    return normalise_role(getattr(item, "role", None))


def _join_numbers(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    if len(words) == 1:
        return f"image {words[0]}"
    return "images " + ", ".join(words[:-1]) + " and " + words[-1]


def role_wording(references: Iterable[object], first_number: int = 1) -> str:
    """Plain prompt sentences for the roles of ``references``, in image order.

    ``references`` are role strings (or None) or objects with a ``role`` attribute, in the order the
    images are sent. ``first_number`` is the image number of the first reference: 2 when the
    canvas image goes first (edits), 1 otherwise. Images without a role add nothing; the result
    is "" when no image has one.
    """
    numbers_by_role: dict[str, list[int]] = {}
    for offset, item in enumerate(references):
        key = _role_of(item)
        if key is not None:
            numbers_by_role.setdefault(key, []).append(first_number + offset)
    # Sentences follow the first image of each role so the wording reads in the tray's order.
    ordered = sorted(numbers_by_role.items(), key=lambda kv: kv[1][0])
    sentences = []
    for key, numbers in ordered:
        role = _BY_KEY[key]
        template = role.singular if len(numbers) == 1 else role.plural
        sentences.append(template.format(images=_join_numbers(numbers)))
    return " ".join(sentences)
