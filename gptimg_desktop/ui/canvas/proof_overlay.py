"""The proof on the canvas: a badge (✓ or the number of problems) in the corner; clicking it draws each line's box
with what was read against what was expected, and offers "Fix text"."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QPushButton, QToolButton, QWidget

from ...store.proofs import ProofSummary
from ..theme.style import Colors

MARGIN = 10


def badge_text(summary: ProofSummary | None, running: bool = False) -> str:
    if running:
        return "…"
    if summary is None:
        return ""
    return "✓" if summary.ok else str(summary.problems)


class CanvasProofView(QObject):
    """Owns the badge, the Fix-text button and the box overlay of one canvas."""

    fixRequested = Signal()
    boxesToggled = Signal(bool)

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.summary: ProofSummary | None = None
        self.badge = QToolButton(canvas)
        self.badge.setObjectName("proofBadge")
        self.badge.setAccessibleName("Text proof")
        self.badge.setCheckable(True)
        self.badge.setCursor(Qt.CursorShape.PointingHandCursor)
        self.badge.toggled.connect(self._toggled)
        self.fix_button = QPushButton("Fix text", canvas)
        self.fix_button.setObjectName("fixTextButton")
        self.fix_button.setToolTip("Mask the wrong text and prepare an edit that spells it right; review, then Run")
        self.fix_button.clicked.connect(self.fixRequested)
        self.badge.hide()
        self.fix_button.hide()
        canvas.installEventFilter(self)
        hooks = getattr(canvas, "paint_hooks", None)
        if hooks is not None:
            hooks.append(self.paint)

    # ------------------------------------------------------------------ state
    @property
    def boxes_shown(self) -> bool:
        return self.badge.isChecked() and self.summary is not None

    def show_summary(self, summary: ProofSummary | None, running: bool = False) -> None:
        self.summary = summary
        text = badge_text(summary, running)
        self.badge.setVisible(bool(text))
        self.badge.setText(text)
        if summary is None:
            tip = "Reading the text…" if running else ""
            self.badge.setChecked(False)
        elif summary.ok:
            tip = f"Text proof: every expected line is spelled right (score {summary.score:.2f}). Click for the boxes."
        else:
            tip = (f"Text proof: {summary.problems} problem(s), score {summary.score:.2f}. "
                   "Click to see where; Fix text prepares a masked edit.")
        self.badge.setToolTip(tip)
        ok_colour = Colors.success if summary is None or summary.ok else Colors.error
        self.badge.setStyleSheet(
            f"QToolButton#proofBadge {{ background: {ok_colour}; color: #ffffff; border-radius: 12px; "
            "font-weight: bold; padding: 2px 9px; min-width: 14px; }"
            "QToolButton#proofBadge:checked { border: 2px solid #ffffff; }"
        )
        self._sync_fix_button()
        self._place()
        self.canvas.update()

    def _toggled(self, on: bool) -> None:
        self._sync_fix_button()
        self.boxesToggled.emit(on)
        self.canvas.update()

    def _sync_fix_button(self) -> None:
        fixable = self.summary is not None and any(
            not line.get("ok") and line.get("box") for line in self.summary.report.get("lines", [])
        )
        self.fix_button.setVisible(bool(self.boxes_shown and fixable))
        self._place()

    # ------------------------------------------------------------------ layout
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.badge.adjustSize()
        x = self.canvas.width() - self.badge.width() - MARGIN
        self.badge.move(x, MARGIN)
        if self.fix_button.isVisible():
            self.fix_button.adjustSize()
            self.fix_button.move(x - self.fix_button.width() - 8, MARGIN)
        self.badge.raise_()
        self.fix_button.raise_()

    # ------------------------------------------------------------------ boxes
    def paint(self, p: QPainter) -> None:
        if not self.boxes_shown or self.summary is None:
            return
        to_widget = getattr(self.canvas, "image_to_widget", None)
        if to_widget is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(self.canvas.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        p.setFont(font)
        metrics = QFontMetrics(font)
        report = self.summary.report
        for line in report.get("lines", []):
            box = line.get("box")
            if not box:
                continue
            if line.get("ok"):
                label, colour = f"✓ {line['expected']}", QColor(Colors.success)
            else:
                label = f"reads “{line.get('found') or ''}” · expected “{line['expected']}”"
                colour = QColor(Colors.error)
            self._box(p, to_widget, box, label, colour, metrics, QRectF(self.canvas.rect()))
        for extra in report.get("extra", []):
            self._box(p, to_widget, extra["box"], f"not asked for: “{extra['text']}”", QColor(Colors.warning), metrics,
                      QRectF(self.canvas.rect()))
        p.restore()

    @staticmethod
    def _box(p: QPainter, to_widget, box, label: str, colour: QColor, metrics: QFontMetrics, bounds: QRectF) -> None:
        top_left = to_widget(QPointF(box[0], box[1]))
        bottom_right = to_widget(QPointF(box[2], box[3]))
        rect = QRectF(top_left, bottom_right).normalized()
        p.setPen(QPen(colour, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        # The tag stays on the canvas: a long reading is elided (its box says where) and moved in from the edge.
        label = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(max(40.0, bounds.width() - 20)))
        text_w = metrics.horizontalAdvance(label) + 10
        tag = QRectF(rect.left(), rect.top() - metrics.height() - 4, text_w, metrics.height() + 4)
        if tag.right() > bounds.right() - 2:
            tag.moveRight(bounds.right() - 2)
        if tag.left() < bounds.left() + 2:
            tag.moveLeft(bounds.left() + 2)
        if tag.top() < 0:
            tag.moveTop(rect.bottom() + 2)
        p.fillRect(tag, colour)
        p.setPen(QColor("#ffffff") if colour != QColor(Colors.warning) else QColor("#1e1f22"))
        p.drawText(tag.adjusted(5, 0, -5, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
