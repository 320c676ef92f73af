"""Expand Canvas: grow any side for background extension, snapped to a size the model can make.

An anchor grid says where the picture stays (a preset's growth goes to the other sides), a preview shows the
new canvas around the picture with handles to drag each side out, and every number on screen is the margin
that will be applied, after snapping: what "Widen to 16:9" shows is exactly what Expand does.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RequestRefused
from ...core.masks import expand_to_valid
from ...core.models import get_model
from ..theme.style import Colors

SIDES = ("left", "top", "right", "bottom")
# Anchor (column, row) 0..2 -> share of the growth that goes before the picture (left/top).
_BEFORE = {0: 0.0, 1: 0.5, 2: 1.0}


class AnchorGrid(QWidget):
    """Nine buttons, like Photoshop's Canvas Size anchor: where the picture stays as the canvas grows."""

    anchorChanged = Signal(int, int)  # column, row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expandAnchorGrid")
        self.setAccessibleName("Anchor: where the picture stays")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        names = (("top left", "top", "top right"), ("left", "centre", "right"),
                 ("bottom left", "bottom", "bottom right"))
        for row in range(3):
            for col in range(3):
                button = QToolButton(self)
                button.setCheckable(True)
                button.setFixedSize(QSize(24, 24))
                button.setObjectName(f"anchor{col}{row}")
                button.setToolTip(f"Keep the picture at the {names[row][col]}")
                button.setProperty("role", "anchor")
                self._group.addButton(button, row * 3 + col)
                grid.addWidget(button, row, col)
        self._group.idToggled.connect(self._toggled)
        self.set_anchor(1, 1)

    def anchor(self) -> tuple[int, int]:
        i = max(0, self._group.checkedId())
        return i % 3, i // 3

    def set_anchor(self, col: int, row: int) -> None:
        button = self._group.button(row * 3 + col)
        if button is not None:
            button.setChecked(True)
        self._mark()

    def _toggled(self, button_id: int, on: bool) -> None:
        if on:
            self._mark()
            self.anchorChanged.emit(button_id % 3, button_id // 3)

    def _mark(self) -> None:
        for button in self._group.buttons():
            button.setText("●" if button.isChecked() else "")


class ExpandPreview(QWidget):
    """The new canvas (outline) around the picture (filled), with a handle on each side to drag it out."""

    marginsDragged = Signal(int, int, int, int)

    HANDLE = 10

    def __init__(self, width: int, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expandPreview")
        self.setMinimumSize(260, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self._w, self._h = width, height
        self._margins = (0, 0, 0, 0)
        self._drag: str | None = None
        self._drag_start = QPointF()
        self._drag_margins = self._margins

    def set_margins(self, margins: tuple[int, int, int, int]) -> None:
        self._margins = margins
        self.update()

    def _scale(self) -> float:
        left, top, right, bottom = self._margins
        # Leave room to drag: the view always shows at least half the picture's size around it.
        total_w = max(self._w + left + right, self._w * 2)
        total_h = max(self._h + top + bottom, self._h * 2)
        return min((self.width() - 24) / total_w, (self.height() - 24) / total_h)

    def _rects(self) -> tuple[QRectF, QRectF]:
        s = self._scale()
        left, top, right, bottom = self._margins
        cw, ch = (self._w + left + right) * s, (self._h + top + bottom) * s
        canvas = QRectF((self.width() - cw) / 2, (self.height() - ch) / 2, cw, ch)
        picture = QRectF(canvas.left() + left * s, canvas.top() + top * s, self._w * s, self._h * s)
        return canvas, picture

    def _handles(self) -> dict[str, QRectF]:
        canvas, _ = self._rects()
        h = self.HANDLE
        c = canvas.center()
        return {
            "left": QRectF(canvas.left() - h / 2, c.y() - h / 2, h, h),
            "right": QRectF(canvas.right() - h / 2, c.y() - h / 2, h, h),
            "top": QRectF(c.x() - h / 2, canvas.top() - h / 2, h, h),
            "bottom": QRectF(c.x() - h / 2, canvas.bottom() - h / 2, h, h),
        }

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        canvas, picture = self._rects()
        p.fillRect(self.rect(), QColor(Colors.window))
        p.setPen(QPen(QColor(Colors.accent), 1, Qt.PenStyle.DashLine))
        p.setBrush(QColor(76, 141, 255, 40))
        p.drawRect(canvas)
        p.setPen(QPen(QColor(Colors.border), 1))
        p.setBrush(QColor(Colors.control_pressed))
        p.drawRect(picture)
        p.setPen(QColor(Colors.text_muted))
        p.drawText(picture, Qt.AlignmentFlag.AlignCenter, f"{self._w}×{self._h}")
        p.setPen(QPen(QColor(Colors.accent_text), 1))
        p.setBrush(QColor(Colors.accent))
        for rect in self._handles().values():
            p.drawRect(rect)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for side, rect in self._handles().items():
            if rect.adjusted(-4, -4, 4, 4).contains(event.position()):
                self._drag, self._drag_start, self._drag_margins = side, event.position(), self._margins
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            over = any(r.adjusted(-4, -4, 4, 4).contains(event.position()) for r in self._handles().values())
            self.setCursor(Qt.CursorShape.SizeAllCursor if over else Qt.CursorShape.ArrowCursor)
            return
        d = event.position() - self._drag_start
        s = max(self._scale(), 1e-6)
        margins: dict[str, int] = dict(zip(SIDES, self._drag_margins, strict=True))
        delta = {"left": -d.x(), "right": d.x(), "top": -d.y(), "bottom": d.y()}[self._drag] / s
        margins[self._drag] = max(0, round((margins[self._drag] + delta) / 16) * 16)
        self.marginsDragged.emit(*(margins[k] for k in SIDES))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        super().mouseReleaseEvent(event)


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
        self.anchor = AnchorGrid(self)
        anchor_box = QVBoxLayout()
        anchor_label = QLabel("Anchor", self)
        anchor_label.setProperty("role", "muted")
        anchor_box.addWidget(anchor_label)
        anchor_box.addWidget(self.anchor)
        anchor_box.addStretch(1)
        self.anchor.anchorChanged.connect(lambda *_: self._reanchor())
        presets = QHBoxLayout()
        for text, ratio in (("Widen to 16:9", (16, 9)), ("Tall 9:16", (9, 16)), ("Square", (1, 1)), ("+25% all", None)):
            button = QPushButton(text, self)
            button.setObjectName("expandPreset" + "".join(ch for ch in text if ch.isalnum()))
            button.setAccessibleName(text)
            button.clicked.connect(lambda _=False, r=ratio: self._preset(r))
            presets.addWidget(button)
        self.preview = ExpandPreview(width, height, self)
        self.preview.marginsDragged.connect(self._set_requested)
        self.result_label = QLabel(self)
        self.result_label.setObjectName("expandResultLabel")
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Expand")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        controls = QHBoxLayout()
        controls.addLayout(grid)
        controls.addSpacing(16)
        controls.addLayout(anchor_box)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(presets)
        layout.addWidget(self.preview, 1)
        layout.addLayout(controls)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)
        self.resize(520, 560)
        self._update()

    def _preset(self, ratio: tuple[int, int] | None) -> None:
        w, h = self._w, self._h
        if ratio is None:
            extra_w, extra_h = w // 4, h // 4
        else:
            rw, rh = ratio
            extra_w = max(0, round(h * rw / rh) - w) if w * rh < h * rw else 0
            extra_h = max(0, round(w * rh / rw) - h) if w * rh >= h * rw else 0
        self._grow_by(extra_w, extra_h)

    def _grow_by(self, extra_w: int, extra_h: int) -> None:
        """Spread the growth by the anchor, then show the snapped margins themselves: what you see is applied."""
        col, row = self.anchor.anchor()
        left = round(extra_w * _BEFORE[col])
        top = round(extra_h * _BEFORE[row])
        requested = (left, top, extra_w - left, extra_h - top)
        try:
            valid = expand_to_valid(self._spec, self._w, self._h, *requested)
        except RequestRefused:
            valid = requested  # _update says why it cannot be applied
        self._set_requested(*valid)

    def _reanchor(self) -> None:
        left, top, right, bottom = self._requested()
        self._grow_by(left + right, top + bottom)

    def _set_requested(self, left: int, top: int, right: int, bottom: int) -> None:
        for key, value in zip(SIDES, (left, top, right, bottom), strict=True):
            spin = self.spins[key]
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._update()

    def _requested(self) -> tuple[int, int, int, int]:
        return tuple(self.spins[k].value() for k in SIDES)  # type: ignore[return-value]

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        requested = self._requested()
        if not any(requested):
            self._valid = None
            self.preview.set_margins((0, 0, 0, 0))
            self.result_label.setText("Choose how much to add on each side, pick a preset or drag a handle.")
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
        self.preview.set_margins(self._valid)
        new_w, new_h = self._w + left + right, self._h + top + bottom
        applied = f"+{left} left, +{top} top, +{right} right, +{bottom} bottom"
        note = "" if self._valid == requested else " (snapped to a size the model accepts)"
        self.result_label.setText(f"New canvas: <b>{new_w}×{new_h}</b> — applied: {applied}{note}.")
        ok.setEnabled(True)

    def margins(self) -> tuple[int, int, int, int]:
        return self._valid or (0, 0, 0, 0)
