"""The two copies between QImage and numpy that the editor needs (one memcpy each, no encoding)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_to_array(image: QImage) -> np.ndarray:
    """A copy of ``image`` as an RGBA uint8 array (encoding happens later, off the GUI thread)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


def qimage_to_array_keep_channels(image: QImage) -> np.ndarray:
    """(H, W, 4) RGBA or (H, W, 3) RGB uint8 copy: an opaque image stays RGB."""
    alpha = image.hasAlphaChannel()
    conv = image.convertToFormat(QImage.Format.Format_RGBA8888 if alpha else QImage.Format.Format_RGB888)
    c = 4 if alpha else 3
    buf = np.frombuffer(conv.constBits(), dtype=np.uint8).reshape(conv.height(), conv.bytesPerLine())
    return buf[:, : conv.width() * c].reshape(conv.height(), conv.width(), c).copy()


def array_to_qimage(arr: np.ndarray) -> QImage:
    """A QImage holding its own copy of an (H, W, 3|4) uint8 array."""
    h, w, c = arr.shape
    arr = np.ascontiguousarray(arr)
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    return QImage(arr.data, w, h, w * c, fmt).copy()  # copy: the QImage must not outlive the array
