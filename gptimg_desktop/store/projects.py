"""Projects, the cost ledger's totals, budgets and settings: the parts of the history that are not jobs or versions."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..core.budget import Budget, BudgetStatus, check_budget_value, evaluate, worst
from .records import DEFAULT_PROJECT, Project, UsageTotals
from .store_base import RecordNotFound, StoreBase, _check_not_secret

_LEDGER_SUMS = """
    COALESCE(SUM(l.images), 0) AS images, COALESCE(SUM(l.input_tokens), 0) AS input_tokens,
    COALESCE(SUM(l.output_tokens), 0) AS output_tokens, COALESCE(SUM(l.cost_usd), 0) AS cost_usd,
    COALESCE(SUM(l.credits), 0) AS credits
"""
BUDGET_SETTING = "budget"  # {"credits": int | None, "usd": float | None}: the limit over all projects


class ProjectsAndLedger(StoreBase):
    # -------------------------------------------------------------------------------- projects
    def ensure_project(self, name: str) -> Project:
        name = _clean_name(name)
        with self._tx():
            self._project_id(name, create=True)
        return self._project_or_raise(name)

    def get_project(self, name: str) -> Project | None:
        row = self._one("SELECT * FROM projects WHERE name = ?", (name,))
        return Project.from_row(row) if row else None

    def _project_or_raise(self, name: str) -> Project:
        project = self.get_project(name)
        if project is None:
            raise RecordNotFound(f"There is no project named '{name}'.")
        return project

    def list_projects(self) -> list[Project]:
        """All projects, Default first, then by name."""
        rows = self._rows("SELECT * FROM projects ORDER BY name != ?, name COLLATE NOCASE, id", (DEFAULT_PROJECT,))
        return [Project.from_row(r) for r in rows]

    def version_counts(self) -> dict[str, int]:
        """How many versions each project holds, by project name (projects without versions are left out)."""
        rows = self._rows("SELECT p.name AS name, COUNT(*) AS n FROM versions v JOIN projects p ON p.id = v.project_id "
                          "GROUP BY p.id")
        return {r["name"]: r["n"] for r in rows}

    def rename_project(self, old: str, new: str) -> Project:
        new = _clean_name(new)
        if old == DEFAULT_PROJECT:
            raise ValueError("The Default project cannot be renamed; create a new project instead.")
        with self._tx() as conn:
            project_id = self._project_id(old)
            if new != old and conn.execute("SELECT 1 FROM projects WHERE name = ?", (new,)).fetchone():
                raise ValueError(f"A project named '{new}' already exists; choose another name.")
            conn.execute("UPDATE projects SET name = ? WHERE id = ?", (new, project_id))
        return self._project_or_raise(new)

    def set_project_budget(self, name: str, credits: int | None = None, usd: float | None = None) -> Project:
        """Set (or clear, with None) a project's budget in credits and in USD."""
        check_budget_value(credits, usd)
        with self._tx() as conn:
            project_id = self._project_id(name)
            conn.execute(
                "UPDATE projects SET budget_credits = ?, budget_usd = ? WHERE id = ?", (credits, usd, project_id)
            )
        return self._project_or_raise(name)

    def delete_project(self, name: str) -> None:
        """Delete a project's jobs, versions and cost records from the history. Image files stay on disk.

        The cost records go too: a project brought in from a bundle may carry records that never were this
        machine's spending, and leaving them would keep blocking budgets after the project is gone."""
        if name == DEFAULT_PROJECT:
            raise ValueError("The Default project cannot be deleted.")
        with self._tx() as conn:
            project_id = self._project_id(name)
            # Versions before jobs (versions.job_id refers to jobs); foreign keys null the links from elsewhere.
            conn.execute("DELETE FROM ledger WHERE project_id = ? OR job_id IN (SELECT id FROM jobs WHERE project_id = ?)",
                         (project_id, project_id))
            conn.execute("DELETE FROM versions WHERE project_id = ?", (project_id,))
            conn.execute("DELETE FROM jobs WHERE project_id = ?", (project_id,))
            conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    # -------------------------------------------------------------------------------- usage
    def _ledger_filter(self, project: str | None, since: str | None) -> tuple[str, list[Any]]:
        where, params = [], []
        if project is not None:
            where.append("l.project_id = (SELECT id FROM projects WHERE name = ?)")
            params.append(project)
        if since is not None:
            where.append("l.created_at >= ?")
            params.append(since)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def usage_totals(self, project: str | None = None, since: str | None = None) -> UsageTotals:
        """Images, tokens, USD and credits recorded in the ledger, optionally for one project and from
        ``since`` (an ISO-8601 UTC timestamp or date) on."""
        where, params = self._ledger_filter(project, since)
        return UsageTotals.from_row(self._one(f"SELECT {_LEDGER_SUMS} FROM ledger l{where}", params))

    def usage_by_day(self, project: str | None = None) -> list[dict[str, Any]]:
        """Totals per local calendar day, oldest first: [{"day": "2026-05-01", "images": …, "input_tokens": …,
        "output_tokens": …, "cost_usd": …, "credits": …}]. Plain dicts, ready for JSON and table views."""
        return self._usage_grouped("day", "date(l.created_at, 'localtime')", project)

    def usage_by_month(self, project: str | None = None) -> list[dict[str, Any]]:
        """Totals per local calendar month, oldest first: [{"month": "2026-05", …}] with the keys of usage_by_day."""
        return self._usage_grouped("month", "strftime('%Y-%m', l.created_at, 'localtime')", project)

    def _usage_grouped(self, label: str, period_sql: str, project: str | None) -> list[dict[str, Any]]:
        where, params = self._ledger_filter(project, None)
        rows = self._rows(
            f"SELECT {period_sql} AS period, {_LEDGER_SUMS} FROM ledger l{where} GROUP BY period ORDER BY period",
            params,
        )
        return [{label: r["period"], **dataclasses.asdict(UsageTotals.from_row(r))} for r in rows]

    # -------------------------------------------------------------------------------- budgets
    def budget_for(self, project: str | None) -> tuple[int | None, float | None]:
        """(credits, usd) limits of ``project``, or of all spending when ``project`` is None; None = no limit."""
        if project is None:
            value = self.get_setting(BUDGET_SETTING, None) or {}
            return value.get("credits"), value.get("usd")
        row = self._one("SELECT budget_credits, budget_usd FROM projects WHERE name = ?", (project,))
        return (row["budget_credits"], row["budget_usd"]) if row else (None, None)

    def set_global_budget(self, credits: int | None = None, usd: float | None = None) -> None:
        """Set (or clear, with None) the budget over all projects, kept in the settings."""
        check_budget_value(credits, usd)
        self.set_setting(BUDGET_SETTING, {"credits": credits, "usd": usd})

    def budget_status(self, project: str | None, next_credits: int = 0, next_usd: float = 0.0) -> BudgetStatus:
        """The worse of ``project``'s budget and the overall budget, counting a next job of the given estimate.
        With ``project`` None only the overall budget is checked."""
        statuses = []
        scopes = [None] if project is None else [project, None]
        for scope in scopes:
            credits, usd = self.budget_for(scope)
            budget = Budget(credits, usd, scope)
            if budget.is_set:
                totals = self.usage_totals(project=scope)
                statuses.append(evaluate(budget, totals.credits, totals.cost_usd, next_credits, next_usd))
        if not statuses:
            return evaluate(Budget(project=project))
        return worst(*statuses)

    # -------------------------------------------------------------------------------- settings
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value_json FROM settings WHERE key = ?", (key,))
        return json.loads(row["value_json"]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON value. Refuses anything that looks like an API key: keys live in the system keyring."""
        _check_not_secret(key, value)
        text = json.dumps(value)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO settings (key, value_json) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json",
                (key, text),
            )


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValueError("A project needs a name.")
    return cleaned
