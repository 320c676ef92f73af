"""Drawing the canvas: the image (from half-size levels when zoomed out), the mask tint, previews, the
compare split, marching ants, the brush ring and the empty-canvas hint; only the dirty rect is drawn.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPolygonF,
    QTransform,
)

from .pick_tools import mask_outline
from .state import _MARGIN, FIT_MARGIN, HINT_TEXT, NEUTRAL_SURROUND, SMOOTH_UP_TO_ZOOM, Tool, _Drag
from .tools import CanvasTools


class CanvasPainting(CanvasTools):
    """paintEvent and its helpers."""

    def _surround(self) -> QColor:
        window = self.palette().color(QPalette.ColorRole.Window)
        return window if window.lightness() < 96 else NEUTRAL_SURROUND

    def paintEvent(self, event) -> None:
        self._refresh_dpr()
        p = QPainter(self)
        clip = event.rect()
        p.fillRect(clip, self._surround())
        if self._image is None:
            self._paint_empty(p)
            p.end()
            return
        img_rect = self.image_rect_in_widget()
        vis = QRectF(clip).intersected(img_rect)
        if not vis.isEmpty():
            if self._display is not None and self._display.hasAlphaChannel():
                self._checker.setTransform(QTransform.fromTranslate(self._ox, self._oy))
                p.fillRect(vis, self._checker)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom <= SMOOTH_UP_TO_ZOOM)
            if self._compare is not None:
                sx = self._split_x()
                left = vis.intersected(QRectF(img_rect.left(), img_rect.top(), sx - img_rect.left(), img_rect.height()))
                right = vis.intersected(QRectF(sx, img_rect.top(), img_rect.right() - sx, img_rect.height()))
                if not left.isEmpty():
                    p.save()
                    p.setClipRect(left)
                    self._draw_scaled(p, self._compare, left)
                    p.restore()
                if not right.isEmpty():
                    p.save()
                    p.setClipRect(right)
                    self._draw_base(p, right)
                    p.restore()
            else:
                self._draw_base(p, vis)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        # A hairline frame separates the image edge from the surround (and shows transparent edges).
        p.setPen(QPen(QColor(0, 0, 0, 110), 0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(img_rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self._mask_visible and self._mask_display == "outline" and self._preview is None and self._layer is not None:
            outline = self._outline_path()
            if not outline.isEmpty():
                self._stroke_ants(p, QTransform(self._s, 0, 0, self._s, self._ox, self._oy).map(outline))
        if self._drag == _Drag.RECT:
            self._paint_ants(p, self._rect_outline_widget())
        elif self._drag == _Drag.LASSO:
            self._paint_lasso(p)
        if self._compare is not None:
            self._paint_split_handle(p, img_rect)
        if self._ring_shown():
            self._paint_ring(p)
        if self._drop_hover:
            self._paint_drop_frame(p)
        for hook in self.paint_hooks:  # overlays drawn over the image in widget coordinates (proof boxes)
            hook(p)
        p.end()

    def _draw_base(self, p: QPainter, vis: QRectF) -> None:
        """Image (or preview) plus the mask tint, restricted to ``vis`` (widget px)."""
        if self._preview is not None:
            self._draw_scaled(p, self._preview, vis)
            return
        level = self._level_for_zoom()
        if level is self._display and self._zoom <= 0.5:
            # Its level is being made (a new image): one fast unfiltered frame now, the averaged one in a moment,
            # instead of filtering all of a 4K image on this thread.
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self._draw_scaled(p, level, vis)
        if self._mask_visible and self._mask_display == "tint" and self._mask_opacity > 0 and self._layer is not None:
            p.setOpacity(self._mask_opacity)
            self._draw_scaled(p, self._layer.tint_image(), vis)
            p.setOpacity(1.0)

    def _draw_scaled(self, p: QPainter, img: QImage, vis: QRectF) -> None:
        """Draw the sub-rect of ``img`` (stretched over the whole image rect) that lands in ``vis``."""
        if self._image is None:
            return
        iw, ih = self._image.width(), self._image.height()
        fx, fy = img.width() / iw, img.height() / ih  # source px per image px
        s, ox, oy = self._s, self._ox, self._oy
        x0 = max(0, math.floor((vis.left() - ox) / s * fx) - _MARGIN)
        y0 = max(0, math.floor((vis.top() - oy) / s * fy) - _MARGIN)
        x1 = min(img.width(), math.ceil((vis.right() - ox) / s * fx) + _MARGIN)
        y1 = min(img.height(), math.ceil((vis.bottom() - oy) / s * fy) + _MARGIN)
        if x1 <= x0 or y1 <= y0:
            return
        target = QRectF(ox + x0 / fx * s, oy + y0 / fy * s, (x1 - x0) / fx * s, (y1 - y0) / fy * s)
        p.drawImage(target, img, QRectF(x0, y0, x1 - x0, y1 - y0))

    def _level_for_zoom(self) -> QImage:
        # Bilinear sampling aliases below 50%: draw from the half-size level made for this zoom (area-averaged,
        # on a thread); until it arrives, from the nearest one there is, and repaint when it comes.
        display = self._display
        if display is None:
            return QImage()
        if self._zoom > 0.5:
            return display
        level = self._levels.level(min(8, math.floor(math.log2(1.0 / self._zoom))))
        return level if level is not None else display

    def _paint_ants(self, p: QPainter, r: QRectF) -> None:
        path = QPainterPath()
        path.addRect(r.adjusted(0.5, 0.5, -0.5, -0.5) if r.width() > 1 and r.height() > 1 else r)
        self._stroke_ants(p, path)

    def _paint_lasso(self, p: QPainter) -> None:
        if self._lasso.size() < 2:
            return
        poly = QTransform(self._s, 0, 0, self._s, self._ox, self._oy).map(self._lasso)
        path = QPainterPath()
        path.addPolygon(poly)
        path.closeSubpath()
        self._stroke_ants(p, path)

    def _mask_edited(self) -> None:
        self._outline = None
        self._sync_ants()
        if self._mask_display == "outline":
            self.update()

    def _outline_path(self) -> QPainterPath:
        if self._outline is None:
            self._outline = mask_outline(self._layer.array()) if self._layer is not None else QPainterPath()
        return self._outline

    def _sync_ants(self) -> None:
        on = self._mask_display == "outline" and self._layer is not None and self._layer.has_paint()
        if on and not self._outline_ants.isActive():
            self._outline_ants.start()
        elif not on:
            self._outline_ants.stop()

    def _march_outline(self) -> None:
        if self._drag in (_Drag.RECT, _Drag.LASSO):
            return  # the selection's own ants are marching (same phase counter)
        self._ants_phase = (self._ants_phase + 1) % 8
        b = self._outline_path().boundingRect()
        if not b.isEmpty():
            tl, br = self.image_to_widget(b.topLeft()), self.image_to_widget(b.bottomRight())
            self.update(QRectF(tl, br).toAlignedRect().adjusted(-2, -2, 2, 2))

    def _stroke_ants(self, p: QPainter, path: QPainterPath) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(255, 255, 255), 0))
        p.drawPath(path)
        dash = QPen(QColor(0, 0, 0), 0, Qt.PenStyle.CustomDashLine)
        dash.setDashPattern([4, 4])
        dash.setDashOffset(self._ants_phase)
        p.setPen(dash)
        p.drawPath(path)

    def _paint_ring(self, p: QPainter) -> None:
        c = self._hover
        if c is None:
            return
        r = self._brush_size * self._s / 2
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if r < 3:  # too small to see: a small cross marks the hotspot instead
            p.setPen(QPen(QColor(0, 0, 0, 200), 3))
            p.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
            p.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))
            p.setPen(QPen(QColor(255, 255, 255), 1))
            p.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
            p.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))
            return
        # Dark outside, light inside: readable over any image and over the tint.
        p.setPen(QPen(QColor(0, 0, 0, 190), 1.0))
        p.drawEllipse(c, r + 0.5, r + 0.5)
        p.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
        p.drawEllipse(c, r - 0.5, r - 0.5)
        if self._tool == Tool.ERASER and r >= 8:  # a minus sign tells the eraser apart
            p.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
            p.drawLine(QPointF(c.x() - 3, c.y()), QPointF(c.x() + 3, c.y()))

    def _paint_split_handle(self, p: QPainter, img_rect: QRectF) -> None:
        x = self._split_x()
        top = max(img_rect.top(), 0.0)
        bottom = min(img_rect.bottom(), float(self.height()))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(0, 0, 0, 120), 4))
        p.drawLine(QPointF(x, top), QPointF(x, bottom))
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, top), QPointF(x, bottom))
        cy = (top + bottom) / 2
        p.setPen(QPen(QColor(0, 0, 0, 90), 1))
        p.setBrush(QColor(255, 255, 255))
        p.drawEllipse(QPointF(x, cy), 13, 13)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(60, 60, 64))
        for sgn in (-1, 1):
            p.drawPolygon(QPolygonF([
                QPointF(x + sgn * 3, cy - 5), QPointF(x + sgn * 8, cy), QPointF(x + sgn * 3, cy + 5)
            ]))
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        p.setFont(font)
        for text, right_side in (("Before", False), ("After", True)):
            w = p.fontMetrics().horizontalAdvance(text) + 14
            h = p.fontMetrics().height() + 6
            lx = x + 8 if right_side else x - 8 - w
            box = QRectF(lx, top + 8, w, h)
            if not box.intersects(img_rect):
                continue
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(box, h / 2, h / 2)
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _hint_color(self) -> QColor:
        pal = self.palette()
        if pal.color(QPalette.ColorRole.Window).lightness() < 96:
            return pal.color(QPalette.ColorRole.PlaceholderText)
        return QColor(170, 172, 178)  # the palette is light but the surround is dark: keep the hint readable

    def _paint_empty(self, p: QPainter) -> None:
        if self._preview is not None:  # a new image streaming in: show it fitted
            pw, ph = self._preview.width(), self._preview.height()
            s = min((self.width() - 2 * FIT_MARGIN) / pw, (self.height() - 2 * FIT_MARGIN) / ph, 1.0 / self._dpr)
            s = max(s, 1e-3)
            target = QRectF((self.width() - pw * s) / 2, (self.height() - ph * s) / 2, pw * s, ph * s)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(target, self._preview)
            return
        colour = self._hint_color()
        w = min(440, self.width() - 48)
        h = min(190, self.height() - 48)
        zone = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        frame = QColor(colour)
        frame.setAlpha(90)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight) if self._drop_hover else frame, 1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(zone, 14, 14)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        p.setFont(font)
        text = HINT_TEXT.replace(", or ", ",\nor ")  # two balanced lines
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        text_h = p.fontMetrics().boundingRect(zone.adjusted(20, 0, -20, 0).toRect(), flags, text).height()
        # A small picture pictogram (frame, sun, hills) above the hint; the group is centred in the zone.
        icon = QRectF(zone.center().x() - 24, zone.center().y() - (38 + 16 + text_h) / 2, 48, 38)
        p.setPen(QPen(colour, 2))
        p.drawRoundedRect(icon, 5, 5)
        p.setBrush(colour)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(icon.left() + 14, icon.top() + 12), 4, 4)
        p.drawPolygon(QPolygonF([
            QPointF(icon.left() + 6, icon.bottom() - 6), QPointF(icon.left() + 19, icon.top() + 19),
            QPointF(icon.left() + 28, icon.top() + 27), QPointF(icon.left() + 34, icon.top() + 21),
            QPointF(icon.right() - 6, icon.bottom() - 6),
        ]))
        p.setPen(colour)
        p.drawText(QRectF(zone.left() + 20, icon.bottom() + 16, zone.width() - 40, text_h + 4), flags, text)

    def _paint_drop_frame(self, p: QPainter) -> None:
        if self._image is None:
            return  # the empty state draws its own drop zone
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 3)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))

    def sizeHint(self) -> QSize:
        return QSize(800, 600)
