"""Compare a version with its parent on the canvas: the split view and the Compare action's state.

Showing, restoring, re-running and finalizing versions live in editor/versions.py (they change the document).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSignalBlocker
from PySide6.QtGui import QImage

from ...editor.image_loading import ImageLoader

if TYPE_CHECKING:
    from ..window.main_window import MainWindow


class VersionActions(QObject):
    """The compare actions of one ``MainWindow``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._compare_key: str | None = None
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._compare_loaded)

    def compare_with_parent(self, version_id: str) -> None:
        w = self.window
        version = w.store.get_version(version_id)
        parent = w.store.get_version(version.parent_id) if version is not None and version.parent_id else None
        if parent is None:
            w.statusBar().showMessage("This version has no parent to compare with.", 5000)
            return
        if w.current_version_id != version_id:
            w.show_version(version_id)  # opening another version starts afresh; comparing the one shown keeps the work
        self._compare_key = f"compare:{parent.path}"
        self._loader.load(self._compare_key, str(parent.path))

    def _compare_loaded(self, key: str, image: QImage, _error: str) -> None:
        if key != self._compare_key:
            return
        w = self.window
        if not image.isNull():
            w.canvas.set_compare_image(image)
            with QSignalBlocker(w.actionCompare):  # only reflect the state; don't start another compare
                w.actionCompare.setChecked(True)

    def set_compare(self, on: bool) -> None:
        w = self.window
        if not on:
            w.canvas.set_compare_image(None)
            return
        if w.current_version_id:
            version = w.store.get_version(w.current_version_id)
            if version and version.parent_id:
                self.compare_with_parent(w.current_version_id)
                return
        w.statusBar().showMessage("Pick a version that has a parent to compare.", 5000)
        w.actionCompare.setChecked(False)
