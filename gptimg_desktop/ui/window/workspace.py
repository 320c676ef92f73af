"""The workspace around the canvas: the vertical tool strip, Tab to hide the panels, Open Recent.

Kept out of main_window.py so the window stays about wiring. The tool actions live in one exclusive
QActionGroup, so exactly one is checked, and it follows the canvas's tool whichever way the tool changed
(strip, menu, shortcut, X, a key on the canvas).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolBar, QWidget

from ...editor.ui_settings import RECENT_FILES
from ..canvas.canvas import ImageCanvas, Tool

RECENT_KEY = RECENT_FILES.key
RECENT_MAX = 10


class ToolActions:
    """Binds the checkable tool actions to the canvas: a trigger sets the tool, a tool change checks its action."""

    def __init__(self, canvas: ImageCanvas, actions: dict[Tool, QAction], parent: QWidget) -> None:
        self.canvas = canvas
        self.actions = actions
        self.group = QActionGroup(parent)
        self.group.setExclusive(True)
        for tool, action in actions.items():
            action.setCheckable(True)
            self.group.addAction(action)
            action.triggered.connect(lambda _checked=False, t=tool: canvas.set_tool(t))
        canvas.toolChanged.connect(self.sync)
        self.sync(canvas.tool())

    def sync(self, tool: object) -> None:
        action = self.actions.get(Tool(tool))  # type: ignore[arg-type]
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def checked_tool(self) -> Tool | None:
        for tool, action in self.actions.items():
            if action.isChecked():
                return tool
        return None


def build_tool_strip(window: QMainWindow, groups: Sequence[Sequence[QAction]]) -> QToolBar:
    """A narrow vertical strip of icon buttons on the left (tooltips carry name and shortcut)."""
    strip = QToolBar("Tools", window)
    strip.setObjectName("toolsToolbar")
    strip.setAccessibleName("Mask tools")
    strip.setOrientation(Qt.Orientation.Vertical)
    strip.setMovable(False)
    strip.setFloatable(False)
    strip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    strip.setIconSize(QSize(20, 20))
    for i, group in enumerate(groups):
        if i:
            strip.addSeparator()
        for action in group:
            strip.addAction(action)
    for action in strip.actions():
        button = strip.widgetForAction(action)
        if button is not None:
            button.setObjectName(f"{action.objectName()}Button" if action.objectName() else "")
            button.setAccessibleName(action.text().replace("&", ""))
    window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, strip)
    return strip


class PanelToggle:
    """Tab: hide every panel for a clean canvas, Tab again: bring back exactly the ones that were shown."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self._hidden: list[QDockWidget] = []

    def panels(self) -> list[QDockWidget]:
        return [d for d in self.window.findChildren(QDockWidget) if d.parent() is self.window]

    def hidden(self) -> bool:
        return bool(self._hidden)

    def toggle(self) -> None:
        if self._hidden:
            for dock in self._hidden:
                dock.show()
            self._hidden = []
            return
        self._hidden = [d for d in self.panels() if d.isVisible()]
        for dock in self._hidden:
            dock.hide()


class RecentFiles:
    """File → Open Recent: the last ten images opened, newest first, kept in QSettings."""

    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[str], None]) -> None:
        self.settings = settings
        self.menu = menu
        self.menu.setObjectName("recentFilesMenu")
        self._open = open_path
        self.menu.aboutToShow.connect(self._fill)
        self._fill()

    def paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives back a one-item list as a plain string
            return [value] if value else []
        if not isinstance(value, list | tuple):
            return []
        return [str(p) for p in value][:RECENT_MAX]

    def add(self, path: str) -> None:
        path = str(Path(path))
        paths = [path] + [p for p in self.paths() if p != path]
        self.settings.setValue(RECENT_KEY, paths[:RECENT_MAX])
        self._fill()

    def clear(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
        self._fill()

    def _fill(self) -> None:
        self.menu.clear()
        paths = self.paths()
        for i, path in enumerate(paths):
            label = f"&{i + 1}  {Path(path).name}" if i < 9 else Path(path).name
            action = self.menu.addAction(label)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if not paths:
            empty = self.menu.addAction("No recent images")
            empty.setEnabled(False)
        self.menu.addSeparator()
        clear = self.menu.addAction("Clear Recent")
        clear.setObjectName("actionClearRecent")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.clear)

    def _open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.setValue(RECENT_KEY, [p for p in self.paths() if p != path])
            self._fill()
        self._open(path)  # a missing file gets the loader's one-sentence message
