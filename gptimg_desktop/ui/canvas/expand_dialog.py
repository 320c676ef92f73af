"""Expand Canvas: grow any side for background extension, snapped to a size the model can make."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RequestRefused
from ...core.masks import expand_to_valid
from ...core.models import get_model


class ExpandCanvasDialog(QDialog):
    def __init__(self, width: int, height: int, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expandCanvasDialog")
        self.setAccessibleName("Expand canvas")
        self.setWindowTitle("Expand Canvas")
        self._w, self._h = width, height
        self._spec = get_model(model)
        self._valid: tuple[int, int, int, int] | None = None

        intro = QLabel(
            f"The image is {width}×{height}. Grow any side; the new area is masked automatically so the "
            f"model paints it, and the total is snapped to a size {self._spec.name} can make.",
            self,
        )
        intro.setWordWrap(True)
        grid = QGridLayout()
        self.spins: dict[str, QSpinBox] = {}
        for row, (key, label) in enumerate((("left", "Left"), ("top", "Top"), ("right", "Right"), ("bottom", "Bottom"))):
            spin = QSpinBox(self)
            spin.setObjectName(f"expand{label}Spin")
            spin.setAccessibleName(f"Grow {label.lower()} by")
            spin.setRange(0, 3840)
            spin.setSingleStep(16)
            spin.setSuffix(" px")
            spin.valueChanged.connect(self._update)
            grid.addWidget(QLabel(label, self), row, 0)
            grid.addWidget(spin, row, 1)
            self.spins[key] = spin
        presets = QHBoxLayout()
        for text, ratio in (("Widen to 16:9", (16, 9)), ("Tall 9:16", (9, 16)), ("Square", (1, 1)), ("+25% all", None)):
            button = QPushButton(text, self)
            button.setObjectName("expandPreset" + "".join(ch for ch in text if ch.isalnum()))
            button.setAccessibleName(text)
            button.clicked.connect(lambda _=False, r=ratio: self._preset(r))
            presets.addWidget(button)
        self.result_label = QLabel(self)
        self.result_label.setObjectName("expandResultLabel")
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Expand")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(presets)
        layout.addLayout(grid)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)
        self._update()

    def _preset(self, ratio: tuple[int, int] | None) -> None:
        w, h = self._w, self._h
        if ratio is None:
            add = (w // 8, h // 8, w // 8, h // 8)
        else:
            rw, rh = ratio
            if w * rh >= h * rw:  # too wide for the ratio: grow height
                extra = max(0, round(w * rh / rw) - h)
                add = (0, extra // 2, 0, extra - extra // 2)
            else:
                extra = max(0, round(h * rw / rh) - w)
                add = (extra // 2, 0, extra - extra // 2, 0)
        for key, value in zip(("left", "top", "right", "bottom"), add, strict=False):
            self.spins[key].setValue(value)

    def _requested(self) -> tuple[int, int, int, int]:
        return tuple(self.spins[k].value() for k in ("left", "top", "right", "bottom"))  # type: ignore[return-value]

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        requested = self._requested()
        if not any(requested):
            self._valid = None
            self.result_label.setText("Choose how much to add on each side.")
            ok.setEnabled(False)
            return
        try:
            self._valid = expand_to_valid(self._spec, self._w, self._h, *requested)
        except RequestRefused as exc:
            self._valid = None
            self.result_label.setText(str(exc))
            ok.setEnabled(False)
            return
        left, top, right, bottom = self._valid
        new_w, new_h = self._w + left + right, self._h + top + bottom
        note = "" if self._valid == requested else (
            f" (adjusted to +{left} left, +{top} top, +{right} right, +{bottom} bottom)")
        self.result_label.setText(f"New canvas: {new_w}×{new_h}{note}.")
        ok.setEnabled(True)

    def margins(self) -> tuple[int, int, int, int]:
        return self._valid or (0, 0, 0, 0)
