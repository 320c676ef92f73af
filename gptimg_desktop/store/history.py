"""The local history: jobs and their inputs, image versions with their parents, the cost ledger, projects, settings.

One HistoryStore per data folder. It is shared by the worker thread and the UI thread; every operation
takes one lock, so the single SQLite connection is only ever used by one thread at a time.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, Self

from ..core.pricing import Usage
from .db import DB_FILENAME, open_db
from .files import ImageFiles, sniff_ext
from .owner import current_owner, is_alive
from .paths import data_dir, prepare_data_dir
from .projects import ProjectsAndLedger, _clean_name
from .records import DEFAULT_PROJECT, InputFile, Job, JobInputs, Project, UsageTotals, Version, version_to_json
from .store_base import RecordNotFound, redact_secrets

__all__ = [
    "DEFAULT_PROJECT",
    "HistoryStore",
    "InputFile",
    "Job",
    "JobInputs",
    "Project",
    "RecordNotFound",
    "UsageTotals",
    "Version",
    "VersionIndexRow",
    "redact_secrets",
    "version_to_json",
]

JOB_KINDS = ("generate", "edit")  # jobs that send a request; "original" records an opened file (add_original)
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
INTERRUPTED_MESSAGE = (
    "The app closed before this job finished; check your provider's usage page before running it again."
)
# Which statuses a job may move to from which. Anything else is ignored: the first final status wins, except that
# results that were paid for are always kept: after a cancel, and when a paid answer saved to disk is finished
# at the next start (interrupted or failed -> succeeded).
_TRANSITIONS = {
    "running": ("queued",),
    "succeeded": ("queued", "running", "cancelled", "interrupted", "failed"),
    "failed": ("queued", "running"),
    "cancelled": ("queued", "running"),
}
_INDEX_PROMPT_CHARS = 400  # enough for a tooltip; full prompts come from get_version
_ORDER_NEWEST = "ORDER BY v.created_at DESC, v.rowid DESC"  # rowid breaks ties between rows of the same millisecond


class VersionIndexRow(NamedTuple):
    """One version as history views list it (see HistoryStore.version_index). ``prompt`` is cut to its first
    characters; ``image_file`` is the thumbnail's path relative to the data folder, or the image's."""

    id: str
    parent_id: str | None
    prompt: str
    width: int
    height: int
    quality: str | None
    credits: int
    cost_usd: float
    starred: int
    created_at: str
    image_file: str
    set_item: str | None = None  # "Business card · Visual identity set" when the version is an item of a set


# The jobs this process is working on: job id -> token of the HistoryStore running it. A job recorded by this
# process but not in here (its run ended without a final status, or its store was closed) is stale; jobs of
# other processes are stale only once their process has gone.
_IN_FLIGHT: dict[str, str] = {}
_IN_FLIGHT_LOCK = threading.Lock()


# ---------------------------------------------------------------------------------------------- store

_VERSION_SELECT = """
    SELECT v.*, p.name AS project, j.status AS job_status
    FROM versions v
    LEFT JOIN projects p ON p.id = v.project_id
    LEFT JOIN jobs j ON j.id = v.job_id
"""
_VERSION_COLUMNS = (
    "id",
    "job_id",
    "project_id",
    "parent_id",
    "index_in_job",
    "file",
    "format",
    "width",
    "height",
    "size",
    "quality",
    "model",
    "prompt",
    "kind",
    "starred",
    "created_at",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "credits",
    "thumb_file",
)
_JOB_SELECT = "SELECT j.*, p.name AS project FROM jobs j LEFT JOIN projects p ON p.id = j.project_id"


class HistoryStore(ProjectsAndLedger):
    """Jobs, versions, the ledger, projects and settings in ``root/history.db``, images under ``root``.

    ``recovered_from`` is set when history.db was damaged and moved aside; the app should tell the user.
    ``clock`` (returning an aware datetime) lets tests place records in time.
    """

    def __init__(self, root: Path | None = None, *, clock: Callable[[], _dt.datetime] | None = None) -> None:
        self.root = prepare_data_dir(Path(root)) if root is not None else data_dir()
        self.files = ImageFiles(self.root)
        self.db_path = self.root / DB_FILENAME
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._lock = threading.RLock()
        self._token = uuid.uuid4().hex  # names this store's jobs in _IN_FLIGHT
        self._conn = open_db(self.db_path)
        self.recovered_from: Path | None = self._conn.recovered_from
        # Only a first start writes here: commands that just read never wait for (or take) the write lock.
        if self._one("SELECT 1 FROM projects WHERE name = ?", (DEFAULT_PROJECT,)) is None:
            with self._tx():
                self._project_id(DEFAULT_PROJECT, create=True)

    # -------------------------------------------------------------------------------- plumbing
    def close(self) -> None:
        with _IN_FLIGHT_LOCK:
            for job_id in [j for j, token in _IN_FLIGHT.items() if token == self._token]:
                del _IN_FLIGHT[job_id]
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------- jobs
    def create_job(
        self,
        request_description: Mapping[str, Any],
        kind: str,
        model: str,
        prompt: str,
        project: str | None = None,
        parent_version_id: str | None = None,
        inputs: Iterable[tuple[bytes, str, str | None]] = (),
        mask: bytes | None = None,
        estimate: Mapping[str, Any] | None = None,
    ) -> Job:
        """Record a queued job; input images and the mask are copied into inputs/ so the job can be restored."""
        if kind not in JOB_KINDS:
            raise ValueError(f"A job is 'generate' or 'edit', not '{kind}'.")
        # Files first: a crash in between leaves an unreferenced file, never a row pointing at nothing.
        input_files = [
            {"path": self.files.put_input(data, sniff_ext(data, filename)), "filename": filename, "role": role}
            for data, filename, role in inputs
        ]
        mask_file = self.files.put_input(mask, sniff_ext(mask, "mask.png")) if mask is not None else None
        job_id = str(uuid.uuid4())
        owner = current_owner()
        with self._tx() as conn:
            project_id = self._project_id(_clean_name(project or DEFAULT_PROJECT), create=True)
            if (
                parent_version_id is not None
                and not conn.execute("SELECT 1 FROM versions WHERE id = ?", (parent_version_id,)).fetchone()
            ):
                raise RecordNotFound(f"There is no version {parent_version_id} to edit from in the history.")
            conn.execute(
                """INSERT INTO jobs (id, project_id, kind, model, params_json, prompt, status, parent_version_id,
                       input_files_json, mask_file, estimate_json, created_at, owner_pid, owner_started)
                   VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)""",
                (
                    job_id,
                    project_id,
                    kind,
                    model,
                    json.dumps(dict(request_description), default=str),
                    prompt,
                    parent_version_id,
                    json.dumps(input_files),
                    mask_file,
                    json.dumps(dict(estimate), default=str) if estimate is not None else None,
                    self._now(),
                    owner.pid,
                    owner.started,
                ),
            )
            with _IN_FLIGHT_LOCK:
                _IN_FLIGHT[job_id] = self._token
        return self._job_or_raise(job_id)

    def get_job(self, job_id: str) -> Job | None:
        row = self._one(f"{_JOB_SELECT} WHERE j.id = ?", (job_id,))
        return Job.from_row(row) if row else None

    def _job_or_raise(self, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job is None:
            raise RecordNotFound(f"There is no job {job_id} in the history.")
        return job

    def usage_notes(self, job_id: str) -> list[str]:
        """Why the job's recorded costs are not the provider's own figures ("estimated", "capped"), if so."""
        rows = self._rows("SELECT DISTINCT usage_note FROM ledger WHERE job_id = ? AND usage_note IS NOT NULL",
                          (job_id,))
        return [r[0] for r in rows]

    def version_ids_by_job(self, job_ids: Iterable[str]) -> dict[str, list[str]]:
        """{job id: [version ids in image order]} for the given jobs, in one query per 500 jobs."""
        out: dict[str, list[str]] = {}
        ids = list(dict.fromkeys(job_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._rows(f"SELECT job_id, id FROM versions WHERE job_id IN ({', '.join('?' * len(chunk))}) "
                              "ORDER BY index_in_job, rowid", chunk)
            for row in rows:
                out.setdefault(row[0], []).append(row[1])
        return out

    def list_jobs(self, status: str | None = None, project: str | None = None, limit: int | None = None) -> list[Job]:
        """Jobs newest first, optionally only those with ``status`` or in ``project``."""
        where, params = [], []
        if status is not None:
            where.append("j.status = ?")
            params.append(status)
        if project is not None:
            where.append("p.name = ?")
            params.append(project)
        sql = _JOB_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?"
        return [Job.from_row(r) for r in self._rows(sql, [*params, -1 if limit is None else limit])]

    def _transition(self, job_id: str, status: str, **columns: Any) -> Job:
        if status != "running":
            self.release_job(job_id)
        with self._tx() as conn:
            current = self._require_job(job_id)["status"]
            if current in _TRANSITIONS[status]:
                columns["status"] = status
                assignments = ", ".join(f"{name} = ?" for name in columns)
                conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*columns.values(), job_id))
        return self._job_or_raise(job_id)

    def mark_running(self, job_id: str) -> Job:
        return self._transition(job_id, "running", started_at=self._now())

    def mark_succeeded(self, job_id: str) -> Job:
        return self._transition(job_id, "succeeded", finished_at=self._now())

    def mark_failed(self, job_id: str, error: str) -> Job:
        return self._transition(job_id, "failed", finished_at=self._now(), error=redact_secrets(error))

    def mark_cancelled(self, job_id: str) -> Job:
        return self._transition(job_id, "cancelled", finished_at=self._now())

    def add_request_id(self, job_id: str, request_id: str) -> None:
        with self._tx() as conn:
            ids = json.loads(self._require_job(job_id)["request_ids_json"] or "[]")
            if request_id not in ids:
                ids.append(request_id)
                conn.execute("UPDATE jobs SET request_ids_json = ? WHERE id = ?", (json.dumps(ids), job_id))

    def set_response_file(self, job_id: str, rel_path: str) -> None:
        self.files.path(rel_path)  # refuses paths outside the data folder
        with self._tx() as conn:
            self._require_job(job_id)
            conn.execute("UPDATE jobs SET response_file = ? WHERE id = ?", (rel_path, job_id))

    def release_job(self, job_id: str) -> None:
        """This process stops working on the job (its run ended, possibly without a final status)."""
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.pop(job_id, None)

    def claim_job(self, job_id: str) -> bool:
        """Take a job over for this process (e.g. to finish a saved paid answer); False while another live
        process owns it. Two processes starting together cannot both claim the same job."""
        with self._tx() as conn:
            row = self._require_job(job_id)
            if not self._owner_gone(row):
                return False
            owner = current_owner()
            conn.execute("UPDATE jobs SET owner_pid = ?, owner_started = ? WHERE id = ?",
                         (owner.pid, owner.started, job_id))
            with _IN_FLIGHT_LOCK:
                _IN_FLIGHT[job_id] = self._token
        return True

    @staticmethod
    def _owner_gone(row: Any) -> bool:
        """Whether nobody works on this job any more: its process died, or it is ours but no run holds it."""
        keys = row.keys()
        pid = row["owner_pid"] if "owner_pid" in keys else None
        started = row["owner_started"] if "owner_started" in keys else None
        if pid is None:
            return True  # recorded before owners were kept
        me = current_owner()
        if pid == me.pid and started == me.started:
            with _IN_FLIGHT_LOCK:
                return row["id"] not in _IN_FLIGHT
        return not is_alive(pid, started)

    def interrupt_stale_jobs(self) -> list[Job]:
        """Mark jobs left queued or running by processes that are gone (a crash, a kill) as interrupted.

        Jobs of another live process, e.g. the CLI running while the editor starts, are left alone.
        """
        # Look first without the write lock: usually nothing is stale, and then nothing is written.
        if not any(self._owner_gone(r) for r in self._rows("SELECT * FROM jobs WHERE status IN ('queued', 'running')")):
            return []
        with self._tx() as conn:
            rows = conn.execute("SELECT * FROM jobs WHERE status IN ('queued', 'running')").fetchall()
            # A job waiting in a Batch API run is the provider's to finish, not a crashed process's (store/batches.py).
            ids = [r["id"] for r in rows if self._owner_gone(r) and '"via": "batch"' not in (r["params_json"] or "")]
            conn.executemany(
                "UPDATE jobs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, ?) WHERE id = ?",
                [(self._now(), INTERRUPTED_MESSAGE, job_id) for job_id in ids],
            )
        return [self._job_or_raise(job_id) for job_id in ids]

    def note_recovery_attempt(self, job_id: str) -> int:
        """Count one more try at finishing the job's saved paid answer; returns the count including this one.
        Counted before trying, so a try that kills the process still counts."""
        with self._tx() as conn:
            attempts = (self._require_job(job_id)["recovery_attempts"] or 0) + 1
            conn.execute("UPDATE jobs SET recovery_attempts = ? WHERE id = ?", (attempts, job_id))
        return attempts

    def give_up_recovery(self, job_id: str, reason: str) -> Job:
        """Stop trying to finish the job's saved answer; ``reason`` (one sentence) is kept and shown as its error.
        The raw answer stays on disk."""
        reason = redact_secrets(reason)
        with self._tx() as conn:
            self._require_job(job_id)
            conn.execute("UPDATE jobs SET recovery_gave_up = ?, error = ?, finished_at = COALESCE(finished_at, ?) "
                         "WHERE id = ?", (reason, reason, self._now(), job_id))
        return self._job_or_raise(job_id)

    def job_inputs(self, job_id: str) -> JobInputs:
        """The stored copies of the job's input images and mask, to restore or re-run it."""
        job = self._job_or_raise(job_id)
        return JobInputs(
            images=[(self.files.path(f.path), f.filename, f.role) for f in job.input_files],
            mask=self.files.path(job.mask_file) if job.mask_file else None,
        )

    # -------------------------------------------------------------------------------- versions and ledger
    def add_version(
        self,
        job_id: str,
        image_bytes: bytes,
        format: str,
        width: int,
        height: int,
        quality: str | None,
        index_in_job: int,
        usage: Usage | None,
        cost_usd: float,
        credits: int,
        thumb_bytes: bytes | None = None,
        usage_note: str | None = None,
    ) -> Version:
        """Save one result image (file first, atomically), then its version and ledger rows in one transaction.

        ``usage`` is this image's share of the response's usage. The parent is the job's parent version.
        """
        usage = usage or Usage()
        with self._lock:
            self._require_job(job_id)
        rel = self.files.put(image_bytes, format)
        thumb_rel = self.files.put_thumb(thumb_bytes, sniff_ext(thumb_bytes, "thumb.jpeg")) if thumb_bytes else None
        version_id = _new_version_id()
        now = self._now()
        with self._tx() as conn:
            job = self._require_job(job_id)
            conn.execute(
                """INSERT INTO versions (id, job_id, project_id, parent_id, index_in_job, file, format, width, height,
                       size, quality, model, prompt, kind, starred, created_at, input_tokens, output_tokens, cost_usd,
                       credits, thumb_file)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)""",
                (
                    version_id,
                    job_id,
                    job["project_id"],
                    job["parent_version_id"],
                    index_in_job,
                    rel,
                    format,
                    width,
                    height,
                    f"{width}x{height}",
                    quality,
                    job["model"],
                    job["prompt"],
                    job["kind"],
                    now,
                    usage.input_tokens,
                    usage.output_tokens,
                    cost_usd,
                    credits,
                    thumb_rel,
                ),
            )
            self._insert_ledger(conn, job, version_id, now, 1, usage, cost_usd, credits, usage_note)
        return self._version_or_raise(version_id)

    def add_original(
        self, image_bytes: bytes, format: str, width: int, height: int, project: str | None = None,
        filename: str = "",
    ) -> Version:
        """Record an opened file as a root version of kind ``original``: no request, no cost, no ledger row.

        Edits of it then have it as their parent, so it can be compared with and branched from. The same
        bytes opened again in the same project give back the same version.
        """
        rel = self.files.put(image_bytes, format)
        with self._tx() as conn:
            project_id = self._project_id(_clean_name(project or DEFAULT_PROJECT), create=True)
            row = conn.execute(
                "SELECT id FROM versions WHERE file = ? AND project_id = ? AND kind = 'original' LIMIT 1",
                (rel, project_id),
            ).fetchone()
            if row is not None:
                version_id = str(row["id"])
            else:
                job_id = str(uuid.uuid4())
                now = self._now()
                conn.execute(
                    """INSERT INTO jobs (id, project_id, kind, model, params_json, prompt, status, created_at,
                           started_at, finished_at)
                       VALUES (?, ?, 'original', '', ?, '', 'succeeded', ?, ?, ?)""",
                    (job_id, project_id, json.dumps({"source_file": filename}), now, now, now),
                )
                version_id = _new_version_id()
                conn.execute(
                    """INSERT INTO versions (id, job_id, project_id, parent_id, index_in_job, file, format, width,
                           height, size, quality, model, prompt, kind, starred, created_at)
                       VALUES (?, ?, ?, NULL, 0, ?, ?, ?, ?, ?, NULL, '', ?, 'original', 0, ?)""",
                    (version_id, job_id, project_id, rel, format, width, height, f"{width}x{height}",
                     filename, now),
                )
        return self._version_or_raise(version_id)

    def record_usage_without_version(self, job_id: str, usage: Usage, cost_usd: float, credits: int = 0) -> None:
        """Record tokens that were billed but produced no saved image (e.g. partial images of a cut stream)."""
        with self._tx() as conn:
            job = self._require_job(job_id)
            self._insert_ledger(conn, job, None, self._now(), 0, usage, cost_usd, credits)

    @staticmethod
    def _insert_ledger(
        conn: Any, job: Any, version_id: str | None, now: str, images: int, usage: Usage, cost_usd: float,
        credits: int, usage_note: str | None = None,
    ) -> None:
        conn.execute(
            """INSERT INTO ledger (job_id, version_id, created_at, images, input_tokens, output_tokens,
                   input_text_tokens, input_image_tokens, output_image_tokens, cost_usd, credits, project_id,
                   usage_note)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                job["id"],
                version_id,
                now,
                images,
                usage.input_tokens,
                usage.output_tokens,
                usage.input_text_tokens,
                usage.input_image_tokens,
                usage.output_image_tokens,
                cost_usd,
                credits,
                job["project_id"],
                usage_note,
            ),
        )

    def versions_for_job(self, job_id: str) -> list[Version]:
        """The versions a job produced, in the order of its images."""
        rows = self._rows(f"{_VERSION_SELECT} WHERE v.job_id = ? ORDER BY v.index_in_job, v.rowid", (job_id,))
        return [Version.from_row(r, self.root) for r in rows]

    def get_version(self, version_id: str) -> Version | None:
        row = self._one(f"{_VERSION_SELECT} WHERE v.id = ?", (version_id,))
        return Version.from_row(row, self.root) if row else None

    def _version_or_raise(self, version_id: str) -> Version:
        version = self.get_version(version_id)
        if version is None:
            raise RecordNotFound(f"There is no version {version_id} in the history.")
        return version

    def list_versions(
        self,
        project: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        search: str | None = None,
        starred: bool | None = None,
    ) -> list[Version]:
        """Versions newest first. ``search`` matches prompts containing every word of it, ignoring case."""
        where, params = _version_filter(project, search, starred)
        sql = _VERSION_SELECT + where + f" {_ORDER_NEWEST} LIMIT ? OFFSET ?"
        rows = self._rows(sql, [*params, -1 if limit is None else limit, offset])
        return [Version.from_row(r, self.root) for r in rows]

    def version_index(
        self, project: str | None = None, search: str | None = None, starred: bool | None = None
    ) -> list[VersionIndexRow]:
        """Every matching version as a light row, newest first, in one query: what a history view needs to lay
        out its tree and draw its rows. The filters mean what they mean in list_versions."""
        where, params = _version_filter(project, search, starred)
        sql = f"""SELECT v.id, v.parent_id, substr(v.prompt, 1, {_INDEX_PROMPT_CHARS}), v.width, v.height,
                         v.quality, v.credits, v.cost_usd, v.starred, v.created_at, COALESCE(v.thumb_file, v.file),
                         (SELECT i.name || ' · ' || s.template_name || ' set' FROM set_items i JOIN sets s
                          ON s.id = i.set_id WHERE i.version_id = v.id AND i.name != '' LIMIT 1)
                  FROM versions v{where} {_ORDER_NEWEST}"""
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = None  # plain tuples: several times faster than sqlite3.Row for 10,000 rows
            rows = cursor.execute(sql, params).fetchall()
        return [VersionIndexRow._make(r) for r in rows]

    def children(self, version_id: str) -> list[Version]:
        """Versions made from ``version_id``, oldest first."""
        rows = self._rows(f"{_VERSION_SELECT} WHERE v.parent_id = ? ORDER BY v.created_at, v.rowid", (version_id,))
        return [Version.from_row(r, self.root) for r in rows]

    def version_tree(self, project: str | None = None) -> list[tuple[Version, int]]:
        """Every version of ``project`` (all when None) depth-first as (version, depth).

        Roots (no parent, or a parent outside the project) come newest first; children follow their parent
        in the order they were made.
        """
        versions = self.list_versions(project=project)  # newest first
        ids = {v.id for v in versions}
        kids: dict[str, list[Version]] = {}
        roots = []
        for v in versions:
            if v.parent_id in ids:
                kids.setdefault(v.parent_id, []).append(v)
            else:
                roots.append(v)
        out: list[tuple[Version, int]] = []
        # An explicit stack: edit chains can be deeper than Python's recursion limit.
        stack = [(v, 0) for v in reversed(roots)]
        while stack:
            v, depth = stack.pop()
            out.append((v, depth))
            # kids lists are newest first; pushing them in that order pops the oldest first.
            stack.extend((child, depth + 1) for child in kids.get(v.id, ()))
        return out

    def set_star(self, version_id: str, starred: bool) -> Version:
        with self._tx() as conn:
            cur = conn.execute("UPDATE versions SET starred = ? WHERE id = ?", (int(starred), version_id))
            if cur.rowcount == 0:
                raise RecordNotFound(f"There is no version {version_id} in the history.")
        return self._version_or_raise(version_id)

    def version_to_json(self, v: Version) -> dict[str, Any]:
        return version_to_json(v)

    def _insert_versions_bulk(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert many version rows in one transaction with executemany; for test fixtures and benchmarks only.

        Each row needs ``job_id``; other columns default from the job (project, model, prompt, kind) or to
        placeholders (``file`` "images/bulk.png", 1024x1024 png, now). No image files and no ledger rows are
        written. Returns the number of rows inserted.
        """
        columns = _VERSION_COLUMNS
        jobs: dict[str, Any] = {}
        now = self._now()
        values = []
        with self._tx() as conn:
            for row in rows:
                job_id = row["job_id"]
                if job_id not in jobs:
                    jobs[job_id] = self._require_job(job_id)
                job = jobs[job_id]
                width, height = row.get("width", 1024), row.get("height", 1024)
                defaults = {
                    "id": _new_version_id(),
                    "project_id": job["project_id"],
                    "parent_id": job["parent_version_id"],
                    "index_in_job": 0,
                    "file": "images/bulk.png",
                    "format": "png",
                    "width": width,
                    "height": height,
                    "size": f"{width}x{height}",
                    "quality": "auto",
                    "model": job["model"],
                    "prompt": job["prompt"],
                    "kind": job["kind"],
                    "starred": 0,
                    "created_at": now,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cost_usd": 0.0,
                    "credits": 0,
                    "thumb_file": None,
                }
                merged = {**defaults, **row}
                values.append(tuple(merged[c] for c in columns))
            conn.executemany(
                f"INSERT INTO versions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
            )
        return len(values)

def _version_filter(project: str | None, search: str | None, starred: bool | None) -> tuple[str, list[Any]]:
    """The WHERE clause (with a leading space, or "") and its parameters for the version filters."""
    where, params = [], []
    if project is not None:
        where.append("v.project_id = (SELECT id FROM projects WHERE name = ?)")
        params.append(project)
    if starred is not None:
        where.append("v.starred = ?")
        params.append(int(starred))
    for word in (search or "").split():
        where.append("v.prompt LIKE ? ESCAPE '\\'")
        params.append("%" + re.sub(r"([%_\\])", r"\\\1", word) + "%")
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _new_version_id() -> str:
    return uuid.uuid4().hex[:12]
