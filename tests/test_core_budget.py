"""Budget levels and their sentences, and the store's budgets (project and overall) against the real ledger."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gptimg_desktop.core.budget import Budget, BudgetStatus, check_budget_value, evaluate, format_usd, worst
from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.store import HistoryStore


@pytest.mark.parametrize(
    "used, estimate, level",
    [
        (0, 60, "ok"),
        (700, 60, "ok"),  # 76 % after the job
        (740, 60, "warning"),  # exactly 80 % after the job
        (800, 0, "warning"),  # 80 % with no job in view
        (940, 60, "warning"),  # lands exactly on the limit: allowed
        (941, 60, "would_exceed"),
        (999, 60, "would_exceed"),
        (1000, 60, "exceeded"),
        (1000, 0, "exceeded"),
        (1200, 0, "exceeded"),
    ],
)
def test_levels_follow_the_share_used_including_the_next_job(used, estimate, level):
    status = evaluate(Budget(credits=1000, project="Posters"), used_credits=used, next_credits=estimate)
    assert status.level == level
    assert status.blocks == (level in ("would_exceed", "exceeded"))
    assert status.unit == "credits" and status.limit == 1000 and status.used == used


def test_the_messages_are_one_plain_sentence():
    would = evaluate(Budget(credits=1000, project="Posters"), used_credits=945, next_credits=60)
    assert would.message == (
        "This job (≈ 60 credits) would take project Posters past its budget of 1,000 credits (945 used)."
    )
    warn = evaluate(Budget(credits=1000, project="Posters"), used_credits=800, next_credits=60)
    assert warn.message == (
        "This job (≈ 60 credits) brings project Posters to 86 % of its budget of 1,000 credits (800 used)."
    )
    over = evaluate(Budget(credits=1000, project="Posters"), used_credits=1020, next_credits=60)
    assert over.message == (
        "This job (≈ 60 credits) can't run: project Posters has used up its budget of 1,000 credits (1,020 used)."
    )
    shown = evaluate(Budget(credits=1000, project="Posters"), used_credits=120)
    assert shown.message == "Project Posters has used 12 % of its budget of 1,000 credits (120 used)."
    overall = evaluate(Budget(usd=5.0), used_usd=4.9, next_usd=0.25)
    assert overall.message == "This job (≈ $0.25) would take you past your overall budget of $5.00 ($4.90 used)."
    used_up = evaluate(Budget(usd=5.0), used_usd=5.0)
    assert used_up.message == "You have used up your overall budget of $5.00 ($5.00 used)."
    for status in (would, warn, over, shown, overall):
        assert "\n" not in status.message and status.message.endswith(".")


def test_no_budget_is_always_ok_and_a_zero_budget_allows_nothing():
    free = evaluate(Budget(project="Posters"), used_credits=10**9, next_credits=60)
    assert free.level == "ok" and free.message == "No budget is set for project Posters." and free.unit is None
    assert evaluate(Budget()).message == "No budget is set for your overall spending."
    zero = evaluate(Budget(credits=0), next_credits=60)
    assert zero.level == "exceeded" and zero.share == 1.0


def test_with_both_units_the_worse_one_decides():
    budget = Budget(credits=10_000, usd=2.0, project="Posters")
    status = evaluate(budget, used_credits=120, used_usd=1.95, next_credits=60, next_usd=0.2)
    assert status.level == "would_exceed" and status.unit == "usd" and "$2.00" in status.message
    calm = evaluate(budget, used_credits=120, used_usd=0.1, next_credits=60, next_usd=0.2)
    assert calm.level == "ok" and calm.unit == "usd"  # 15 % beats 1.8 % as the fuller budget


def test_worst_picks_the_most_severe_status():
    ok = BudgetStatus("ok", "a", share=0.5)
    warning = BudgetStatus("warning", "b", share=0.9)
    exceeded = BudgetStatus("exceeded", "c", share=1.2)
    assert worst(ok, exceeded, warning) is exceeded
    assert worst(ok, BudgetStatus("ok", "d", share=0.7)).message == "d"
    assert worst().level == "ok"


def test_budget_values_are_checked():
    check_budget_value(0, 0.0)
    check_budget_value(None, None)
    for credits, usd in [(-1, None), (True, None), (1.5, None), (None, -0.01), (None, float("inf")), (None, "5")]:
        with pytest.raises(ValueError):
            check_budget_value(credits, usd)


def test_usd_formatting():
    assert format_usd(1234.5) == "$1,234.50"
    assert format_usd(0.004) == "$0.0040"
    assert format_usd(0) == "$0.00"


# ---------------------------------------------------------------------------------------------- in the store
def _spend(store: HistoryStore, project: str, credits: int, cost: float) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (credits % 256, 0, 0)).save(buf, "PNG")
    job = store.create_job({}, "generate", "gpt-image-2", "spend", project)
    store.add_version(job.id, buf.getvalue(), "png", 8, 8, "low", 0, Usage(10, 100), cost, credits)


def test_store_budgets_for_projects_and_overall(tmp_path):
    with HistoryStore(tmp_path / "home") as store:
        assert store.budget_for("Posters") == (None, None) and store.budget_for(None) == (None, None)
        store.ensure_project("Posters")
        store.set_project_budget("Posters", credits=200)
        store.set_global_budget(credits=None, usd=1.0)
        assert store.budget_for("Posters") == (200, None) and store.budget_for(None) == (None, 1.0)
        with pytest.raises(ValueError):
            store.set_global_budget(credits=-1)
        with pytest.raises(ValueError):
            store.set_project_budget("Posters", credits=-5)

        _spend(store, "Posters", 120, 0.3)
        _spend(store, "Default", 60, 0.5)
        project_status = store.budget_status("Posters", next_credits=60, next_usd=0.05)
        assert project_status.level == "warning" and project_status.project == "Posters"  # 180 / 200 credits
        blocked = store.budget_status("Posters", next_credits=60, next_usd=0.25)
        assert blocked.level == "would_exceed" and blocked.project is None  # overall $1.05 > $1.00 wins
        assert store.budget_status("Posters", next_credits=120).level == "would_exceed"
        assert store.budget_status(None).level == "warning"  # $0.80 of $1.00 overall
        store.set_global_budget(None, None)
        assert store.budget_status("Default", next_credits=60).level == "ok"
        assert store.budget_status("Default").message == "No budget is set for project Default."
