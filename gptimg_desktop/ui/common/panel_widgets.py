"""Small building blocks shared by the side panels: inline message strips and section headers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..theme.icons import icon
from ..theme.style import SPACING, Colors, set_kind, set_role


class MessageStrip(QFrame):
    """An inline message (error, warning or note) with an optional action and a close button.

    Panels show problems here instead of in modal dialogs, so the designer can read the message
    while fixing the control it is about.
    """

    closed = Signal()
    actionTriggered = Signal()

    def __init__(self, name: str, kind: str = "error", closable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(SPACING + 2, SPACING, SPACING // 2, SPACING)
        layout.setSpacing(SPACING)
        body = QVBoxLayout()
        body.setSpacing(SPACING // 2)
        self._text = QLabel()
        self._text.setObjectName(f"{name}Text")
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        body.addWidget(self._text)
        self._action = QPushButton()
        self._action.setObjectName(f"{name}Action")
        self._action.setProperty("link", True)
        self._action.setAccessibleName("Message action")
        self._action.setCursor(Qt.CursorShape.PointingHandCursor)
        self._action.hide()
        self._action.clicked.connect(self.actionTriggered)
        body.addWidget(self._action, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(body, 1)
        self._close = QToolButton()
        self._close.setObjectName(f"{name}CloseButton")
        self._close.setAccessibleName("Dismiss message")
        self._close.setToolTip("Dismiss")
        self._close.setProperty("flat", True)
        self._close.setIcon(icon("close", Colors.text_muted, 14))
        self._close.clicked.connect(self.dismiss)
        self._close.setVisible(closable)
        layout.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self.set_kind(kind)
        self.hide()

    @property
    def action_button(self) -> QPushButton:
        return self._action

    def message(self) -> str:
        """The message shown, or "" when the strip is hidden."""
        return self._text.text() if not self.isHidden() else ""

    def set_kind(self, kind: str) -> None:
        set_kind(self, kind)  # the module function: sets the stylesheet property
        color = {"error": Colors.error, "warning": Colors.warning}.get(kind, Colors.text)
        self._text.setStyleSheet(f"color: {color};")

    def show_message(self, text: str, action: str | None = None) -> None:
        self._text.setText(text)
        self._text.setAccessibleName(text)
        self._action.setText(action or "")
        self._action.setAccessibleName(action or "Message action")
        self._action.setVisible(bool(action))
        self.show()
        self._fit_text()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        # Dock and box layouts size a wrapped label for some other width and cut its last lines off; at its
        # real width it asks for the height all its lines need.
        width = self._text.width()
        if width > 0:
            need = self._text.heightForWidth(width)
            if need > 0 and need != self._text.minimumHeight():
                self._text.setMinimumHeight(need)

    def dismiss(self) -> None:
        was_visible = not self.isHidden()
        self.hide()
        self._text.clear()
        if was_visible:
            self.closed.emit()


class CollapsibleSection(QWidget):
    """A section header that folds its body away; used for "Advanced"."""

    toggled = Signal(bool)

    def __init__(self, title: str, name: str, expanded: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        self._header = QToolButton()
        self._header.setObjectName(f"{name}Header")
        self._header.setAccessibleName(f"{title} settings")
        self._header.setText(title.upper())
        self._header.setCheckable(True)
        self._header.setProperty("flat", True)
        self._header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._header.setStyleSheet(
            f"QToolButton {{ color: {Colors.text_muted}; font-size: 9pt; font-weight: bold; letter-spacing: 1px;"
            " padding: 4px 0px; }"
        )
        self._header.toggled.connect(self._on_toggled)
        layout.addWidget(self._header, 0, Qt.AlignmentFlag.AlignLeft)
        self.body = QWidget()
        self.body.setObjectName(f"{name}Body")
        layout.addWidget(self.body)
        self._header.setChecked(expanded)
        self._on_toggled(expanded)

    def is_expanded(self) -> bool:
        return self._header.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self._header.setChecked(expanded)

    def _on_toggled(self, expanded: bool) -> None:
        self._header.setIcon(icon("chevron-down" if expanded else "chevron-right", Colors.text_muted, 12))
        self.body.setVisible(expanded)
        self.toggled.emit(expanded)


def section_label(title: str, name: str) -> QLabel:
    label = QLabel(title.upper())
    label.setObjectName(name)
    label.setIndent(0)  # a styled label otherwise indents by half an "x" and misaligns with the form
    set_role(label, "section")
    return label


def hint_label(name: str, role: str = "hint") -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    set_role(label, role)
    return label


def divider() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.NoFrame)
    set_role(line, "divider")
    return line
