"""The results area under the canvas: the ``variantGrid`` of a job's n results with its A/B flicker switch."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ..common.plural import plural
from ..theme.icons import icon
from ..theme.style import Colors
from .variant_grid import VariantGrid


class ResultsPanel(QWidget):
    """Header (count, hint, A/B, close) over the grid; hidden until a job returns more than one image."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultStrip")  # the name the results area has always had
        self.setProperty("role", "panel")
        self.grid = VariantGrid(self)
        self.title = QLabel(self)
        self.title.setObjectName("resultsTitle")
        self.hint = QLabel("Click or press 1–9 to choose · F flickers A/B", self)
        self.hint.setProperty("role", "muted")
        self.flicker_button = QToolButton(self)
        self.flicker_button.setObjectName("flickerButton")
        self.flicker_button.setText("A/B")
        self.flicker_button.setCheckable(True)
        self.flicker_button.setAccessibleName("Flicker between two results")
        self.flicker_button.setToolTip("Flicker the canvas between the chosen result and the one before (F)")
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("resultsCloseButton")
        self.close_button.setIcon(icon("close", Colors.text_muted, 14))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide the results (they stay in History)")
        head = QHBoxLayout()
        head.setContentsMargins(12, 6, 8, 0)
        head.setSpacing(8)
        head.addWidget(self.title)
        head.addWidget(self.hint, 1)
        head.addWidget(self.flicker_button)
        head.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(head)
        layout.addWidget(self.grid, 1)
        self.setMinimumHeight(140)
        self.flicker_button.toggled.connect(self.grid.set_flicker)
        self.grid.flickerChanged.connect(self._flicker_changed)
        self.close_button.clicked.connect(self._close)

    def _flicker_changed(self, on: bool) -> None:
        self.flicker_button.blockSignals(True)
        self.flicker_button.setChecked(on)
        self.flicker_button.blockSignals(False)

    def set_count(self, n: int) -> None:
        self.title.setText(plural(n, "result"))
        self.flicker_button.setEnabled(n > 1)

    def _close(self) -> None:
        self.grid.stop_flicker()
        self.hide()
        self.closed.emit()
