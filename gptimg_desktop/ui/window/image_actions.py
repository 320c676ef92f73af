"""Local operations on the canvas image: expand the canvas, use it as a reference, cut out its background.

``ImageActions`` asks the user (dialogs) and then changes the document; nothing here is sent to the API.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ...editor.background import run_background
from ...editor.qimages import qimage_to_array

if TYPE_CHECKING:
    from .main_window import MainWindow


class ImageActions(QObject):
    """Local image operations of one ``MainWindow``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def expand_canvas_dialog(self) -> None:
        from ..canvas.expand_dialog import ExpandCanvasDialog

        w = self.window
        image = w.document.image()
        dialog = ExpandCanvasDialog(image.width(), image.height(), w.document.settings().model, w)
        if dialog.exec():
            left, top, right, bottom = dialog.margins()
            w.canvas.expand_canvas(left, top, right, bottom)  # one undo step in the document

    def use_current_as_reference(self) -> None:
        w = self.window
        doc = w.document
        if not doc.has_image():
            return
        if doc.source.path and not doc.source.modified:
            w.tray.add_files([doc.source.path])
        else:
            w.tray.add_image(doc.image())

    def cutout_offer(self) -> None:
        self.window.statusBar().showMessage(
            "Use Image → Generate for Cutout (any model), or Image → Remove Background after the result arrives.", 8000
        )

    def cutout(self) -> None:
        w = self.window
        if not w.document.has_image():
            return
        image = qimage_to_array(w.document.image())
        target = w.scratch_dir / f"cutout-{uuid.uuid4().hex[:8]}.png"
        parent_version = w.document.source.version_id
        w.statusBar().showMessage("Cutting out the background…")

        def work() -> str:
            from PIL import Image

            from ...core.images import cutout_background
            from ...store.files import atomic_write

            result = cutout_background(Image.fromarray(image))
            buf = io.BytesIO()
            result.save(buf, "PNG", compress_level=1)
            atomic_write(target, buf.getvalue())
            return str(target)

        def done(path: str | None, error: str) -> None:
            self._cutout_done(path, error, parent_version)

        run_background(work, done)

    def _cutout_done(self, path: str | None, error: str, parent_version: str | None) -> None:
        w = self.window
        if error or not path:
            w.prompt.set_error(f"Cutout failed: {error}")
            return
        # Same work, new pixels: an edit of it keeps the version it came from as its parent.
        w.images.open_file(path, parent_version, keep_mask=True, record_original=False)
        w.statusBar().showMessage("Background cut out locally (transparent PNG). Export to save it.", 8000)
