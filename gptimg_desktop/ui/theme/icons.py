"""Small line icons drawn with QPainter, so the app ships no icon files and they follow the theme colour."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from .style import Colors

ICON_NAMES = (
    "close", "chevron-right", "chevron-down", "chevron-up", "history", "paste", "retry", "cancel", "image", "check",
    # mask tools and canvas actions
    "brush", "eraser", "rect-select", "lasso", "undo", "redo", "invert", "clear-mask", "expand", "compare",
)


def _draw(name: str, p: QPainter, s: float) -> None:
    # Coordinates are on a 16-unit grid scaled to the pixmap size.
    def pt(x: float, y: float) -> QPointF:
        return QPointF(x * s / 16, y * s / 16)

    if name in ("close", "cancel"):
        m = 4.5 if name == "close" else 5.0
        p.drawLine(pt(m, m), pt(16 - m, 16 - m))
        p.drawLine(pt(16 - m, m), pt(m, 16 - m))
        if name == "cancel":
            p.drawEllipse(QRectF(pt(2, 2), pt(14, 14)))
    elif name == "chevron-right":
        p.drawPolyline([pt(6, 4), pt(10, 8), pt(6, 12)])
    elif name == "chevron-down":
        p.drawPolyline([pt(4, 6), pt(8, 10), pt(12, 6)])
    elif name == "chevron-up":
        p.drawPolyline([pt(4, 10), pt(8, 6), pt(12, 10)])
    elif name == "history":
        p.drawArc(QRectF(pt(2.5, 2.5), pt(13.5, 13.5)), 90 * 16, 300 * 16)
        p.drawPolyline([pt(8, 5), pt(8, 8), pt(10.5, 9.5)])
        p.drawPolyline([pt(1.5, 5), pt(3.5, 7), pt(5.5, 5)])
    elif name == "paste":
        p.drawRoundedRect(QRectF(pt(3, 3.5), pt(13, 14.5)), s / 16 * 1.5, s / 16 * 1.5)
        p.drawRoundedRect(QRectF(pt(6, 2), pt(10, 5)), s / 16, s / 16)
        p.drawLine(pt(5.5, 8.5), pt(10.5, 8.5))
        p.drawLine(pt(5.5, 11.5), pt(9, 11.5))
    elif name == "retry":
        p.drawArc(QRectF(pt(3, 3), pt(13, 13)), 60 * 16, 280 * 16)
        path = QPainterPath(pt(11, 1.8))
        path.lineTo(pt(11.6, 5.2))
        path.lineTo(pt(8.3, 5.6))
        p.drawPath(path)
    elif name == "image":
        p.drawRoundedRect(QRectF(pt(2, 3), pt(14, 13)), s / 16 * 1.5, s / 16 * 1.5)
        p.drawPolyline([pt(3, 12), pt(7, 8), pt(10, 11), pt(11.5, 9.5), pt(13, 11)])
        p.drawEllipse(QRectF(pt(9.5, 4.8), pt(11.5, 6.8)))
    elif name == "check":
        p.drawPolyline([pt(3.5, 8.5), pt(6.5, 11.5), pt(12.5, 4.5)])
    elif name == "brush":
        p.drawLine(pt(13.5, 2.5), pt(7.5, 8.5))
        path = QPainterPath(pt(7.5, 8.5))
        path.cubicTo(pt(4.5, 8.0), pt(4.0, 11.0), pt(2.5, 13.5))
        path.cubicTo(pt(5.5, 13.5), pt(8.5, 12.5), pt(7.5, 8.5))
        p.drawPath(path)
    elif name == "eraser":
        path = QPainterPath(pt(9.5, 2.5))
        for x, y in ((14, 7), (7.5, 13.5), (4.5, 13.5), (2, 11), (9.5, 2.5)):
            path.lineTo(pt(x, y))
        p.drawPath(path)
        p.drawLine(pt(5.5, 6.5), pt(10, 11))
        p.drawLine(pt(7.5, 13.5), pt(14, 13.5))
    elif name == "rect-select":
        dashed = QPen(p.pen())
        dashed.setDashPattern([2.0, 1.6])
        p.setPen(dashed)
        p.drawRect(QRectF(pt(2.5, 3.5), pt(13.5, 12.5)))
    elif name == "lasso":
        p.drawEllipse(QRectF(pt(2, 2.5), pt(14, 10)))
        path = QPainterPath(pt(5, 9.4))
        path.cubicTo(pt(3.5, 11), pt(5.5, 12.5), pt(6.5, 14))
        p.drawPath(path)
    elif name in ("undo", "redo"):
        flip = name == "redo"

        def fx(x: float) -> float:
            return 16 - x if flip else x

        path = QPainterPath(pt(fx(3.5), 7))
        path.cubicTo(pt(fx(6), 4), pt(fx(13.5), 4.5), pt(fx(13), 10.5))
        p.drawPath(path)
        p.drawPolyline([pt(fx(3), 3), pt(fx(3.5), 7), pt(fx(7.5), 7.3)])
    elif name == "invert":
        p.drawEllipse(QRectF(pt(2.5, 2.5), pt(13.5, 13.5)))
        half = QPainterPath(pt(8, 2.5))
        half.arcTo(QRectF(pt(2.5, 2.5), pt(13.5, 13.5)), 90, 180)
        half.closeSubpath()
        p.fillPath(half, p.pen().color())
    elif name == "clear-mask":
        p.drawRoundedRect(QRectF(pt(2.5, 2.5), pt(13.5, 13.5)), s / 16 * 2, s / 16 * 2)
        p.drawLine(pt(5.5, 5.5), pt(10.5, 10.5))
        p.drawLine(pt(10.5, 5.5), pt(5.5, 10.5))
    elif name == "expand":
        p.drawRect(QRectF(pt(5.5, 5.5), pt(10.5, 10.5)))
        for x0, y0, x1, y1 in ((2, 2, 4.5, 4.5), (14, 2, 11.5, 4.5), (2, 14, 4.5, 11.5), (14, 14, 11.5, 11.5)):
            p.drawLine(pt(x0, y0), pt(x1, y1))
        for x, y, dx, dy in ((2, 2, 1, 1), (14, 2, -1, 1), (2, 14, 1, -1), (14, 14, -1, -1)):
            p.drawPolyline([pt(x + 2.2 * dx, y), pt(x, y), pt(x, y + 2.2 * dy)])
    elif name == "compare":
        p.drawRoundedRect(QRectF(pt(2, 3), pt(14, 13)), s / 16 * 1.5, s / 16 * 1.5)
        p.drawLine(pt(8, 1.5), pt(8, 14.5))
        p.drawPolyline([pt(5.5, 6.5), pt(4, 8), pt(5.5, 9.5)])
        p.drawPolyline([pt(10.5, 6.5), pt(12, 8), pt(10.5, 9.5)])
    else:
        raise KeyError(name)


@lru_cache(maxsize=64)
def _pixmap(name: str, color: str, size: int, ratio: float) -> QPixmap:
    px = round(size * ratio)
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    pixmap.setDevicePixelRatio(ratio)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color), max(1.4, size / 11))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    _draw(name, painter, float(size))
    painter.end()
    return pixmap


def icon(name: str, color: str = Colors.text, size: int = 16) -> QIcon:
    """A themed line icon; the disabled state is drawn in the disabled text colour."""
    result = QIcon()
    for ratio in (1.0, 2.0):
        result.addPixmap(_pixmap(name, color, size, ratio), QIcon.Mode.Normal)
        result.addPixmap(_pixmap(name, Colors.text_disabled, size, ratio), QIcon.Mode.Disabled)
    return result


def save_icon_png(name: str, color: str, size: int, path: str, pen_width: float | None = None) -> bool:
    """Write an icon as a PNG file: for stylesheet sub-controls, which only take image files."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color), pen_width or max(1.4, size / 9))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    _draw(name, painter, float(size))
    painter.end()
    return pixmap.save(path, "PNG")


def dot_pixmap(color: QColor | str, size: int = 10) -> QPixmap:
    """A filled circle, used as a status chip."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    painter.end()
    return pixmap
