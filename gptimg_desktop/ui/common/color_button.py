"""A button that shows a colour swatch and opens the colour picker: the mask colour (``maskColorButton``)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QColorDialog, QToolButton, QWidget

PRESETS = ("#00e5ff", "#39ff14", "#ff2bd6", "#ffd400", "#ff3b30", "#2f6bff")


def swatch(color: QColor, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor("#dfe1e5"))
    p.setBrush(color)
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pixmap)


class ColorButton(QToolButton):
    """Clicking opens the themed colour picker; ``colorChanged`` fires with the new colour."""

    colorChanged = Signal(QColor)

    def __init__(self, color: QColor, *, title: str = "Mask colour", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._color = QColor(color)
        self.setIconSize(QSize(16, 16))
        self.setAutoRaise(True)
        self.clicked.connect(self.choose)
        self._refresh()

    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        color = QColor(color)
        if not color.isValid() or color == self._color:
            return
        self._color = color
        self._refresh()
        self.colorChanged.emit(QColor(color))

    def choose(self) -> None:
        dialog = QColorDialog(self._color, self)
        dialog.setWindowTitle(self._title)
        dialog.setOption(QColorDialog.ColorDialogOption.DontUseNativeDialog)  # the app's theme, not the desktop's
        for i, preset in enumerate(PRESETS):
            QColorDialog.setCustomColor(i, QColor(preset))
        if dialog.exec():
            self.set_color(dialog.selectedColor())

    def _refresh(self) -> None:
        self.setIcon(swatch(self._color))
        self.setToolTip(f"{self._title}: {self._color.name()} — click to change")
