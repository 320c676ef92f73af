"""Move a project, or one branch of edits, to another machine as a single bundle file, and bring it back in.

Export writes a zip (see bundle_format) holding the rows and every image, input, mask and thumbnail they
use. It never holds settings, API keys or raw provider responses.

Import never changes what is already in the history, whatever the bundle claims:
- Every job and version gets a fresh id, so an import never merges into existing records (a bundle may reuse
  any id), and parent links are kept only inside the bundle: a parent outside it is dropped (the version
  becomes a root) rather than grafted onto whatever version of this history happens to share its id.
- The rows go into the project of the bundle's name when there is none yet, or when the one there is empty;
  otherwise into a new "Name (imported)" ("Name (imported 2)", …), so importing never mixes projects.
  Importing the same bundle twice therefore makes a second copy, never a merge.
- Jobs left queued or running on the other machine arrive as interrupted.
- Cost records of imported jobs are imported too, so usage and project budgets count what the work cost;
  values no real job can have (a $1,000,000 image) refuse the bundle (see bundle_format).
- Only files that a row uses are written; bytes are counted as they are unpacked, and a bundle that unpacks
  to much more than its own size (how a zip bomb looks, whatever its directory claims) is refused.
Every check runs before any row is written; files are written atomically by content (an existing file is
never rewritten) and the rows are inserted in one transaction, so a refused or failed import adds no rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.text import strip_controls
from .bundle_format import (
    DEFAULT_LIMITS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BundleError,
    BundleLimits,
    check_members,
    depth_order,
    file_member,
    is_content_path,
    parse_manifest,
    referenced_files,
    show,
)
from .db import utc_timestamp
from .files import atomic_file
from .history import INTERRUPTED_MESSAGE, HistoryStore, RecordNotFound, redact_secrets

# Unpacked bytes allowed per byte of bundle: images are stored uncompressed, so a real bundle unpacks to about
# its own size (plus a manifest that deflates well); this is per pass over the members.
_UNPACK_FACTOR = 2
_UNPACK_ALLOWANCE = 16 * 1024 * 1024

__all__ = [
    "DEFAULT_LIMITS",
    "BundleError",
    "BundleLimits",
    "BundleSummary",
    "export_branch",
    "export_project",
    "import_bundle",
]

_CHUNK = 1024 * 1024
_JSON_COLUMNS = {"params_json": "params", "input_files_json": "input_files", "request_ids_json": "request_ids",
                 "estimate_json": "estimate"}
# Columns that stay on this machine: local row ids, and raw responses (large, and only useful for recovery here).
_LOCAL_COLUMNS = {"project_id", "response_file"}
# Errors the zipfile module (and zlib under it) raises for damaged archives.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
               ValueError, OverflowError, IndexError, KeyError, UnicodeDecodeError, OSError)


@dataclass(frozen=True)
class BundleSummary:
    """What an export wrote or an import added. For an export the skipped counts are 0."""

    path: Path
    project: str
    scope: str  # "project" or "branch"
    versions: int
    jobs: int
    versions_skipped: int = 0
    jobs_skipped: int = 0
    files: int = 0
    ledger_rows: int = 0
    project_created: bool = False

    def describe_export(self) -> str:
        what = f"project {self.project}" if self.scope == "project" else f"a branch of project {self.project}"
        return (f"Exported {what}: {_count(self.versions, 'version')}, {_count(self.jobs, 'job')}, "
                f"{_count(self.files, 'file')} to {self.path}.")

    def describe_import(self) -> str:
        skipped = self.versions_skipped + self.jobs_skipped
        note = (f"; {_count(self.versions_skipped, 'version')} and {_count(self.jobs_skipped, 'job')} "
                "already in the history were skipped") if skipped else ""
        return (f"Imported {_count(self.versions, 'version')} and {_count(self.jobs, 'job')} into project "
                f"{self.project}{note}.")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------------------------- export
def export_project(store: HistoryStore, project: str, dest: Path) -> BundleSummary:
    """Write every job, version and cost record of ``project`` with their files to the bundle ``dest``."""
    with store.snapshot() as conn:
        project_row = conn.execute("SELECT * FROM projects WHERE name = ?", (project,)).fetchone()
        if project_row is None:
            raise RecordNotFound(f"There is no project named '{project}'.")
        pid = project_row["id"]
        versions = conn.execute(
            "SELECT * FROM versions WHERE project_id = ? ORDER BY created_at, rowid", (pid,)
        ).fetchall()
        # The project's jobs, plus any job outside it that made one of its versions (rows must be complete).
        jobs = conn.execute(
            "SELECT * FROM jobs WHERE project_id = ? OR id IN (SELECT job_id FROM versions WHERE project_id = ?) "
            "ORDER BY created_at, rowid",
            (pid, pid),
        ).fetchall()
        ledger = conn.execute(
            "SELECT * FROM ledger WHERE job_id IN (SELECT id FROM jobs WHERE project_id = ?) "
            "OR job_id IN (SELECT job_id FROM versions WHERE project_id = ?) ORDER BY created_at, id",
            (pid, pid),
        ).fetchall()
    return _write_bundle(store, Path(dest), "project", project_row, None, jobs, versions, ledger)


def export_branch(store: HistoryStore, version_id: str, dest: Path) -> BundleSummary:
    """Write ``version_id`` and every version made from it (children, grandchildren, …) to the bundle ``dest``,
    with the jobs that made them and their cost records. It imports into a project of the root's project name."""
    subtree = """WITH RECURSIVE sub(id) AS (
                     SELECT id FROM versions WHERE id = ?
                     UNION SELECT v.id FROM versions v JOIN sub ON v.parent_id = sub.id)"""
    with store.snapshot() as conn:
        root = conn.execute("SELECT project_id FROM versions WHERE id = ?", (version_id,)).fetchone()
        if root is None:
            raise RecordNotFound(f"There is no version {version_id} in the history.")
        project_row = conn.execute("SELECT * FROM projects WHERE id = ?", (root["project_id"],)).fetchone()
        versions = conn.execute(
            f"{subtree} SELECT * FROM versions WHERE id IN sub ORDER BY created_at, rowid", (version_id,)
        ).fetchall()
        jobs = conn.execute(
            f"{subtree} SELECT * FROM jobs WHERE id IN (SELECT job_id FROM versions WHERE id IN sub) "
            "ORDER BY created_at, rowid",
            (version_id,),
        ).fetchall()
        ledger = conn.execute(
            f"{subtree} SELECT * FROM ledger WHERE job_id IN (SELECT job_id FROM versions WHERE id IN sub) "
            "AND (version_id IS NULL OR version_id IN sub) ORDER BY created_at, id",
            (version_id,),
        ).fetchall()
    return _write_bundle(store, Path(dest), "branch", project_row, version_id, jobs, versions, ledger)


def _write_bundle(
    store: HistoryStore,
    dest: Path,
    scope: str,
    project_row: Any,
    root_version_id: str | None,
    job_rows: Sequence[Any],
    version_rows: Sequence[Any],
    ledger_rows: Sequence[Any],
) -> BundleSummary:
    if not dest.parent.is_dir():
        raise BundleError(f"The folder {dest.parent} does not exist; choose another place for the bundle.")
    versions = [_version_json(store, row) for row in version_rows]
    jobs = [_job_json(store, row) for row in job_rows]
    version_ids = {v["id"] for v in versions}
    ledger = [_ledger_json(row) for row in ledger_rows if row["version_id"] is None or row["version_id"] in version_ids]
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "scope": scope,
        "root_version_id": root_version_id,
        "created_at": utc_timestamp(),
        "app_version": __version__,
        "project": {
            "name": project_row["name"],
            "created_at": project_row["created_at"],
            "budget_credits": project_row["budget_credits"],
            "budget_usd": project_row["budget_usd"],
        },
        "jobs": jobs,
        "versions": versions,
        "ledger": ledger,
        "files": {},
    }
    files = sorted({rel for rel, _owner in referenced_files(manifest)})
    manifest["files"] = {rel: store.files.path(rel).stat().st_size for rel in files}
    _write_zip_atomically(dest, manifest, store, files)
    return BundleSummary(dest, project_row["name"], scope, len(versions), len(jobs), files=len(files),
                         ledger_rows=len(ledger))


def _usable_file(store: HistoryStore, rel: str | None, folder: str) -> bool:
    """True when ``rel`` is a content-addressed file present in the data folder."""
    return rel is not None and is_content_path(rel, folder) and store.files.exists(rel)


def _version_json(store: HistoryStore, row: Any) -> dict[str, Any]:
    data = {k: row[k] for k in row.keys() if k not in _LOCAL_COLUMNS}  # noqa: SIM118 - sqlite3.Row
    data["starred"] = bool(data["starred"])
    if not _usable_file(store, data["file"], "images"):
        raise BundleError(
            f"The image of version {data['id']} is missing from the data folder, so it can't be exported."
        )
    if not _usable_file(store, data["thumb_file"], "thumbs"):
        data["thumb_file"] = None  # thumbnails are remade from the image
    return data


def _job_json(store: HistoryStore, row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 - sqlite3.Row
        if key in _LOCAL_COLUMNS:
            continue
        if key in _JSON_COLUMNS:
            default: Any = {} if key == "params_json" else [] if key.endswith("s_json") else None
            data[_JSON_COLUMNS[key]] = json.loads(row[key]) if row[key] else default
        else:
            data[key] = row[key]
    if data["error"] is not None:
        data["error"] = redact_secrets(data["error"])
    # An input that is no longer on disk can't travel; the job keeps the ones that can.
    data["input_files"] = [
        {"path": f["path"], "filename": f.get("filename", ""), "role": f.get("role")}
        for f in data["input_files"]
        if _usable_file(store, f.get("path"), "inputs")
    ]
    if not _usable_file(store, data["mask_file"], "inputs"):
        data["mask_file"] = None
    return data


def _ledger_json(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in row.keys() if k not in ("id", "project_id")}  # noqa: SIM118 - sqlite3.Row


def _write_zip_atomically(dest: Path, manifest: Mapping[str, Any], store: HistoryStore, files: Sequence[str]) -> None:
    """Write the zip beside ``dest`` and rename it over ``dest`` only when complete (never a partial bundle)."""
    with atomic_file(dest) as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
        manifest_info = _member_info(MANIFEST_NAME, zipfile.ZIP_DEFLATED)
        zf.writestr(manifest_info, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        for rel in files:
            _copy_into_zip(zf, store, rel)


def _member_info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = compression
    info.external_attr = 0o100600 << 16  # a regular file, readable by its owner
    return info


def _copy_into_zip(zf: zipfile.ZipFile, store: HistoryStore, rel: str) -> None:
    """Stream one file into the zip (stored: images are already compressed), checking it against its name."""
    digest = hashlib.sha256()
    with store.files.path(rel).open("rb") as src, zf.open(_member_info(file_member(rel), zipfile.ZIP_STORED),
                                                         "w", force_zip64=True) as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != Path(rel).stem:
        raise BundleError(f"The file {rel} in the data folder is damaged (its content changed), so it can't be "
                          "exported.")


# ---------------------------------------------------------------------------------------------- import
def import_bundle(store: HistoryStore, src: Path, limits: BundleLimits = DEFAULT_LIMITS) -> BundleSummary:
    """Add the bundle ``src`` to the history without changing anything already there (see the module doc).

    Raises BundleError, with one sentence, for anything that is not a sound bundle; nothing is written then.
    """
    src = Path(src)
    if not src.is_file():
        raise BundleError(f"{src} is not a file; choose a bundle exported by gptimg-desktop.")
    try:
        zf = zipfile.ZipFile(src)
    except _ZIP_ERRORS:
        raise BundleError(f"{show(src.name)} is not a bundle (not a readable zip file).") from None
    budget = min(limits.max_total_bytes, _UNPACK_FACTOR * src.stat().st_size + _UNPACK_ALLOWANCE)
    with zf:
        try:
            manifest, members = _read_and_check(zf, limits, _Budget(budget))
            _verify_files(zf, manifest, members, _Budget(budget))
        except BundleError:
            raise
        except RecursionError:
            raise BundleError(f"{show(src.name)} is damaged: its manifest is nested too deeply.") from None
        except _ZIP_ERRORS:
            raise BundleError(f"{show(src.name)} is damaged (a file in it can't be read); it was not imported.") from None
        written = _store_files(zf, store, manifest, _Budget(budget))
    try:
        return _insert_rows(store, src, manifest, written)
    except sqlite3.IntegrityError:  # every check passed, yet the rows clash; the transaction was rolled back
        raise BundleError(f"{show(src.name)} does not fit this history (its records clash); nothing was imported.") from None


def _read_and_check(
    zf: zipfile.ZipFile, limits: BundleLimits, budget: _Budget
) -> tuple[dict[str, Any], dict[str, zipfile.ZipInfo]]:
    members = check_members(zf.infolist(), limits)
    manifest = parse_manifest(b"".join(_iter_member(zf, members[MANIFEST_NAME], budget)))
    for rel, size in manifest["files"].items():
        info = members.get(file_member(rel))
        if info is None:
            raise BundleError(f"The bundle is missing the file {show(rel)} that its manifest lists.")
        if info.file_size != size:
            raise BundleError(f"The bundle's file {show(rel)} has the wrong size, so the bundle is damaged.")
    return manifest, members


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes; never more than its declared size (the checked limit), whatever the data says."""
    with zf.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise BundleError(f"The bundle's file {show(info.filename)} is not the size it declares, so it is damaged.")
    return data


class _Budget:
    """Bytes one pass may unpack in all, counted as they come out of the zip (not as its directory claims)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise BundleError(
                f"The bundle unpacks to more than {self.limit / 1024**2:,.0f} MB, far more than its own size, "
                "which is how a zip bomb looks; it was not imported."
            )


def _used_files(manifest: Mapping[str, Any]) -> list[str]:
    """The files some row of the manifest uses, in manifest order; files nobody uses are never read or written."""
    used = {rel for rel, _owner in referenced_files(manifest)}
    return [rel for rel in manifest["files"] if rel in used]


def _iter_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget | None = None) -> Iterator[bytes]:
    with zf.open(info) as member:
        read = 0
        while chunk := member.read(_CHUNK):
            read += len(chunk)
            if read > info.file_size:
                break
            if budget is not None:
                budget.take(len(chunk))
            yield chunk
    if read != info.file_size:
        raise BundleError(f"The bundle's file {show(info.filename)} is not the size it declares, so it is damaged.")


def _verify_files(
    zf: zipfile.ZipFile, manifest: Mapping[str, Any], members: Mapping[str, zipfile.ZipInfo], budget: _Budget
) -> None:
    """Every used file's content must hash to its name: catches damage and substituted images."""
    for rel in _used_files(manifest):
        digest = hashlib.sha256()
        for chunk in _iter_member(zf, members[file_member(rel)], budget):
            digest.update(chunk)
        if digest.hexdigest() != Path(rel).stem:
            raise BundleError(f"The bundle's file {show(rel)} does not match its checksum, so the bundle is damaged.")


def _store_files(zf: zipfile.ZipFile, store: HistoryStore, manifest: Mapping[str, Any], budget: _Budget) -> int:
    """Stream the used files into the data folder by content (never whole in memory); return how many were new."""
    written = 0
    for rel in _used_files(manifest):
        if store.files.exists(rel):
            continue
        target = store.files.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        try:
            with atomic_file(target) as out:
                for chunk in _iter_member(zf, zf.getinfo(file_member(rel)), budget):
                    digest.update(chunk)
                    out.write(chunk)
                if digest.hexdigest() != Path(rel).stem:  # the zip changed since it was checked
                    raise BundleError(f"The bundle's file {show(rel)} changed while it was imported; try again.")
        except BundleError:
            raise
        except _ZIP_ERRORS:
            raise BundleError(f"The bundle's file {show(rel)} can't be read, so the bundle is damaged.") from None
        written += 1
    return written


def _insert_rows(store: HistoryStore, src: Path, manifest: Mapping[str, Any], files_written: int) -> BundleSummary:
    jobs, versions, ledger = manifest["jobs"], manifest["versions"], manifest["ledger"]
    # Fresh ids for everything: nothing in the bundle can name (and so merge into or graft onto) a record here.
    job_ids = {j["id"]: str(uuid.uuid4()) for j in jobs}
    version_ids = {v["id"]: uuid.uuid4().hex[:12] for v in versions}
    with store.write_transaction() as conn:
        project_id, project_name, created = _target_project(conn, manifest["project"])
        for job in jobs:
            _insert_job(conn, {**job, "id": job_ids[job["id"]]}, project_id)
        for version in depth_order(versions):
            _insert_version(conn, {**version, "id": version_ids[version["id"]], "job_id": job_ids[version["job_id"]]},
                            project_id, version_ids.get(version["parent_id"] or ""))
        # Job parents last: they point at versions inserted just now (never at one outside the bundle).
        conn.executemany(
            "UPDATE jobs SET parent_version_id = ? WHERE id = ?",
            [(version_ids[j["parent_version_id"]], job_ids[j["id"]]) for j in jobs
             if j["parent_version_id"] in version_ids],
        )
        for row in ledger:
            vid = version_ids.get(row["version_id"]) if row["version_id"] is not None else None
            _insert_ledger(conn, {**row, "job_id": job_ids[row["job_id"]], "version_id": vid}, project_id)
    return BundleSummary(
        src, project_name, manifest["scope"], len(versions), len(jobs), files=files_written,
        ledger_rows=len(ledger), project_created=created,
    )


def _target_project(conn: Any, project: Mapping[str, Any]) -> tuple[int, str, bool]:
    """(id, name, created) of the project the bundle's rows go into; see the module docstring."""
    name = " ".join(strip_controls(project["name"]).split()) or "Imported"
    candidate, attempt = name, 1
    while True:
        row = conn.execute("SELECT id FROM projects WHERE name = ?", (candidate,)).fetchone()
        if row is None:
            break
        in_use = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE project_id = ?) OR EXISTS (SELECT 1 FROM versions "
            "WHERE project_id = ?)",
            (row["id"], row["id"]),
        ).fetchone()[0]
        if not in_use:  # an empty project of that name (e.g. a fresh Default) simply receives the rows
            return row["id"], candidate, False
        attempt += 1
        candidate = f"{name} (imported)" if attempt == 2 else f"{name} (imported {attempt - 1})"
    cur = conn.execute(
        "INSERT INTO projects (name, created_at, budget_credits, budget_usd) VALUES (?, ?, ?, ?)",
        (candidate, project["created_at"], project["budget_credits"], project["budget_usd"]),
    )
    return cur.lastrowid, candidate, True


def _insert_job(conn: Any, job: Mapping[str, Any], project_id: int) -> None:
    status, error = job["status"], job["error"]
    if status in ("queued", "running"):  # it is not running here, and never will be
        status, error = "interrupted", error or INTERRUPTED_MESSAGE
    conn.execute(
        """INSERT INTO jobs (id, project_id, kind, model, params_json, prompt, status, parent_version_id,
               input_files_json, mask_file, request_ids_json, error, estimate_json, response_file, created_at,
               started_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, ?, ?)""",
        (
            job["id"], project_id, job["kind"], job["model"], json.dumps(job["params"]), job["prompt"], status,
            json.dumps([{"path": f["path"], "filename": f["filename"], "role": f.get("role")}
                        for f in job["input_files"]]),
            job["mask_file"], json.dumps(job["request_ids"]), error,
            json.dumps(job["estimate"]) if job["estimate"] is not None else None,
            job["created_at"], job["started_at"], job["finished_at"],
        ),
    )


_VERSION_COLUMNS = ("id", "job_id", "project_id", "parent_id", "index_in_job", "file", "format", "width", "height",
                    "size", "quality", "model", "prompt", "kind", "starred", "created_at", "input_tokens",
                    "output_tokens", "cost_usd", "credits", "thumb_file")
_LEDGER_COLUMNS = ("job_id", "version_id", "created_at", "images", "input_tokens", "output_tokens",
                   "input_text_tokens", "input_image_tokens", "output_image_tokens", "cost_usd", "credits")


def _insert_version(conn: Any, version: Mapping[str, Any], project_id: int, parent_id: str | None) -> None:
    values = {**version, "project_id": project_id, "parent_id": parent_id, "starred": int(version["starred"])}
    conn.execute(
        f"INSERT INTO versions ({', '.join(_VERSION_COLUMNS)}) VALUES ({', '.join('?' * len(_VERSION_COLUMNS))})",
        tuple(values[c] for c in _VERSION_COLUMNS),
    )


def _insert_ledger(conn: Any, row: Mapping[str, Any], project_id: int) -> None:
    values = dict(row)
    conn.execute(
        f"INSERT INTO ledger ({', '.join(_LEDGER_COLUMNS)}, project_id) "
        f"VALUES ({', '.join('?' * len(_LEDGER_COLUMNS))}, ?)",
        (*(values[c] for c in _LEDGER_COLUMNS), project_id),
    )

