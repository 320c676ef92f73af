"""Batch items from a file of prompts (``gptimg batch submit FILE``): .txt, .csv or .jsonl.

.txt: one prompt per line. .csv: a ``prompt`` column and optionally ``size``, ``quality``, ``n``, ``image``,
``mask``, ``output_format``. .jsonl: one object per line with the same keys. ``image`` may hold several paths
separated by ``|`` (the first is the one edited); a row with an image is an edit. Relative paths are read from
the file's folder. A bad row is refused with its line number in the file, before anything is recorded or sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import RequestRefused
from ..core.models import DEFAULT_MODEL
from ..core.requests import ImageRequest
from .batch_engine import BatchItem
from .pipeline import JobSpec

ROW_KEYS = ("prompt", "size", "quality", "n", "image", "mask", "output_format")
SUFFIXES = (".txt", ".csv", ".jsonl")


@dataclass(frozen=True)
class Defaults:
    model: str = DEFAULT_MODEL
    size: str = "auto"
    quality: str = "auto"
    project: str | None = None


def read_batch_file(path: Path, defaults: Defaults | None = None) -> list[BatchItem]:
    """Every row of ``path`` as a BatchItem; RequestRefused ("line N: …") for the first bad row."""
    defaults = defaults or Defaults()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RequestRefused(f"{path.name}: a batch file is .txt (one prompt per line), .csv or .jsonl.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RequestRefused(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RequestRefused(f"{path}: cannot be read as UTF-8 text ({exc}).") from None
    rows = {".txt": _txt_rows, ".csv": _csv_rows, ".jsonl": _jsonl_rows}[suffix](text)
    items = [_item(number, row, path.parent, defaults) for number, row in rows]
    if not items:
        raise RequestRefused(f"{path.name} has no requests in it.")
    return items


def _txt_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, {"prompt": line.strip()}


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [(f or "").strip().lower() for f in (reader.fieldnames or [])]
    if "prompt" not in fields:
        raise RequestRefused("line 1: the CSV needs a 'prompt' column (and optionally size, quality, n, image, mask, "
                             "output_format).")
    unknown = [f for f in fields if f and f not in ROW_KEYS]
    if unknown:
        raise RequestRefused(f"line 1: unknown column '{unknown[0]}'; use {', '.join(ROW_KEYS)}.")
    reader.fieldnames = fields
    for row in reader:
        number = reader.line_num  # the file line the row ends on (rows rarely span lines)
        cleaned = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cleaned.values()):
            continue
        if None in row:
            raise RequestRefused(f"line {number}: more values than columns.")
        yield number, cleaned


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise RequestRefused(f"line {number}: not valid JSON.") from None
        if not isinstance(row, dict):
            raise RequestRefused(f"line {number}: each line must be a JSON object with a 'prompt'.")
        unknown = [k for k in row if k not in ROW_KEYS]
        if unknown:
            raise RequestRefused(f"line {number}: unknown key '{unknown[0]}'; use {', '.join(ROW_KEYS)}.")
        yield number, row


def _item(number: int, row: Mapping[str, Any], folder: Path, defaults: Defaults) -> BatchItem:
    label = f"line {number}"
    prompt = row.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise RequestRefused(f"{label}: the prompt is empty.", param="prompt")
    images = _paths(row.get("image"), folder, label)
    masks = _paths(row.get("mask"), folder, label)
    if len(masks) > 1:
        raise RequestRefused(f"{label}: a row takes one mask.", param="mask")
    if masks and not images:
        raise RequestRefused(f"{label}: a mask needs an image to edit; add it in the 'image' column.", param="mask")
    request = ImageRequest(
        prompt=prompt.strip(),
        model=defaults.model,
        size=_text(row.get("size")) or defaults.size,
        quality=_text(row.get("quality")) or defaults.quality,
        n=_count(row.get("n"), label),
        output_format=_text(row.get("output_format")) or "png",
    )
    spec = JobSpec(request=request, images=tuple(str(p) for p in images), mask=str(masks[0]) if masks else None,
                   project=defaults.project, canvas_image=bool(images))
    return BatchItem(spec, label)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _count(value: Any, label: str) -> int:
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        raise RequestRefused(f"{label}: n must be a whole number.", param="n")
    try:
        return int(str(value).strip())
    except ValueError:
        raise RequestRefused(f"{label}: n must be a whole number (got '{value}').", param="n") from None


def _paths(value: Any, folder: Path, label: str) -> list[Path]:
    if value is None or value == "":
        return []
    parts = value if isinstance(value, list) else str(value).split("|")
    paths = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = folder / path if (folder / path).exists() or not path.exists() else path
        if not path.is_file():
            raise RequestRefused(f"{label}: {text}: no such file.", param="image")
        paths.append(path)
    return paths
