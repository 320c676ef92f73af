"""Sets in the history: one row per set (template, brief, plan, which item is the anchor and whether it was
approved) and one row per item (its prompt, size, status, the job that ran it and the version it made).

Items point at ordinary jobs and versions, so everything a set made is also in the normal history, and a
set is kept as a group: listing, re-running an item, replacing the anchor and exporting all go by set id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.set_plan import SetPlan
from .bundles import BundleSummary, _write_bundle
from .db import utc_timestamp
from .history import DEFAULT_PROJECT, HistoryStore, RecordNotFound, Version

ITEM_STATUSES = ("planned", "queued", "running", "succeeded", "failed", "cancelled")
FINISHED = "succeeded"


@dataclass(frozen=True)
class SetItemRecord:
    set_id: str
    item_id: str
    position: int
    name: str
    anchor: bool
    kind: str
    prompt: str
    size: str
    quality: str
    status: str
    job_id: str | None
    version_id: str | None
    error: str | None
    updated_at: str
    cost_usd: float = 0.0
    credits: int = 0

    @classmethod
    def from_row(cls, row: Any) -> SetItemRecord:
        return cls(row["set_id"], row["item_id"], row["position"], row["name"], bool(row["anchor"]), row["kind"],
                   row["prompt"], row["size"], row["quality"], row["status"], row["job_id"], row["version_id"],
                   row["error"], row["updated_at"], row["cost_usd"] or 0.0, row["credits"] or 0)


@dataclass(frozen=True)
class SetRecord:
    id: str
    template_id: str
    template_name: str
    brief: str
    project: str
    plan: dict[str, Any]
    anchor_item: str
    anchor_approved: bool
    created_at: str
    items: tuple[SetItemRecord, ...] = ()

    @property
    def anchor(self) -> SetItemRecord | None:
        return next((i for i in self.items if i.item_id == self.anchor_item), None)

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.status == FINISHED)

    @property
    def cost_usd(self) -> float:
        return round(sum(i.cost_usd for i in self.items), 6)

    def summary_json(self) -> dict[str, Any]:
        """The `gptimg sets --json` shape (a CLI contract: add keys, never rename)."""
        return {"id": self.id, "template": self.template_id, "brief": self.brief, "project": self.project,
                "created_at": self.created_at, "items": len(self.items), "done": self.done,
                "cost_usd": self.cost_usd}


_ITEM_SELECT = """
    SELECT i.*, v.cost_usd AS cost_usd, v.credits AS credits
    FROM set_items i LEFT JOIN versions v ON v.id = i.version_id
"""


def create_set(store: HistoryStore, plan: SetPlan, project: str | None = None) -> SetRecord:
    """Record a planned set and its items (status "planned") before anything is sent."""
    set_id = str(uuid.uuid4())
    now = utc_timestamp()
    project_name = " ".join((project or DEFAULT_PROJECT).split())
    store.ensure_project(project_name)
    with store.write_transaction() as conn:
        conn.execute(
            """INSERT INTO sets (id, template_id, template_name, brief, project, plan_json, anchor_item,
                   anchor_approved, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)""",
            (set_id, plan.template.id, plan.template.name, plan.brief, project_name,
             json.dumps(plan.describe()), plan.anchor.id, now),
        )
        conn.executemany(
            """INSERT INTO set_items (set_id, item_id, position, name, anchor, kind, prompt, size, quality, status,
                   updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)""",
            [(set_id, i.id, i.position, i.name, int(i.anchor), i.kind, i.prompt, i.size, i.quality, now)
             for i in plan.items],
        )
    return get_set(store, set_id)


def get_set(store: HistoryStore, set_id: str) -> SetRecord:
    with store.snapshot() as conn:
        row = conn.execute("SELECT * FROM sets WHERE id = ?", (set_id,)).fetchone()
        if row is None:
            raise RecordNotFound(f"There is no set {set_id} in the history; see `gptimg sets`.")
        items = conn.execute(f"{_ITEM_SELECT} WHERE i.set_id = ? ORDER BY i.position", (set_id,)).fetchall()
    return _set_from_row(row, items)


def list_sets(store: HistoryStore, project: str | None = None, limit: int | None = None) -> list[SetRecord]:
    """Sets, newest first, with their items."""
    sql = "SELECT * FROM sets" + (" WHERE project = ?" if project else "") + " ORDER BY created_at DESC, rowid DESC"
    params: list[Any] = [project] if project else []
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    with store.snapshot() as conn:
        rows = conn.execute(sql, params).fetchall()
        items = conn.execute(f"{_ITEM_SELECT} ORDER BY i.set_id, i.position").fetchall()
    by_set: dict[str, list[Any]] = {}
    for item in items:
        by_set.setdefault(item["set_id"], []).append(item)
    return [_set_from_row(row, by_set.get(row["id"], [])) for row in rows]


def _set_from_row(row: Any, items: Sequence[Any]) -> SetRecord:
    return SetRecord(row["id"], row["template_id"], row["template_name"], row["brief"], row["project"],
                     json.loads(row["plan_json"] or "{}"), row["anchor_item"], bool(row["anchor_approved"]),
                     row["created_at"], tuple(SetItemRecord.from_row(i) for i in items))


def update_item(
    store: HistoryStore, set_id: str, item_id: str, status: str, *, job_id: str | None = None,
    version_id: str | None = None, error: str | None = None,
) -> None:
    """Move an item to ``status``; job and version ids are kept unless new ones are given."""
    if status not in ITEM_STATUSES:
        raise ValueError(f"A set item is one of {', '.join(ITEM_STATUSES)}, not '{status}'.")
    with store.write_transaction() as conn:
        cur = conn.execute(
            """UPDATE set_items SET status = ?, job_id = COALESCE(?, job_id), version_id = COALESCE(?, version_id),
                   error = ?, updated_at = ? WHERE set_id = ? AND item_id = ?""",
            (status, job_id, version_id, error, utc_timestamp(), set_id, item_id),
        )
        if cur.rowcount == 0:
            raise RecordNotFound(f"Set {set_id} has no item '{item_id}'.")


def reconcile(store: HistoryStore, set_id: str) -> SetRecord:
    """Bring items whose run ended elsewhere up to date from their jobs: a job finished later (a paid answer
    recovered at the next start) gives the item its version; a job that failed, was cancelled or interrupted
    gives the item that status. Items whose job is still queued or running are left alone."""
    record = get_set(store, set_id)
    for item in record.items:
        if item.status == FINISHED or item.job_id is None:
            continue
        job = store.get_job(item.job_id)
        if job is None:
            continue
        versions = store.versions_for_job(job.id)
        if versions:
            update_item(store, set_id, item.item_id, FINISHED, version_id=versions[0].id)
        elif job.status in ("failed", "cancelled", "interrupted") and item.status in ("queued", "running"):
            status = "cancelled" if job.status == "cancelled" else "failed"
            update_item(store, set_id, item.item_id, status, error=job.error or "The job did not finish.")
    return get_set(store, set_id)


def set_anchor_approved(store: HistoryStore, set_id: str, approved: bool = True) -> None:
    with store.write_transaction() as conn:
        if conn.execute("UPDATE sets SET anchor_approved = ? WHERE id = ?", (int(approved), set_id)).rowcount == 0:
            raise RecordNotFound(f"There is no set {set_id} in the history.")


def replace_anchor(store: HistoryStore, set_id: str, version: Version) -> SetRecord:
    """Make ``version`` the set's anchor image (it needs approving again before items are made from it)."""
    record = get_set(store, set_id)
    update_item(store, set_id, record.anchor_item, FINISHED, job_id=version.job_id, version_id=version.id)
    set_anchor_approved(store, set_id, False)
    return get_set(store, set_id)


def export_set_bundle(store: HistoryStore, set_id: str, dest: Path) -> BundleSummary:
    """The set's versions (anchor first), their jobs and cost records as one bundle file, importable like a
    branch that starts at the anchor."""
    record = get_set(store, set_id)
    version_ids = [i.version_id for i in record.items if i.version_id]
    anchor = record.anchor
    if not version_ids or anchor is None or anchor.version_id is None:
        raise RecordNotFound(f"Set {set_id} has no finished anchor yet, so there is nothing to export.")
    marks = ",".join("?" * len(version_ids))
    with store.snapshot() as conn:
        project_row = conn.execute(
            "SELECT p.* FROM projects p JOIN versions v ON v.project_id = p.id WHERE v.id = ?", (anchor.version_id,)
        ).fetchone()
        versions = conn.execute(f"SELECT * FROM versions WHERE id IN ({marks}) ORDER BY created_at, rowid",
                                version_ids).fetchall()
        jobs = conn.execute(
            f"SELECT * FROM jobs WHERE id IN (SELECT job_id FROM versions WHERE id IN ({marks})) "
            "ORDER BY created_at, rowid", version_ids).fetchall()
        ledger = conn.execute(
            f"SELECT * FROM ledger WHERE job_id IN (SELECT job_id FROM versions WHERE id IN ({marks})) "
            f"AND (version_id IS NULL OR version_id IN ({marks})) ORDER BY created_at, id",
            version_ids + version_ids).fetchall()
    root = anchor.version_id
    # Items whose parent is outside the set (a replaced anchor, say) import as roots; the branch starts at the anchor.
    return _write_bundle(store, Path(dest), "branch", project_row, root, jobs, versions, ledger)


__all__ = [
    "FINISHED",
    "ITEM_STATUSES",
    "SetItemRecord",
    "SetRecord",
    "create_set",
    "export_set_bundle",
    "get_set",
    "list_sets",
    "reconcile",
    "replace_anchor",
    "set_anchor_approved",
    "update_item",
]
