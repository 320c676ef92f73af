"""Loading images off the GUI thread: files and thumbnails arrive as QImages through queued signals.

Files are checked with the same rules as uploads (core.images) before Qt decodes them, so the canvas
refuses what a job would refuse, in the same words: empty files, text, HEIC/PSD/SVG, damaged files,
and decompression bombs (refused from the header, before any pixel is allocated).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader

from ..core import images as core_images
from ..core.errors import InputImageError

# A loaded QImage may carry a note for the user under this text key (e.g. "only the first frame is shown").
NOTE_KEY = "gptimg-note"
_DAMAGED = "is damaged or incomplete; re-export it"


def load_note(image: QImage) -> str:
    """What loading changed or noticed about ``image``, in plain words ("" when nothing)."""
    return image.text(NOTE_KEY) if not image.isNull() else ""


class _Relay(QObject):
    loaded = Signal(str, QImage, str)  # key, image (null on failure), error text


def read_image(path: str, max_side: int | None = None) -> tuple[QImage, str]:
    """(image, "") or (null image, why it could not be opened: a phrase starting with "it is"/"it has" …)."""
    name = os.path.basename(path) or path
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return QImage(), "it was not found; it may have been moved or deleted"
    except IsADirectoryError:
        return QImage(), "it is a folder, not an image file"
    except OSError as exc:
        return QImage(), f"it could not be read ({exc.strerror or exc})"
    try:
        width, height = core_images.image_size(data, name)  # header only: refuses non-images by name
        if width * height > core_images.MAX_PIXELS:
            raise InputImageError(
                name,
                f"is {width}x{height} pixels — too large to open safely; resize it below "
                f"{core_images.MAX_PIXELS // 1_000_000} megapixels",
            )
        if data[:3] == b"\xff\xd8\xff" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            # Qt shows a JPEG cut short with a grey bottom; the upload would be refused, so say so now.
            core_images.decode_image(data, name)
    except InputImageError as exc:
        return QImage(), f"it {exc.reason}"
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)  # EXIF orientation, as the API will see it after preparation
    if max_side:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_side:
            reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    frames = reader.imageCount() if reader.supportsAnimation() else 1
    image = reader.read()
    if image.isNull():
        return QImage(), f"it {_DAMAGED}"
    if image.format() not in (QImage.Format.Format_ARGB32_Premultiplied, QImage.Format.Format_RGB32):
        has_alpha = image.hasAlphaChannel()
        image = image.convertToFormat(
            QImage.Format.Format_ARGB32_Premultiplied if has_alpha else QImage.Format.Format_RGB32
        )
    if frames > 1:
        fmt = reader.format().toStdString().upper()
        kind = {"WEBP": "WebP", "PNG": "PNG (APNG)"}.get(fmt, fmt or "image")
        image.setText(NOTE_KEY, f"{name} is an animated {kind}; only its first frame is used.")
    return image, ""


class _LoadTask(QRunnable):
    def __init__(self, relay: _Relay, key: str, path: str, max_side: int | None) -> None:
        super().__init__()
        self.relay, self.key, self.path, self.max_side = relay, key, path, max_side

    def run(self) -> None:
        image, error = read_image(self.path, self.max_side)
        self.relay.loaded.emit(self.key, image, error)


class ImageLoader(QObject):
    """Loads image files on a thread pool; ``loaded(key, image, error)`` fires on the GUI thread."""

    loaded = Signal(str, QImage, str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relay = _Relay()
        self._relay.loaded.connect(self.loaded, Qt.ConnectionType.QueuedConnection)

    def load(self, key: str, path: str, max_side: int | None = None) -> None:
        self._pool.start(_LoadTask(self._relay, key, path, max_side))
