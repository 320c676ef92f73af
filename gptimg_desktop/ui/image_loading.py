"""Loading images off the GUI thread: files and thumbnails arrive as QImages through queued signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader


class _Relay(QObject):
    loaded = Signal(str, QImage, str)  # key, image (null on failure), error text


class _LoadTask(QRunnable):
    def __init__(self, relay: _Relay, key: str, path: str, max_side: int | None) -> None:
        super().__init__()
        self.relay, self.key, self.path, self.max_side = relay, key, path, max_side

    def run(self) -> None:
        reader = QImageReader(self.path)
        reader.setAutoTransform(True)  # EXIF orientation, as the API will see it after preparation
        if self.max_side:
            size = reader.size()
            if size.isValid() and max(size.width(), size.height()) > self.max_side:
                reader.setScaledSize(size.scaled(QSize(self.max_side, self.max_side), Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            self.relay.loaded.emit(self.key, QImage(), reader.errorString())
            return
        if image.format() not in (QImage.Format.Format_ARGB32_Premultiplied, QImage.Format.Format_RGB32):
            has_alpha = image.hasAlphaChannel()
            image = image.convertToFormat(
                QImage.Format.Format_ARGB32_Premultiplied if has_alpha else QImage.Format.Format_RGB32
            )
        self.relay.loaded.emit(self.key, image, "")


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
