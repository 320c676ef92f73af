"""The output-size control: Auto, presets by use, or a custom size snapped to the model's rules."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSpinBox, QWidget

from ...core.models import ModelSpec
from ...core.sizes import SIZE_PRESETS, Size, is_experimental, parse_size, size_problems, snap_size
from ..common.panel_widgets import hint_label
from ..theme.style import SPACING, set_role

AUTO = "auto"
CUSTOM = "custom"
_DATA = Qt.ItemDataRole.UserRole


def _times(size: Size | str) -> str:
    """1536x1024 -> "1536×1024": the multiplication sign reads better in the UI."""
    return str(size).replace("x", "×")


class SizePicker(QWidget):
    """sizeCombo + widthSpin/heightSpin (for Custom) + a hint saying why a size was snapped.

    ``size()`` is what the request sends: "auto" or "WxH", always valid for the current model.
    """

    sizeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spec: ModelSpec | None = None
        self._updating = False

        self.size_combo = QComboBox()
        self.size_combo.setObjectName("sizeCombo")
        self.size_combo.setAccessibleName("Size")
        self.size_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.size_combo.setMinimumContentsLength(10)
        self.size_combo.view().setMinimumWidth(300)
        self.size_combo.currentIndexChanged.connect(self._on_choice)

        self.width_spin = self._spin("widthSpin", "Width")
        self.height_spin = self._spin("heightSpin", "Height")
        times = QLabel("×")
        times.setObjectName("sizeTimesLabel")
        set_role(times, "hint")
        px = QLabel("px")
        set_role(px, "hint")
        self.experimental_badge = QLabel("EXPERIMENTAL")
        self.experimental_badge.setObjectName("experimentalBadge")
        self.experimental_badge.setAccessibleName("Experimental size")
        set_role(self.experimental_badge, "badge")
        self.experimental_badge.hide()
        self.hint = hint_label("sizeHintLabel")
        self.hint.hide()
        # While editing, the request goes out at the canvas size: the control shows it instead of a choice.
        self.canvas_label = QLabel()
        self.canvas_label.setObjectName("canvasSizeLabel")
        self.canvas_label.setAccessibleName("Canvas size")
        self.canvas_label.setWordWrap(True)
        self.canvas_label.hide()
        self._spins_row = QWidget()

        spins = QHBoxLayout()
        spins.setSpacing(SPACING // 2 + 2)
        spins.addWidget(self.width_spin, 1)
        spins.addWidget(times)
        spins.addWidget(self.height_spin, 1)
        spins.addWidget(px)
        spins.addSpacing(SPACING // 2)
        spins.addWidget(self.experimental_badge)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(SPACING)
        spins.setContentsMargins(0, 0, 0, 0)
        self._spins_row.setLayout(spins)
        grid.addWidget(self.canvas_label, 0, 0)
        grid.addWidget(self.size_combo, 1, 0)
        grid.addWidget(self._spins_row, 2, 0)
        grid.addWidget(self.hint, 3, 0)

    def show_canvas_size(self, size: tuple[int, int] | None, problem: str | None = None) -> None:
        """Editing an image of ``size``: show it in place of the choice, which applies only to generation.
        ``problem`` (the model can't edit at that size) is said here, before anything is sent."""
        editing = size is not None
        if size is not None:
            text = f"{size[0]}×{size[1]} (the canvas) — edits keep the canvas size"
            self.canvas_label.setText(f"{text}. {problem}" if problem else text)
            self.canvas_label.setToolTip("The size you choose here applies when generating a new image.")
        self.canvas_label.setVisible(editing)
        self.size_combo.setVisible(not editing)
        self._spins_row.setVisible(not editing)
        if editing:
            self.experimental_badge.hide()

    def canvas_size_text(self) -> str:
        return self.canvas_label.text() if not self.canvas_label.isHidden() else ""

    def _spin(self, name: str, accessible: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setAccessibleName(accessible)
        # A wide range on purpose: the user may type anything and we snap it, explaining why.
        spin.setRange(16, 9999)
        spin.setSingleStep(16)
        spin.setValue(1024)
        spin.setKeyboardTracking(False)
        spin.setMinimumWidth(64)  # four digits; the default hint is wider and crowds a 320 px panel
        spin.setToolTip(f"{accessible} in pixels. Typed values snap to the nearest size the model accepts.")
        spin.editingFinished.connect(self._on_custom_edited)
        return spin

    # ------------------------------------------------------------------ model
    def set_model(self, spec: ModelSpec) -> None:
        """Refill the presets for ``spec``, keeping the current size when the new model allows it."""
        previous = self.size_text() if self._spec is not None else AUTO
        was_custom = self.size_combo.currentData(_DATA) == CUSTOM
        self._spec = spec
        self._updating = True
        try:
            self.size_combo.clear()
            self.size_combo.addItem("Auto", AUTO)
            self.size_combo.setItemData(0, "The model picks a size that fits the prompt (or the image being edited).",
                                        Qt.ItemDataRole.ToolTipRole)
            seen: set[str] = set()
            for p in SIZE_PRESETS:
                size = p.size_for(spec)
                if str(size) in seen:  # fixed-size models map many presets onto the same three sizes
                    continue
                seen.add(str(size))
                self.size_combo.addItem(f"{p.label} — {_times(size)}", str(size))
                self.size_combo.setItemData(self.size_combo.count() - 1, f"For {p.use}.", Qt.ItemDataRole.ToolTipRole)
            self.size_combo.addItem("Custom…", CUSTOM)
            custom_index = self.size_combo.count() - 1
            if not spec.flexible_sizes:
                model = self.size_combo.model()
                item = model.item(custom_index) if isinstance(model, QStandardItemModel) else None
                if item is not None:
                    item.setEnabled(False)
                self.size_combo.setItemData(
                    custom_index, f"{spec.label} only takes {', '.join(map(_times, spec.fixed_sizes or ()))}.",
                    Qt.ItemDataRole.ToolTipRole,
                )
        finally:
            self._updating = False
        self.set_size(previous, prefer_custom=was_custom)

    # ------------------------------------------------------------------ size
    def size_text(self) -> str:
        data = self.size_combo.currentData(_DATA)
        if data == CUSTOM:
            return f"{self.width_spin.value()}x{self.height_spin.value()}"
        return data or AUTO

    def is_custom(self) -> bool:
        return self.size_combo.currentData(_DATA) == CUSTOM

    def set_size(self, text: str, prefer_custom: bool = False) -> None:
        """Select ``text`` ("auto" or "WxH"): its preset when there is one, else Custom, snapped if needed."""
        assert self._spec is not None, "set_model first"
        try:
            parsed = parse_size(text)
        except ValueError:
            parsed = None
        self._updating = True
        try:
            if parsed is None:
                self.size_combo.setCurrentIndex(0)
                self._show_hint("")
            else:
                snapped = self._snap(parsed)
                index = self.size_combo.findData(str(snapped))
                if index < 0 or (prefer_custom and self._spec.flexible_sizes):
                    index = self.size_combo.findData(CUSTOM)
                self.size_combo.setCurrentIndex(index)
                self._set_spins(snapped)
        finally:
            self._updating = False
        self._sync_controls()
        self.sizeChanged.emit(self.size_text())

    def _snap(self, size: Size) -> Size:
        """``size`` if the model takes it, else the nearest size it takes, with the reason in the hint."""
        spec = self._spec
        assert spec is not None
        problems = size_problems(spec, size)
        if not problems:
            self._show_hint("")
            return size
        snapped = snap_size(spec, size.width, size.height)
        self._show_hint(f"{_times(size)} → {_times(snapped)}: {'; '.join(problems)}")
        return snapped

    def _set_spins(self, size: Size) -> None:
        for spin, value in ((self.width_spin, size.width), (self.height_spin, size.height)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def hint_text(self) -> str:
        return self.hint.text() if not self.hint.isHidden() else ""

    # ------------------------------------------------------------------ reactions
    def _on_choice(self, _index: int) -> None:
        if self._updating or self._spec is None:
            return
        data = self.size_combo.currentData(_DATA)
        if data not in (AUTO, CUSTOM):
            self._set_spins(parse_size(data))  # type: ignore[arg-type]
        self._show_hint("")
        self._sync_controls()
        self.sizeChanged.emit(self.size_text())

    def _on_custom_edited(self) -> None:
        if self._spec is None or not self.is_custom():
            return
        typed = Size(self.width_spin.value(), self.height_spin.value())
        snapped = self._snap(typed)
        if snapped != typed:
            self._set_spins(snapped)
        self._sync_controls()
        self.sizeChanged.emit(self.size_text())

    def _sync_controls(self) -> None:
        custom = self.is_custom()
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        spec = self._spec
        size = parse_size(self.size_text()) if spec else None
        experimental = spec is not None and is_experimental(spec, size)
        self.experimental_badge.setVisible(experimental)
        if experimental and spec is not None:
            limit = spec.size_rules.experimental_above_pixels
            self.experimental_badge.setToolTip(
                f"Above {limit:,} pixels (2560×1440) {spec.label} is experimental: results can vary and take longer."
            )
