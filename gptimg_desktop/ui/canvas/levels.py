"""The canvas image's half-size levels (one per octave of zoom-out), area-averaged on a thread.

Drawing a 4K image at 25% straight from its pixels aliases, so the canvas draws from a level made for that
zoom. Making the levels with ``QImage.scaled`` costs ~16 ms on the GUI thread for a 4K image (PySide holds
Python's GIL for the call) and would land in the first paint after every new result. Pillow's ``reduce``
releases the GIL, so the levels are built here on a thread; until they arrive the canvas draws from the
nearest level it has (or the full image), and repaints when they do.
"""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

MAX_LEVELS = 8  # 1/256: far below any zoom the canvas allows
_SMALLEST = 32  # px: a level whose longer side would be under this is not made


def half_size(image: QImage) -> QImage:
    """``image`` at half size (rounded up), each pixel the mean of the 2x2 it covers; same format.

    For Format_RGB32 and Format_ARGB32_Premultiplied (the canvas's display formats: averaging premultiplied
    pixels is exact). Releases the GIL while it averages and copies.
    """
    w, h = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8)  # a view: no copy
    src = Image.frombuffer("RGBX", (w, h), pixels, "raw", "RGBX", image.bytesPerLine(), 1)
    reduced = src.reduce(2)
    out = QImage(reduced.width, reduced.height, image.format())
    if out.isNull():
        raise MemoryError(f"not enough memory for a {reduced.width}x{reduced.height} level")
    rows = np.frombuffer(out.bits(), np.uint8).reshape(out.height(), out.bytesPerLine())
    rows[:, : 4 * out.width()] = np.asarray(reduced).reshape(out.height(), 4 * out.width())
    return out


class ImageLevels(QObject):
    """Levels of one image at a time: ``level(k)`` is the image at 1/2**k, built on demand on a thread.

    ``ready`` is emitted (on the GUI thread) each time a level arrives, so the canvas repaints.
    """

    ready = Signal()
    _arrived = Signal(int, int, object)  # generation, k, QImage (emitted from the thread: queued)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: QImage | None = None
        self._levels: list[QImage] = []  # _levels[k - 1] is level k
        self._generation = 0
        self._building = False
        self._thread: threading.Thread | None = None
        self._arrived.connect(self._store)

    def reset(self, source: QImage | None) -> None:
        """A new image: forget the old levels (a build still running for them is ignored when it ends)."""
        self._generation += 1
        self._source = source
        self._levels = []
        self._building = False

    def level(self, k: int) -> QImage | None:
        """Level ``k`` (1 = half size) if built, else the deepest level built so far (None: none yet) while the
        missing ones are made."""
        if k <= 0 or self._source is None:
            return self._source
        k = min(k, MAX_LEVELS)
        if k <= len(self._levels):
            return self._levels[k - 1]
        if not self._building and not self._too_small(self._levels[-1] if self._levels else self._source):
            self._build(k)
        return self._levels[-1] if self._levels else None

    def built(self) -> int:
        return len(self._levels)

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until the running build ends (for tests); True when nothing is building any more."""
        from PySide6.QtCore import QCoreApplication

        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        QCoreApplication.processEvents()  # the queued deliveries
        return not self._building

    def _too_small(self, image: QImage) -> bool:
        return max(image.width(), image.height()) < 2 * _SMALLEST

    def _build(self, k: int) -> None:
        base = self._levels[-1] if self._levels else self._source
        assert base is not None
        # The thread's own handle on the pixels: if the canvas's image is then changed in place, Qt copies it
        # for the writer (copy-on-write) and the pixels read here stay valid.
        start = QImage(base)
        self._building = True
        generation, first = self._generation, len(self._levels) + 1

        def work() -> None:
            image = start
            for level in range(first, k + 1):
                try:
                    image = half_size(image)
                except (MemoryError, ValueError):
                    break
                if not self._emit(generation, level, image) or self._too_small(image):
                    break
            self._emit(generation, 0, None)  # the build ended

        self._thread = threading.Thread(target=work, name="gptimg-levels", daemon=True)
        self._thread.start()

    def _emit(self, generation: int, k: int, image: QImage | None) -> bool:
        try:
            self._arrived.emit(generation, k, image)
        except RuntimeError:  # the canvas was closed while its levels were being made
            return False
        return True

    def _store(self, generation: int, k: int, image: QImage | None) -> None:
        if generation != self._generation:
            return
        if k == 0:
            self._building = False
            return
        if image is not None and k == len(self._levels) + 1:
            self._levels.append(image)
            self.ready.emit()
