"""Counts in words: "1 image", "3 images" — the status bar used to say "1 images"."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    word = noun if count == 1 else (plural_noun or f"{noun}s")
    return f"{count:,} {word}"
