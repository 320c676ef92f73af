"""The history panel: every version as a tree (parent → children) with thumbnails, search and stars."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .image_loading import ImageLoader

VERSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIDE = 56


class HistoryView(QWidget):
    """Observes a HistoryStore; emits what the user wants done with a version."""

    versionActivated = Signal(str)  # show on the canvas
    continueRequested = Signal(str)  # make it the base of the next edit
    restoreInputsRequested = Signal(str)
    rerunRequested = Signal(str)
    compareRequested = Signal(str)  # compare with its parent
    starToggled = Signal(str, bool)

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.setAccessibleName("History")
        self._store = store
        self._items: dict[str, QStandardItem] = {}
        self._starred: dict[str, bool] = {}
        self._thumbs_requested: set[str] = set()
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._thumb_loaded)

        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setAccessibleName("Search history")
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.starred_only = QCheckBox("★ only", self)
        self.starred_only.setObjectName("historyStarredOnly")
        self.starred_only.setAccessibleName("Show starred versions only")

        self.tree = QTreeView(self)
        self.tree.setObjectName("historyTree")
        self.tree.setAccessibleName("Version tree")
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.model = QStandardItemModel(self)
        self.tree.setModel(self.model)

        self.empty = QLabel("No versions yet.\nGenerate or edit an image and every result lands here.", self)
        self.empty.setObjectName("historyEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "muted")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.starred_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)

        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.starred_only.toggled.connect(lambda _b: self.refresh())
        self.tree.clicked.connect(self._clicked)
        self.tree.doubleClicked.connect(self._double_clicked)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.verticalScrollBar().valueChanged.connect(lambda _v: self._request_visible_thumbs())
        self.tree.expanded.connect(lambda _i: self._request_visible_thumbs())
        self.project: str | None = None

    # ------------------------------------------------------------------ data
    def set_project(self, project: str | None) -> None:
        self.project = project
        self.refresh()

    def refresh(self) -> None:
        text = self.search.text().strip() or None
        starred = True if self.starred_only.isChecked() else None
        versions = self._store.list_versions(project=self.project, search=text, starred=starred)
        self.model.clear()
        self._items.clear()
        self._thumbs_requested.clear()
        # Oldest first so parents exist before children; the view shows the newest roots on top.
        roots: list[QStandardItem] = []
        for version in reversed(versions):
            item = QStandardItem(self._label(version))
            item.setData(version.id, VERSION_ID_ROLE)
            item.setToolTip(version.prompt)
            item.setAccessibleText(f"Version {version.id}: {version.prompt}")
            self._starred[version.id] = bool(version.starred)
            parent_item = self._items.get(version.parent_id) if version.parent_id else None
            if parent_item is not None:
                parent_item.appendRow(item)
            else:
                roots.append(item)
            self._items[version.id] = item
        for item in reversed(roots):
            self.model.appendRow(item)
        self.tree.expandAll()
        has_any = bool(versions)
        self.tree.setVisible(has_any)
        self.empty.setVisible(not has_any)
        if not has_any and (text or starred):
            self.empty.setText("Nothing matches. Clear the search or the ★ filter.")
        QTimer.singleShot(0, self._request_visible_thumbs)

    @staticmethod
    def _label(v) -> str:
        prompt = " ".join(v.prompt.split())
        prompt = prompt if len(prompt) <= 48 else prompt[:47] + "…"
        star = "★ " if v.starred else ""
        return f"{star}{prompt}\n{v.size} · {v.quality or 'auto'} · {v.credits} cr · ${v.cost_usd:.3f}"

    def select_version(self, version_id: str) -> None:
        item = self._items.get(version_id)
        if item is not None:
            self.tree.setCurrentIndex(item.index())
            self.tree.scrollTo(item.index())

    def current_version_id(self) -> str | None:
        index = self.tree.currentIndex()
        return index.data(VERSION_ID_ROLE) if index.isValid() else None

    # ------------------------------------------------------------------ thumbnails
    def _request_visible_thumbs(self) -> None:
        viewport = self.tree.viewport().rect()
        index = self.tree.indexAt(viewport.topLeft())
        count = 0
        while index.isValid() and count < 60:
            rect = self.tree.visualRect(index)
            if rect.top() > viewport.bottom():
                break
            self._request_thumb(index)
            index = self.tree.indexBelow(index)
            count += 1

    def _request_thumb(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if not version_id or version_id in self._thumbs_requested:
            return
        self._thumbs_requested.add(version_id)
        version = self._store.get_version(version_id)
        if version is None:
            return
        path = version.thumb_path or version.path
        self._loader.load(version_id, str(path), THUMB_SIDE * 2)

    def _thumb_loaded(self, key: str, image: QImage, _error: str) -> None:
        item = self._items.get(key)
        if item is not None and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    # ------------------------------------------------------------------ interaction
    def _clicked(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if version_id:
            self.versionActivated.emit(version_id)

    def _double_clicked(self, index: QModelIndex) -> None:
        version_id = index.data(VERSION_ID_ROLE)
        if version_id:
            self.continueRequested.emit(version_id)

    def _context_menu(self, pos) -> None:
        index = self.tree.indexAt(pos)
        version_id = index.data(VERSION_ID_ROLE) if index.isValid() else None
        if not version_id:
            return
        menu = QMenu(self)
        starred = self._starred.get(version_id, False)
        entries = [
            ("Continue from here", lambda: self.continueRequested.emit(version_id)),
            ("Restore inputs", lambda: self.restoreInputsRequested.emit(version_id)),
            ("Re-run", lambda: self.rerunRequested.emit(version_id)),
            ("Compare with parent", lambda: self.compareRequested.emit(version_id)),
            ("Remove star" if starred else "Star", lambda: self._toggle_star(version_id)),
        ]
        for text, slot in entries:
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _toggle_star(self, version_id: str) -> None:
        new_state = not self._starred.get(version_id, False)
        self._store.set_star(version_id, new_state)
        self._starred[version_id] = new_state
        self.starToggled.emit(version_id, new_state)
        self.refresh()
