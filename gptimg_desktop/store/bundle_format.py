"""The project bundle format (a zip of manifest.json + files/) and every check a bundle must pass before import.

A bundle comes from another machine and may be damaged or hostile, so nothing in it is trusted: member
names, sizes, the manifest's shape and every cross-reference are checked here, before anything is written.

Layout (format version 1)::

    manifest.json   {"format": "gptimg-desktop-bundle", "format_version": 1, "scope": "project" | "branch",
                     "root_version_id", "created_at", "app_version", "project": {...}, "jobs": [...],
                     "versions": [...], "ledger": [...], "files": {"images/ab/<sha256>.png": size, ...}}
    files/<folder>/<first 2 hex>/<sha256>.<ext>   the images, inputs, masks and thumbnails, named by content
"""

from __future__ import annotations

import json
import math
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FORMAT_NAME = "gptimg-desktop-bundle"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FILES_PREFIX = "files/"
SCOPES = ("project", "branch")
JOB_KINDS = ("generate", "edit", "original")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
# Content-addressed paths, as store.files.ImageFiles writes them; which folder each kind of reference uses.
FILE_PATH_RE = re.compile(r"^(images|inputs|thumbs)/([0-9a-f]{2})/([0-9a-f]{64})\.([a-z0-9]{1,10})$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Members this small cannot be a meaningful bomb whatever their ratio (a repetitive manifest deflates well).
_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_COUNT = 2**53  # JSON numbers past this lose precision
_MAX_MONEY = 1e12


class BundleError(ValueError):
    """A bundle that can't be exported or imported; the message is one sentence for the user."""


@dataclass(frozen=True)
class BundleLimits:
    """What an import accepts; tests lower them to exercise the checks quickly."""

    max_member_bytes: int = 200 * 1024**2
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 100.0
    max_members: int = 100_000


DEFAULT_LIMITS = BundleLimits()


def file_member(rel: str) -> str:
    """The zip member name holding the data-folder file ``rel``."""
    return FILES_PREFIX + rel


def is_content_path(rel: Any, folder: str | None = None) -> bool:
    """True for a content-addressed relative path (optionally in ``folder``) whose name is its own digest."""
    if not isinstance(rel, str):
        return False
    match = FILE_PATH_RE.match(rel)
    return bool(match) and match.group(2) == match.group(3)[:2] and (folder is None or match.group(1) == folder)


def show(name: str) -> str:
    """A member name fit for a one-line message: control characters replaced, long names cut."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in name)
    return cleaned if len(cleaned) <= 80 else cleaned[:77] + "…"


# ---------------------------------------------------------------------------------------------- members
def check_members(infos: list[zipfile.ZipInfo], limits: BundleLimits) -> dict[str, zipfile.ZipInfo]:
    """Refuse unsafe or oversized members; return the members by name."""
    if len(infos) > limits.max_members:
        raise BundleError(f"The bundle has {len(infos):,} files, more than the {limits.max_members:,} allowed.")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        _check_member_name(name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"The bundle contains a symbolic link ({show(name)}); it was not imported.")
        if name != MANIFEST_NAME and not (name.startswith(FILES_PREFIX) and is_content_path(name[len(FILES_PREFIX):])):
            raise BundleError(f"The bundle contains an unexpected file ({show(name)}); it was not imported.")
        if name in members:
            raise BundleError(f"The bundle contains {show(name)} twice; it was not imported.")
        if info.flag_bits & 0x1:
            raise BundleError(f"The bundle's file {show(name)} is encrypted; bundles are never encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"The bundle's file {show(name)} uses an unsupported compression method.")
        if info.file_size > limits.max_member_bytes:
            raise BundleError(
                f"The bundle's file {show(name)} is {_size(info.file_size)}, more than the "
                f"{_size(limits.max_member_bytes)} allowed for one file."
            )
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size / max(1, info.compress_size) > limits.max_ratio:
            raise BundleError(
                f"The bundle's file {show(name)} unpacks to over {limits.max_ratio:.0f} times its packed size, "
                "which is how a zip bomb looks; it was not imported."
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise BundleError(
                f"The bundle unpacks to more than {_size(limits.max_total_bytes)}, the most an import accepts."
            )
        members[name] = info
    if MANIFEST_NAME not in members:
        raise BundleError("The bundle has no manifest.json, so it is not a gptimg-desktop bundle.")
    return members


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}".replace(".0 ", " ")
    return f"{n:,} bytes"


def _check_member_name(name: str) -> None:
    if not name or "\0" in name:
        raise BundleError("The bundle contains a file without a usable name; it was not imported.")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise BundleError(f"The bundle contains a file with an absolute path ({show(name)}); it was not imported.")
    parts = name.split("/")
    if ".." in parts:
        raise BundleError(f"The bundle contains a path that leads outside it ({show(name)}); it was not imported.")
    if any(part in ("", ".") for part in parts):
        raise BundleError(f"The bundle contains a malformed path ({show(name)}); it was not imported.")


# ---------------------------------------------------------------------------------------------- manifest
def parse_manifest(data: bytes) -> dict[str, Any]:
    """Decode and check manifest.json: format, version, the shape of every row and every cross-reference."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BundleError("The bundle's manifest.json is not valid JSON, so the bundle is damaged.") from None
    try:  # "\ud800" escapes decode to lone surrogates, which no file or database can store
        json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        message = "The bundle's manifest.json holds text that is not valid Unicode, so it is damaged."
        raise BundleError(message) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BundleError("The bundle's manifest.json is not a gptimg-desktop manifest.")
    version = manifest.get("format_version")
    if not _is_count(version):
        raise BundleError("The bundle's manifest.json has no valid format version.")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"The bundle uses format version {version}, which this app can't read (it reads version "
            f"{FORMAT_VERSION}); update the app to import it."
        )
    if manifest.get("scope") not in SCOPES:
        raise BundleError("The bundle's manifest.json does not say whether it holds a project or a branch.")
    if not _optional(_is_id)(manifest.get("root_version_id")):
        raise BundleError("The bundle's manifest.json names its branch with an invalid version id.")
    _check_row("project", manifest.get("project"), PROJECT_FIELDS)
    for key, fields in (("jobs", JOB_FIELDS), ("versions", VERSION_FIELDS), ("ledger", LEDGER_FIELDS)):
        rows = manifest.get(key)
        if not isinstance(rows, list):
            raise BundleError(f"The bundle's manifest.json has no list of {key}.")
        for row in rows:
            _check_row(key[:-1] if key != "ledger" else "ledger row", row, fields)
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(is_content_path(k) and _is_count(v) for k, v in files.items()):
        raise BundleError("The bundle's manifest.json has an invalid list of files.")
    _check_references(manifest)
    return manifest


def _check_references(manifest: Mapping[str, Any]) -> None:
    jobs = [j["id"] for j in manifest["jobs"]]
    versions = {v["id"]: v for v in manifest["versions"]}
    job_ids = set(jobs)
    if len(job_ids) != len(jobs):
        raise BundleError("The bundle lists the same job twice, so it is damaged.")
    if len(versions) != len(manifest["versions"]):
        raise BundleError("The bundle lists the same version twice, so it is damaged.")
    for v in versions.values():
        if v["job_id"] not in job_ids:
            raise BundleError(f"Version {v['id']} in the bundle belongs to a job that is not in it.")
    for row in manifest["ledger"]:
        if row["job_id"] not in job_ids or (row["version_id"] is not None and row["version_id"] not in versions):
            raise BundleError("A cost record in the bundle refers to a job or version that is not in it.")
    root = manifest.get("root_version_id")
    if root is not None and root not in versions:
        raise BundleError("The bundle's branch starts at a version that is not in it.")
    listed = manifest["files"]
    for rel, owner in referenced_files(manifest):
        if rel not in listed:
            raise BundleError(f"{owner} in the bundle refers to a file that is not in it.")
    # Parent links inside the bundle must form a tree: a loop would make an endless history.
    depth_order(manifest["versions"])


def referenced_files(manifest: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """(relative path, "Version …"/"Job …") for every file a row refers to."""
    for v in manifest["versions"]:
        yield v["file"], f"Version {v['id']}"
        if v["thumb_file"] is not None:
            yield v["thumb_file"], f"Version {v['id']}"
    for j in manifest["jobs"]:
        for item in j["input_files"]:
            yield item["path"], f"Job {j['id']}"
        if j["mask_file"] is not None:
            yield j["mask_file"], f"Job {j['id']}"


def depth_order(versions: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``versions`` with every parent before its children (stable otherwise); raises BundleError on a loop."""
    by_id = {v["id"]: v for v in versions}
    depth: dict[str, int] = {}
    for v in versions:
        chain: list[str] = []
        seen: set[str] = set()
        current = v["id"]
        while current in by_id and current not in depth:
            if current in seen:
                raise BundleError("The versions in the bundle are their own ancestors, so the bundle is damaged.")
            chain.append(current)
            seen.add(current)
            current = by_id[current]["parent_id"]
        base = depth.get(current, -1) if current in by_id else -1
        for offset, vid in enumerate(reversed(chain)):
            depth[vid] = base + 1 + offset
    return sorted(versions, key=lambda v: depth[v["id"]])


# ---------------------------------------------------------------------------------------------- row shapes
def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= _MAX_COUNT


def _is_money(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and 0 <= x <= _MAX_MONEY


def _is_text(limit: int) -> Callable[[Any], bool]:
    return lambda x: isinstance(x, str) and len(x) <= limit


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda x: x is None or check(x)


def _one_of(*values: str) -> Callable[[Any], bool]:
    return lambda x: isinstance(x, str) and x in values


def _in_folder(folder: str) -> Callable[[Any], bool]:
    return lambda x: is_content_path(x, folder)


def _is_input_list(x: Any) -> bool:
    return isinstance(x, list) and all(
        isinstance(item, dict)
        and is_content_path(item.get("path"), "inputs")
        and isinstance(item.get("filename"), str)
        and len(item["filename"]) <= 1000
        and (item.get("role") is None or isinstance(item.get("role"), str))
        for item in x
    )


def _is_id(x: Any) -> bool:
    return isinstance(x, str) and bool(_ID_RE.match(x))


def _is_name(x: Any) -> bool:
    return isinstance(x, str) and 0 < len(x.strip()) and len(x) <= 200


def _is_dim(x: Any) -> bool:
    return _is_count(x) and 1 <= x <= 100_000


def _is_bool(x: Any) -> bool:
    return isinstance(x, bool)


def _is_dict(x: Any) -> bool:
    return isinstance(x, dict)


def _is_ext(x: Any) -> bool:
    return isinstance(x, str) and bool(re.fullmatch(r"[a-z0-9]{1,10}", x))


def _is_request_ids(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(i, str) and len(i) <= 200 for i in x)


_is_stamp = _is_text(40)
_is_short = _is_text(200)
_is_prompt = _is_text(100_000)

PROJECT_FIELDS: dict[str, Callable[[Any], bool]] = {
    "name": _is_name,
    "created_at": _is_stamp,
    "budget_credits": _optional(_is_count),
    "budget_usd": _optional(_is_money),
}
JOB_FIELDS: dict[str, Callable[[Any], bool]] = {
    "id": _is_id,
    "kind": _one_of(*JOB_KINDS),
    "model": _is_short,
    "params": _is_dict,
    "prompt": _is_prompt,
    "status": _one_of(*JOB_STATUSES),
    "parent_version_id": _optional(_is_id),
    "input_files": _is_input_list,
    "mask_file": _optional(_in_folder("inputs")),
    "request_ids": _is_request_ids,
    "error": _optional(_is_text(10_000)),
    "estimate": _optional(_is_dict),
    "created_at": _is_stamp,
    "started_at": _optional(_is_stamp),
    "finished_at": _optional(_is_stamp),
}
VERSION_FIELDS: dict[str, Callable[[Any], bool]] = {
    "id": _is_id,
    "job_id": _is_id,
    "parent_id": _optional(_is_id),
    "index_in_job": _is_count,
    "file": _in_folder("images"),
    "format": _is_ext,
    "width": _is_dim,
    "height": _is_dim,
    "size": _is_short,
    "quality": _optional(_is_short),
    "model": _is_short,
    "prompt": _is_prompt,
    "kind": _one_of(*JOB_KINDS),
    "starred": _is_bool,
    "created_at": _is_stamp,
    "input_tokens": _is_count,
    "output_tokens": _is_count,
    "cost_usd": _is_money,
    "credits": _is_count,
    "thumb_file": _optional(_in_folder("thumbs")),
}
LEDGER_FIELDS: dict[str, Callable[[Any], bool]] = {
    "job_id": _is_id,
    "version_id": _optional(_is_id),
    "created_at": _is_stamp,
    "images": _is_count,
    "input_tokens": _is_count,
    "output_tokens": _is_count,
    "input_text_tokens": _is_count,
    "input_image_tokens": _is_count,
    "output_image_tokens": _is_count,
    "cost_usd": _is_money,
    "credits": _is_count,
}


def _check_row(what: str, row: Any, fields: Mapping[str, Callable[[Any], bool]]) -> None:
    if not isinstance(row, dict):
        raise BundleError(f"The bundle's manifest.json has a {what} that is not a record, so it is damaged.")
    for key, check in fields.items():
        if key not in row or not check(row[key]):
            ident = row.get("id") if isinstance(row.get("id"), str) else None
            label = f"{what} {show(ident)}" if ident else what
            raise BundleError(f"The bundle's manifest.json has a {label} with a missing or invalid '{key}'.")
