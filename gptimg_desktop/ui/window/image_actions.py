"""Local operations on the canvas image: expand the canvas, use it as a reference, cut out its background.

``ImageActions`` holds the window and works through its widgets; ``qimage_to_array`` is the one
copy of canvas pixels that work leaving the GUI thread starts from.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from ..common.background import run_background

if TYPE_CHECKING:
    from .main_window import MainWindow


def qimage_to_array(image: QImage) -> np.ndarray:
    """A copy of ``image`` as an RGBA uint8 array (one memcpy; encoding happens later, off this thread)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


class ImageActions(QObject):
    """Local image operations of one ``MainWindow`` (nothing here is sent to the API)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def expand_canvas_dialog(self) -> None:
        from ..canvas.expand_dialog import ExpandCanvasDialog

        w = self.window
        image = w.canvas.image()
        dialog = ExpandCanvasDialog(image.width(), image.height(), w.prompt.settings().model, w)
        if dialog.exec():
            left, top, right, bottom = dialog.margins()
            w.canvas.expand_canvas(left, top, right, bottom)
            w.source.modified = True
            w._update_mode()

    def use_current_as_reference(self) -> None:
        w = self.window
        if w.canvas.image().isNull():
            return
        if w.source.path and not w.source.modified:
            w.tray.add_files([w.source.path])
        else:
            w.tray.add_image(w.canvas.image())

    def cutout_offer(self) -> None:
        self.window.statusBar().showMessage(
            "After the result arrives, use Image → Cut Out Background to make its background transparent.", 8000
        )

    def cutout(self) -> None:
        w = self.window
        if w.canvas.image().isNull():
            return
        image = qimage_to_array(w.canvas.image())
        target = w.scratch_dir / f"cutout-{uuid.uuid4().hex[:8]}.png"
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

        run_background(work, self._cutout_done)

    def _cutout_done(self, path: str | None, error: str) -> None:
        w = self.window
        if error or not path:
            w.prompt.set_error(f"Cutout failed: {error}")
            return
        w.open_image(path)
        w.source.modified = True
        w.statusBar().showMessage("Background cut out locally (transparent PNG). Export to save it.", 8000)
