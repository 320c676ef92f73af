"""Projects: create, rename, switch, delete (image files are kept), budgets, and bundle import/export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.budget import format_usd
from ...store.records import DEFAULT_PROJECT
from ..common.panel_widgets import MessageStrip, section_label
from ..theme.style import SPACING, set_role
from ..theme.table_style import style_table
from . import bundle_actions
from .budget_widgets import BudgetEditor, level_color, level_for_share, usage_share

COLUMNS = ("Project", "Versions", "Spent", "Budget")


def confirm_delete(parent: QWidget | None, name: str, versions: int, images_folder: str) -> bool:
    """Ask before deleting a project; True only when the user confirmed. (Tests replace this.)"""
    box = QMessageBox(parent)
    box.setObjectName("deleteProjectBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete project")
    plural = "version" if versions == 1 else "versions"
    box.setText(f"Delete project “{name}” and its {versions:,} {plural} from the history?")
    box.setInformativeText(
        f"The image files are kept on disk in {images_folder}; only the history entries go. "
        "What was spent stays in the ledger. Nothing is deleted until you confirm."
    )
    delete = box.addButton("Delete project", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is delete


def ask_name(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """A project name from a small input dialog, or None when cancelled. (Tests replace this.)"""
    name, ok = QInputDialog.getText(parent, title, label, text=text)
    return name if ok else None


class ProjectsDialog(QDialog):
    """Manage projects. ``projectSwitched(name)`` when the user switches; ``projectsChanged`` after any
    create, rename, delete, import or budget change."""

    projectSwitched = Signal(str)
    projectsChanged = Signal()

    def __init__(self, store, current: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectsDialog")
        self.setAccessibleName("Projects")
        self.setWindowTitle("Projects")
        self._store = store
        self._current = current
        self._busy = False

        self.table = QTreeWidget(self)
        self.table.setObjectName("projectsTable")
        self.table.setAccessibleName("Projects")
        self.table.setHeaderLabels(COLUMNS)
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        style_table(self.table)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            self.table.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        def button(name: str, text: str, tip: str) -> QPushButton:
            b = QPushButton(text, self)
            b.setObjectName(name)
            b.setAccessibleName(tip)
            b.setToolTip(tip)
            return b

        self.new_button = button("projectNew", "New…", "Create a project")
        self.rename_button = button("projectRename", "Rename…", "Rename the selected project")
        self.delete_button = button("projectDelete", "Delete…", "Delete the selected project from the history")
        self.import_button = button("projectImport", "Import bundle…", "Add a project from a bundle file")
        self.export_button = button("projectExport", "Export project…", "Save the selected project as a bundle")
        self.switch_button = button("projectSwitch", "Switch to project", "Work in the selected project")
        self.switch_button.setProperty("accent", True)
        self.close_button = button("projectsClose", "Close", "Close")

        self.budget = BudgetEditor("projectBudget", self)
        self.save_budget_button = button("projectSaveBudget", "Save budget", "Save the selected project's budget")
        self.budget_hint = QLabel(self)
        self.budget_hint.setObjectName("projectBudgetHint")
        self.budget_hint.setWordWrap(True)
        set_role(self.budget_hint, "hint")

        self.message = MessageStrip("projectsMessage", kind="info", parent=self)

        side = QVBoxLayout()
        side.setSpacing(SPACING)
        for b in (self.new_button, self.rename_button, self.delete_button):
            side.addWidget(b)
        side.addSpacing(SPACING)
        side.addWidget(self.import_button)
        side.addWidget(self.export_button)
        side.addStretch(1)

        top = QHBoxLayout()
        top.setSpacing(SPACING * 2)
        top.addWidget(self.table, 1)
        top.addLayout(side)

        budget_row = QHBoxLayout()
        budget_row.setSpacing(SPACING)
        budget_row.addWidget(self.budget)
        budget_row.addWidget(self.save_budget_button)
        budget_row.addStretch(1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.switch_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING * 2, SPACING * 2, SPACING * 2, SPACING * 2)
        layout.setSpacing(SPACING)
        layout.addLayout(top, 1)
        layout.addWidget(section_label("Budget of the selected project", "projectBudgetTitle"))
        layout.addLayout(budget_row)
        layout.addWidget(self.budget_hint)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self.resize(680, 480)

        self.table.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.table.itemDoubleClicked.connect(lambda *_: self.switch_to_selected())
        self.new_button.clicked.connect(self._ask_new)
        self.rename_button.clicked.connect(self._ask_rename)
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button.clicked.connect(self._ask_import)
        self.export_button.clicked.connect(self._ask_export)
        self.switch_button.clicked.connect(self.switch_to_selected)
        self.save_budget_button.clicked.connect(self.save_budget)
        self.close_button.clicked.connect(self.reject)
        self.reload(select=current or DEFAULT_PROJECT)

    # ------------------------------------------------------------------ data
    def reload(self, select: str | None = None) -> None:
        keep = select or self.selected_project()
        counts = self._store.version_counts()
        self.table.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        for project in self._store.list_projects():
            totals = self._store.usage_totals(project=project.name)
            item = QTreeWidgetItem([
                project.name + ("  (current)" if project.name == self._current else ""),
                f"{counts.get(project.name, 0):,}",
                f"{totals.credits:,} cr · {format_usd(totals.cost_usd)}",
                _budget_text(project.budget_credits, project.budget_usd),
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, project.name)
            for column in (1, 2, 3):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            share = usage_share(totals.credits, totals.cost_usd, project.budget_credits, project.budget_usd)
            if share is not None and level_for_share(share) != "ok":
                item.setForeground(3, level_color(level_for_share(share)))
                item.setToolTip(3, f"{share * 100:.0f} % of the budget used")
            if project.name == self._current:
                item.setFont(0, bold)
            self.table.addTopLevelItem(item)
            if project.name == keep:
                self.table.setCurrentItem(item)
        if self.table.currentItem() is None and self.table.topLevelItemCount():
            first = self.table.topLevelItem(0)
            if first is not None:
                self.table.setCurrentItem(first)
        self._selection_changed()

    def project_names(self) -> list[str]:
        items = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in items if item is not None]

    def selected_project(self) -> str | None:
        item = self.table.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, name: str) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                self.table.setCurrentItem(item)
                return

    # ------------------------------------------------------------------ actions
    def create_project(self, name: str) -> bool:
        try:
            project = self._store.ensure_project(name)
        except ValueError as exc:
            self._error(str(exc))
            return False
        self.reload(select=project.name)
        self._info(f"Project {project.name} is ready. Switch to it to start working there.")
        self.projectsChanged.emit()
        return True

    def rename_selected(self, new_name: str) -> bool:
        old = self.selected_project()
        if old is None:
            return False
        try:
            project = self._store.rename_project(old, new_name)
        except (ValueError, LookupError) as exc:
            self._error(str(exc))
            return False
        if self._current == old:
            self._current = project.name
            self.projectSwitched.emit(project.name)  # the window follows the new name
        self.reload(select=project.name)
        self._info(f"Renamed {old} to {project.name}.")
        self.projectsChanged.emit()
        return True

    def delete_selected(self) -> bool:
        name = self.selected_project()
        if name is None:
            return False
        if name == DEFAULT_PROJECT:
            self._error("The Default project cannot be deleted; it holds work made outside any project.")
            return False
        versions = self._store.version_counts().get(name, 0)
        if not confirm_delete(self, name, versions, str(Path(self._store.root) / "images")):
            return False
        try:
            self._store.delete_project(name)
        except (ValueError, LookupError) as exc:
            self._error(str(exc))
            return False
        if self._current == name:
            self._current = DEFAULT_PROJECT
            self.projectSwitched.emit(DEFAULT_PROJECT)
        self.reload(select=DEFAULT_PROJECT)
        self._info(f"Deleted project {name} from the history. Its image files are still on disk.")
        self.projectsChanged.emit()
        return True

    def switch_to_selected(self) -> None:
        name = self.selected_project()
        if name is None:
            return
        self._current = name
        self.projectSwitched.emit(name)
        self.accept()

    def save_budget(self) -> bool:
        name = self.selected_project()
        if name is None:
            return False
        try:
            credits, usd = self.budget.save_for_project(self._store, name)
        except (ValueError, LookupError) as exc:
            self._error(str(exc))
            return False
        self.reload(select=name)
        self._info(f"Budget of {name} saved: {_budget_text(credits, usd)}.")
        self.projectsChanged.emit()
        return True

    def export_selected_to(self, dest: Path) -> None:
        """Export the selected project to ``dest`` on a worker thread (result in the message strip)."""
        name = self.selected_project()
        if name is None:
            return
        self._set_busy(True, f"Exporting {name}…")
        bundle_actions.run_export_project(self._store, name, Path(dest), self._bundle_done)

    def import_from(self, src: Path) -> None:
        """Import the bundle ``src`` on a worker thread (result in the message strip)."""
        self._set_busy(True, f"Importing {Path(src).name}…")
        bundle_actions.run_import_bundle(self._store, Path(src), self._imported)

    # ------------------------------------------------------------------ internals
    def _ask_new(self) -> None:
        name = ask_name(self, "New project", "Name of the new project:")
        if name is not None:
            self.create_project(name)

    def _ask_rename(self) -> None:
        old = self.selected_project()
        if old is None:
            return
        name = ask_name(self, "Rename project", f"New name for {old}:", old)
        if name is not None and name.strip() != old:
            self.rename_selected(name)

    def _ask_export(self) -> None:
        name = self.selected_project()
        if name is not None:
            bundle_actions.export_project_dialog(self, self._store, name, self._bundle_done)

    def _ask_import(self) -> None:
        if bundle_actions.import_bundle_dialog(self, self._store, self._imported):
            self._set_busy(True, "Importing…")

    def _bundle_done(self, message: str, error: str) -> None:
        self._set_busy(False)
        self._error(error) if error else self._info(message)

    def _imported(self, message: str, error: str) -> None:
        self._bundle_done(message, error)
        if not error:
            self.reload()
            self.projectsChanged.emit()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        for b in (self.import_button, self.export_button, self.delete_button):
            b.setEnabled(not busy)
        if busy:
            self._info(text)
        else:
            self._selection_changed()

    def _selection_changed(self) -> None:
        name = self.selected_project()
        is_default = name == DEFAULT_PROJECT
        for b in (self.rename_button, self.delete_button):
            b.setEnabled(name is not None and not is_default and not self._busy)
            b.setToolTip("The Default project can't be renamed or deleted" if is_default else b.accessibleName())
        self.export_button.setEnabled(name is not None and not self._busy)
        self.switch_button.setEnabled(name is not None and name != self._current)
        self.save_budget_button.setEnabled(name is not None)
        project = self._store.get_project(name) if name else None
        self.budget.set_values(project.budget_credits if project else None, project.budget_usd if project else None)
        self.budget_hint.setText(
            "Leave a field empty for no limit. Runs that would pass a limit ask first; from 80 % a warning shows."
        )

    def _info(self, text: str) -> None:
        self.message.set_kind("info")
        self.message.show_message(text)

    def _error(self, text: str) -> None:
        self.message.set_kind("error")
        self.message.show_message(text)

    def message_text(self) -> str:
        return self.message.message()


def _budget_text(credits: int | None, usd: float | None) -> str:
    parts = []
    if credits is not None:
        parts.append(f"{credits:,} cr")
    if usd is not None:
        parts.append(format_usd(usd))
    return " · ".join(parts) if parts else "No limit"
