"""Deliver a set: its images under readable names, a contact sheet (PNG) and a manifest (JSON) listing every
item's prompt, size, cost and file, as a folder or a zip. Pillow only, so it runs off the GUI thread.

Everything is written atomically: a folder export writes each file by rename; a zip is built beside its
destination and renamed over it when complete, so a failed export never leaves a half-written delivery.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .. import __version__
from ..store.db import utc_timestamp
from ..store.files import atomic_file, atomic_write
from ..store.history import HistoryStore
from ..store.sets import FINISHED, SetItemRecord, SetRecord, get_set

MANIFEST_NAME = "manifest.json"
CONTACT_SHEET_NAME = "contact-sheet.png"
_CELL = 360  # contact-sheet cell: the image fits a _CELL square, with a caption under it
_CAPTION = 54
_GAP = 24
_BACKGROUND = (246, 246, 244)


@dataclass(frozen=True)
class SetDelivery:
    path: Path
    files: tuple[str, ...]  # the item images as named in the delivery
    missing: tuple[str, ...]  # item ids without an image (not made, or its file is gone)

    def describe(self) -> str:
        note = f"; {len(self.missing)} item(s) had no image yet: {', '.join(self.missing)}" if self.missing else ""
        return f"Exported {len(self.files)} image(s), a contact sheet and a manifest to {self.path}{note}."


def item_file_name(item: SetItemRecord, fmt: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", item.item_id).strip("-") or "item"
    return f"{item.position + 1:02d}-{slug}.{fmt}"


def export_set(store: HistoryStore, set_id: str, dest: Path, as_zip: bool | None = None) -> SetDelivery:
    """Write the set to ``dest``: a folder, or a zip when ``dest`` ends in .zip (or ``as_zip``)."""
    record = get_set(store, set_id)
    as_zip = dest.suffix.lower() == ".zip" if as_zip is None else as_zip
    members: list[tuple[str, bytes]] = []
    rows: list[dict[str, object]] = []
    missing: list[str] = []
    sheet_cells: list[tuple[SetItemRecord, Image.Image | None]] = []
    for item in record.items:
        version = store.get_version(item.version_id) if item.version_id else None
        data: bytes | None = None
        name = None
        if version is not None and item.status == FINISHED and version.path.is_file():
            data = version.path.read_bytes()
            name = item_file_name(item, version.format)
            members.append((name, data))
        else:
            missing.append(item.item_id)
        rows.append({
            "id": item.item_id, "name": item.name, "anchor": item.anchor, "kind": item.kind,
            "prompt": item.prompt, "size": item.size, "quality": item.quality, "status": item.status,
            "version_id": item.version_id if data is not None else None,
            "cost_usd": item.cost_usd, "credits": item.credits, "file": name,
        })
        sheet_cells.append((item, _open_thumb(data) if data is not None else None))
    members.append((CONTACT_SHEET_NAME, contact_sheet(record, sheet_cells)))
    members.append((MANIFEST_NAME, json.dumps(manifest(record, rows), indent=2, ensure_ascii=False).encode()))
    if as_zip:
        if not dest.parent.is_dir():
            raise ValueError(f"The folder {dest.parent} does not exist; create it or choose another.")
        with atomic_file(dest) as raw, zipfile.ZipFile(raw, "w") as zf:
            for name, data in members:
                kind = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
                zf.writestr(name, data, compress_type=kind)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in members:
            atomic_write(dest / name, data)
    images = tuple(name for name, _d in members if name not in (CONTACT_SHEET_NAME, MANIFEST_NAME))
    return SetDelivery(dest, images, tuple(missing))


def manifest(record: SetRecord, rows: Sequence[dict[str, object]]) -> dict[str, object]:
    return {
        "format": "gptimg-desktop-set",
        "format_version": 1,
        "app_version": __version__,
        "exported_at": utc_timestamp(),
        "set_id": record.id,
        "template": record.template_id,
        "template_name": record.template_name,
        "brief": record.brief,
        "project": record.project,
        "created_at": record.created_at,
        "fields": record.plan.get("fields", {}),
        "model": record.plan.get("model"),
        "anchor": record.anchor_item,
        "contact_sheet": CONTACT_SHEET_NAME,
        "cost_usd": record.cost_usd,
        "credits": sum(int(r["credits"] or 0) for r in rows),  # type: ignore[arg-type]
        "items": list(rows),
    }


def _open_thumb(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (_CELL, _CELL))
            img.load()
            thumb = img.convert("RGB")
    except (OSError, ValueError):
        return None
    thumb.thumbnail((_CELL, _CELL), Image.Resampling.LANCZOS)
    return thumb


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def contact_sheet(record: SetRecord, cells: Sequence[tuple[SetItemRecord, Image.Image | None]]) -> bytes:
    """A PNG grid of every item with its name, size and status; the anchor is outlined."""
    cols = min(4, max(1, len(cells)))
    rows = (len(cells) + cols - 1) // cols
    header = 72
    width = cols * _CELL + (cols + 1) * _GAP
    height = header + rows * (_CELL + _CAPTION) + (rows + 1) * _GAP
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    title, small = _font(26), _font(16)
    draw.text((_GAP, 20), f"{record.template_name}: {record.brief}"[:110], fill=(30, 30, 30), font=title)
    for index, (item, thumb) in enumerate(cells):
        x = _GAP + (index % cols) * (_CELL + _GAP)
        y = header + _GAP + (index // cols) * (_CELL + _CAPTION + _GAP)
        draw.rectangle((x, y, x + _CELL - 1, y + _CELL - 1), fill=(228, 228, 226))
        if thumb is not None:
            sheet.paste(thumb, (x + (_CELL - thumb.width) // 2, y + (_CELL - thumb.height) // 2))
        else:
            draw.text((x + _CELL // 2, y + _CELL // 2), item.status, fill=(120, 120, 120), font=small, anchor="mm")
        if item.anchor:
            draw.rectangle((x - 3, y - 3, x + _CELL + 2, y + _CELL + 2), outline=(214, 120, 40), width=3)
        label = f"{item.name}{' (anchor)' if item.anchor else ''}"
        draw.text((x, y + _CELL + 8), label[:40], fill=(30, 30, 30), font=small)
        draw.text((x, y + _CELL + 30), f"{item.size}  {item.status}", fill=(110, 110, 110), font=small)
    buf = io.BytesIO()
    sheet.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()
