"""Batch API runs in the history: each batch, and each line's link to the job it makes, written before sending.

A batch moves through local states (``prepared`` → ``uploaded``) and then the API's statuses; ``collected_at``
says its results are all in. Lines move ``pending`` → ``imported`` | ``failed`` | ``expired`` | ``cancelled``
(``resubmitted`` when an expired line went into a new batch), and a line is imported at most once. Two processes
never collect one batch at the same time (``claim``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .history import HistoryStore
from .owner import current_owner, is_alive

LINE_STATES = ("pending", "imported", "failed", "expired", "cancelled", "resubmitted")
LOCAL_STATES = ("prepared", "uploaded")
FINAL_STATUSES = ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class BatchRecord:
    key: str  # local id, known before anything is sent
    remote_id: str | None  # the API's batch id once created
    endpoint: str
    status: str
    project: str | None
    input_file: str  # the JSONL, relative to the data folder
    input_file_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    requests: int
    completed: int
    failed: int
    errors: tuple[dict[str, Any], ...]
    estimate_usd: float
    estimate_credits: int
    created_at: str
    submitted_at: str | None
    finished_at: str | None
    collected_at: str | None
    note: str | None

    @property
    def batch_id(self) -> str:
        """What people and the CLI call it: the API's id, or the local one before it was sent."""
        return self.remote_id or self.key

    @property
    def sent(self) -> bool:
        return self.remote_id is not None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> BatchRecord:
        return cls(
            key=row["id"], remote_id=row["remote_id"], endpoint=row["endpoint"], status=row["status"],
            project=row["project"], input_file=row["input_file"], input_file_id=row["input_file_id"],
            output_file_id=row["output_file_id"], error_file_id=row["error_file_id"], requests=row["requests"],
            completed=row["completed"], failed=row["failed"],
            errors=tuple(json.loads(row["errors_json"]) if row["errors_json"] else ()),
            estimate_usd=row["estimate_usd"], estimate_credits=row["estimate_credits"], created_at=row["created_at"],
            submitted_at=row["submitted_at"], finished_at=row["finished_at"], collected_at=row["collected_at"],
            note=row["note"],
        )


@dataclass(frozen=True)
class BatchLine:
    batch_key: str
    custom_id: str
    job_id: str | None
    line_no: int
    state: str
    message: str | None


_SELECT = "SELECT b.*, p.name AS project FROM batches b LEFT JOIN projects p ON p.id = b.project_id"


class BatchStore:
    """Batch records kept in a HistoryStore's database (same connection, same lock)."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    # ------------------------------------------------------------------ writing
    def record(
        self,
        endpoint: str,
        input_file: str,
        lines: Iterable[tuple[str, str]],
        project: str | None = None,
        estimate_usd: float = 0.0,
        estimate_credits: int = 0,
    ) -> BatchRecord:
        """A new batch with its (custom_id, job_id) lines, in one transaction, before anything is sent."""
        key = "lb_" + uuid.uuid4().hex[:16]
        rows = list(lines)
        with self.history.write_transaction() as conn:
            project_id = None
            if project is not None:
                found = conn.execute("SELECT id FROM projects WHERE name = ?", (project,)).fetchone()
                project_id = found["id"] if found else None
            conn.execute(
                """INSERT INTO batches (id, endpoint, status, project_id, input_file, requests, estimate_usd,
                       estimate_credits, created_at) VALUES (?, ?, 'prepared', ?, ?, ?, ?, ?, ?)""",
                (key, endpoint, project_id, input_file, len(rows), estimate_usd, estimate_credits, self._now()),
            )
            conn.executemany(
                "INSERT INTO batch_lines (batch_id, custom_id, job_id, line_no) VALUES (?, ?, ?, ?)",
                [(key, custom_id, job_id, number) for number, (custom_id, job_id) in enumerate(rows, start=1)],
            )
        return self.require(key)

    def set_uploaded(self, key: str, file_id: str) -> None:
        self._update(key, "status = CASE WHEN remote_id IS NULL THEN 'uploaded' ELSE status END, input_file_id = ?",
                     file_id)

    def set_submitted(self, key: str, remote_id: str, status: str) -> None:
        with self.history.write_transaction() as conn:
            conn.execute(
                "UPDATE batches SET remote_id = ?, status = ?, submitted_at = ? WHERE id = ? AND remote_id IS NULL",
                (remote_id, status, self._now(), key),
            )

    def update_status(
        self, key: str, status: str, completed: int, failed: int, output_file_id: str | None,
        error_file_id: str | None, errors: list[dict[str, Any]] | None = None,
    ) -> BatchRecord:
        with self.history.write_transaction() as conn:
            conn.execute(
                """UPDATE batches SET status = ?, completed = ?, failed = ?, output_file_id = ?, error_file_id = ?,
                       errors_json = COALESCE(?, errors_json),
                       finished_at = CASE WHEN ? IN ('completed', 'failed', 'expired', 'cancelled')
                                          THEN COALESCE(finished_at, ?) ELSE finished_at END
                   WHERE id = ?""",
                (status, completed, failed, output_file_id, error_file_id,
                 json.dumps(errors) if errors else None, status, self._now(), key),
            )
        return self.require(key)

    def set_note(self, key: str, note: str | None) -> None:
        self._update(key, "note = ?", note)

    def mark_collected(self, key: str) -> None:
        self._update(key, "collected_at = COALESCE(collected_at, ?)", self._now())

    def mark_line(self, key: str, custom_id: str, state: str, message: str | None = None) -> bool:
        """Move a pending line to ``state``; False when it had already left pending (imported once, never twice)."""
        if state not in LINE_STATES:
            raise ValueError(f"Unknown batch line state '{state}'.")
        with self.history.write_transaction() as conn:
            cur = conn.execute(
                "UPDATE batch_lines SET state = ?, message = ? WHERE batch_id = ? AND custom_id = ? "
                "AND state = 'pending'",
                (state, message, key, custom_id),
            )
        return cur.rowcount == 1

    def mark_ledger(self, key: str) -> None:
        """Mark every ledger row of the batch's jobs as paid at the batch price (safe to repeat after a crash)."""
        with self.history.write_transaction() as conn:
            conn.execute(
                "UPDATE ledger SET via = 'batch' WHERE via IS NULL AND job_id IN "
                "(SELECT job_id FROM batch_lines WHERE batch_id = ? AND job_id IS NOT NULL)",
                (key,),
            )

    def claim(self, key: str) -> bool:
        """Take the batch for collecting; False while another live process collects it."""
        me = current_owner()
        with self.history.write_transaction() as conn:
            row = conn.execute("SELECT collector_pid, collector_started FROM batches WHERE id = ?", (key,)).fetchone()
            if row is None:
                return False
            pid, started = row["collector_pid"], row["collector_started"]
            if pid is not None and (pid, started) != (me.pid, me.started) and is_alive(pid, started):
                return False
            conn.execute("UPDATE batches SET collector_pid = ?, collector_started = ? WHERE id = ?",
                         (me.pid, me.started, key))
        return True

    def release(self, key: str) -> None:
        me = current_owner()
        with self.history.write_transaction() as conn:
            conn.execute("UPDATE batches SET collector_pid = NULL, collector_started = NULL WHERE id = ? "
                         "AND collector_pid = ?", (key, me.pid))

    def update_set_item(self, job_id: str, status: str, version_id: str | None = None,
                        error: str | None = None) -> None:
        """The set item a batched job makes, if any, follows the job (results land in the set grid too)."""
        with self.history.write_transaction() as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'set_items'").fetchone():
                return
            conn.execute(
                "UPDATE set_items SET status = ?, version_id = COALESCE(?, version_id), error = ?, updated_at = ? "
                "WHERE job_id = ?",
                (status, version_id, error, self._now(), job_id),
            )

    # ------------------------------------------------------------------ reading
    def get(self, batch_id: str) -> BatchRecord | None:
        """A batch by its API id or its local id."""
        with self.history.snapshot() as conn:
            row = conn.execute(f"{_SELECT} WHERE b.remote_id = ? OR b.id = ?", (batch_id, batch_id)).fetchone()
        return BatchRecord.from_row(row) if row else None

    def require(self, batch_id: str) -> BatchRecord:
        record = self.get(batch_id)
        if record is None:
            raise LookupError(f"There is no batch {batch_id} in the history; see `gptimg batch list`.")
        return record

    def list(self) -> list[BatchRecord]:
        """Every batch, newest first."""
        with self.history.snapshot() as conn:
            rows = conn.execute(f"{_SELECT} ORDER BY b.created_at DESC, b.rowid DESC").fetchall()
        return [BatchRecord.from_row(r) for r in rows]

    def unfinished(self) -> list[BatchRecord]:
        """Batches whose results are not all in yet, oldest first: what a start resumes."""
        return [b for b in reversed(self.list()) if b.collected_at is None]

    def lines(self, key: str) -> list[BatchLine]:
        with self.history.snapshot() as conn:
            rows = conn.execute("SELECT * FROM batch_lines WHERE batch_id = ? ORDER BY line_no", (key,)).fetchall()
        return [BatchLine(r["batch_id"], r["custom_id"], r["job_id"], r["line_no"], r["state"], r["message"])
                for r in rows]

    def cost_usd(self, key: str) -> float:
        """What the batch's results cost so far, from the ledger (at the batch price)."""
        with self.history.snapshot() as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM ledger WHERE job_id IN "
                "(SELECT job_id FROM batch_lines WHERE batch_id = ? AND job_id IS NOT NULL)", (key,)
            ).fetchone()
        return round(row[0], 6)

    def batch_job_ids(self, job_ids: Iterable[str] | None = None) -> set[str]:
        """Which of ``job_ids`` (all when None) were made by a batch."""
        with self.history.snapshot() as conn:
            rows = conn.execute("SELECT DISTINCT job_id FROM batch_lines WHERE job_id IS NOT NULL").fetchall()
        found = {r[0] for r in rows}
        return found if job_ids is None else found & set(job_ids)

    # ------------------------------------------------------------------ plumbing
    def _now(self) -> str:
        return self.history._now()  # noqa: SLF001 - same store, same clock

    def _update(self, key: str, assignments: str, *values: Any) -> None:
        with self.history.write_transaction() as conn:
            conn.execute(f"UPDATE batches SET {assignments} WHERE id = ?", (*values, key))


def via_for(store: HistoryStore, job_ids: Iterable[str]) -> dict[str, str]:
    """job id -> "batch" or "now": how each job's images were made, for `history --json`."""
    ids = list(job_ids)
    batch = BatchStore(store).batch_job_ids(ids)
    return {job_id: "batch" if job_id in batch else "now" for job_id in ids}
