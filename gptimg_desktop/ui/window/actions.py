"""The window's actions as the designer meets them: how each is made, the menus, the toolbar and the icons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from ...core.export_presets import PRESETS
from .workspace import RecentFiles, build_tool_strip

if TYPE_CHECKING:
    from .main_window import MainWindow

# Which themed line icon (ui/icons.py) each action shows.
ACTION_ICONS = {
    "actionBrush": "brush",
    "actionEraser": "eraser",
    "actionRect": "rect-select",
    "actionLasso": "lasso",
    "actionMagicWand": "wand",
    "actionColorRange": "color-range",
    "actionTogglePanels": "panels",
    "actionCopyImage": "copy",
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
    """The menu bar (with Open Recent and the export presets) and the vertical tool strip, from the actions."""
    menu = self.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addAction(self.actionNew)
    file_menu.addAction(self.actionOpen)
    recent_menu = QMenu("Open &Recent", file_menu)
    file_menu.addMenu(recent_menu)
    self.recent_files = RecentFiles(self.settings, recent_menu, self.open_image)
    file_menu.addAction(self.actionExport)
    presets_menu = QMenu("Export &As", file_menu)
    presets_menu.setObjectName("exportPresetsMenu")
    for preset in PRESETS:
        action = presets_menu.addAction(f"{preset.name}…")
        action.setToolTip(preset.describe())
        action.setStatusTip(preset.describe())
        action.triggered.connect(lambda _c=False, p=preset: self.export_actions.export_preset_dialog(p))
    file_menu.addMenu(presets_menu)
    self._export_presets_menu = presets_menu
    for action in (self.actionImportBundle, None, self.actionSettings, None, self.actionQuit):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit_menu = menu.addMenu("&Edit")
    for action in (self.actionUndo, self.actionRedo, None, self.actionCopyImage):
        edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
    mask_menu = menu.addMenu("&Mask")
    for action in (self.actionBrush, self.actionEraser, self.actionRect, self.actionLasso, self.actionMagicWand,
                   self.actionColorRange, None, self.actionSelectAdd, self.actionSelectSubtract, None,
                   self.actionFillMask, self.actionClearMask, self.actionInvertMask, None,
                   self.actionGrowMask, self.actionShrinkMask, self.actionFeatherMask, None, self.actionToggleMask):
        mask_menu.addSeparator() if action is None else mask_menu.addAction(action)
    image_menu = menu.addMenu("&Image")
    for action in (self.actionRun, self.actionCancel, None, self.actionExpandCanvas, self.actionCutout,
                   self.actionUseAsReference, self.actionCompare, self.actionFlicker):
        image_menu.addSeparator() if action is None else image_menu.addAction(action)
    view_menu = menu.addMenu("&View")
    for action in (self.actionZoomIn, self.actionZoomOut, self.actionFit, self.actionActualSize, None,
                   self.actionTogglePanels):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)
    panels_menu = view_menu.addMenu("&Panels")
    for dock in (self.prompt_dock, self.output_dock, self.references_dock, self.history_dock, self.jobs_dock):
        panels_menu.addAction(dock.toggleViewAction())
    panels_menu.addSeparator()
    panels_menu.addAction(self.actionResetLayout)
    for action in (None, self.actionFocusCanvas, self.actionFocusPrompt, self.actionFocusHistory,
                   self.actionFocusResults, None, self.actionLedger, self.actionProjects):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)

    self.tool_strip = build_tool_strip(self, (
        (self.actionBrush, self.actionEraser, self.actionRect, self.actionLasso, self.actionMagicWand,
         self.actionColorRange),
        (self.actionUndo, self.actionRedo),
        (self.actionInvertMask, self.actionClearMask),
        (self.actionExpandCanvas, self.actionCompare),
    ))
    apply_icons(self)


def apply_icons(self: MainWindow) -> None:
    """Each action's themed line icon (ACTION_ICONS)."""
    from ..theme.icons import ICON_NAMES, icon

    for action in self.findChildren(QAction):
        name = ACTION_ICONS.get(action.objectName())
        if name in ICON_NAMES:
            action.setIcon(icon(name, size=20))
