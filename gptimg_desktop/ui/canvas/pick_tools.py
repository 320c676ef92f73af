"""What the canvas needs for the colour-picking tools and the outline display, kept out of the canvas widget.

``PickSettings`` holds the magic wand's and Colour Range's options; ``pick_selection`` turns a click into a new
mask (core/selection.py does the maths); ``mask_outline`` traces the mask's edge as a path for the marching-ants
display mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainterPath, QPolygonF

from ...core import selection

OUTLINE_MAX_EDGE = 2048  # the outline is traced on a copy at most this large: the ants are a display, not data


@dataclass
class PickSettings:
    tolerance: int = 32
    contiguous: bool = True


def image_rgb(image: QImage) -> np.ndarray:
    """(H, W, 3) uint8 copy of ``image`` for the selection maths (one conversion, cached by the canvas)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return arr[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


def pick_selection(tool: str, pixels: np.ndarray, x: int, y: int, settings: PickSettings) -> np.ndarray:
    """The selection a click at (x, y) makes with the magic wand (``wand``) or Colour Range (``color_range``)."""
    if tool == "wand":
        return selection.magic_wand(pixels, x, y, settings.tolerance, contiguous=settings.contiguous)
    color = selection.sample_color(pixels, x, y, radius=1)
    return selection.color_range(pixels, [color], settings.tolerance, contiguous=settings.contiguous, seed=(x, y))


def mask_outline(mask: np.ndarray) -> QPainterPath:
    """The edge of the marked area (value >= 128) as closed polygons in image pixels."""
    path = QPainterPath()
    if mask.size == 0 or not mask.any():
        return path
    h, w = mask.shape
    scale = min(1.0, OUTLINE_MAX_EDGE / max(h, w))
    work = mask if scale >= 1.0 else cv2.resize(mask, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(work, 127, 255, cv2.THRESH_BINARY)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        points = contour.reshape(-1, 2)
        if len(points) < 2:
            continue
        poly = QPolygonF([QPointF((px + 0.5) / scale, (py + 0.5) / scale) for px, py in points])
        path.addPolygon(poly)
        path.closeSubpath()
    return path
