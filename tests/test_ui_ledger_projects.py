"""Projects, the credit ledger, budgets and side-by-side compare, driven like a designer would.

Real SQLite histories with real PNG files; bundles are written and read through store.bundles.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QPushButton

from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.store import HistoryStore
from gptimg_desktop.ui.canvas.compare_view import CompareDialog, compare_labels, open_compare_dialog
from gptimg_desktop.ui.ledger import projects_dialog as projects_module
from gptimg_desktop.ui.ledger.budget_prompt import BudgetWarning, budget_check, check_before_run, confirm_over_budget
from gptimg_desktop.ui.ledger.ledger_view import LedgerView
from gptimg_desktop.ui.ledger.projects_dialog import ProjectsDialog

WAIT_MS = 15_000


def png(color, size=(32, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


def make_version(store, prompt, project=None, parent=None, color=(255, 0, 0), credits=60, cost=0.05, size=(32, 32)):
    job = store.create_job({"prompt": prompt}, "edit" if parent else "generate", "gpt-image-2", prompt, project,
                           parent.id if parent else None)
    store.mark_running(job.id)
    version = store.add_version(job.id, png(color, size), "png", *size, "high", 0, Usage(100, 1000, 1100, 100, 0, 1000),
                                cost, credits)
    store.mark_succeeded(job.id)
    return version


# ---------------------------------------------------------------------------------------------- projects
def test_create_rename_switch_and_budget(qtbot, store):
    dialog = ProjectsDialog(store, current="Default")
    qtbot.addWidget(dialog)
    assert dialog.project_names() == ["Default"]
    assert not dialog.rename_button.isEnabled() and not dialog.delete_button.isEnabled()  # Default stays

    assert dialog.create_project("  Posters  ")
    assert dialog.selected_project() == "Posters" and "Posters" in dialog.project_names()
    assert not dialog.create_project("   ")
    assert "needs a name" in dialog.message_text()

    with qtbot.waitSignal(dialog.projectsChanged):
        assert dialog.rename_selected("Posters 2026")
    assert store.get_project("Posters 2026") is not None and store.get_project("Posters") is None

    dialog.budget.set_values(500, 12.5)
    assert dialog.save_budget()
    project = store.get_project("Posters 2026")
    assert (project.budget_credits, project.budget_usd) == (500, 12.5)
    dialog.budget.usd_edit.setText("")
    assert dialog.save_budget() and store.get_project("Posters 2026").budget_usd is None

    with qtbot.waitSignal(dialog.projectSwitched) as switched:
        dialog.switch_button.click()
    assert switched.args == ["Posters 2026"]


def test_delete_asks_first_and_keeps_the_image_files(qtbot, store, monkeypatch):
    version = make_version(store, "A poster", project="Posters")
    asked = []
    answer = {"value": False}

    def fake_confirm(parent, name, versions, folder):
        asked.append((name, versions))
        return answer["value"]

    monkeypatch.setattr(projects_module, "confirm_delete", fake_confirm)
    dialog = ProjectsDialog(store, current="Posters")
    qtbot.addWidget(dialog)
    dialog.select("Posters")
    assert not dialog.delete_selected()  # the user said no
    assert asked == [("Posters", 1)] and store.get_project("Posters") is not None

    answer["value"] = True
    with qtbot.waitSignal(dialog.projectSwitched) as switched:  # the current project went away
        assert dialog.delete_selected()
    assert switched.args == ["Default"]
    assert store.get_project("Posters") is None and store.get_version(version.id) is None
    assert version.path.exists()  # files stay on disk
    assert "still on disk" in dialog.message_text()


def test_the_delete_confirmation_says_files_are_kept(qtbot, store):
    seen = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        seen["text"] = box.text() + " " + box.informativeText()
        cancel = next(b for b in box.findChildren(QPushButton) if b.text() == "Cancel")
        cancel.click()

    QTimer.singleShot(50, answer)
    assert projects_module.confirm_delete(None, "Posters", 3, "/data/images") is False
    assert "3 versions" in seen["text"] and "kept on disk" in seen["text"] and "until you confirm" in seen["text"]


def test_export_and_import_a_project_bundle_from_the_dialog(qtbot, store, tmp_path, monkeypatch):
    make_version(store, "A poster", project="Posters", color=(10, 200, 30))
    dialog = ProjectsDialog(store, current="Default")
    qtbot.addWidget(dialog)
    dialog.select("Posters")
    bundle = tmp_path / "posters.gptimg"
    dialog.export_selected_to(bundle)
    qtbot.waitUntil(lambda: "Exported" in dialog.message_text(), timeout=WAIT_MS)
    assert bundle.exists()

    monkeypatch.setattr(projects_module, "confirm_delete", lambda *a: True)
    dialog.select("Posters")
    dialog.delete_selected()
    assert store.get_project("Posters") is None
    with qtbot.waitSignal(dialog.projectsChanged, timeout=WAIT_MS):
        dialog.import_from(bundle)
    assert "Imported 1 version" in dialog.message_text()
    assert "Posters" in dialog.project_names() and store.version_counts()["Posters"] == 1

    dialog.import_from(tmp_path / "missing.gptimg")
    qtbot.waitUntil(lambda: "Import failed" in dialog.message_text(), timeout=WAIT_MS)


# ---------------------------------------------------------------------------------------------- ledger
def test_ledger_totals_per_project_day_and_month_with_budget_colours(qtbot, store):
    for i in range(3):
        make_version(store, f"poster {i}", project="Posters", cost=0.2)
    make_version(store, "a mug", project="Product shots", cost=0.1)
    store.set_project_budget("Posters", credits=200)  # 180 of 200 used: 90 %
    store.set_project_budget("Product shots", credits=50)  # 60 of 50: over
    view = LedgerView(store)
    qtbot.addWidget(view)
    assert view.all_card.value.text() == "240 credits"
    assert view.all_card.detail.text() == "$0.70 · 4 images"
    assert view.today_card.value.text() == "240 credits"
    posters = view.project_row("Posters")
    assert (posters["Images"], posters["Credits"], posters["USD"], posters["Budget"], posters["Used"]) == (
        "3", "180", "$0.60", "200 cr", "90 %")
    assert posters["level"] == "warning"
    assert view.project_row("Product shots")["level"] == "exceeded"
    assert view.project_row("Default")["Used"] == "—"
    assert view.days_table.topLevelItemCount() == 1 and view.days_table.topLevelItem(0).text(2) == "240"
    assert view.months_table.topLevelItemCount() == 1
    view.period_project.setCurrentIndex(view.period_project.findData("Posters"))
    assert view.days_table.topLevelItem(0).text(2) == "180"


def test_ledger_saves_budgets_and_warns_from_80_percent(qtbot, store):
    for i in range(4):
        make_version(store, f"image {i}")  # 240 credits
    view = LedgerView(store)
    qtbot.addWidget(view)
    assert view.warning.message() == ""
    view.global_budget.set_values(280, None)
    with qtbot.waitSignal(view.budgetsChanged):
        assert view.save_global_budget()
    assert store.budget_for(None) == (280, None)
    assert view.global_bar.level == "warning" and view.global_bar.share == pytest.approx(240 / 280)
    assert "86 %" in view.warning.message()
    view.global_budget.credits_edit.setText("")
    view.global_budget.usd_edit.setText("-3")
    assert not view.save_global_budget()
    assert "negative" in view.message.message()

    view.select_project("Default")
    view.project_budget.set_values(100, None)
    assert view.save_project_budget()
    assert view.project_row("Default")["level"] == "exceeded"


# ---------------------------------------------------------------------------------------------- budget prompt
def test_budget_check_and_the_over_budget_question(qtbot, store):
    make_version(store, "image", project="Posters")  # 60 credits spent
    store.set_project_budget("Posters", credits=100)
    assert budget_check(store, "Posters", {"credits": 10, "cost_usd": 0.1})[0] == "ok"
    level, message = budget_check(store, "Posters", {"credits": 60, "cost_usd": 0.2})
    assert level == "would_exceed" and "Posters" in message

    def press(name: str) -> None:
        box = QApplication.activeModalWidget()
        box.findChild(QPushButton, name).click()

    QTimer.singleShot(50, lambda: press("overBudgetRun"))
    assert confirm_over_budget(None, message) is True
    QTimer.singleShot(50, lambda: press("overBudgetCancel"))
    assert confirm_over_budget(None, message) is False

    warning = BudgetWarning()
    qtbot.addWidget(warning)
    assert check_before_run(None, store, "Posters", {"credits": 25, "cost_usd": 0.1}, warning)  # 85 %: warns
    assert "85 %" in warning.message()
    assert check_before_run(None, store, "Posters", {"credits": 5, "cost_usd": 0.0}, warning)
    assert warning.message() == ""
    QTimer.singleShot(50, lambda: press("overBudgetCancel"))
    assert not check_before_run(None, store, "Posters", {"credits": 60, "cost_usd": 0.2}, warning)


# ---------------------------------------------------------------------------------------------- compare
def _solid(color: QColor, w: int, h: int) -> QImage:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(color)
    return image


def test_compare_dialog_shows_both_images_side_by_side_with_synced_zoom(qtbot):
    dialog = CompareDialog(_solid(QColor(220, 30, 30), 200, 200), _solid(QColor(30, 30, 220), 300, 200))
    qtbot.addWidget(dialog)
    dialog.resize(1000, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    view = dialog.view
    assert view.before_label.text() == "Before (parent)" and view.after_label.text() == "After"
    assert view.before_size.text() == "200×200" and view.after_size.text() == "300×200"
    shot = dialog.grab().toImage()

    def pixel_at(pane):
        centre = pane.mapTo(dialog, pane.rect().center())
        return QColor(shot.pixel(centre))

    assert pixel_at(view.before).red() > 200 and pixel_at(view.before).blue() < 60
    assert pixel_at(view.after).blue() > 200 and pixel_at(view.after).red() < 60

    view.set_zoom(3.0)
    before, after = view.before.image_rect(), view.after.image_rect()
    assert before.width() / view.before.fit_scale() == pytest.approx(200 * 3.0)
    assert after.width() / view.after.fit_scale() == pytest.approx(300 * 3.0)
    view._pan(view.before, 40, 0)  # dragging one side moves both
    assert view.before.to_fraction(view.before.rect().center()).x() == pytest.approx(
        view.after.to_fraction(view.after.rect().center()).x())
    view.swap()
    assert view.before_label.text() == "After" and view.before.image.width() == 300
    view.fit()
    assert view.zoom == 1.0


def test_compare_two_versions_from_the_history(qtbot, store):
    parent = make_version(store, "A fox", color=(200, 20, 20))
    child = make_version(store, "Yellow scarf", parent=parent, color=(20, 20, 200))
    other = make_version(store, "Jazz poster", color=(20, 200, 20))
    assert compare_labels(store, child.id, parent.id) == (parent.id, child.id, "Before (parent)", "After")
    before, after, left, right = compare_labels(store, other.id, parent.id)
    assert right.startswith("Later")
    assert (before, after) == (parent.id, other.id) and left.startswith("Earlier")
    dialog = open_compare_dialog(None, store, parent.id, child.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.view.before.image.isNull() and not dialog.view.after.image.isNull(),
                    timeout=WAIT_MS)
    assert QColor(dialog.view.before.image.pixel(5, 5)).red() > 180
    assert QColor(dialog.view.after.image.pixel(5, 5)).blue() > 180


def test_today_card_counts_only_today(qtbot, tmp_path):
    class Clock:
        def __init__(self) -> None:
            self.now = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)

        def __call__(self) -> dt.datetime:
            return self.now

    clock = Clock()
    store = HistoryStore(tmp_path / "clocked", clock=clock)
    make_version(store, "old image")
    clock.now = dt.datetime.now(dt.UTC)
    make_version(store, "new image", credits=60)
    view = LedgerView(store)
    qtbot.addWidget(view)
    assert view.all_card.value.text() == "120 credits"
    assert view.today_card.value.text() == "60 credits"
    assert view.months_table.topLevelItemCount() == 2
    store.close()


@pytest.mark.parametrize("demo", [True, False])
def test_the_ledger_window_says_when_nothing_was_billed_and_closes_with_a_button(qtbot, store, demo):
    """Walkthrough: the demo banner says nothing is billed while the ledger showed $1.11 spent, unmarked; and
    the ledger window had no Close button."""
    from PySide6.QtWidgets import QDialogButtonBox

    from gptimg_desktop.ui.ledger.ledger_view import LedgerDialog

    dialog = LedgerDialog(store, demo=demo)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert ("nothing here was billed" in dialog.demo_note.message()) is demo
    assert dialog.demo_note.isVisible() is demo
    close = dialog.findChild(QDialogButtonBox, "ledgerButtons").button(QDialogButtonBox.StandardButton.Close)
    with qtbot.waitSignal(dialog.rejected):
        close.click()
    assert not dialog.isVisible()
