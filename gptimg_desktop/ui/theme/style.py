"""The app's look: a calm dark palette, one accent colour, an 8 px grid and the Qt stylesheet.

Widgets never hard-code colours; they set a dynamic property (``role``, ``kind``, ``accent``) and
the stylesheet below decides how that looks, so the theme stays in one place.
"""

from __future__ import annotations

import os
import tempfile

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QWidget

SPACING = 8  # the grid: every margin and gap is a multiple of this
RADIUS = 6
FONT_FAMILY = "DejaVu Sans"
FONT_POINT_SIZE = 10


class Colors:
    """Named colours of the theme (hex strings, usable in stylesheets and QColor)."""

    window = "#1e1f22"  # app background, canvas surround
    panel = "#25272b"  # side panels
    control = "#2f3136"  # inputs, buttons
    control_hover = "#383a40"
    control_pressed = "#41444b"
    border = "#3c3f46"
    border_focus = "#4c8dff"
    text = "#dfe1e5"
    text_muted = "#9aa0a8"
    text_disabled = "#6b7079"
    accent = "#4c8dff"
    accent_hover = "#6aa1ff"
    accent_pressed = "#3a74d9"
    accent_text = "#ffffff"
    error = "#f2777a"
    error_bg = "#3b2326"
    warning = "#f0b44c"
    warning_bg = "#3a3122"
    success = "#5cc98a"
    info_bg = "#232f42"
    selection = "#2d4a7a"


STATUS_COLORS = {
    "queued": Colors.text_muted,
    "running": Colors.accent,
    "succeeded": Colors.success,
    "failed": Colors.error,
    "cancelled": Colors.text_disabled,
    "interrupted": Colors.warning,
}


def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, Colors.text_muted))


def palette() -> QPalette:
    """A QPalette matching the stylesheet, for widgets the stylesheet does not reach (menus, views)."""
    c = Colors
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.control,
        QPalette.ColorRole.AlternateBase: c.panel,
        QPalette.ColorRole.ToolTipBase: c.control_pressed,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.text_disabled,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.control,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.BrightText: c.accent_text,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.accent_text,
        QPalette.ColorRole.Link: c.accent_hover,
        QPalette.ColorRole.Mid: c.border,
        QPalette.ColorRole.Dark: c.window,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.text_disabled))
    return pal


def app_font() -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPointSize(FONT_POINT_SIZE)
    return font


def theme_images_dir() -> str | None:
    """Arrow and check-mark PNGs for the stylesheet, drawn once per user into the temp folder.

    Stylesheet sub-controls (combo arrows, spin arrows, check marks) only accept image files, and
    drawing them keeps the app free of shipped icon files. Returns None if they can't be written;
    the stylesheet then leaves those sub-controls to the Fusion style.
    """
    from .icons import save_icon_png  # icons imports this module for its colours

    folder = os.path.join(tempfile.gettempdir(), f"gptimg-theme-v1-{os.getuid() if hasattr(os, 'getuid') else 0}")
    wanted = {
        "chevron-down.png": ("chevron-down", Colors.text_muted, 20),
        "chevron-up.png": ("chevron-up", Colors.text_muted, 20),
        "check.png": ("check", Colors.accent_text, 24),
    }
    try:
        os.makedirs(folder, exist_ok=True)
        for filename, (name, color, size) in wanted.items():
            path = os.path.join(folder, filename)
            if not os.path.exists(path) and not save_icon_png(name, color, size, path):
                return None
    except OSError:
        return None
    return folder


def _subcontrol_rules(images: str | None) -> str:
    if not images:
        return ""
    c = Colors
    url = images.replace(os.sep, "/")
    return f"""
QComboBox {{ padding-right: 24px; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right; width: 22px; border: none; }}
QComboBox::down-arrow {{ image: url({url}/chevron-down.png); width: 10px; height: 10px; }}
QComboBox::down-arrow:disabled {{ image: none; }}
QSpinBox {{ padding-right: 20px; }}
QSpinBox::up-button, QSpinBox::down-button {{ subcontrol-origin: border; width: 18px; border: none;
    background: transparent; }}
QSpinBox::up-button {{ subcontrol-position: top right; margin-top: 3px; }}
QSpinBox::down-button {{ subcontrol-position: bottom right; margin-bottom: 3px; }}
QSpinBox::up-button:hover, QSpinBox::down-button:hover {{ background: {c.control_hover}; border-radius: 3px; }}
QSpinBox::up-arrow {{ image: url({url}/chevron-up.png); width: 8px; height: 8px; }}
QSpinBox::down-arrow {{ image: url({url}/chevron-down.png); width: 8px; height: 8px; }}
QSpinBox::up-arrow:disabled, QSpinBox::down-arrow:disabled {{ image: none; }}
QCheckBox::indicator {{ width: 16px; height: 16px; border: 1px solid #555a63; border-radius: 4px;
    background: {c.control}; }}
QCheckBox::indicator:hover {{ border-color: {c.accent}; }}
QCheckBox::indicator:checked {{ background: {c.accent}; border-color: {c.accent}; image: url({url}/check.png); }}
QCheckBox::indicator:disabled {{ background: {c.panel}; border-color: {c.border}; }}
"""


def stylesheet(images: str | None = None) -> str:
    """The app stylesheet; ``images`` is theme_images_dir() (arrows and check marks)."""
    c = Colors
    r = RADIUS
    return f"""
QWidget {{ color: {c.text}; font-family: "{FONT_FAMILY}"; font-size: {FONT_POINT_SIZE}pt; }}
QToolTip {{ background: {c.control_pressed}; color: {c.text}; border: 1px solid {c.border};
    border-radius: 4px; padding: 4px 8px; }}

/* Panels: the side panels and their scroll areas share one surface colour. */
QWidget[role="panel"], QScrollArea[role="panel"], QScrollArea[role="panel"] > QWidget > QWidget {{
    background: {c.panel}; }}
QScrollArea {{ border: none; }}

/* Text roles */
QLabel[role="section"] {{ font-size: 9pt; font-weight: bold; color: {c.text_muted};
    letter-spacing: 1px; padding: 4px 0px 0px 0px; margin: 0px; }}
QLabel[role="hint"] {{ color: {c.text_muted}; font-size: 9pt; }}
QLabel[role="warning"] {{ color: {c.warning}; font-size: 9pt; }}
QLabel[role="error"] {{ color: {c.error}; }}
QLabel[role="estimate"] {{ color: {c.text}; font-size: 10pt; }}
QLabel[role="badge"] {{ background: {c.warning_bg}; color: {c.warning}; border: 1px solid {c.warning};
    border-radius: 8px; padding: 1px 8px; font-size: 8pt; font-weight: bold; }}
QLabel[role="title"] {{ font-size: 11pt; font-weight: bold; }}

/* Inputs */
QPlainTextEdit, QLineEdit, QSpinBox, QComboBox {{
    background: {c.control}; border: 1px solid {c.border}; border-radius: {r}px;
    padding: 4px 8px; min-height: 20px; selection-background-color: {c.selection}; }}
/* A style sheet's min-height replaces any minimum the code sets (min-height + padding + border): text boxes get
   theirs here. The prompt keeps five lines whatever its dock's height; the 110 px prompt_panel.py asks for. */
QPlainTextEdit {{ padding: 6px 8px; min-height: 40px; }}
QPlainTextEdit#promptEdit {{ min-height: 96px; }}
QPlainTextEdit:focus, QLineEdit:focus, QSpinBox:focus, QComboBox:focus {{ border: 1px solid {c.border_focus}; }}
QPlainTextEdit:disabled, QLineEdit:disabled, QSpinBox:disabled, QComboBox:disabled {{
    color: {c.text_disabled}; background: {c.panel}; }}
QComboBox:hover, QSpinBox:hover {{ border-color: #4a4e57; }}
QComboBox QAbstractItemView {{ background: {c.control}; border: 1px solid {c.border};
    selection-background-color: {c.selection}; outline: none; padding: 4px; }}

/* Buttons */
QPushButton, QToolButton {{ background: {c.control}; border: 1px solid {c.border}; border-radius: {r}px;
    padding: 5px 12px; min-height: 20px; }}
QToolButton {{ padding: 4px 8px; }}
QPushButton:hover, QToolButton:hover {{ background: {c.control_hover}; }}
QPushButton:pressed, QToolButton:pressed {{ background: {c.control_pressed}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {c.text_disabled}; background: {c.panel};
    border-color: {c.control}; }}
QPushButton:focus, QToolButton:focus {{ border-color: {c.border_focus}; }}
QPushButton[accent="true"] {{ background: {c.accent}; color: {c.accent_text}; border: 1px solid {c.accent};
    font-weight: bold; padding: 6px 16px; }}
QPushButton[accent="true"]:hover {{ background: {c.accent_hover}; }}
QPushButton[accent="true"]:pressed {{ background: {c.accent_pressed}; }}
QPushButton[accent="true"]:disabled {{ background: {c.control}; color: {c.text_disabled}; border-color: {c.control}; }}
QPushButton[flat="true"], QToolButton[flat="true"] {{ background: transparent; border: none; padding: 2px 4px; }}
QPushButton[flat="true"]:hover, QToolButton[flat="true"]:hover {{ background: {c.control_hover}; }}
QPushButton[link="true"] {{ background: transparent; border: none; color: {c.accent_hover};
    text-decoration: underline; padding: 0px; min-height: 0px; text-align: left; }}
QToolButton::menu-indicator {{ image: none; width: 0px; }}
QToolButton:checked {{ background: {c.selection}; border-color: {c.accent}; }}
QToolButton:checked:hover {{ background: #36578c; }}

/* The workspace: tool strip, context bar, dock titles (issue 11). */
QToolBar {{ background: {c.window}; border: none; spacing: 2px; padding: 2px; }}
QToolBar#toolsToolbar {{ border-right: 1px solid {c.border}; padding: 4px 3px; }}
QToolBar#toolsToolbar QToolButton {{ background: transparent; border: 1px solid transparent; padding: 5px;
    border-radius: {r}px; min-height: 0px; }}
QToolBar#toolsToolbar QToolButton:hover {{ background: {c.control_hover}; }}
QToolBar#toolsToolbar QToolButton:checked {{ background: {c.accent}; border-color: {c.accent}; }}
QToolBar#contextToolbar {{ border-bottom: 1px solid {c.border}; }}
QToolButton[role="segment"] {{ padding: 3px 10px; }}
QToolButton[role="anchor"] {{ padding: 0px; min-height: 0px; }}
QWidget[role="dockTitle"] {{ background: {c.window}; border-bottom: 1px solid {c.border}; }}
QWidget[role="dockTitle"] QToolButton {{ background: transparent; border: none; padding: 0px; min-height: 0px; }}
QDockWidget {{ color: {c.text_muted}; }}
QMainWindow::separator {{ background: {c.border}; width: 1px; height: 1px; }}
QMainWindow::separator:hover {{ background: {c.accent}; }}
QDialog, QColorDialog {{ background: {c.panel}; }}
/* Tabs (Settings, dialogs) in the panel colour, not Fusion's lighter grey. */
QTabWidget::pane {{ background: {c.panel}; border: 1px solid {c.border}; border-radius: {r}px; top: -1px; }}
QTabBar::tab {{ background: {c.window}; color: {c.text_muted}; border: 1px solid {c.border};
    border-bottom: none; padding: 6px 14px; margin-right: 2px; border-top-left-radius: {r}px;
    border-top-right-radius: {r}px; }}
QTabBar::tab:selected {{ background: {c.panel}; color: {c.text}; }}
QTabBar::tab:hover {{ color: {c.text}; }}
QTableView, QTableWidget, QTreeView, QListView {{ background: {c.control}; alternate-background-color: {c.panel};
    border: 1px solid {c.border}; border-radius: {r}px; gridline-color: {c.border}; }}
QHeaderView::section {{ background: {c.panel}; color: {c.text_muted}; border: none;
    border-bottom: 1px solid {c.border}; padding: 4px 8px; }}
QListView#variantGrid {{ background: {c.window}; border: none; }}
QListView#variantGrid::item {{ border-radius: {r}px; padding: 2px; }}
QListView#variantGrid::item:selected {{ background: {c.selection}; border: 2px solid {c.accent}; }}
QSlider::groove:horizontal {{ height: 4px; background: {c.border}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {c.accent}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {c.text}; width: 12px; height: 12px; margin: -5px 0; border-radius: 6px; }}

QCheckBox {{ spacing: 8px; }}

/* Message strips: inline errors, warnings and notes instead of modal dialogs. */
QFrame[kind="error"] {{ background: {c.error_bg}; border: 1px solid #6b3337; border-radius: {r}px; }}
QFrame[kind="warning"] {{ background: {c.warning_bg}; border: 1px solid #6b5628; border-radius: {r}px; }}
QFrame[kind="info"] {{ background: {c.info_bg}; border: 1px solid #34507a; border-radius: {r}px; }}
QFrame[kind] QLabel {{ background: transparent; }}

/* Cards: reference thumbnails and job rows. */
QFrame[role="card"] {{ background: {c.control}; border: 1px solid {c.border}; border-radius: {r}px; }}
QFrame[role="card"][selected="true"] {{ border-color: {c.accent}; }}
QFrame[role="card"] QLabel {{ background: transparent; border: none; }}
QFrame[role="divider"] {{ background: {c.border}; max-height: 1px; min-height: 1px; border: none; }}

QProgressBar {{ background: {c.window}; border: none; border-radius: 3px; max-height: 6px; min-height: 6px;
    text-align: center; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}

QMenu {{ background: {c.control}; border: 1px solid {c.border}; padding: 4px; }}
QMenu::item {{ padding: 5px 16px; border-radius: 4px; }}
QMenu::item:selected {{ background: {c.selection}; }}
QMenu::item:disabled {{ color: {c.text_disabled}; }}

QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0px; }}
QScrollBar::handle:vertical {{ background: {c.border}; border-radius: 4px; min-height: 24px; margin: 2px; }}
QScrollBar::handle:vertical:hover {{ background: #4e525b; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0px; width: 0px; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
""" + _subcontrol_rules(images)


def set_role(widget: QWidget, role: str) -> QWidget:
    """Tag ``widget`` with a stylesheet role ("hint", "section", "card" …) and restyle it."""
    widget.setProperty("role", role)
    _restyle(widget)
    return widget


def set_kind(widget: QWidget, kind: str) -> None:
    widget.setProperty("kind", kind)
    _restyle(widget)


def _restyle(widget: QWidget) -> None:
    # Qt only re-reads property selectors when the style is re-applied.
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class ThemeStyle(QProxyStyle):
    """Fusion, minus the desktop's stock dialog-button icons (a floppy disk on Save, a red X on Cancel) that
    made Settings look like another app: every dialog's buttons are text in the theme, as everywhere else."""

    def styleHint(self, hint, option=None, widget=None, returnData=None) -> int:  # noqa: N802 (Qt's name)
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, returnData)


def apply_theme(app: QApplication) -> None:
    """Fusion style + the dark palette, the UI font and the stylesheet, for the whole app."""
    app.setStyle(ThemeStyle("Fusion"))
    app.setPalette(palette())
    app.setFont(app_font())
    app.setStyleSheet(stylesheet(theme_images_dir()))
