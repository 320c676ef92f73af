"""The credit ledger: what was spent in total, per project, per day and per month, and the budgets.

Everything comes from the store's ledger (money spent stays recorded even after its project is deleted).
Budgets turn amber from 80 % used and red when used up, as core.budget decides for runs.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.budget import format_usd
from ...store.db import utc_timestamp
from ..common.panel_widgets import MessageStrip, section_label
from ..theme.style import SPACING, Colors, set_role
from ..theme.table_style import style_table
from .budget_widgets import BudgetBar, BudgetEditor, level_color, level_for_share, usage_share

TAB_STYLE = f"""
QTabWidget::pane {{ border: none; background: transparent; }}
QTabBar::tab {{ background: transparent; color: {Colors.text_muted}; border: none; border-bottom: 2px solid transparent;
    padding: 6px 14px; margin-right: 4px; }}
QTabBar::tab:hover {{ color: {Colors.text}; }}
QTabBar::tab:selected {{ color: {Colors.text}; border-bottom: 2px solid {Colors.accent}; font-weight: bold; }}
"""
PERIOD_COLUMNS = ("Images", "Credits", "USD", "Tokens in", "Tokens out")
PROJECT_COLUMNS = ("Project", "Images", "Credits", "USD", "Budget", "Used")


def local_midnight_utc(day: _dt.date) -> str:
    """The stored-timestamp form (UTC) of local midnight at the start of ``day``."""
    local = _dt.datetime(day.year, day.month, day.day).astimezone()
    return utc_timestamp(local)


def _right(item: QTreeWidgetItem, columns: range) -> None:
    for c in columns:
        item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _table(name: str, columns: tuple[str, ...], parent: QWidget) -> QTreeWidget:
    table = QTreeWidget(parent)
    table.setObjectName(name)
    table.setHeaderLabels(list(columns))
    table.setRootIsDecorated(False)
    table.setUniformRowHeights(True)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    style_table(table)
    header = table.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(columns)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        table.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return table


class _TotalCard(QFrame):
    def __init__(self, name: str, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        set_role(self, "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING + 4, SPACING, SPACING + 4, SPACING)
        layout.setSpacing(2)
        self.title = section_label(title, f"{name}Title")
        self.value = QLabel(self)
        self.value.setObjectName(f"{name}Value")
        self.value.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.detail = QLabel(self)
        self.detail.setObjectName(f"{name}Detail")
        set_role(self.detail, "hint")
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)

    def set_totals(self, totals: Any) -> None:
        self.value.setText(f"{totals.credits:,} credits")
        plural = "image" if totals.images == 1 else "images"
        self.detail.setText(f"{format_usd(totals.cost_usd)} · {totals.images:,} {plural}")


class LedgerView(QWidget):
    """Totals, budgets and tables of spending; ``budgetsChanged`` after a budget is saved."""

    budgetsChanged = Signal()

    def __init__(self, store, parent: QWidget | None = None, today=None) -> None:
        super().__init__(parent)
        self.setObjectName("ledgerView")
        self.setAccessibleName("Credit ledger")
        self._store = store
        self._today = today or _dt.date.today

        self.all_card = _TotalCard("ledgerAllTime", "All time", self)
        self.month_card = _TotalCard("ledgerThisMonth", "This month", self)
        self.today_card = _TotalCard("ledgerToday", "Today", self)
        cards = QHBoxLayout()
        cards.setSpacing(SPACING)
        for card in (self.all_card, self.month_card, self.today_card):
            cards.addWidget(card, 1)

        # Overall budget
        self.global_bar = BudgetBar("ledgerGlobalBar", self)
        self.global_bar.setFixedHeight(8)
        self.global_text = QLabel(self)
        self.global_text.setObjectName("ledgerGlobalText")
        set_role(self.global_text, "hint")
        self.global_budget = BudgetEditor("globalBudget", self)
        self.save_global_button = QPushButton("Save", self)
        self.save_global_button.setObjectName("ledgerSaveGlobalBudget")
        self.save_global_button.setAccessibleName("Save the overall budget")
        self.warning = MessageStrip("ledgerBudgetWarning", kind="warning", closable=False, parent=self)
        budget_row = QHBoxLayout()
        budget_row.setSpacing(SPACING)
        budget_row.addWidget(self.global_budget)
        budget_row.addWidget(self.save_global_button)
        budget_row.addStretch(1)

        # Tables
        self.projects_table = _table("ledgerProjectsTable", PROJECT_COLUMNS, self)
        self.project_budget = BudgetEditor("ledgerProjectBudget", self)
        self.project_budget_label = QLabel(self)
        self.project_budget_label.setObjectName("ledgerProjectBudgetLabel")
        set_role(self.project_budget_label, "hint")
        self.save_project_button = QPushButton("Save", self)
        self.save_project_button.setObjectName("ledgerSaveProjectBudget")
        self.save_project_button.setAccessibleName("Save the selected project's budget")
        projects_tab = QWidget(self)
        projects_layout = QVBoxLayout(projects_tab)
        projects_layout.setContentsMargins(0, SPACING, 0, 0)
        projects_layout.setSpacing(SPACING)
        projects_layout.addWidget(self.projects_table, 1)
        project_row = QHBoxLayout()
        project_row.setSpacing(SPACING)
        project_row.addWidget(self.project_budget_label)
        project_row.addWidget(self.project_budget)
        project_row.addWidget(self.save_project_button)
        project_row.addStretch(1)
        projects_layout.addLayout(project_row)

        self.period_project = QComboBox(self)
        self.period_project.setObjectName("ledgerProjectFilter")
        self.period_project.setAccessibleName("Project for the day and month tables")
        self.days_table = _table("ledgerDaysTable", ("Day", *PERIOD_COLUMNS), self)
        self.months_table = _table("ledgerMonthsTable", ("Month", *PERIOD_COLUMNS), self)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("ledgerTabs")
        self.tabs.setStyleSheet(TAB_STYLE)
        self.tabs.addTab(projects_tab, "Projects")
        self.tabs.addTab(self.days_table, "By day")
        self.tabs.addTab(self.months_table, "By month")
        self.tabs.setCornerWidget(self.period_project, Qt.Corner.TopRightCorner)

        self.message = MessageStrip("ledgerMessage", kind="info", parent=self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING * 2, SPACING * 2, SPACING * 2, SPACING * 2)
        layout.setSpacing(SPACING)
        layout.addLayout(cards)
        layout.addSpacing(SPACING // 2)
        layout.addWidget(section_label("Overall budget", "ledgerGlobalTitle"))
        layout.addWidget(self.global_bar)
        layout.addWidget(self.global_text)
        layout.addLayout(budget_row)
        layout.addWidget(self.warning)
        layout.addSpacing(SPACING // 2)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)

        self.save_global_button.clicked.connect(self.save_global_budget)
        self.save_project_button.clicked.connect(self.save_project_budget)
        self.projects_table.currentItemChanged.connect(lambda *_: self._project_selected())
        self.period_project.currentIndexChanged.connect(lambda _i: self._fill_periods())
        self.tabs.currentChanged.connect(lambda i: self.period_project.setVisible(i > 0))  # days and months only
        self.period_project.setVisible(False)
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self) -> None:
        store = self._store
        today = self._today()
        self.all_card.set_totals(store.usage_totals())
        self.month_card.set_totals(store.usage_totals(since=local_midnight_utc(today.replace(day=1))))
        self.today_card.set_totals(store.usage_totals(since=local_midnight_utc(today)))
        self._fill_global()
        self._fill_projects()
        self._fill_period_filter()
        self._fill_periods()

    def _fill_global(self) -> None:
        credits, usd = self._store.budget_for(None)
        totals = self._store.usage_totals()
        self.global_budget.set_values(credits, usd)
        share = usage_share(totals.credits, totals.cost_usd, credits, usd)
        level = level_for_share(share)
        self.global_bar.set_share(share, level)
        if share is None:
            self.global_text.setText(f"No overall budget. Spent so far: {totals.credits:,} credits · "
                                     f"{format_usd(totals.cost_usd)}.")
        else:
            parts = []
            if credits is not None:
                parts.append(f"{totals.credits:,} of {credits:,} credits")
            if usd is not None:
                parts.append(f"{format_usd(totals.cost_usd)} of {format_usd(usd)}")
            self.global_text.setText(f"{' · '.join(parts)} used ({share * 100:.0f} %)")
        status = self._store.budget_status(None)
        if level != "ok":
            self.warning.set_kind("error" if level == "exceeded" else "warning")
            self.warning.show_message(status.message)
        else:
            self.warning.dismiss()

    def _fill_projects(self) -> None:
        keep = self.selected_project()
        self.projects_table.clear()
        for project in self._store.list_projects():
            totals = self._store.usage_totals(project=project.name)
            share = usage_share(totals.credits, totals.cost_usd, project.budget_credits, project.budget_usd)
            level = level_for_share(share)
            budget = " · ".join(
                ([f"{project.budget_credits:,} cr"] if project.budget_credits is not None else [])
                + ([format_usd(project.budget_usd)] if project.budget_usd is not None else [])
            ) or "No limit"
            item = QTreeWidgetItem([
                project.name,
                f"{totals.images:,}",
                f"{totals.credits:,}",
                format_usd(totals.cost_usd),
                budget,
                "—" if share is None else f"{share * 100:.0f} %",
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, project.name)
            item.setData(5, Qt.ItemDataRole.UserRole, level)
            _right(item, range(1, len(PROJECT_COLUMNS)))
            if level != "ok":
                color = level_color(level)
                item.setForeground(5, color)
                item.setForeground(4, color)
                item.setToolTip(5, "80 % or more of this project's budget is used" if level == "warning"
                                else "This project's budget is used up")
            self.projects_table.addTopLevelItem(item)
            if project.name == keep:
                self.projects_table.setCurrentItem(item)
        if self.projects_table.currentItem() is None and self.projects_table.topLevelItemCount():
            first = self.projects_table.topLevelItem(0)
            if first is not None:
                self.projects_table.setCurrentItem(first)
        self._project_selected()

    def _fill_period_filter(self) -> None:
        current = self.period_project.currentData()
        self.period_project.blockSignals(True)
        self.period_project.clear()
        self.period_project.addItem("All projects", None)
        for project in self._store.list_projects():
            self.period_project.addItem(project.name, project.name)
        i = self.period_project.findData(current)
        self.period_project.setCurrentIndex(max(0, i))
        self.period_project.blockSignals(False)

    def _fill_periods(self) -> None:
        project = self.period_project.currentData()
        for table, rows, key in ((self.days_table, self._store.usage_by_day(project), "day"),
                                 (self.months_table, self._store.usage_by_month(project), "month")):
            table.clear()
            for row in reversed(rows):  # newest first
                item = QTreeWidgetItem([
                    _period_label(row[key], key),
                    f"{row['images']:,}",
                    f"{row['credits']:,}",
                    format_usd(row["cost_usd"]),
                    f"{row['input_tokens']:,}",
                    f"{row['output_tokens']:,}",
                ])
                item.setData(0, Qt.ItemDataRole.UserRole, row[key])
                _right(item, range(1, len(PERIOD_COLUMNS) + 1))
                table.addTopLevelItem(item)

    # ------------------------------------------------------------------ queries for tests and the window
    def selected_project(self) -> str | None:
        item = self.projects_table.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select_project(self, name: str) -> None:
        for i in range(self.projects_table.topLevelItemCount()):
            item = self.projects_table.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                self.projects_table.setCurrentItem(item)

    def project_row(self, name: str) -> dict[str, str]:
        """The cells of ``name``'s row in the projects table, by column title (plus "level")."""
        for i in range(self.projects_table.topLevelItemCount()):
            item = self.projects_table.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                cells = {title: item.text(c) for c, title in enumerate(PROJECT_COLUMNS)}
                cells["level"] = item.data(5, Qt.ItemDataRole.UserRole)
                return cells
        raise KeyError(name)

    # ------------------------------------------------------------------ budgets
    def save_global_budget(self) -> bool:
        try:
            credits, usd = self.global_budget.values()
            self._store.set_global_budget(credits, usd)
        except ValueError as exc:
            self._error(str(exc))
            return False
        self.refresh()
        self._info("Overall budget saved.")
        self.budgetsChanged.emit()
        return True

    def save_project_budget(self) -> bool:
        name = self.selected_project()
        if name is None:
            return False
        try:
            self.project_budget.save_for_project(self._store, name)
        except (ValueError, LookupError) as exc:
            self._error(str(exc))
            return False
        self.refresh()
        self._info(f"Budget of {name} saved.")
        self.budgetsChanged.emit()
        return True

    def _project_selected(self) -> None:
        name = self.selected_project()
        project = self._store.get_project(name) if name else None
        self.project_budget.setEnabled(project is not None)
        self.save_project_button.setEnabled(project is not None)
        self.project_budget_label.setText(f"Budget of {name}:" if name else "Budget:")
        self.project_budget.set_values(project.budget_credits if project else None,
                                       project.budget_usd if project else None)

    def _info(self, text: str) -> None:
        self.message.set_kind("info")
        self.message.show_message(text)

    def _error(self, text: str) -> None:
        self.message.set_kind("error")
        self.message.show_message(text)


def _period_label(value: str, key: str) -> str:
    try:
        if key == "day":
            day = _dt.date.fromisoformat(value)
            return f"{day:%a} {day.day} {day:%b %Y}"
        month = _dt.date.fromisoformat(value + "-01")
        return f"{month:%B %Y}"
    except (TypeError, ValueError):
        return str(value)


class LedgerDialog(QDialog):
    """The ledger in its own window."""

    def __init__(self, store, parent: QWidget | None = None, demo: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("ledgerDialog")
        self.setWindowTitle("Credit ledger")
        self.view = LedgerView(store, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.demo_note = MessageStrip("ledgerDemoNote", "note", closable=False)
        if demo:  # the banner says nothing is billed; the ledger must not seem to say otherwise
            self.demo_note.show_message("Demo mode: nothing here was billed. The figures are what the same jobs "
                                        "would cost with your API key.")
        layout.addWidget(self.demo_note)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName("ledgerButtons")
        buttons.setContentsMargins(12, 0, 12, 12)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 680)
