"""Opening images into the document: files and versions load off the GUI thread, and an opened file is recorded
in the history as a root version of kind ``original`` (no request, no cost), so the first edit has a parent.

``ImageController`` takes the document and the store, never the window; it says what happened through signals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..store.files import sniff_ext
from ..store.history import HistoryStore
from .background import run_background
from .document import EditorDocument, ImageSource
from .image_loading import load_note, read_image


@dataclass(frozen=True)
class _Opened:
    image: QImage
    error: str
    version_id: str | None
    record_error: str = ""


class ImageController(QObject):
    """Loads files and versions into one document."""

    opened = Signal(str)  # a status line: "photo.png · 1536×1024", or the note about what loading changed
    failed = Signal(str)  # one sentence saying why it could not be opened
    idle = Signal()  # no image is loading any more

    def __init__(self, document: EditorDocument, store: HistoryStore | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.store = store
        self._pending = 0
        self._generation = 0  # only the newest open wins when several are in flight

    def open_file(self, path: str, version_id: str | None = None, *, keep_mask: bool = False,
                  record_original: bool = True) -> None:
        """Load ``path`` and make it the image to edit: a new document, unless ``keep_mask`` (a result)."""
        self._pending += 1
        self._generation += 1
        generation = self._generation
        store, project = self.store, self.document.project
        record = record_original and version_id is None and store is not None

        def work() -> _Opened:
            image, error = read_image(path)
            if image.isNull() or not record or store is None:
                return _Opened(image, error, version_id)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
                version = store.add_original(data, sniff_ext(data, path), image.width(), image.height(), project,
                                             os.path.basename(path))
            except Exception as exc:  # noqa: BLE001 (the image still opens; only the history entry is missing)
                return _Opened(image, error, None, str(exc) or type(exc).__name__)
            return _Opened(image, error, version.id)

        def done(result: _Opened | None, error: str) -> None:
            self._pending -= 1
            try:
                if generation == self._generation:
                    self._opened(path, result, error, keep_mask, version_id)
            finally:
                if self._pending == 0:
                    self.idle.emit()

        run_background(work, done)

    def _opened(self, path: str, result: _Opened | None, error: str, keep_mask: bool, asked_version: str | None) -> None:
        name = os.path.basename(path)
        if result is None or result.image.isNull():
            why = error or (result.error if result is not None else "") or "it is not an image"
            self.failed.emit(f"{name} could not be opened: {why}.")
            return
        image = result.image
        source = ImageSource(path=path, version_id=result.version_id)
        if keep_mask:
            self.document.show_result(image, source)
        else:
            self.document.open_image(image, source)
        note = load_note(image)
        if result.record_error:
            note = f"{name} opened, but it could not be added to the history ({result.record_error})."
        label = f"Version {asked_version}" if asked_version else name
        self.opened.emit(note or f"{label} · {image.width()}×{image.height()}")
