"""The window's actions as the designer meets them: how each is made, the menus, the toolbar and the icons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from ...core.export_presets import PRESETS
from ..canvas.canvas import Tool
from .workspace import RecentFiles, ToolActions, build_tool_strip

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


def create_actions(self: MainWindow) -> None:
    """Make every action of the window (its object name is its contract with tests and menus)."""
    a = make_action
    self.actionOpen = a(self, "actionOpen", "&Open Image…", QKeySequence.StandardKey.Open, tip="Open an image to edit")
    self.actionExport = a(self, "actionExport", "&Export…", "Ctrl+Shift+E", tip="Export the current image")
    self.actionNew = a(self, "actionNew", "&New (text to image)", QKeySequence.StandardKey.New,
                       tip="Clear the canvas to generate a new image from text")
    self.actionQuit = a(self, "actionQuit", "&Quit", QKeySequence.StandardKey.Quit)
    self.actionSettings = a(self, "actionSettings", "&Settings…", "Ctrl+,")
    self.actionBrush = a(self, "actionBrush", "Brush", "B", True, "Paint the area to change")
    self.actionEraser = a(self, "actionEraser", "Eraser", "E", True, "Erase from the mask")
    self.actionRect = a(self, "actionRect", "Rectangle", "M", True, "Rectangle selection (Alt subtracts)")
    self.actionLasso = a(self, "actionLasso", "Lasso", "L", True, "Lasso selection (Alt subtracts)")
    self.actionMagicWand = a(self, "actionMagicWand", "Magic Wand", "W", True,
                             "Select a colour area with a click (Alt subtracts)")
    self.actionColorRange = a(self, "actionColorRange", "Select Colour Range", "Shift+W", True,
                              "Select every similar colour with a click (Alt subtracts)")
    self.actionSelectAdd = a(self, "actionSelectAdd", "Selections Add", "Shift+A",
                             tip="Rectangle, lasso, wand and colour range add to the mask")
    self.actionSelectSubtract = a(self, "actionSelectSubtract", "Selections Subtract", "Shift+S",
                                  tip="Rectangle, lasso, wand and colour range subtract from the mask")
    self.actionTogglePanels = a(self, "actionTogglePanels", "Hide/Show Panels", "Tab",
                                tip="Hide every panel for a clean canvas, or bring them back")
    self.actionTogglePanels.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # Tab still moves focus in forms
    self.canvas.addAction(self.actionTogglePanels)
    self.actionCopyImage = a(self, "actionCopyImage", "Copy Image", "Ctrl+Shift+C",
                             tip="Copy the image on the canvas to the clipboard")
    self.actionFocusPrompt = a(self, "actionFocusPrompt", "Go to Prompt", "Alt+1", tip="Type in the prompt")
    self.actionFocusHistory = a(self, "actionFocusHistory", "Go to History", "Alt+2", tip="Browse the history")
    self.actionFocusResults = a(self, "actionFocusResults", "Go to Results", "Alt+3",
                                tip="Pick between the results of the last run")
    self.actionFocusCanvas = a(self, "actionFocusCanvas", "Go to Canvas", "Alt+0", tip="Back to the canvas")
    self.actionResetLayout = a(self, "actionResetLayout", "Reset Panels", tip="Every panel back in its place")
    self.actionFlicker = a(self, "actionFlicker", "Flicker A/B", "F", True,
                           tip="Flicker between the chosen result and the one before")
    self.actionUndo = a(self, "actionUndo", "Undo", QKeySequence.StandardKey.Undo, tip="Undo the last mask change")
    self.actionRedo = a(self, "actionRedo", "Redo", "Ctrl+Shift+Z", tip="Redo")
    self.actionInvertMask = a(self, "actionInvertMask", "Invert Mask", "Ctrl+I")
    self.actionClearMask = a(self, "actionClearMask", "Clear Mask", "Ctrl+Shift+D", tip="Clear the mask (edit the whole image)")
    self.actionFillMask = a(self, "actionFillMask", "Fill Mask", "Ctrl+Shift+F", tip="Mask the whole image")
    self.actionGrowMask = a(self, "actionGrowMask", "Grow Mask…", tip="Grow the mask by some pixels")
    self.actionShrinkMask = a(self, "actionShrinkMask", "Shrink Mask…", tip="Shrink the mask by some pixels")
    self.actionFeatherMask = a(self, "actionFeatherMask", "Feather Mask…", tip="Soften the mask edge")
    self.actionToggleMask = a(self, "actionToggleMask", "Show Mask", "H", True, "Show or hide the mask overlay")
    self.actionToggleMask.setChecked(True)
    self.actionExpandCanvas = a(self, "actionExpandCanvas", "Expand Canvas…", "Ctrl+Alt+C",
                                tip="Grow the canvas for background extension; the new area is masked")
    self.actionCutout = a(self, "actionCutout", "Remove Background", tip="Make the background transparent locally")
    self.actionUseAsReference = a(self, "actionUseAsReference", "Use as Reference",
                                  tip="Add the current image to the reference tray")
    self.actionCompare = a(self, "actionCompare", "Compare with Parent", "Ctrl+K", True,
                           tip="Before/after split view against the version this came from")
    self.actionZoomIn = a(self, "actionZoomIn", "Zoom In", QKeySequence.StandardKey.ZoomIn)
    self.actionZoomOut = a(self, "actionZoomOut", "Zoom Out", QKeySequence.StandardKey.ZoomOut)
    self.actionFit = a(self, "actionFit", "Fit to Window", "Ctrl+0")
    self.actionActualSize = a(self, "actionActualSize", "Actual Size (100%)", "Ctrl+1")
    self.actionLedger = a(self, "actionLedger", "Credit &Ledger…", "Ctrl+Shift+L",
                          tip="Spending per project, day and month; budgets")
    self.actionProjects = a(self, "actionProjects", "&Projects…",
                            tip="Create, rename, delete, import and export projects")
    self.actionImportBundle = a(self, "actionImportBundle", "&Import Project Bundle…",
                                tip="Add a project or branch exported on another machine")
    self.actionRun = a(self, "actionRun", "Run", "Ctrl+Return", tip="Generate or edit")
    self.actionCancel = a(self, "actionCancel", "Cancel Job", "Esc", tip="Cancel the running job")
    self.tool_actions = ToolActions(self.canvas, {
        Tool.BRUSH: self.actionBrush, Tool.ERASER: self.actionEraser, Tool.RECT: self.actionRect,
        Tool.LASSO: self.actionLasso, Tool.WAND: self.actionMagicWand, Tool.COLOR_RANGE: self.actionColorRange,
    }, self)
    self._result_keys = []
    for n in range(1, 10):
        pick = QAction(f"Result {n}", self)
        pick.setObjectName(f"actionPickResult{n}")
        pick.setShortcut(QKeySequence(str(n)))
        pick.setEnabled(False)  # only while results are shown; a digit typed in a field stays text anyway
        pick.triggered.connect(lambda _c=False, i=n - 1: self.result_strip.choose(i))
        self.addAction(pick)
        self._result_keys.append(pick)
    for action in self.findChildren(QAction):
        if action.objectName():
            self.addAction(action)
