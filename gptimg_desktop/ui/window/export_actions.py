"""Exporting the canvas image or a stored version as PNG, JPEG or WebP, with its provenance embedded.

``ExportActions`` holds the window; encoding and writing happen off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog

from ...editor.background import run_background
from ...editor.qimages import qimage_to_array
from ...editor.ui_settings import LAST_DIR

if TYPE_CHECKING:
    from .main_window import MainWindow

EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"
MATTE_SETTING = "export/jpeg_matte"


def ask_matte(window: MainWindow) -> tuple[int, int, int] | None:
    """JPEG has no alpha: ask which colour transparent areas become (None when the designer cancels)."""
    last = QColor(str(window.settings.value(MATTE_SETTING, "#ffffff")))
    colour = QColorDialog.getColor(last, window, "JPEG has no transparency: matte colour for transparent areas")
    if not colour.isValid():
        return None
    window.settings.setValue(MATTE_SETTING, colour.name())
    return colour.red(), colour.green(), colour.blue()


def _provenance(version) -> dict:
    """What an exported file carries about where it came from."""
    return {"prompt": version.prompt, "model": version.model, "size": version.size, "quality": version.quality,
            "parent": version.parent_id, "version": version.id}


class ExportActions(QObject):
    """The exports of one ``MainWindow``: File → Export and the history panel's Export."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def export_dialog(self) -> None:
        w = self.window
        if w.canvas.image().isNull():
            return
        default = str(Path(w._last_dir()) / f"gptimg-{w.current_version_id or 'image'}.png")
        path, _ = QFileDialog.getSaveFileName(w, "Export image", default, EXPORT_FILTER)
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Export the current image with its provenance embedded, off the GUI thread."""
        from ...core.export import encode_with_metadata, format_for_path

        w = self.window
        try:
            fmt = format_for_path(path)
        except ValueError as exc:
            w.prompt.set_error(str(exc))
            return
        version = w.store.get_version(w.current_version_id) if w.current_version_id else None
        metadata = _provenance(version) if version is not None else {}
        image = qimage_to_array(w.canvas.image())
        matte = (255, 255, 255)
        if fmt == "jpeg" and w.canvas.image().hasAlphaChannel() and int(image[..., 3].min()) < 255:
            chosen = ask_matte(w)
            if chosen is None:
                return
            matte = chosen

        def work() -> str:
            from PIL import Image

            from ...store.files import atomic_write

            atomic_write(Path(path), encode_with_metadata(Image.fromarray(image), fmt, metadata, matte=matte))
            return path

        run_background(work, self._export_done)

    def export_version(self, version_id: str) -> None:
        w = self.window
        version = w.store.get_version(version_id)
        if version is None:
            return
        default = str(Path(w._last_dir()) / f"gptimg-{version_id}.png")
        path, _ = QFileDialog.getSaveFileName(w, "Export version", default, EXPORT_FILTER)
        if path:
            self.export_version_to(version_id, path)

    def export_version_to(self, version_id: str, path: str) -> None:
        """Export a stored version with its provenance embedded, off the GUI thread."""
        from ...core.export import encode_with_metadata, format_for_path

        w = self.window
        version = w.store.get_version(version_id)
        try:
            fmt = format_for_path(path)
        except ValueError as exc:
            w.prompt.set_error(str(exc))
            return
        metadata = _provenance(version)
        matte = (255, 255, 255)
        if fmt == "jpeg" and version.format in ("png", "webp") and _stored_has_alpha(version.path):
            chosen = ask_matte(w)
            if chosen is None:
                return
            matte = chosen

        def work() -> str:
            from PIL import Image

            from ...store.files import atomic_write

            with Image.open(version.path) as img:
                atomic_write(Path(path), encode_with_metadata(img, fmt, metadata, matte=matte))
            return path

        run_background(work, self._export_done)

    def _export_done(self, path: str | None, error: str) -> None:
        w = self.window
        if error:
            w.prompt.set_error(f"Export failed: {error}. Check the folder is writable and try again.")
        elif path:
            LAST_DIR.write(w.settings, str(Path(path).parent))
            w.statusBar().showMessage(f"Exported {path}", 6000)


def _stored_has_alpha(path: Path) -> bool:
    """Whether a stored version's file has an alpha channel (the header only; no pixels are decoded)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    except OSError:
        return False
