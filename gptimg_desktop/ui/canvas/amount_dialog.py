"""Grow, Shrink and Feather as a slider with its value and a live preview on the canvas, not a bare number box.

Moving the slider asks for a preview after a short pause (so a drag does not recompute the mask per pixel of
travel); OK applies the value as one undo step, Cancel puts the mask back as it was.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QSpinBox, QVBoxLayout, QWidget

from ..common.value_slider import ValueSlider

PREVIEW_DELAY_MS = 120


class AmountDialog(QDialog):
    """``preview(px)`` shows the effect live (``preview(0)`` shows the mask unchanged); ``value()`` after exec."""

    def __init__(
        self,
        title: str,
        label: str,
        *,
        maximum: int = 200,
        value: int = 8,
        preview: Callable[[int], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("maskAmountDialog")
        self.setWindowTitle(title)
        self._preview = preview
        caption = QLabel(label, self)
        self.slider = ValueSlider(0, maximum, value, suffix=" px", slider_name="maskAmountSlider",
                                  accessible_name=label, parent=self)
        self.spin = QSpinBox(self)
        self.spin.setObjectName("maskAmountSpin")
        self.spin.setRange(0, maximum)
        self.spin.setSuffix(" px")
        self.spin.setValue(value)
        self.spin.setAccessibleName(f"{label} (exact)")
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._show_preview)
        self.slider.valueChanged.connect(lambda _v: self._timer.start())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(caption)
        layout.addWidget(self.slider)
        layout.addWidget(self.spin)
        layout.addWidget(buttons)
        self.setMinimumWidth(340)
        if preview is not None:
            self._timer.start()

    def value(self) -> int:
        return self.slider.value()

    def _show_preview(self) -> None:
        if self._preview is not None:
            self._preview(self.value())

    def done(self, result: int) -> None:
        self._timer.stop()
        super().done(result)
