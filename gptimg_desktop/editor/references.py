"""A reference image as the document keeps it: where it is, its role, its size, and whether it is pinned."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """One reference image as the request will use it.

    A pinned reference stays when another image is opened (a style or a product shot used across images);
    an unpinned one belongs to the image it was added for.
    """

    path: str
    role: str | None = None  # a key of core.prompt_roles.ROLES, or None
    width: int = 0
    height: int = 0
    notes: tuple[str, ...] = ()  # what preparing the image changed or noticed, in plain words
    pinned: bool = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def reference_count_text(count: int) -> str:
    """What the label beside Run says: how many references go with the next run."""
    if count <= 0:
        return "No references"
    return f"+{count} reference" + ("s" if count != 1 else "")
