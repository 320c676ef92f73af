"""The left side of the Sets workspace: template, brief, fields, pinned references, quality, and the plan with
its sizes, estimate and budget check. It only builds a SetPlan; running is the window's job."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RequestRefused
from ...core.pricing import PriceTable
from ...core.prompt_roles import ROLES
from ...core.set_plan import SetPlan, SetReference, plan_set
from ...core.templates import Template, TemplateLibrary
from ..theme.style import set_role


def role_label(label: QLabel, role: str) -> QLabel:
    set_role(label, role)
    return label

QUALITIES = ("low", "medium", "high", "auto")


class SetForm(QWidget):
    planChanged = Signal()

    def __init__(self, library: TemplateLibrary, prices: PriceTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setForm")
        self.library = library
        self.prices = prices
        self.plan: SetPlan | None = None
        self.problem = ""
        self._field_edits: dict[str, QLineEdit | QPlainTextEdit] = {}
        self._refs: list[SetReference] = []
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.replan)
        self._template_changed()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(role_label(QLabel("TEMPLATE"), "section"))
        self.template_combo = QComboBox(self)
        self.template_combo.setObjectName("setTemplate")
        for template in self.library:
            self.template_combo.addItem(template.name, template.id)
        self.template_combo.currentIndexChanged.connect(self._template_changed)
        layout.addWidget(self.template_combo)
        self.description = role_label(QLabel(self), "hint")
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        self.brief = QLineEdit(self)
        self.brief.setObjectName("setBrief")
        self.brief.setPlaceholderText("The set in one sentence")
        self.brief.textChanged.connect(self._changed)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Brief *", self.brief)  # required, as the starred fields are
        layout.addLayout(form)
        self.fields_host = QWidget(self)
        self.fields_form = QFormLayout(self.fields_host)
        self.fields_form.setContentsMargins(0, 0, 0, 0)
        self.fields_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.fields_host)

        layout.addWidget(role_label(QLabel("PINNED REFERENCES"), "section"))
        self.ref_list = QListWidget(self)
        self.ref_list.setObjectName("setReferences")
        self.ref_list.setMaximumHeight(64)
        layout.addWidget(self.ref_list)
        row = QHBoxLayout()
        self.ref_role = QComboBox(self)
        self.ref_role.setObjectName("setRefRole")
        for role in ROLES:
            self.ref_role.addItem(role.label, role.key)
        self.ref_role.setCurrentIndex(1)  # style
        add = QPushButton("Add…", self)
        add.setObjectName("setAddReference")
        add.clicked.connect(self._browse_reference)
        remove = QPushButton("Remove", self)
        remove.setObjectName("setRemoveReference")
        remove.clicked.connect(self._remove_reference)
        row.addWidget(self.ref_role, 1)
        row.addWidget(add)
        row.addWidget(remove)
        layout.addLayout(row)

        quality_row = QHBoxLayout()
        quality_row.addWidget(QLabel("Quality"))
        self.quality = QComboBox(self)
        self.quality.setObjectName("setQuality")
        for q in QUALITIES:
            self.quality.addItem(q, q)
        self.quality.setCurrentIndex(1)
        self.quality.currentIndexChanged.connect(self._changed)
        quality_row.addWidget(self.quality, 1)
        layout.addLayout(quality_row)

        layout.addWidget(role_label(QLabel("PLAN"), "section"))
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("setPlanTable")
        self.table.setHorizontalHeaderLabels(["Item", "Size", "Kind"])
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._checked)
        layout.addWidget(self.table, 1)
        self.estimate = role_label(QLabel(self), "estimate")
        self.estimate.setObjectName("setEstimate")
        self.estimate.setWordWrap(True)
        layout.addWidget(self.estimate)
        self.problem_label = role_label(QLabel(self), "warning")
        self.problem_label.setObjectName("setProblem")
        self.problem_label.setWordWrap(True)
        layout.addWidget(self.problem_label)

    # ------------------------------------------------------------------ state
    def template(self) -> Template:
        return self.library.get(str(self.template_combo.currentData()))

    def select_template(self, template_id: str) -> None:
        index = self.template_combo.findData(template_id)
        if index >= 0:
            self.template_combo.setCurrentIndex(index)

    def set_field(self, name: str, value: str) -> None:
        edit = self._field_edits[name]
        if isinstance(edit, QPlainTextEdit):
            edit.setPlainText(value)
        else:
            edit.setText(value)

    def field_values(self) -> dict[str, str]:
        return {name: (e.toPlainText() if isinstance(e, QPlainTextEdit) else e.text())
                for name, e in self._field_edits.items()}

    def add_reference(self, path: str, role: str | None = None) -> None:
        ref = SetReference(path, role if role is not None else str(self.ref_role.currentData()))
        self._refs.append(ref)
        self.ref_list.addItem(f"{ref.name}  ({ref.role or 'no role'})")
        self._changed()

    def selected_items(self) -> list[str] | None:
        """Checked item ids (the anchor is always made); None when all are checked."""
        ids, all_checked = [], True
        for row in range(self.table.rowCount()):
            cell = self.table.item(row, 0)
            if cell is None:
                continue
            if cell.checkState() == Qt.CheckState.Checked:
                ids.append(str(cell.data(Qt.ItemDataRole.UserRole)))
            else:
                all_checked = False
        return None if all_checked else ids

    def set_prices(self, prices: PriceTable) -> None:
        self.prices = prices
        self.replan()

    # ------------------------------------------------------------------ reactions
    def _template_changed(self) -> None:
        template = self.template()
        self.description.setText(template.description)
        while self.fields_form.rowCount():
            self.fields_form.removeRow(0)
        self._field_edits.clear()
        for f in template.fields:
            edit: QLineEdit | QPlainTextEdit
            if f.multiline:
                edit = QPlainTextEdit(self.fields_host)
                edit.setMaximumHeight(72)
                edit.setPlaceholderText(f.default or "one per line")
                edit.textChanged.connect(self._changed)
            else:
                edit = QLineEdit(self.fields_host)
                edit.setPlaceholderText(f.default or ("required" if f.required else "optional"))
                edit.textChanged.connect(self._changed)
            edit.setObjectName(f"setField_{f.name}")
            self._field_edits[f.name] = edit
            self.fields_form.addRow(f"{f.label}{' *' if f.required else ''}", edit)
        self.table.setRowCount(0)
        self._changed()

    def _changed(self, *_args: object) -> None:
        self._timer.start()

    def _checked(self, _cell: QTableWidgetItem) -> None:
        self._changed()

    def replan(self) -> None:
        """Build the plan from the form now; shows the estimate, or the one thing to fix."""
        self._timer.stop()
        template = self.template()
        checked = self.selected_items() if self.table.rowCount() else None
        try:
            plan = plan_set(template, self.brief.text(), self.field_values(), self._refs,
                            None, quality=str(self.quality.currentData()))
            self._fill_table(plan, checked)
            if checked is not None:
                plan = plan_set(template, self.brief.text(), self.field_values(), self._refs,
                                checked, quality=str(self.quality.currentData()))
        except RequestRefused as exc:
            field = template.field_named(exc.param) if exc.param else None
            # The core's sentence is written for the command line ("add --field …"); here the field is on screen.
            message = (f"Fill in {field.label} ('{field.name}'): the {template.name} template needs it."
                       if field is not None and field.required and not self.field_values().get(field.name, "").strip()
                       else str(exc))
            self.plan, self.problem = None, message
            self.problem_label.setText(self.problem)
            self.estimate.setText("")
            self.planChanged.emit()
            return
        self.plan, self.problem = plan, ""
        est = plan.estimate(self.prices)
        self.estimate.setText(f"{len(plan.items)} images · about {est.credits:,} credits · ${est.usd:.2f}")
        self.problem_label.setText(" ".join(plan.notes))
        self.planChanged.emit()

    def _fill_table(self, plan: SetPlan, checked: list[str] | None) -> None:
        self.table.blockSignals(True)
        ids = [i.id for i in plan.items]
        shown = [self.table.item(r, 0) for r in range(self.table.rowCount())]
        if [c.data(Qt.ItemDataRole.UserRole) if c is not None else None for c in shown] != ids:
            self.table.setRowCount(len(plan.items))
            for row, item in enumerate(plan.items):
                name = QTableWidgetItem(f"{item.name}{' (anchor)' if item.anchor else ''}")
                name.setData(Qt.ItemDataRole.UserRole, item.id)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if not item.anchor:
                    flags |= Qt.ItemFlag.ItemIsUserCheckable
                name.setFlags(flags)
                keep = checked is None or item.id in checked or item.anchor
                name.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
                name.setToolTip(item.prompt)
                self.table.setItem(row, 0, name)
                self.table.setItem(row, 1, QTableWidgetItem(item.size))
                self.table.setItem(row, 2, QTableWidgetItem("anchor" if item.anchor else item.kind))
        self.table.blockSignals(False)

    def _browse_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a pinned reference", "",
                                              "Images (*.png *.jpg *.jpeg *.webp)")
        if path:
            self.add_reference(path)

    def _remove_reference(self) -> None:
        row = self.ref_list.currentRow()
        if 0 <= row < len(self._refs):
            del self._refs[row]
            self.ref_list.takeItem(row)
            self._changed()
