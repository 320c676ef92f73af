"""The window's actions as the designer meets them: how each is made, the menus, the toolbar and the icons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

if TYPE_CHECKING:
    from .main_window import MainWindow

# Which themed line icon (ui/icons.py) each action shows.
ACTION_ICONS = {
    "actionBrush": "brush",
    "actionEraser": "eraser",
    "actionRect": "rect-select",
    "actionLasso": "lasso",
    "actionUndo": "undo",
    "actionRedo": "redo",
    "actionInvertMask": "invert",
    "actionClearMask": "clear-mask",
    "actionExpandCanvas": "expand",
    "actionCompare": "compare",
    "actionOpen": "image",
    "actionCancel": "cancel",
}


def make_action(parent, name: str, text: str, shortcut=None, checkable=False, tip: str = "") -> QAction:
    action = QAction(text, parent)
    action.setObjectName(name)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else (tip or text))
    action.setStatusTip(tip or text)
    return action



def build_menus_and_toolbars(self: MainWindow) -> None:
    """The menu bar and the tools toolbar, from the window's actions."""
    menu = self.menuBar()
    file_menu = menu.addMenu("&File")
    for action in (self.actionNew, self.actionOpen, self.actionExport, self.actionImportBundle, None,
                   self.actionSettings, None, self.actionQuit):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit_menu = menu.addMenu("&Edit")
    for action in (self.actionUndo, self.actionRedo):
        edit_menu.addAction(action)
    mask_menu = menu.addMenu("&Mask")
    for action in (self.actionBrush, self.actionEraser, self.actionRect, self.actionLasso, None,
                   self.actionFillMask, self.actionClearMask, self.actionInvertMask, None,
                   self.actionGrowMask, self.actionShrinkMask, self.actionFeatherMask, None, self.actionToggleMask):
        mask_menu.addSeparator() if action is None else mask_menu.addAction(action)
    image_menu = menu.addMenu("&Image")
    for action in (self.actionRun, self.actionCancel, None, self.actionExpandCanvas, self.actionCutout,
                   self.actionUseAsReference, self.actionCompare):
        image_menu.addSeparator() if action is None else image_menu.addAction(action)
    view_menu = menu.addMenu("&View")
    for action in (self.actionZoomIn, self.actionZoomOut, self.actionFit, self.actionActualSize, None,
                   self.actionLedger, self.actionProjects):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)

    tools = QToolBar("Tools", self)
    tools.setObjectName("toolsToolbar")
    tools.setAccessibleName("Mask tools")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    tools.setIconSize(QSize(20, 20))
    for action in (self.actionBrush, self.actionEraser, self.actionRect, self.actionLasso, None,
                   self.actionUndo, self.actionRedo, None, self.actionInvertMask, self.actionClearMask, None,
                   self.actionExpandCanvas, self.actionCompare):
        tools.addSeparator() if action is None else tools.addAction(action)
    self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)
    apply_icons(self)


def apply_icons(self: MainWindow) -> None:
    """Each action's themed line icon (ACTION_ICONS)."""
    from ..theme.icons import ICON_NAMES, icon

    for action in self.findChildren(QAction):
        name = ACTION_ICONS.get(action.objectName())
        if name in ICON_NAMES:
            action.setIcon(icon(name, size=20))
