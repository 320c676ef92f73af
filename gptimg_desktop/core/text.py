"""Text from outside (servers, bundles, other machines) made safe to show in one line of a terminal or a log."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and isolates (and the marks) can make a line read differently from what it holds.
_BIDI = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_RE = re.compile(f"[{_BIDI}]")


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without control characters (ANSI escapes included), bidi overrides or other format characters;
    tabs and (unless kept) line breaks become spaces."""
    text = _BIDI_RE.sub("", text)
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200d":
            continue  # the zero-width joiner stays: emoji need it
        else:
            out.append(ch)
    return "".join(out)


def terminal_safe(text: object) -> str:
    """One line fit for a terminal: no escapes, no bidi tricks, no line breaks."""
    return strip_controls(str(text))
