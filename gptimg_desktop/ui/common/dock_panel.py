"""Side panels as collapsible, dockable sections: a dock whose title bar folds its content away.

Click the title (or its chevron) to collapse a section to its title bar, as in Photoshop's and Figma's panels;
drag the title to move the panel to another side or float it. The collapsed state is part of what the window
saves with its layout (``collapsed_names`` / ``restore_collapsed``).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QMainWindow, QSizePolicy, QToolButton, QWidget

from ..theme.icons import icon
from ..theme.style import Colors

TITLE_HEIGHT = 26


class DockTitle(QWidget):
    """The title bar: chevron + name; a click toggles the section, a drag moves the dock (Qt handles that)."""

    toggled = Signal(bool)  # collapsed

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dockTitle")
        self.setProperty("role", "dockTitle")
        self.setFixedHeight(TITLE_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 8, 0)
        layout.setSpacing(4)
        self.chevron = QToolButton(self)
        self.chevron.setObjectName("dockCollapseButton")
        self.chevron.setAutoRaise(True)
        self.chevron.setIconSize(QSize(12, 12))
        self.chevron.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.chevron.clicked.connect(self.toggle)
        self.label = QLabel(title.upper(), self)
        self.label.setProperty("role", "section")
        self.label.setStyleSheet(f"color: {Colors.text_muted}; font-weight: 600; letter-spacing: 1px;")
        layout.addWidget(self.chevron)
        layout.addWidget(self.label, 1)
        self._collapsed = False
        self._press_pos = None
        self._sync()

    # A collapsed dock is sized by its title's hints alone (Qt's dock layout reads hints, not the fixed height):
    # hints shorter than the title squeezed "REFERENCES" to 18 px, half under the status bar.
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(super().sizeHint().width(), TITLE_HEIGHT)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(super().minimumSizeHint().width(), TITLE_HEIGHT)

    def is_collapsed(self) -> bool:
        return self._collapsed

    def set_collapsed(self, collapsed: bool) -> None:
        if collapsed != self._collapsed:
            self._collapsed = collapsed
            self._sync()
            self.toggled.emit(collapsed)

    def toggle(self) -> None:
        self.set_collapsed(not self._collapsed)

    def _sync(self) -> None:
        self.chevron.setIcon(icon("chevron-right" if self._collapsed else "chevron-down", Colors.text_muted, 12))
        verb = "Expand" if self._collapsed else "Collapse"
        self.chevron.setToolTip(f"{verb} this panel")
        self.setToolTip(f"Click to {verb.lower()}; drag to move the panel")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press_pos = event.position()
        super().mousePressEvent(event)  # the dock starts its own drag from here

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press_pos is not None and (event.position() - self._press_pos).manhattanLength() < 4:
            self.toggle()
        self._press_pos = None
        super().mouseReleaseEvent(event)


class DockPanel(QDockWidget):
    """A dock with a :class:`DockTitle`; collapsing hides the content so the other panels get the room."""

    def __init__(self, title: str, name: str, content: QWidget, parent: QMainWindow) -> None:
        super().__init__(title, parent)
        self.setObjectName(name)
        self.setWidget(content)
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.title_bar = DockTitle(title, self)
        self.setTitleBarWidget(self.title_bar)
        self.title_bar.toggled.connect(self._collapse)

    def is_collapsed(self) -> bool:
        return self.title_bar.is_collapsed()

    def set_collapsed(self, collapsed: bool) -> None:
        self.title_bar.set_collapsed(collapsed)

    def _collapse(self, collapsed: bool) -> None:
        content = self.widget()
        if content is not None:
            content.setVisible(not collapsed)
        self.setMaximumHeight(TITLE_HEIGHT + 2 if collapsed else 16777215)


def collapsed_names(window: QMainWindow) -> list[str]:
    return [d.objectName() for d in window.findChildren(DockPanel) if d.is_collapsed()]


def restore_collapsed(window: QMainWindow, names: list[str]) -> None:
    for dock in window.findChildren(DockPanel):
        dock.set_collapsed(dock.objectName() in names)
