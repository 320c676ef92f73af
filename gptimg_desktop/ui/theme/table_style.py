"""The look of data tables (ledger, projects): roomy rows, quiet headers, the theme's selection colour.

Kept here until the app stylesheet (ui/style.py) styles item views itself.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView

from .style import Colors

TABLE_STYLE = f"""
QTreeView, QTreeWidget {{ background: {Colors.panel}; border: 1px solid {Colors.border}; border-radius: 6px;
    outline: none; selection-background-color: {Colors.selection}; selection-color: {Colors.text}; }}
QTreeView::item {{ padding: 5px 4px; border: none; }}
QTreeView::item:selected {{ background: {Colors.selection}; color: {Colors.text}; }}
QTreeView::item:hover:!selected {{ background: {Colors.control}; }}
QHeaderView {{ background: {Colors.panel}; border: none; }}
QHeaderView::section {{ background: {Colors.panel}; color: {Colors.text_muted}; border: none;
    border-bottom: 1px solid {Colors.border}; padding: 6px 8px; font-size: 9pt; font-weight: bold; }}
"""


def style_table(view: QAbstractItemView) -> None:
    view.setStyleSheet(TABLE_STYLE)
    view.setMouseTracking(True)
