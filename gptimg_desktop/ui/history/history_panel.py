"""The history panel: every version as a tree (parent → children) or a timeline by day, with thumbnails,
project filter, search, stars, a details pane, and the actions a designer takes on a version.

Scales to tens of thousands of versions: one light query (HistoryStore.version_index), a Python-built
tree model, hand-painted rows, and thumbnails loaded off the UI thread only for rows on screen.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..common.value_slider import ValueSlider
from ..theme.style import SPACING, Colors, set_kind, set_role
from .history_delegate import MAX_THUMB, MIN_THUMB, THUMB, HistoryDelegate
from .history_model import TIMELINE, TREE, VERSION_ID_ROLE, HistoryModel
from .thumbnail_cache import ThumbnailCache
from .version_details import VersionDetails

ALL_PROJECTS = ""  # projectChanged's value for "All projects"
MANAGE_PROJECTS = "\x00manage"  # the combo entry that opens the projects dialog
SEARCH_DELAY_MS = 200
ACTIVATE_DELAY_MS = 60  # holding an arrow key moves through rows without loading every image on the way

_SEGMENT_STYLE = f"""
QToolButton {{ border-radius: 0px; padding: 3px 10px; min-height: 18px; }}
QToolButton:checked {{ background: {Colors.selection}; border-color: {Colors.accent}; color: {Colors.accent_text}; }}
QToolButton#historyTreeMode {{ border-top-left-radius: 6px; border-bottom-left-radius: 6px; }}
QToolButton#historyTimelineMode {{ border-top-right-radius: 6px; border-bottom-right-radius: 6px;
    border-left: none; }}
"""
_TREE_STYLE = f"""
QTreeView {{ background: {Colors.panel}; border: none; outline: none; }}
QTreeView::item {{ border: none; }}
"""


class HistoryTree(QTreeView):
    """The list itself: Enter continues from the current version, S stars it; branch lines are drawn by the
    delegate, so the view draws none."""

    continuePressed = Signal()
    starPressed = Signal()
    escapePressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            self.continuePressed.emit()
            return
        if key == Qt.Key.Key_S and plain:
            self.starPressed.emit()
            return
        if key == Qt.Key.Key_Escape and plain:
            self.escapePressed.emit()
        super().keyPressEvent(event)

    def drawBranches(self, painter, rect, index) -> None:  # Qt override
        pass


class HistoryView(QWidget):
    """Observes a HistoryStore; emits what the user wants done with a version."""

    versionActivated = Signal(str)  # show on the canvas
    continueRequested = Signal(str)  # make it the base of the next edit
    restoreInputsRequested = Signal(str)
    rerunRequested = Signal(str)
    rerunWithChanges = Signal(str, dict)  # version id, {"quality"?, "size"?, "n"?}: only what changed
    compareRequested = Signal(str)  # compare with its parent
    compareRequested2 = Signal(str, str)  # compare two versions: (older or picked first, other)
    starToggled = Signal(str, bool)
    exportRequested = Signal(str)
    exportBranchRequested = Signal(str)
    channelsRequested = Signal(str)  # re-render for channel sizes (ui/sets)
    projectChanged = Signal(str)  # the project filter; ALL_PROJECTS ("") for all

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.setAccessibleName("History")
        self._store = store
        self._project: str | None = None
        self._collapsed: set[str] = set()  # versions the user folded; kept across refreshes
        self._quiet = 0  # >0 while the selection changes programmatically: no versionActivated
        self._pending_activation: str | None = None
        self._compare_base: str | None = None
        self._project_names: list[tuple[str, int]] = []

        self.thumbnails = ThumbnailCache(self, side=2 * MAX_THUMB)  # sharp at the largest row size
        self._build()
        self._connect()
        self.reload_projects()

    # ------------------------------------------------------------------ construction
    def sizeHint(self) -> QSize:
        return QSize(380, 720)  # rows need about this width to show a useful part of the prompt

    def _build(self) -> None:
        self.project_combo = QComboBox(self)
        self.project_combo.setObjectName("projectCombo")
        self.project_combo.setAccessibleName("Project")
        self.project_combo.setToolTip("Show the versions of one project, or of all; "
                                      "“Manage projects…” creates, renames, imports and exports them")
        self.project_combo.setMinimumContentsLength(8)
        self.project_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)

        segment = QWidget(self)
        segment.setObjectName("historyModeSwitch")
        segment.setStyleSheet(_SEGMENT_STYLE)
        seg_layout = QHBoxLayout(segment)
        seg_layout.setContentsMargins(0, 0, 0, 0)
        seg_layout.setSpacing(0)
        self.tree_button = QToolButton(segment)
        self.tree_button.setObjectName("historyTreeMode")
        self.tree_button.setText("Tree")
        self.tree_button.setAccessibleName("Show as a tree of versions")
        self.tree_button.setToolTip("Versions under the version they were made from")
        self.timeline_button = QToolButton(segment)
        self.timeline_button.setObjectName("historyTimelineMode")
        self.timeline_button.setText("Timeline")
        self.timeline_button.setAccessibleName("Show as a timeline by day")
        self.timeline_button.setToolTip("Every version newest first, by day")
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        for button in (self.tree_button, self.timeline_button):
            button.setCheckable(True)
            self.mode_group.addButton(button)
            seg_layout.addWidget(button)
        self.tree_button.setChecked(True)

        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setAccessibleName("Search history")
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.starred_only = QToolButton(self)
        self.starred_only.setObjectName("historyStarredOnly")
        self.starred_only.setAccessibleName("Show starred versions only")
        self.starred_only.setToolTip("Show starred versions only")
        self.starred_only.setText("★")
        self.starred_only.setCheckable(True)
        self.starred_only.setStyleSheet(
            f"QToolButton {{ padding: 3px 9px; }} QToolButton:checked {{ color: {Colors.warning}; "
            f"border-color: {Colors.warning}; background: {Colors.warning_bg}; }}"
        )

        self.pick_banner = QFrame(self)
        self.pick_banner.setObjectName("historyPickBanner")
        set_kind(self.pick_banner, "info")
        banner_layout = QHBoxLayout(self.pick_banner)
        banner_layout.setContentsMargins(SPACING + 2, 4, 4, 4)
        self.pick_label = QLabel(self.pick_banner)
        self.pick_label.setWordWrap(True)
        pick_cancel = QPushButton("Cancel", self.pick_banner)
        pick_cancel.setObjectName("historyPickCancel")
        pick_cancel.setProperty("flat", True)
        pick_cancel.clicked.connect(self.cancel_compare_pick)
        banner_layout.addWidget(self.pick_label, 1)
        banner_layout.addWidget(pick_cancel)
        self.pick_banner.hide()

        self.tree = HistoryTree(self)
        self.tree.setObjectName("historyTree")
        self.tree.setAccessibleName("Version tree")
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(0)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAnimated(False)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.verticalScrollBar().setSingleStep(24)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setMouseTracking(True)
        self.tree.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover, True)
        self.tree.setStyleSheet(_TREE_STYLE)
        self.model = HistoryModel(self)
        self.tree.setModel(self.model)
        root = str(self._store.root)
        self.delegate = HistoryDelegate(self.tree, self.thumbnails, lambda rel: os.path.join(root, rel), self)
        self.tree.setItemDelegate(self.delegate)

        self.empty = QLabel("No versions yet.\nGenerate or edit an image and every result lands here.", self)
        self.empty.setObjectName("historyEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        set_role(self.empty, "hint")

        self.selection_bar = QFrame(self)
        self.selection_bar.setObjectName("historySelectionBar")
        sel_layout = QHBoxLayout(self.selection_bar)
        sel_layout.setContentsMargins(0, 0, 0, 0)
        self.selection_label = QLabel(self.selection_bar)
        set_role(self.selection_label, "hint")
        self.compare_selected_button = QPushButton("Compare selected", self.selection_bar)
        self.compare_selected_button.setObjectName("historyCompareSelected")
        self.compare_selected_button.setAccessibleName("Compare the two selected versions")
        self.compare_selected_button.setProperty("accent", True)
        sel_layout.addWidget(self.selection_label, 1)
        sel_layout.addWidget(self.compare_selected_button)
        self.selection_bar.hide()

        list_area = QWidget(self)
        list_layout = QVBoxLayout(list_area)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.setSpacing(SPACING // 2)
        list_layout.addWidget(self.pick_banner)
        list_layout.addWidget(self.tree, 1)
        list_layout.addWidget(self.empty, 1)
        list_layout.addWidget(self.selection_bar)

        self.details = VersionDetails(self._store, self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("historySplitter")
        self.splitter.setChildrenCollapsible(True)
        self.splitter.addWidget(list_area)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)

        top = QHBoxLayout()
        top.setSpacing(SPACING // 2)
        top.addWidget(self.project_combo, 1)
        top.addWidget(segment)
        filters = QHBoxLayout()
        filters.setSpacing(SPACING // 2)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.starred_only)
        self.thumb_slider = ValueSlider(MIN_THUMB, MAX_THUMB, THUMB, suffix=" px", slider_name="historyThumbSlider",
                                        accessible_name="Thumbnail size", parent=self)
        self.thumb_slider.setToolTip("Thumbnail size: large enough to choose between versions")
        thumbs = QHBoxLayout()
        thumbs.setSpacing(SPACING)
        thumbs_label = QLabel("Thumbnails", self)
        set_role(thumbs_label, "hint")
        thumbs.addWidget(thumbs_label)
        thumbs.addWidget(self.thumb_slider, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(SPACING)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addLayout(thumbs)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self._activate_timer = QTimer(self, singleShot=True, interval=ACTIVATE_DELAY_MS)
        self._activate_timer.timeout.connect(self._activate_pending)
        self._repaint_timer = QTimer(self, singleShot=True, interval=16)
        self._repaint_timer.timeout.connect(self.tree.viewport().update)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.refresh)
        self.starred_only.toggled.connect(lambda _b: self.refresh())
        self.mode_group.buttonToggled.connect(self._mode_toggled)
        self.project_combo.activated.connect(self._project_picked)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self._update_selection_bar())
        self.tree.clicked.connect(self._clicked)
        self.tree.doubleClicked.connect(self._double_clicked)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.continuePressed.connect(lambda: self._with_current(self.continueRequested.emit))
        self.tree.starPressed.connect(lambda: self._with_current(self.toggle_star))
        self.tree.escapePressed.connect(self.cancel_compare_pick)
        self.tree.collapsed.connect(self._collapsed_index)
        self.tree.expanded.connect(self._expanded_index)
        self.delegate.starClicked.connect(self.toggle_star)
        self.thumb_slider.valueChanged.connect(self.set_thumb_size)
        self.delegate.expandClicked.connect(lambda index: self.tree.setExpanded(index, not self.tree.isExpanded(index)))
        self.thumbnails.thumbnailReady.connect(self._thumbnail_ready)
        self.compare_selected_button.clicked.connect(self.compare_selected)
        self.details.parentActivated.connect(self._select_and_activate)

    # ------------------------------------------------------------------ data
    @property
    def project(self) -> str | None:
        """The project whose versions are shown, or None for all projects."""
        return self._project

    def set_project(self, project: str | None) -> None:
        """Show ``project`` (None: all projects). Does not emit projectChanged."""
        self._project = project or None
        self.refresh()

    def mode(self) -> str:
        return self.model.mode()

    def set_mode(self, mode: str) -> None:
        """TREE ("tree") or TIMELINE ("timeline")."""
        button = self.timeline_button if mode == TIMELINE else self.tree_button
        if not button.isChecked():
            button.setChecked(True)  # _mode_toggled refreshes
        elif self.model.mode() != mode:
            self.refresh()

    def reload_projects(self) -> None:
        """Refill the project combo from the store (keeps the current choice when it still exists)."""
        counts = self._store.version_counts() if hasattr(self._store, "version_counts") else {}
        names = [(p.name, counts.get(p.name, 0)) for p in self._store.list_projects()]
        if self._project is not None and self._project not in {n for n, _c in names}:
            self._project = None
        if names != self._project_names or self.project_combo.count() == 0:
            self._project_names = names
            self.project_combo.blockSignals(True)
            self.project_combo.clear()
            self.project_combo.addItem("All projects", ALL_PROJECTS)
            for name, count in names:
                self.project_combo.addItem(f"{name}  ({count:,})", name)
            self.project_combo.insertSeparator(self.project_combo.count())
            self.project_combo.addItem("Manage projects…", MANAGE_PROJECTS)
            self.project_combo.blockSignals(False)
        i = self.project_combo.findData(self._project or ALL_PROJECTS)
        self.project_combo.setCurrentIndex(max(0, i))

    def refresh(self) -> None:
        """Reload the versions and the project list from the store (keeps the selection, the folded branches
        and the scroll position)."""
        self._search_timer.stop()
        self.reload_projects()
        current = self.current_version_id()
        scroll = self.tree.verticalScrollBar().value()
        text = self.search.text().strip() or None
        starred = True if self.starred_only.isChecked() else None
        rows = self._store.version_index(project=self._project, search=text, starred=starred)
        mode = TIMELINE if self.timeline_button.isChecked() else TREE
        self._quiet += 1
        try:
            self.tree.setUniformRowHeights(mode == TREE)  # timeline day headers are shorter than rows
            self.model.load(rows, mode)
            if mode == TREE:
                self.tree.expandAll()
                for version_id in list(self._collapsed):
                    index = self.model.index_for(version_id)
                    if index.isValid():
                        self.tree.setExpanded(index, False)
            if current:
                index = self.model.index_for(current)
                if index.isValid():
                    self.tree.selectionModel().setCurrentIndex(
                        index, self.tree.selectionModel().SelectionFlag.ClearAndSelect
                    )
            self.tree.verticalScrollBar().setValue(scroll)
        finally:
            self._quiet -= 1
        has_any = bool(rows)
        self.tree.setVisible(has_any)
        self.empty.setVisible(not has_any)
        if not has_any:
            if text or starred:
                self.empty.setText("Nothing matches. Clear the search or the ★ filter.")
            elif self._project:
                self.empty.setText(f"No versions in {self._project} yet.\nGenerate or edit an image to start it.")
            else:
                self.empty.setText("No versions yet.\nGenerate or edit an image and every result lands here.")
        self.details.show_version(self.current_version_id())
        self._update_selection_bar()

    def select_version(self, version_id: str) -> None:
        """Make ``version_id`` current and scroll to it, without emitting versionActivated (the caller
        already shows it). A version hidden by the filters is left unselected."""
        index = self.model.index_for(version_id)
        if not index.isValid():
            self.refresh()
            index = self.model.index_for(version_id)
            if not index.isValid():
                return
        self._quiet += 1
        try:
            parent = index.parent()
            while parent.isValid():
                self.tree.setExpanded(parent, True)
                parent = parent.parent()
            self.tree.selectionModel().setCurrentIndex(index, self.tree.selectionModel().SelectionFlag.ClearAndSelect)
            self.tree.scrollTo(index)
        finally:
            self._quiet -= 1
        self.details.show_version(version_id)

    def clear_selection(self) -> None:
        """Nothing selected and no version's details: the canvas shows something that is not in the history."""
        self._quiet += 1
        try:
            self.tree.selectionModel().clear()
        finally:
            self._quiet -= 1
        self.details.show_version(None)

    def current_version_id(self) -> str | None:
        index = self.tree.currentIndex()
        return index.data(VERSION_ID_ROLE) if index.isValid() else None

    def selected_version_ids(self) -> list[str]:
        """Selected versions, oldest first (as created)."""
        ids = {i.data(VERSION_ID_ROLE) for i in self.tree.selectionModel().selectedIndexes()}
        ids.discard(None)
        order = self.model.version_ids()  # newest first
        rank = {v: r for r, v in enumerate(order)}
        return sorted(ids, key=lambda v: -rank.get(v, 0))

    # ------------------------------------------------------------------ actions (also the menu's slots)
    def toggle_star(self, version_id: str) -> bool:
        """Flip the star of ``version_id`` in the store; returns the new state."""
        row = self.model.row_for(self.model.index_for(version_id))
        current = bool(row.starred) if row is not None else bool(getattr(self._store.get_version(version_id),
                                                                          "starred", False))
        new_state = not current
        self._store.set_star(version_id, new_state)
        self.model.set_starred(version_id, new_state)
        self.starToggled.emit(version_id, new_state)
        if self.starred_only.isChecked() and not new_state:
            self.refresh()
        return new_state

    def rerun_with_changes(self, version_id: str, changes: dict | None = None) -> None:
        """Emit rerunWithChanges; with ``changes`` None a dialog asks for them first."""
        if changes is None:
            from .rerun_dialog import RerunDialog

            version = self._store.get_version(version_id)
            if version is None:
                return
            job = self._store.get_job(version.job_id)
            params = job.params if job else {}
            dialog = RerunDialog(version.prompt, version.model, str(params.get("size") or version.size),
                                 version.quality, int(params.get("n") or 1), self)
            if not dialog.exec():
                return
            changes = dialog.changes()
        self.rerunWithChanges.emit(version_id, dict(changes))

    def compare_with_parent(self, version_id: str) -> None:
        self.compareRequested.emit(version_id)

    def start_compare_pick(self, version_id: str) -> None:
        """Compare with…: the next version the user selects is compared with ``version_id``."""
        self._compare_base = version_id
        row = self.model.row_for(self.model.index_for(version_id))
        what = f"“{_short(row.prompt)}”" if row is not None else "this version"
        self.pick_label.setText(f"Pick a version to compare with {what}. Esc cancels.")
        self.pick_banner.show()
        self.tree.setFocus()

    def cancel_compare_pick(self) -> None:
        self._compare_base = None
        self.pick_banner.hide()

    def compare_selected(self) -> None:
        ids = self.selected_version_ids()
        if len(ids) == 2:
            self.compareRequested2.emit(ids[0], ids[1])

    def open_projects_dialog(self) -> None:
        """The projects dialog; switching there switches this view and emits projectChanged."""
        from ..ledger.projects_dialog import ProjectsDialog

        dialog = ProjectsDialog(self._store, self._project, self)
        dialog.projectSwitched.connect(self._switch_project)
        dialog.projectsChanged.connect(self._projects_changed)
        dialog.exec()

    # ------------------------------------------------------------------ menu
    def context_menu_for(self, version_id: str) -> QMenu:
        """The context menu of one version (built, not shown)."""
        menu = QMenu(self)
        menu.setObjectName("historyContextMenu")
        row = self.model.row_for(self.model.index_for(version_id))
        starred = bool(row.starred) if row is not None else False
        has_parent = bool(self.model.parent_id(version_id))
        selected = self.selected_version_ids()

        def add(name: str, text: str, slot, shortcut: str | None = None, enabled: bool = True) -> QAction:
            action = QAction(text, menu)
            action.setObjectName(name)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutVisibleInContextMenu(True)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            menu.addAction(action)
            return action

        v = version_id
        add("historyContinue", "Continue from here", lambda: self.continueRequested.emit(v), "Return")
        add("historyRestoreInputs", "Restore inputs", lambda: self.restoreInputsRequested.emit(v))
        add("historyRerun", "Re-run", lambda: self.rerunRequested.emit(v))
        add("historyRerunWithChanges", "Re-run with changes…", lambda: self.rerun_with_changes(v))
        menu.addSeparator()
        add("historyCompareParent", "Compare with parent", lambda: self.compare_with_parent(v), enabled=has_parent)
        add("historyCompareWith", "Compare with…", lambda: self.start_compare_pick(v))
        add("historyCompareSelected", "Compare selected", self.compare_selected, enabled=len(selected) == 2)
        menu.addSeparator()
        add("historyStar", "Unstar" if starred else "Star", lambda: self.toggle_star(v), "S")
        menu.addSeparator()
        add("historyExport", "Export…", lambda: self.exportRequested.emit(v))
        add("historyExportBranch", "Export branch…", lambda: self.exportBranchRequested.emit(v))
        add("historyChannels", "Channels…", lambda: self.channelsRequested.emit(v))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        version_id = index.data(VERSION_ID_ROLE) if index.isValid() else None
        if version_id:
            self.context_menu_for(version_id).popup(self.tree.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ internals
    def _with_current(self, fn) -> None:
        version_id = self.current_version_id()
        if version_id:
            fn(version_id)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        version_id = current.data(VERSION_ID_ROLE) if current.isValid() else None
        if self._quiet or not version_id:
            return
        self._pending_activation = version_id
        self._activate_timer.start()

    def _activate_pending(self) -> None:
        version_id, self._pending_activation = self._pending_activation, None
        if not version_id or version_id != self.current_version_id():
            return
        self.details.show_version(version_id)
        if self._compare_base and version_id != self._compare_base:
            base, self._compare_base = self._compare_base, None
            self.pick_banner.hide()
            self.compareRequested2.emit(base, version_id)
            return
        self.versionActivated.emit(version_id)

    def _select_and_activate(self, version_id: str) -> None:
        index = self.model.index_for(version_id)
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self.versionActivated.emit(version_id)

    def _clicked(self, index: QModelIndex) -> None:
        """A click on the row that is already current shows it again (e.g. after opening another file)."""
        version_id = index.data(VERSION_ID_ROLE)
        plain = QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
        if version_id and plain and not self._activate_timer.isActive() and version_id == self.current_version_id():
            self._pending_activation = version_id
            self._activate_pending()

    def _double_clicked(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if version_id:
            self.continueRequested.emit(version_id)

    def _update_selection_bar(self) -> None:
        count = len(self.selected_version_ids())
        self.selection_bar.setVisible(count >= 2)
        self.compare_selected_button.setEnabled(count == 2)
        if count >= 2:
            self.selection_label.setText(
                f"{count} versions selected" + ("" if count == 2 else " — select exactly two to compare")
            )

    def _collapsed_index(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if version_id and not self._quiet:
            self._collapsed.add(version_id)

    def _expanded_index(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if version_id and not self._quiet:  # expandAll() in refresh reports every row
            self._collapsed.discard(version_id)

    def _mode_toggled(self, _button, checked: bool) -> None:
        if checked:
            self.refresh()

    def _project_picked(self, i: int) -> None:
        name = self.project_combo.itemData(i) or ALL_PROJECTS
        if name == MANAGE_PROJECTS:
            self.project_combo.setCurrentIndex(max(0, self.project_combo.findData(self._project or ALL_PROJECTS)))
            QTimer.singleShot(0, self.open_projects_dialog)  # after the popup has closed
            return
        self._project = name or None
        self.refresh()
        self.projectChanged.emit(name)

    def _switch_project(self, name: str) -> None:
        self._project = name or None
        self.refresh()
        self.projectChanged.emit(name or ALL_PROJECTS)

    def _projects_changed(self) -> None:
        self.refresh()

    def set_thumb_size(self, px: int) -> None:
        """Rows grow or shrink with their thumbnails; the slider shows the size."""
        self.delegate.set_thumb_size(px)
        if self.thumb_slider.value() != self.delegate.thumb:
            self.thumb_slider.setValue(self.delegate.thumb)
        self.tree.scheduleDelayedItemsLayout()  # uniform row heights are cached: ask for a fresh layout
        self.tree.viewport().update()

    def _thumbnail_ready(self, _version_id: str) -> None:
        # One repaint of the visible rows per batch of arrivals. (QTreeView.update(index) looks the row up
        # linearly and, in the timeline, measures every row above it: far slower on long lists.)
        if not self._repaint_timer.isActive():
            self._repaint_timer.start()


def _short(prompt: str, limit: int = 40) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
