"""A horizontal slider that shows its value beside it ("12 px", "40 %"), because a bare slider hides the number.

The slider keeps its own objectName and signals; the label only follows it. Wrap any QSlider the window already
names, so existing names and tests keep working.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget


class ValueSlider(QWidget):
    """``slider`` plus a fixed-width value label; ``valueChanged`` is the slider's."""

    valueChanged = Signal(int)

    def __init__(
        self,
        minimum: int,
        maximum: int,
        value: int,
        *,
        suffix: str = "",
        format_value: Callable[[int], str] | None = None,
        slider_name: str = "",
        accessible_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._format = format_value or (lambda v: f"{v}{suffix}")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        if slider_name:
            self.slider.setObjectName(slider_name)
        if accessible_name:
            self.slider.setAccessibleName(accessible_name)
        self.slider.setRange(minimum, maximum)
        self.slider.setMinimumWidth(72)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.value_label = QLabel(self)
        self.value_label.setObjectName(f"{slider_name}Value" if slider_name else "sliderValue")
        self.value_label.setProperty("role", "muted")
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        metrics = QFontMetrics(self.value_label.font())
        widest = max(metrics.horizontalAdvance(self._format(v)) for v in (minimum, maximum, (minimum + maximum) // 2))
        self.value_label.setFixedWidth(widest + 6)  # the layout never jumps while dragging
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        self.slider.valueChanged.connect(self._changed)
        self.slider.setValue(value)
        self._changed(self.slider.value())

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, value: int) -> None:  # noqa: N802 (mirrors QSlider)
        self.slider.setValue(value)

    def text(self) -> str:
        return self.value_label.text()

    def _changed(self, value: int) -> None:
        self.value_label.setText(self._format(value))
        self.valueChanged.emit(value)
