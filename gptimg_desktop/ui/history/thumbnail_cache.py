"""Thumbnails for long lists: loaded off the UI thread only when a row is drawn, kept in a small LRU cache.

Views call ``get(key, path)`` while painting; a miss returns None (draw a placeholder) and queues a load.
Only the most recently asked-for thumbnails are loaded, a few at a time, so scrolling fast through 10,000
rows loads what stays on screen, not everything that flew past.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from ...editor.image_loading import ImageLoader

DEFAULT_CAPACITY = 500
DEFAULT_SIDE = 96  # pixels: rows draw 48 px thumbnails, sharp on 2x screens
MAX_IN_FLIGHT = 4
MAX_QUEUED = 120  # older requests than this are dropped: their rows have scrolled away


class ThumbnailCache(QObject):
    """An LRU cache of QPixmaps by key, filled by an ImageLoader on its own small thread pool.

    ``thumbnailReady(key)`` fires on the UI thread when a thumbnail arrives (or failed: ``get`` then keeps
    returning None without loading again, so a missing file is not retried on every repaint).
    """

    thumbnailReady = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        capacity: int = DEFAULT_CAPACITY,
        side: int = DEFAULT_SIDE,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self.side = side
        self._max_in_flight = max_in_flight
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._queued: OrderedDict[str, str] = OrderedDict()  # key -> path, most recent request last
        self._in_flight: set[str] = set()
        self._generation = 0  # bumped by clear(): answers to older requests are dropped
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # leave the global pool to canvas loads and jobs
        self._loader = ImageLoader(self, self._pool)
        self._loader.loaded.connect(self._loaded)
        self._pump_timer = QTimer(self, singleShot=True, interval=0)  # batch the requests of one paint
        self._pump_timer.timeout.connect(self._pump)

    # ------------------------------------------------------------------ queries
    def get(self, key: str, path: str | None) -> QPixmap | None:
        """The cached thumbnail, or None after queueing a load of ``path`` (when there is one)."""
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if path and key not in self._failed and key not in self._in_flight:
            self._queued[key] = path
            self._queued.move_to_end(key)
            while len(self._queued) > MAX_QUEUED:
                self._queued.popitem(last=False)
            if not self._pump_timer.isActive():
                self._pump_timer.start()
        return None

    def contains(self, key: str) -> bool:
        return key in self._pixmaps

    def failed(self, key: str) -> bool:
        return key in self._failed

    def __len__(self) -> int:
        return len(self._pixmaps)

    def pending(self) -> int:
        """Loads queued or running."""
        return len(self._queued) + len(self._in_flight)

    def clear(self) -> None:
        self._pixmaps.clear()
        self._failed.clear()
        self._queued.clear()
        self._in_flight.clear()
        self._generation += 1

    def discard(self, key: str) -> None:
        """Forget one thumbnail (e.g. its file changed), so the next ``get`` loads it again."""
        self._pixmaps.pop(key, None)
        self._failed.discard(key)

    # ------------------------------------------------------------------ loading
    def _pump(self) -> None:
        while self._queued and len(self._in_flight) < self._max_in_flight:
            key, path = self._queued.popitem(last=True)  # newest request first: the rows on screen now
            self._in_flight.add(key)
            self._loader.load(f"{self._generation}:{key}", path, self.side)

    def _loaded(self, tagged_key: str, image: QImage, _error: str) -> None:
        generation, _, key = tagged_key.partition(":")
        if generation != str(self._generation):
            return  # requested before clear(): the list it was for is gone
        self._in_flight.discard(key)
        if image.isNull():
            self._failed.add(key)
        else:
            self._pixmaps[key] = QPixmap.fromImage(image)
            self._pixmaps.move_to_end(key)
            while len(self._pixmaps) > self.capacity:
                self._pixmaps.popitem(last=False)
        self._pump()
        self.thumbnailReady.emit(key)
