"""The records of the history as typed, immutable values, each built from a database row.

``from_row`` tolerates columns an older schema lacks, so an old history always opens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import ImageFiles

DEFAULT_PROJECT = "Default"


def _get(row: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """row[key] for rows from any schema version: a column an older database lacks reads as ``default``."""
    return row[key] if key in row.keys() else default  # noqa: SIM118 - `in` on a sqlite3.Row tests values


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


# ---------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    created_at: str
    budget_credits: int | None = None
    budget_usd: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Project:
        return cls(
            id=row["id"],
            name=row["name"],
            created_at=row["created_at"],
            budget_credits=_get(row, "budget_credits"),
            budget_usd=_get(row, "budget_usd"),
        )


@dataclass(frozen=True)
class InputFile:
    """One input image of a job: its content-addressed copy (relative path), original name and role."""

    path: str
    filename: str
    role: str


@dataclass(frozen=True)
class Job:
    id: str
    project: str
    kind: str
    model: str
    params: dict[str, Any]  # ImageRequest.describe(): every parameter of the request
    prompt: str
    status: str
    created_at: str
    parent_version_id: str | None = None
    input_files: tuple[InputFile, ...] = ()
    mask_file: str | None = None
    request_ids: tuple[str, ...] = ()  # x-request-id of every attempt, for support questions
    error: str | None = None
    estimate: dict[str, Any] | None = None
    response_file: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    recovery_attempts: int = 0  # how often finishing its saved paid answer was tried
    recovery_gave_up: str | None = None  # why that was given up (then it is never tried again)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        inputs = tuple(
            InputFile(item["path"], item.get("filename", ""), item.get("role", "image"))
            for item in _loads(_get(row, "input_files_json"), [])
        )
        return cls(
            id=row["id"],
            project=_get(row, "project") or DEFAULT_PROJECT,
            kind=row["kind"],
            model=row["model"],
            params=_loads(_get(row, "params_json"), {}),
            prompt=_get(row, "prompt") or "",
            status=row["status"],
            created_at=row["created_at"],
            parent_version_id=_get(row, "parent_version_id"),
            input_files=inputs,
            mask_file=_get(row, "mask_file"),
            request_ids=tuple(_loads(_get(row, "request_ids_json"), [])),
            error=_get(row, "error"),
            estimate=_loads(_get(row, "estimate_json"), None),
            response_file=_get(row, "response_file"),
            started_at=_get(row, "started_at"),
            finished_at=_get(row, "finished_at"),
            recovery_attempts=_get(row, "recovery_attempts", 0) or 0,
            recovery_gave_up=_get(row, "recovery_gave_up"),
        )


@dataclass(frozen=True)
class JobInputs:
    """Where a job's inputs were kept: (absolute path, original file name, role) per image, and the mask."""

    images: list[tuple[Path, str, str]]
    mask: Path | None = None


@dataclass(frozen=True)
class Version:
    """One generated image. ``file`` and ``thumb_file`` are relative to the data folder; ``path`` is absolute."""

    id: str
    job_id: str
    project: str
    parent_id: str | None
    index_in_job: int
    file: str
    format: str
    width: int
    height: int
    size: str
    quality: str | None
    model: str
    prompt: str
    kind: str
    starred: bool
    created_at: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    credits: int = 0
    thumb_file: str | None = None
    job_status: str | None = None
    data_root: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], data_root: Path | str = "") -> Version:
        return cls(
            id=row["id"],
            job_id=row["job_id"],
            project=_get(row, "project") or DEFAULT_PROJECT,
            parent_id=row["parent_id"],
            index_in_job=row["index_in_job"],
            file=row["file"],
            format=row["format"],
            width=row["width"],
            height=row["height"],
            size=row["size"],
            quality=row["quality"],
            model=row["model"],
            prompt=row["prompt"],
            kind=row["kind"],
            starred=bool(row["starred"]),
            created_at=row["created_at"],
            input_tokens=_get(row, "input_tokens", 0),
            output_tokens=_get(row, "output_tokens", 0),
            cost_usd=_get(row, "cost_usd", 0.0),
            credits=_get(row, "credits", 0),
            thumb_file=_get(row, "thumb_file"),
            job_status=_get(row, "job_status"),
            data_root=str(data_root),
        )

    @property
    def path(self) -> Path:
        return ImageFiles(Path(self.data_root)).path(self.file)

    @property
    def thumb_path(self) -> Path | None:
        return ImageFiles(Path(self.data_root)).path(self.thumb_file) if self.thumb_file else None


@dataclass(frozen=True)
class UsageTotals:
    images: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    credits: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UsageTotals:
        return cls(
            images=row["images"] or 0,
            input_tokens=row["input_tokens"] or 0,
            output_tokens=row["output_tokens"] or 0,
            cost_usd=round(row["cost_usd"] or 0.0, 6),
            credits=row["credits"] or 0,
        )


def version_to_json(v: Version) -> dict[str, Any]:
    """The machine-readable form of a version. The key list is a CLI contract: add keys, never rename."""
    return {
        "id": v.id,
        "parent_id": v.parent_id,
        "kind": v.kind,
        "model": v.model,
        "prompt": v.prompt,
        "size": v.size,
        "quality": v.quality,
        "status": v.job_status,
        "files": [str(v.path)],
        "input_tokens": v.input_tokens,
        "output_tokens": v.output_tokens,
        "cost_usd": v.cost_usd,
        "credits": v.credits,
        "created_at": v.created_at,
        "starred": v.starred,
        "project": v.project,
        "job_id": v.job_id,
        "format": v.format,
        "width": v.width,
        "height": v.height,
    }
