"""Text proofing rules: which text a picture should carry, and how what OCR read compares with it.

Pure Python on OCR readings (text, box, confidence); the OCR engine itself lives in ``gptimg_desktop.ocr``.
By default the comparison ignores case and whitespace (OCR's spacing is unreliable and a poster's
capitals are a style); ``strict`` compares every character as written.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels

# Quoted text in a prompt: "…", “…”, 「…」, 『…』 and '…'. Single quotes only count when they stand apart
# from letters, so the apostrophes in "don't" or "Joe's" never open a quote.
_QUOTE_PATTERNS = (
    re.compile(r'"([^"\n]*)"'),  # * not +: an empty "" must not pair with the next quote
    re.compile(r"“([^”\n]+)”"),
    re.compile(r"「([^」\n]+)」"),
    re.compile(r"『([^』\n]+)』"),
    re.compile(r"(?<![\w'])'([^'\n]*[^'\s\n])'(?![\w])"),
    re.compile(r"‘([^’\n]+)’"),
)
MIN_EXTRA_CHARS = 2  # shorter leftovers (a stray letter, a bullet) are noise, not text that wasn't asked for
MIN_EXTRA_CONFIDENCE = 0.6
NOT_FOUND_BELOW = 0.34  # a closest reading this dissimilar is not the line at all


@dataclass(frozen=True)
class Reading:
    """One line the OCR read: its text, where it is, and how sure the recogniser was (0..1)."""

    text: str
    box: Box
    confidence: float = 1.0

    def to_json(self) -> dict:
        return {"text": self.text, "box": list(self.box), "confidence": round(float(self.confidence), 4)}

    @classmethod
    def from_json(cls, data: Mapping) -> Reading:
        box = data.get("box") or (0, 0, 0, 0)
        return cls(str(data.get("text", "")), tuple(int(v) for v in box[:4]),  # type: ignore[arg-type]
                   float(data.get("confidence", 1.0)))


@dataclass(frozen=True)
class CharDiff:
    """One character-level difference: what was expected at ``at`` and what was read instead."""

    op: str  # "replace", "missing" (expected but not read) or "extra" (read but not expected)
    expected: str
    found: str
    at: int  # index in the expected text

    def to_json(self) -> dict:
        return {"op": self.op, "expected": self.expected, "found": self.found, "at": self.at}


@dataclass(frozen=True)
class LineCheck:
    """How one expected line came out."""

    expected: str
    found: str | None  # the closest reading, None when nothing resembles it
    box: Box | None
    ok: bool
    distance: int  # edit distance between expected and found (after normalising, unless strict)
    diffs: tuple[CharDiff, ...] = ()

    def to_json(self) -> dict:
        return {
            "expected": self.expected,
            "found": self.found,
            "box": list(self.box) if self.box else None,
            "ok": self.ok,
            "distance": self.distance,
            "diffs": [d.to_json() for d in self.diffs],
        }


@dataclass(frozen=True)
class ProofReport:
    expected: tuple[str, ...]
    found: tuple[Reading, ...]
    lines: tuple[LineCheck, ...]
    extra: tuple[Reading, ...]
    score: float
    strict: bool = False

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines) and not self.extra

    @property
    def problems(self) -> int:
        """Lines that are wrong or missing, plus pieces of text nobody asked for: the badge's number."""
        return sum(1 for line in self.lines if not line.ok) + len(self.extra)

    def to_json(self) -> dict:
        return {
            "expected": list(self.expected),
            "found": [r.to_json() for r in self.found],
            "lines": [line.to_json() for line in self.lines],
            "extra": [r.to_json() for r in self.extra],
            "score": round(self.score, 4),
            "ok": self.ok,
            "strict": self.strict,
        }


# ------------------------------------------------------------------------------------------- expected text


def expected_from_prompt(prompt: str) -> list[str]:
    """The quoted strings of a prompt, in the order they appear, without duplicates."""
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _QUOTE_PATTERNS:
        for match in pattern.finditer(prompt or ""):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue  # inside a quote already found ('…' nested in "…")
            text = " ".join(match.group(1).split())
            if text and any(ch.isalnum() for ch in text):
                hits.append((start, text))
                taken.append((start, end))
    return _unique(text for _, text in sorted(hits))


def expected_from_fields(fields: Mapping[str, object], names: Iterable[str] | None = None) -> list[str]:
    """A template's text fields (headline, tagline, …) as expected lines; ``names`` limits which fields count."""
    wanted = set(names) if names is not None else None
    lines: list[str] = []
    for key, value in fields.items():
        if wanted is not None and key not in wanted:
            continue
        if isinstance(value, str):
            lines.extend(" ".join(part.split()) for part in value.splitlines())
    return _unique(line for line in lines if line)


def parse_expected_list(text: str) -> list[str]:
    """The designer's editable list: one expected line per line of text."""
    return _unique(" ".join(line.split()) for line in (text or "").splitlines() if line.strip())


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# ------------------------------------------------------------------------------------------- comparison


@dataclass
class _Stream:
    """Readings in reading order, flattened to one comparable string with each char's origin."""

    chars: list[str] = field(default_factory=list)
    origin: list[tuple[int, int]] = field(default_factory=list)  # (reading index, index in its text)
    line_start: list[int] = field(default_factory=list)  # stream index where each reading starts


def _norm_char(ch: str, strict: bool) -> str:
    ch = unicodedata.normalize("NFKC", ch)
    return ch if strict else ch.casefold()


def _normalise(text: str, strict: bool) -> tuple[list[str], list[int]]:
    """Comparable characters of ``text`` and the index each came from."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if not strict and ch.isspace():
            continue
        for part in _norm_char(ch, strict):
            chars.append(part)
            index.append(i)
    return chars, index


def reading_order(readings: Sequence[Reading]) -> list[Reading]:
    """Top to bottom, then left to right; readings whose vertical centres are within half a line are one row."""
    rows: list[list[Reading]] = []
    for r in sorted(readings, key=lambda r: (r.box[1] + r.box[3]) / 2):
        centre = (r.box[1] + r.box[3]) / 2
        height = max(1, r.box[3] - r.box[1])
        if rows:
            last = rows[-1][-1]
            if abs((last.box[1] + last.box[3]) / 2 - centre) < min(height, last.box[3] - last.box[1]) / 2:
                rows[-1].append(r)
                continue
        rows.append([r])
    return [r for row in rows for r in sorted(row, key=lambda r: r.box[0])]


def _stream(readings: Sequence[Reading], strict: bool) -> _Stream:
    s = _Stream()
    for k, r in enumerate(readings):
        s.line_start.append(len(s.chars))
        if strict and k:
            s.chars.append(" ")  # strict mode: a line break reads as a space
            s.origin.append((k, -1))
        chars, index = _normalise(r.text, strict)
        s.chars.extend(chars)
        s.origin.extend((k, i) for i in index)
    return s


def _best_substring(pattern: Sequence[str], text: Sequence[str]) -> tuple[int, int, int]:
    """Semi-global edit distance: the slice text[start:end] closest to ``pattern`` -> (distance, start, end)."""
    m = len(pattern)
    if m == 0 or not text:
        return m, 0, 0
    prev = list(range(m + 1))
    prev_start = [0] * (m + 1)
    best = (m + 1, 0, 0)
    for j, tc in enumerate(text, 1):
        cur = [0] * (m + 1)
        cur_start = [j] * (m + 1)  # a match may start anywhere in text at no cost
        for i in range(1, m + 1):
            sub = prev[i - 1] + (pattern[i - 1] != tc)
            dele = cur[i - 1] + 1
            ins = prev[i] + 1
            if sub <= dele and sub <= ins:
                cur[i], cur_start[i] = sub, prev_start[i - 1]
            elif dele <= ins:
                cur[i], cur_start[i] = dele, cur_start[i - 1]
            else:
                cur[i], cur_start[i] = ins, prev_start[i]
        # Among equally close slices, the one as long as the pattern: "ABX" for "ABC" is a replaced letter,
        # not "AB" with one missing.
        if cur[m] < best[0] or (cur[m] == best[0] and abs(j - cur_start[m] - m) < abs(best[2] - best[1] - m)):
            best = (cur[m], cur_start[m], j)
        prev, prev_start = cur, cur_start
    if best[0] > m:  # nothing better than reading nothing
        return m, 0, 0
    return best


def _char_box(reading: Reading, start: int, end: int) -> Box:
    """The part of a reading's box that holds characters start..end (proportional along the line)."""
    x0, y0, x1, y1 = reading.box
    n = max(1, len(reading.text))
    if x1 - x0 >= y1 - y0:  # horizontal line
        return (round(x0 + (x1 - x0) * start / n), y0, round(x0 + (x1 - x0) * end / n), y1)
    return (x0, round(y0 + (y1 - y0) * start / n), x1, round(y0 + (y1 - y0) * end / n))


def _union(boxes: Iterable[Box]) -> Box | None:
    boxes = list(boxes)
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _span_text_and_box(readings: Sequence[Reading], stream: _Stream, start: int, end: int) -> tuple[str, Box | None]:
    """The original text and box of stream[start:end], across readings."""
    per_line: dict[int, list[int]] = {}
    for k, i in stream.origin[start:end]:
        if i >= 0:
            per_line.setdefault(k, []).append(i)
    texts, boxes = [], []
    for k in sorted(per_line):
        idx = per_line[k]
        lo, hi = min(idx), max(idx) + 1
        texts.append(readings[k].text[lo:hi])
        boxes.append(_char_box(readings[k], lo, hi))
    return " ".join(texts), _union(boxes)


def _diffs(expected: str, found: str, strict: bool) -> tuple[CharDiff, ...]:
    exp_chars, exp_index = _normalise(expected, strict)
    got_chars, _ = _normalise(found, strict)
    out: list[CharDiff] = []
    matcher = difflib.SequenceMatcher(None, exp_chars, got_chars, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        op = {"replace": "replace", "delete": "missing", "insert": "extra"}[tag]
        at = exp_index[i1] if i1 < len(exp_index) else len(expected)
        out.append(CharDiff(op, "".join(exp_chars[i1:i2]), "".join(got_chars[j1:j2]), at))
    return tuple(out)


def compare(expected: Sequence[str], readings: Sequence[Reading], strict: bool = False) -> ProofReport:
    """Check every expected line against what was read, and collect the text nobody asked for."""
    ordered = reading_order(readings)
    stream = _stream(ordered, strict)
    used = [False] * len(stream.chars)
    lines: list[LineCheck] = []
    total_len = 0
    similarity_sum = 0.0
    # Longer lines first, so a short line ("SALE") can't take the words of a longer one ("SUMMER SALE").
    order = sorted(range(len(expected)), key=lambda i: -len(expected[i]))
    checks: dict[int, LineCheck] = {}
    for idx in order:
        want = expected[idx]
        pattern, _ = _normalise(want, strict)
        free = [c if not u else "\0" for c, u in zip(stream.chars, used, strict=True)]
        distance, start, end = _best_substring(pattern, free)
        length = max(1, len(pattern))
        similarity = max(0.0, 1.0 - distance / length)
        if end > start and similarity >= NOT_FOUND_BELOW:
            found, box = _span_text_and_box(ordered, stream, start, end)
            for i in range(start, end):
                used[i] = True
            diffs = _diffs(want, found, strict) if distance else ()
            checks[idx] = LineCheck(want, found, box, distance == 0, distance, diffs)
        else:
            similarity = 0.0
            checks[idx] = LineCheck(want, None, None, False, len(pattern),
                                    (CharDiff("missing", "".join(pattern), "", 0),))
        total_len += length
        similarity_sum += similarity * length
    lines = [checks[i] for i in range(len(expected))]
    extra = _leftovers(ordered, stream, used)
    extra_len = sum(len(_normalise(r.text, strict)[0]) for r in extra)
    denominator = total_len + extra_len
    score = 1.0 if denominator == 0 else similarity_sum / denominator
    return ProofReport(tuple(expected), tuple(ordered), tuple(lines), tuple(extra), score, strict)


def _leftovers(readings: Sequence[Reading], stream: _Stream, used: Sequence[bool]) -> list[Reading]:
    """Runs of unmatched characters, per reading, long and sure enough to count as text nobody asked for."""
    out: list[Reading] = []
    for k, reading in enumerate(readings):
        if reading.confidence < MIN_EXTRA_CONFIDENCE:
            continue
        start = stream.line_start[k]
        stop = stream.line_start[k + 1] if k + 1 < len(readings) else len(stream.chars)
        run: list[int] = []
        for pos in range(start, stop + 1):
            free = pos < stop and not used[pos] and stream.origin[pos][1] >= 0
            if free:
                run.append(stream.origin[pos][1])
                continue
            if run and sum(reading.text[i].isalnum() for i in run) >= MIN_EXTRA_CHARS:
                lo, hi = min(run), max(run) + 1
                text = reading.text[lo:hi].strip()
                out.append(Reading(text, _char_box(reading, lo, hi), reading.confidence))
            run = []
    return out


# ------------------------------------------------------------------------------------------- fixing


def spell_out(text: str) -> str:
    """Letter by letter, as OpenAI's prompting guide recommends for tricky words: "M-O-R-N-I-N-G B-R-E-W"."""
    return " ".join("-".join(word) for word in text.split())


def fix_text_prompt(expected: str, found: str | None) -> str:
    """The prompt of a masked edit that corrects one line of text and keeps everything else."""
    now = f' It currently reads "{found}", which is wrong.' if found else ""
    return (
        f'Correct the text in the masked area so it reads exactly "{expected}", spelled letter by letter: '
        f"{spell_out(expected)}.{now} Render it verbatim, with no extra or missing characters. Keep the same "
        "font, size, weight, colour, case, alignment, spacing and background; change nothing else in the image."
    )


def fix_region(box: Box, width: int, height: int, pad: int = 12) -> Box:
    """The box to mask for a fix, padded (at least a fifth of the line height) and kept inside the image."""
    x0, y0, x1, y1 = box
    pad = max(pad, round((y1 - y0) * 0.2))
    return (max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad))
