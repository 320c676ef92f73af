"""The context bar above the canvas: the active tool's options and how the mask is shown.

Brush and eraser show size and hardness; rectangle, lasso, magic wand and colour range show Add / Subtract as two
explicit buttons (a selection never silently subtracts because the eraser was used last); the wand and colour
range add tolerance and contiguous. The mask's colour (``maskColorButton``), display (tint, outline, hidden) and
opacity are always there. The bar only shows and reports values: the window wires it to the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from ..common.color_button import ColorButton
from ..common.elided_label import ElidedLabel
from ..common.value_slider import ValueSlider

PAINT_TOOLS = {"brush", "eraser"}
SELECTION_TOOLS = {"rect", "lasso", "wand", "color_range"}
PICK_TOOLS = {"wand", "color_range"}
DISPLAY_MODES = (("tint", "Tint"), ("outline", "Outline"), ("hidden", "Hidden"))


def _tool_key(tool: object) -> str:
    return str(getattr(tool, "value", tool))


class ContextBar(QWidget):
    """Options of the current tool (``set_tool``) plus the mask display; one signal per option."""

    brushSizeChanged = Signal(int)
    hardnessChanged = Signal(int)  # 0-100
    selectionModeChanged = Signal(str)  # "add" or "subtract"
    toleranceChanged = Signal(int)
    contiguousChanged = Signal(bool)
    maskColorChanged = Signal(QColor)
    maskDisplayChanged = Signal(str)  # "tint", "outline", "hidden"
    maskOpacityChanged = Signal(int)  # 5-100

    def __init__(self, parent: QWidget | None = None, *, brush_size: int = 60, hardness: int = 100,
                 mask_color: QColor | None = None, opacity: int = 50) -> None:
        super().__init__(parent)
        self.setObjectName("toolOptions")
        self.setProperty("role", "toolbar")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.setSpacing(8)
        self._layout = layout
        self._groups: dict[str, list[QWidget]] = {"paint": [], "select": [], "pick": []}

        self.tool_label = QLabel(self)
        self.tool_label.setObjectName("toolNameLabel")
        self.tool_label.setMinimumWidth(84)
        layout.addWidget(self.tool_label)

        self.size_spin = QSpinBox(self)
        self.size_spin.setObjectName("brushSizeSpin")
        self.size_spin.setAccessibleName("Brush size")
        self.size_spin.setRange(1, 1000)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(brush_size)
        self._labelled("paint", "Size", self.size_spin)
        self.hardness = ValueSlider(0, 100, hardness, suffix=" %", slider_name="brushHardnessSlider",
                                    accessible_name="Brush hardness", parent=self)
        self.hardness.setFixedWidth(150)
        self.hardness_slider = self.hardness.slider
        self._labelled("paint", "Hardness", self.hardness)

        self.add_button = self._mode_button("selectionAddButton", "Add", "Selections add to the mask (Shift)")
        self.subtract_button = self._mode_button("selectionSubtractButton", "Subtract",
                                                 "Selections remove from the mask (Alt)")
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(True)
        self._mode_group.addButton(self.add_button)
        self._mode_group.addButton(self.subtract_button)
        self.add_button.setChecked(True)
        self._labelled("select", "Mode", self.add_button)
        self._add("select", self.subtract_button)
        self.add_button.toggled.connect(lambda on: on and self.selectionModeChanged.emit("add"))
        self.subtract_button.toggled.connect(lambda on: on and self.selectionModeChanged.emit("subtract"))

        self.tolerance = ValueSlider(0, 255, 32, slider_name="toleranceSlider",
                                     accessible_name="Tolerance", parent=self)
        self.tolerance.setFixedWidth(150)
        self.tolerance.setToolTip("How far a colour may differ from the one clicked (0–255 in any channel)")
        self._labelled("pick", "Tolerance", self.tolerance)
        self.contiguous_check = QCheckBox("Contiguous", self)
        self.contiguous_check.setObjectName("contiguousCheck")
        self.contiguous_check.setToolTip("Only the connected area (off: every matching pixel in the picture)")
        self.contiguous_check.setChecked(True)
        self._add("pick", self.contiguous_check)

        layout.addStretch(1)
        self.mask_hint = ElidedLabel("", self)
        self.mask_hint.setObjectName("maskHint")
        self.mask_hint.setProperty("role", "hint")
        self.mask_hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.mask_hint, 2)

        mask_label = QLabel("Mask", self)
        mask_label.setProperty("role", "muted")
        layout.addWidget(mask_label)
        self.color_button = ColorButton(mask_color or QColor("#00e5ff"), parent=self)
        self.color_button.setObjectName("maskColorButton")
        self.color_button.setAccessibleName("Mask colour")
        layout.addWidget(self.color_button)
        self.display_combo = QComboBox(self)
        self.display_combo.setObjectName("maskDisplayCombo")
        self.display_combo.setAccessibleName("Mask display")
        self.display_combo.setToolTip("Show the mask as a tint, as a marching-ants outline, or not at all (H)")
        for key, text in DISPLAY_MODES:
            self.display_combo.addItem(text, key)
        layout.addWidget(self.display_combo)
        self.opacity = ValueSlider(5, 100, opacity, suffix=" %", slider_name="maskOpacitySlider",
                                   accessible_name="Mask overlay opacity", parent=self)
        self.opacity.setFixedWidth(130)
        self.opacity_slider = self.opacity.slider
        layout.addWidget(self.opacity)

        self.size_spin.valueChanged.connect(self.brushSizeChanged)
        self.hardness.valueChanged.connect(self.hardnessChanged)
        self.tolerance.valueChanged.connect(self.toleranceChanged)
        self.contiguous_check.toggled.connect(self.contiguousChanged)
        self.color_button.colorChanged.connect(self.maskColorChanged)
        self.display_combo.currentIndexChanged.connect(
            lambda _i: self.maskDisplayChanged.emit(self.display_combo.currentData()))
        self.opacity.valueChanged.connect(self.maskOpacityChanged)
        self.set_tool("brush")

    # ------------------------------------------------------------------ building
    def _mode_button(self, name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setProperty("role", "segment")
        return button

    def _add(self, group: str, widget: QWidget) -> None:
        self._layout.addWidget(widget)
        self._groups[group].append(widget)

    def _labelled(self, group: str, text: str, widget: QWidget) -> None:
        label = QLabel(text, self)
        label.setBuddy(widget)
        label.setProperty("role", "muted")
        self._add(group, label)
        self._add(group, widget)

    # ------------------------------------------------------------------ state
    def set_tool(self, tool: object) -> None:
        key = _tool_key(tool)
        names = {"brush": "Brush", "eraser": "Eraser", "rect": "Rectangle", "lasso": "Lasso",
                 "wand": "Magic Wand", "color_range": "Colour Range"}
        self.tool_label.setText(names.get(key, key.title()))
        shown = {"paint": key in PAINT_TOOLS, "select": key in SELECTION_TOOLS, "pick": key in PICK_TOOLS}
        # Hide before showing: with both groups visible for a moment the bar's minimum width would exceed a
        # 1280 px window, and Qt grows a top-level window to its minimum (and never shrinks it back).
        for visible in (False, True):
            for group, widgets in self._groups.items():
                if shown[group] == visible:
                    for widget in widgets:
                        widget.setVisible(visible)

    def selection_mode(self) -> str:
        return "subtract" if self.subtract_button.isChecked() else "add"

    def set_selection_mode(self, mode: str) -> None:
        (self.subtract_button if mode == "subtract" else self.add_button).setChecked(True)

    def set_brush_size(self, size: int) -> None:
        self.size_spin.setValue(size)

    def set_hardness(self, percent: int) -> None:
        self.hardness.setValue(percent)

    def set_display(self, mode: str) -> None:
        index = self.display_combo.findData(mode)
        if index >= 0:
            self.display_combo.setCurrentIndex(index)

    def display(self) -> str:
        return str(self.display_combo.currentData())

    def set_mask_color(self, color: QColor) -> None:
        """Show the canvas's colour. Silent: echoing it back made the automatic colour look like the designer's
        pick, so every later image kept the first image's colour (magenta on a red mug)."""
        with QSignalBlocker(self.color_button):
            self.color_button.set_color(color)

    def set_hint(self, text: str) -> None:
        self.mask_hint.setText(text)
