"""What the editor does with a stored version: show it, continue from it, restore its inputs, rerun it, compare it.

``VersionActions`` holds the window and works through its widgets; the window forwards its public
methods here and connects the history panel's signals to it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSignalBlocker, QTimer
from PySide6.QtGui import QImage

from ..common.background import run_background
from ..prompt.prompt_panel import PromptSettings

if TYPE_CHECKING:
    from ..window.main_window import MainWindow


class VersionActions(QObject):
    """The history actions of one ``MainWindow``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._restore_mask_path: str | None = None  # applied once the restored canvas image has loaded
        self._mask_in_flight = False
        self._compare_key: str | None = None
        self._run_deadline = 0.0
        self._run_timer = QTimer(self, interval=50)
        self._run_timer.timeout.connect(self._run_if_restored)

    def show_version(self, version_id: str) -> None:
        w = self.window
        version = w.store.get_version(version_id)
        if version is None:
            return
        w.open_image(str(version.path), version_id=version_id)
        w.history.select_version(version_id)  # keep the tree and details on what the canvas shows

    def continue_from(self, version_id: str) -> None:
        self.show_version(version_id)
        self.window.statusBar().showMessage("The next edit continues from this version (a new branch).", 5000)

    def restore_inputs(self, version_id: str) -> None:
        """Bring back exactly what made a version: prompt, settings, canvas image, mask and references."""
        w = self.window
        version = w.store.get_version(version_id)
        if version is None:
            return
        job = w.store.get_job(version.job_id)
        params = dict(job.params)
        restored = {**w.prompt.settings().to_dict(), **params, "prompt": params.get("user_prompt", job.prompt)}
        try:
            w.prompt.apply_settings(PromptSettings.from_dict(restored))
        except (TypeError, ValueError) as exc:
            w.prompt.set_error(f"Some settings of that version could not be restored: {exc}")
        inputs = w.store.job_inputs(job.id)
        images = list(inputs.images)
        if params.get("canvas_image") and images:
            canvas_path = images.pop(0)[0]
            parent = w.store.get_version(job.parent_version_id) if job.parent_version_id else None
            self._restore_mask_path = str(inputs.mask) if inputs.mask else None
            w.open_image(str(parent.path if parent else canvas_path), version_id=parent.id if parent else None)
        elif job.kind == "generate":
            w.new_image()
        w.tray.clear()
        if images:
            w.tray.add_files([str(path) for path, _name, _role in images],
                             [role or None for _path, _name, role in images])
        w.statusBar().showMessage("Inputs restored: prompt, settings, image, mask and references.", 6000)

    def apply_restored_mask(self) -> None:
        """Called by the window each time a canvas image has loaded; puts back the mask ``restore_inputs`` kept."""
        path = self._restore_mask_path
        self._restore_mask_path = None
        if not path:
            return
        self._mask_in_flight = True

        def work():
            from ...core.images import edit_array_from_mask

            return edit_array_from_mask(Path(path).read_bytes())

        def done(mask, error: str) -> None:
            w = self.window
            self._mask_in_flight = False
            if error or mask is None:
                w.prompt.set_error(f"The mask could not be restored: {error}")
                return
            image = w.canvas.image()
            if mask.shape == (image.height(), image.width()):
                w.canvas.set_mask_array(mask)
                w._update_mode()

        run_background(work, done)

    def rerun_with_changes(self, version_id: str, changes: dict) -> None:
        w = self.window
        self.restore_inputs(version_id)
        allowed = {k: v for k, v in changes.items() if k in ("quality", "size", "n")}
        w.prompt.apply_settings(PromptSettings.from_dict({**w.prompt.settings().to_dict(), **allowed}))
        self._run_when_restored()

    def rerun(self, version_id: str) -> None:
        self.restore_inputs(version_id)
        self._run_when_restored()

    def _run_when_restored(self) -> None:
        """Run once the restored image, mask and references have all loaded (they load off the GUI thread)."""
        self._run_deadline = time.monotonic() + 30
        self._run_timer.start()

    def _restoring(self) -> bool:
        w = self.window
        return bool(w._pending_load) or self._restore_mask_path is not None or self._mask_in_flight or w.tray.is_loading()

    def _run_if_restored(self) -> None:
        if self._restoring() and time.monotonic() < self._run_deadline:
            return
        self._run_timer.stop()
        if self._restoring():
            self.window.prompt.set_error("The inputs took too long to load; check them and press Run.")
            return
        self.window.run()

    def compare_with_parent(self, version_id: str) -> None:
        w = self.window
        version = w.store.get_version(version_id)
        if version is None or not version.parent_id:
            w.statusBar().showMessage("This version has no parent to compare with.", 5000)
            return
        parent = w.store.get_version(version.parent_id)
        self.show_version(version_id)
        self._compare_key = f"compare:{parent.path}"
        w._loader.loaded.connect(self._compare_loaded)
        w._loader.load(self._compare_key, str(parent.path))

    def _compare_loaded(self, key: str, image: QImage, _error: str) -> None:
        if key != self._compare_key:
            return
        w = self.window
        w._loader.loaded.disconnect(self._compare_loaded)
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
