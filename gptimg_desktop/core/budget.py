"""Budgets in credits and USD: how much of one is used, and whether the next job fits, in one plain sentence.

Pure arithmetic; the store supplies the budget and the amounts spent, pricing supplies the job's estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEVELS = ("ok", "warning", "would_exceed", "exceeded")  # from best to worst
WARNING_SHARE = 0.8  # warn once a budget is 80 % used (counting the next job)


@dataclass(frozen=True)
class Budget:
    """Limits for one scope: a project (``project`` is its name) or everything (``project`` None).

    A limit of None means "no limit in this unit"; a limit of 0 allows no spending at all.
    """

    credits: int | None = None
    usd: float | None = None
    project: str | None = None

    @property
    def is_set(self) -> bool:
        return self.credits is not None or self.usd is not None


@dataclass(frozen=True)
class BudgetStatus:
    """Where one budget stands. ``unit`` is the unit that decided the level ("credits" or "usd"), or None
    when no budget is set; ``share`` is used (plus the job's estimate) / limit in that unit."""

    level: str
    message: str
    project: str | None = None
    unit: str | None = None
    limit: float | None = None
    used: float = 0.0
    estimate: float = 0.0
    share: float | None = None

    @property
    def blocks(self) -> bool:
        """True when the job should not run without the user's explicit override."""
        return self.level in ("would_exceed", "exceeded")


def check_budget_value(credits: int | None = None, usd: float | None = None) -> None:
    """Raise ValueError with one sentence when a budget limit is not a usable number."""
    if credits is not None and (isinstance(credits, bool) or not isinstance(credits, int) or credits < 0):
        raise ValueError("A credit budget is a whole number of credits, 0 or more.")
    if usd is not None and (isinstance(usd, bool) or not isinstance(usd, int | float) or not math.isfinite(usd)
                            or usd < 0):
        raise ValueError("A USD budget is an amount of dollars, 0 or more.")


def evaluate(
    budget: Budget,
    used_credits: int = 0,
    used_usd: float = 0.0,
    next_credits: int = 0,
    next_usd: float = 0.0,
) -> BudgetStatus:
    """The status of ``budget`` given what was spent and the estimate of the next job (0 when there is none).

    exceeded: the spending already reached the limit; would_exceed: the next job would take it past the
    limit; warning: after the next job at least 80 % of the limit is used; ok: otherwise. With limits in both
    units the worse one wins.
    """
    if not budget.is_set:
        return BudgetStatus("ok", f"No budget is set for {_scope(budget.project)}.", budget.project)
    statuses = []
    if budget.credits is not None:
        statuses.append(_evaluate_unit(budget.project, "credits", budget.credits, used_credits, next_credits))
    if budget.usd is not None:
        statuses.append(_evaluate_unit(budget.project, "usd", budget.usd, used_usd, next_usd))
    return worst(*statuses)


def worst(*statuses: BudgetStatus) -> BudgetStatus:
    """The most severe of several statuses (e.g. a project's budget and the overall budget); ties go to the
    fuller budget, then to the first given."""
    if not statuses:
        return BudgetStatus("ok", "No budget is set.")
    return max(statuses, key=lambda s: (LEVELS.index(s.level), s.share if s.share is not None else -1.0))


def _evaluate_unit(project: str | None, unit: str, limit: float, used: float, estimate: float) -> BudgetStatus:
    estimate = max(0.0, estimate)
    after = used + estimate
    share = after / limit if limit > 0 else 1.0  # a zero budget counts as fully used
    words = _Words(project)
    budget_text = f"{words.possessive} budget of {_amount(unit, limit)} ({_amount(unit, used, short=True)} used)"
    job_text = f"This job (≈ {_amount(unit, estimate)})"
    if used >= limit:
        level = "exceeded"
        if estimate > 0:
            message = f"{job_text} can't run: {words.subject_lower} used up {budget_text}."
        else:
            message = f"{words.subject} used up {budget_text}."
    elif after > limit:
        level = "would_exceed"
        message = f"{job_text} would take {words.object} past {budget_text}."
    elif share >= WARNING_SHARE and estimate > 0:
        level = "warning"
        message = f"{job_text} brings {words.object} to {_percent(share)} of {budget_text}."
    else:
        level = "warning" if share >= WARNING_SHARE else "ok"
        message = f"{words.subject} used {_percent(used / limit)} of {budget_text}."
    return BudgetStatus(level, message, project, unit, limit, used, estimate, share)


# ---------------------------------------------------------------------------------------------- wording
@dataclass(frozen=True)
class _Words:
    """How a sentence names the scope: project Posters (its budget) or you (your overall budget)."""

    project: str | None

    @property
    def subject(self) -> str:
        return f"Project {self.project} has" if self.project is not None else "You have"

    @property
    def subject_lower(self) -> str:
        return f"project {self.project} has" if self.project is not None else "you have"

    @property
    def object(self) -> str:
        return f"project {self.project}" if self.project is not None else "you"

    @property
    def possessive(self) -> str:
        return "its" if self.project is not None else "your overall"


def _scope(project: str | None) -> str:
    return f"project {project}" if project is not None else "your overall spending"


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _amount(unit: str, value: float, short: bool = False) -> str:
    """1,000 credits / $12.50; ``short`` leaves out the word "credits" (for "(940 used)")."""
    if unit == "credits":
        text = f"{round(value):,}"
        return text if short else f"{text} credits"
    return format_usd(value)


def format_usd(value: float) -> str:
    """Dollars with cents; amounts under a cent keep four decimals so they don't read as $0.00."""
    if 0 < abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"
