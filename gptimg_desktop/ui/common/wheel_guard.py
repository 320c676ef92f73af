"""An app-wide event filter: the mouse wheel scrolls panels, it never changes a control that lacks focus.

Scrolling a side panel used to switch the Model combo under the pointer (and with it the price and a deprecation
warning). Qt hands combos, spin boxes and sliders the wheel even unfocused, and spin boxes even take focus from a
passing wheel. This filter takes the wheel away from them unless the user clicked or tabbed into the control first,
and passes it on to the scroll area around them, so the panel still scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def guarded_control(obj: QObject) -> QWidget | None:
    """The value control ``obj`` belongs to (a spin box's line edit counts as the spin box), or None.

    Scroll bars are sliders too, but they must keep scrolling under the wheel.
    """
    widget = obj if isinstance(obj, QWidget) else None
    for _ in range(2):
        if widget is None:
            return None
        if isinstance(widget, GUARDED) and not isinstance(widget, QScrollBar):
            return widget
        widget = widget.parentWidget()
    return None


class WheelGuard(QObject):
    """Filters every widget's wheel events once installed on the application with :func:`install`."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.Polish:
            control = guarded_control(watched)
            if control is not None and control is watched and control.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a passing wheel must not focus it
            return False
        if kind != QEvent.Type.Wheel:
            return False
        control = guarded_control(watched)
        if control is None or control.hasFocus():
            return False
        parent = control.parentWidget()
        while parent is not None and not isinstance(parent, QAbstractScrollArea):
            parent = parent.parentWidget()
        if isinstance(parent, QAbstractScrollArea):
            QCoreApplication.sendEvent(parent.viewport(), event)  # the panel scrolls as the user expects
        event.accept()
        return True


_guard: WheelGuard | None = None


def install(app: QCoreApplication | None = None) -> WheelGuard:
    """Install the guard on the application once; later calls return the same guard."""
    global _guard
    app = app or QApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before installing the wheel guard")
    if _guard is None:
        _guard = WheelGuard(app)
        app.installEventFilter(_guard)
    return _guard
