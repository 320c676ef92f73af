"""Asking before a job that would break a budget, and the quiet warning once a budget is 80 % used.

The window calls ``check_before_run`` (or ``budget_check`` and ``confirm_over_budget`` itself) right
before it submits a job; core.budget does the arithmetic, the store knows the limits and the spending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from ..common.panel_widgets import MessageStrip

BLOCKING_LEVELS = ("would_exceed", "exceeded")


def _amounts(estimate: Any) -> tuple[int, float]:
    """(credits, usd) of an estimate: a core.pricing.Estimate, a mapping with those keys, or None."""
    if estimate is None:
        return 0, 0.0
    if isinstance(estimate, Mapping):
        return int(estimate.get("credits") or 0), float(estimate.get("cost_usd") or 0.0)
    return int(getattr(estimate, "credits", 0) or 0), float(getattr(estimate, "cost_usd", 0.0) or 0.0)


def budget_check(store, project: str | None, estimate: Any) -> tuple[str, str]:
    """(level, message) for running a job of ``estimate`` in ``project``: the worse of the project's
    budget and the overall one. Level is "ok", "warning", "would_exceed" or "exceeded" (core.budget)."""
    credits, usd = _amounts(estimate)
    status = store.budget_status(project, credits, usd)
    return status.level, status.message


def confirm_over_budget(parent: QWidget | None, message: str) -> bool:
    """Ask "Run anyway" / "Cancel" about a job over budget; True only when the user chose to run."""
    box = QMessageBox(parent)
    box.setObjectName("overBudgetBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Over budget")
    box.setText(message)
    box.setInformativeText("You can run it anyway, or cancel and change the budget in the Ledger.")
    run = box.addButton("Run anyway", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    run.setObjectName("overBudgetRun")
    cancel.setObjectName("overBudgetCancel")
    box.setDefaultButton(cancel)  # Enter must not spend money past a limit
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is run


class BudgetWarning(MessageStrip):
    """The non-modal strip for a budget that is 80 % used or more; hidden when all is well."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("budgetWarning", kind="warning", closable=True, parent=parent)
        self.setAccessibleName("Budget warning")

    def show_status(self, level: str, message: str) -> None:
        if level == "ok":
            self.dismiss()
        else:
            self.set_kind("error" if level in BLOCKING_LEVELS else "warning")
            self.show_message(message)


def check_before_run(
    parent: QWidget | None,
    store,
    project: str | None,
    estimate: Any,
    warning: BudgetWarning | None = None,
) -> bool:
    """True when the job may be submitted: within budget, or over it and the user chose "Run anyway".

    A budget that is 80 % used (counting this job) shows ``warning`` without asking.
    """
    level, message = budget_check(store, project, estimate)
    if warning is not None:
        warning.show_status("warning" if level in BLOCKING_LEVELS else level, message)
    if level in BLOCKING_LEVELS:
        return confirm_over_budget(parent, message)
    return True
