"""Re-run with changes: the same prompt and inputs as a version, with another quality, size or image count."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.models import DEFAULT_MODEL, find_model, get_model
from ...core.sizes import SIZE_PRESETS
from ..theme.style import SPACING, set_role


class RerunDialog(QDialog):
    """Pick quality, size and count for a re-run; ``changes()`` holds only what differs from the original."""

    def __init__(
        self,
        prompt: str,
        model: str,
        size: str,
        quality: str | None,
        count: int = 1,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("rerunDialog")
        self.setAccessibleName("Re-run with changes")
        self.setWindowTitle("Re-run with changes")
        self._original = {"quality": quality or "auto", "size": size, "n": max(1, count)}
        spec = find_model(model) or get_model(DEFAULT_MODEL)

        intro = QLabel("Runs the same prompt and inputs again with these settings:", self)
        intro.setWordWrap(True)
        prompt_label = QLabel(" ".join(prompt.split())[:160] + ("…" if len(prompt) > 160 else ""), self)
        prompt_label.setWordWrap(True)
        set_role(prompt_label, "hint")

        self.quality_combo = QComboBox(self)
        self.quality_combo.setObjectName("rerunQuality")
        self.quality_combo.setAccessibleName("Quality")
        for q in spec.qualities:
            self.quality_combo.addItem(q.capitalize(), q)
        self._select(self.quality_combo, self._original["quality"])

        self.size_combo = QComboBox(self)
        self.size_combo.setObjectName("rerunSize")
        self.size_combo.setAccessibleName("Size")
        self.size_combo.addItem(f"Same as before ({size.replace('x', '×')})", size)
        seen = {size}
        choices = list(spec.fixed_sizes) if spec.fixed_sizes else [str(p.size_for(spec)) for p in SIZE_PRESETS]
        labels = {str(p.size_for(spec)): p.label for p in SIZE_PRESETS}
        for value in ["auto", *choices]:
            if value in seen:
                continue
            seen.add(value)
            label = "Auto" if value == "auto" else f"{labels.get(value, value)} ({value.replace('x', '×')})"
            self.size_combo.addItem(label, value)

        self.count_spin = QSpinBox(self)
        self.count_spin.setObjectName("rerunCount")
        self.count_spin.setAccessibleName("Number of images")
        self.count_spin.setRange(1, spec.max_n)
        self.count_spin.setValue(min(self._original["n"], spec.max_n))

        form = QFormLayout()
        form.setSpacing(SPACING)
        form.addRow("Quality", self.quality_combo)
        form.addRow("Size", self.size_combo)
        form.addRow("Images", self.count_spin)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.run_button = buttons.addButton("Re-run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setObjectName("rerunButton")
        self.run_button.setProperty("accent", True)
        self.run_button.style().unpolish(self.run_button)  # the box polished it already: re-read the property
        self.run_button.style().polish(self.run_button)
        self.run_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING * 2, SPACING * 2, SPACING * 2, SPACING * 2)
        layout.setSpacing(SPACING)
        layout.addWidget(intro)
        layout.addWidget(prompt_label)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def set_values(self, quality: str | None = None, size: str | None = None, n: int | None = None) -> None:
        """Set the controls as a user would (for scripts and tests)."""
        if quality is not None:
            self._select(self.quality_combo, quality)
        if size is not None:
            if self.size_combo.findData(size) < 0:
                self.size_combo.addItem(size.replace("x", "×"), size)
            self._select(self.size_combo, size)
        if n is not None:
            self.count_spin.setValue(n)

    def changes(self) -> dict[str, Any]:
        """{"quality": …, "size": …, "n": …} for the settings that differ from the original run."""
        chosen = {
            "quality": self.quality_combo.currentData(),
            "size": self.size_combo.currentData(),
            "n": self.count_spin.value(),
        }
        return {k: v for k, v in chosen.items() if v != self._original[k]}
