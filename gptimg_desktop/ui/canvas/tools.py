"""The canvas's tools: brush and eraser strokes, rectangle and lasso selections, the compare split, the
keyboard, the cursor and dropped files. Strokes paint into the document's mask and are committed to it.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QCursor,
    QKeyEvent,
    QPolygonF,
)

from ...editor.mask_layer import StrokeSpacer
from .state import _IMAGE_SUFFIXES, MAX_BRUSH, MIN_BRUSH, SPLIT_GRAB, Tool, _Drag
from .viewport import CanvasViewport


class CanvasTools(CanvasViewport):
    """Pointer and keyboard handling of the canvas."""

    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        tool = Tool(tool)
        if tool == self._tool:
            return
        self._finish_drag()
        old_ring = self._ring_rect()
        self._tool = tool
        if tool in (Tool.BRUSH, Tool.ERASER):
            self._last_paint_tool = tool
        self.update(old_ring)
        self.update(self._ring_rect())
        self._update_cursor()
        self.toolChanged.emit(tool)

    def swap_brush_eraser(self) -> None:
        """X: brush <-> eraser; from a selection tool, back to the other paint tool than the last one."""
        other = Tool.ERASER if self._last_paint_tool == Tool.BRUSH else Tool.BRUSH
        if self._tool in (Tool.BRUSH, Tool.ERASER):
            other = Tool.ERASER if self._tool == Tool.BRUSH else Tool.BRUSH
        self.set_tool(other)

    def brush_size(self) -> int:
        """Brush diameter in image pixels."""
        return self._brush_size

    def set_brush_size(self, size: int) -> None:
        size = min(MAX_BRUSH, max(MIN_BRUSH, int(size)))
        if size == self._brush_size:
            return
        old_ring = self._ring_rect()
        self._brush_size = size
        self.update(old_ring)
        self.update(self._ring_rect())
        self._update_cursor()
        self.brushSizeChanged.emit(size)

    def grow_brush(self) -> None:
        self.set_brush_size(self._brush_size + max(1, round(self._brush_size * 0.1)))

    def shrink_brush(self) -> None:
        self.set_brush_size(self._brush_size - max(1, round(self._brush_size * 0.1)))

    def brush_hardness(self) -> float:
        return self._hardness

    def set_brush_hardness(self, hardness: float) -> None:
        hardness = min(1.0, max(0.0, float(hardness)))
        if hardness != self._hardness:
            self._hardness = hardness
            self.brushHardnessChanged.emit(hardness)

    # ================================================================ mouse

    def mousePressEvent(self, event) -> None:
        if self._image is None:
            event.ignore()
            return
        if self._drag != _Drag.NONE:  # a second button during a drag: keep the drag going
            event.accept()
            return
        pos = event.position()
        button = event.button()
        mods = event.modifiers()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._start_drag(_Drag.PAN, pos)
        elif button != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        elif self._near_split(pos):
            self._start_drag(_Drag.SPLIT, pos)
            self._move_split(pos)
        elif self._tool in (Tool.BRUSH, Tool.ERASER):
            self._start_stroke(pos, straight=bool(mods & Qt.KeyboardModifier.ShiftModifier))
        else:
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self._sel_subtract = False
            else:
                self._sel_subtract = bool(mods & Qt.KeyboardModifier.AltModifier) or (
                    self._last_paint_tool == Tool.ERASER
                )
            ip = self.widget_to_image(pos)
            self._sel_start = self._sel_end = ip
            self._lasso = QPolygonF([ip])
            self._start_drag(_Drag.RECT if self._tool == Tool.RECT else _Drag.LASSO, pos)
            self._ants.start()
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        drag = self._drag
        if drag == _Drag.PAINT:
            ip = self.widget_to_image(pos)
            self._paint(self._spacer.move_to(ip.x(), ip.y()))
        elif drag == _Drag.PAN:
            d = pos - self._drag_last
            self._drag_last = pos
            self._pan_by(d.x(), d.y())
        elif drag == _Drag.SPLIT:
            self._move_split(pos)
        elif drag == _Drag.RECT:
            old = self._rect_outline_widget()
            self._sel_end = self.widget_to_image(pos)
            self._update_outline(old)
            self._update_outline(self._rect_outline_widget())
        elif drag == _Drag.LASSO:
            self._extend_lasso(self.widget_to_image(pos))
        self._move_hover(pos)
        if self._image is not None:
            ip = self.widget_to_image(pos)
            cell = QPoint(math.floor(ip.x()), math.floor(ip.y()))
            if cell != self._last_image_pos:
                self._last_image_pos = cell
                self.cursorImagePos.emit(cell)
        if drag == _Drag.NONE and self._compare is not None:
            self._update_cursor()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag == _Drag.PAN and event.button() not in (
            Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton
        ):
            return
        self._finish_drag()
        event.accept()

    def leaveEvent(self, event) -> None:
        if self._hover is not None:
            self.update(self._ring_rect())
            self._hover = None
        super().leaveEvent(event)

    def _start_drag(self, drag: _Drag, pos: QPointF) -> None:
        self._drag = drag
        self._drag_last = QPointF(pos)
        self._update_cursor()

    def _finish_drag(self) -> None:
        """End whatever drag is running: commit a stroke or selection, stop a pan or split drag."""
        drag, self._drag = self._drag, _Drag.NONE
        if drag == _Drag.PAINT:
            self._end_stroke()
        elif drag in (_Drag.RECT, _Drag.LASSO):
            self._ants.stop()
            self._commit_selection(drag)
        if drag != _Drag.NONE:
            self._update_cursor()

    def _cancel_selection(self) -> None:
        if self._drag in (_Drag.RECT, _Drag.LASSO):
            self._drag = _Drag.NONE
            self._ants.stop()
            self.update()
            self._update_cursor()

    # ----- strokes

    def _start_stroke(self, pos: QPointF, straight: bool) -> None:
        self._stroke_erase = self._tool == Tool.ERASER
        self._stroke_rect = QRect()
        # One copy of the mask per stroke (≈1 ms at 4K) so undo can keep just the stroke's rect.
        self._stroke_before = self._layer.array() if self._layer is not None else None
        self._spacer = StrokeSpacer(max(1.0, self._brush_size / 4))
        self._start_drag(_Drag.PAINT, pos)
        ip = self.widget_to_image(pos)
        if straight and self._last_stroke_end is not None:
            self._spacer.start(*self._last_stroke_end)  # Shift-click: a straight line from the last stroke
            self._paint([self._last_stroke_end, *self._spacer.move_to(ip.x(), ip.y())])
        else:
            self._paint(self._spacer.start(ip.x(), ip.y()))

    def _paint(self, centres: list[tuple[float, float]]) -> None:
        if not centres or self._layer is None:
            return
        dirty = self._layer.paint_dabs(centres, self._brush_size, self._hardness, self._stroke_erase)
        if not dirty.isEmpty():
            self._stroke_rect = self._stroke_rect.united(dirty)
            self.update(self._widget_rect(dirty))

    def _end_stroke(self) -> None:
        self._paint(self._spacer.finish())
        self._last_stroke_end = self._spacer.last
        before, self._stroke_before = self._stroke_before, None
        r = self._stroke_rect
        if before is None or r.isEmpty() or self._layer is None:
            return
        b = before[r.top() : r.bottom() + 1, r.left() : r.right() + 1]
        label = "Erase" if self._stroke_erase else "Paint"
        self._doc.commit_mask_edit(r.left(), r.top(), b, self._layer.read_rect(r), label)

    # ----- selections

    def _sel_rect_image(self) -> QRect:
        a, b = self._sel_start, self._sel_end
        x0, x1 = sorted((round(a.x()), round(b.x())))
        y0, y1 = sorted((round(a.y()), round(b.y())))
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def _rect_outline_widget(self) -> QRectF:
        r = self._sel_rect_image()
        return QRectF(self.image_to_widget(QPointF(r.topLeft())), self.image_to_widget(QPointF(r.x() + r.width(), r.y() + r.height())))

    def _update_outline(self, r: QRectF) -> None:
        # Only the four edges are repainted, not the inside of the rectangle.
        a = r.toAlignedRect().adjusted(-2, -2, 2, 2)
        self.update(QRect(a.left(), a.top(), a.width(), 5))
        self.update(QRect(a.left(), a.bottom() - 4, a.width(), 5))
        self.update(QRect(a.left(), a.top(), 5, a.height()))
        self.update(QRect(a.right() - 4, a.top(), 5, a.height()))

    def _extend_lasso(self, ip: QPointF) -> None:
        n = self._lasso.size()
        last, first = self._lasso.at(n - 1), self._lasso.at(0)
        if (ip - last).manhattanLength() * self._s < 2:
            return
        self._lasso.append(ip)
        for a, b in ((last, ip), (last, first), (ip, first)):
            wa, wb = self.image_to_widget(a), self.image_to_widget(b)
            self.update(QRectF(wa, wb).normalized().toAlignedRect().adjusted(-2, -2, 2, 2))

    def _commit_selection(self, drag: _Drag) -> None:
        layer = self._layer
        if layer is None:
            return
        before = layer.array()
        if drag == _Drag.RECT:
            self.update(self._rect_outline_widget().toAlignedRect().adjusted(-3, -3, 3, 3))
            dirty = layer.fill_rect(self._sel_rect_image(), self._sel_subtract)
        else:
            self.update(self._lasso_widget_bounds())
            points = [self._lasso.at(i) for i in range(self._lasso.size())]
            dirty = layer.fill_polygon(points, self._sel_subtract)
        self._lasso = QPolygonF()
        if dirty.isEmpty():
            return
        self.update(self._widget_rect(dirty))
        r = dirty
        label = "Subtract selection" if self._sel_subtract else "Add selection"
        b = before[r.top() : r.bottom() + 1, r.left() : r.right() + 1]
        self._doc.commit_mask_edit(r.left(), r.top(), b, layer.read_rect(r), label)

    def _lasso_widget_bounds(self) -> QRect:
        b = self._lasso.boundingRect()
        return QRectF(self.image_to_widget(b.topLeft()), self.image_to_widget(b.bottomRight())).toAlignedRect().adjusted(
            -3, -3, 3, 3
        )

    def _march_ants(self) -> None:
        self._ants_phase = (self._ants_phase + 1) % 8
        if self._drag == _Drag.RECT:
            self._update_outline(self._rect_outline_widget())
        elif self._drag == _Drag.LASSO:
            self.update(self._lasso_widget_bounds())

    # ----- compare split

    def _split_x(self) -> float:
        r = self.image_rect_in_widget()
        return r.left() + self._split * r.width()

    def _near_split(self, pos: QPointF) -> bool:
        if self._compare is None or self._image is None:
            return False
        r = self.image_rect_in_widget()
        return abs(pos.x() - self._split_x()) <= SPLIT_GRAB and r.top() <= pos.y() <= r.bottom()

    def _move_split(self, pos: QPointF) -> None:
        r = self.image_rect_in_widget()
        if r.width() > 0:
            self.set_compare_split((pos.x() - r.left()) / r.width())

    # ----- brush outline and cursor

    def _ring_rect(self) -> QRect:
        if not self._ring_shown():
            return QRect()
        r = self._brush_size * self._s / 2
        c = self._hover
        if c is None:
            return QRect()
        return QRectF(c.x() - r - 3, c.y() - r - 3, 2 * r + 6, 2 * r + 6).toAlignedRect()

    def _ring_shown(self) -> bool:
        return (
            self._hover is not None
            and self._image is not None
            and self._tool in (Tool.BRUSH, Tool.ERASER)
            and not self._space
            and self._drag in (_Drag.NONE, _Drag.PAINT)
            and not (self._drag == _Drag.NONE and self._near_split(self._hover))
        )

    def _move_hover(self, pos: QPointF) -> None:
        old = self._ring_rect()
        self._hover = QPointF(pos)
        new = self._ring_rect()
        if old != new:
            self.update(old)
            self.update(new)

    def _update_cursor(self) -> None:
        if self._image is None:
            shape = Qt.CursorShape.ArrowCursor
        elif self._drag == _Drag.PAN:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._drag == _Drag.SPLIT or (
            self._drag == _Drag.NONE and self._hover is not None and self._near_split(self._hover)
        ):
            shape = Qt.CursorShape.SplitHCursor
        elif self._tool in (Tool.BRUSH, Tool.ERASER) and self._brush_size * self._s >= 6:
            shape = Qt.CursorShape.BlankCursor  # the outline drawn in paintEvent is the cursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if shape != self._cursor_shape:
            self._cursor_shape = shape
            self.setCursor(QCursor(shape))

    # ================================================================ keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif ctrl and key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif ctrl and key == Qt.Key.Key_0:
            self.fit_to_window()
        elif ctrl and key == Qt.Key.Key_1:
            self.actual_size()
        elif ctrl:
            super().keyPressEvent(event)
            return
        elif key == Qt.Key.Key_BracketLeft:
            self.shrink_brush()
        elif key == Qt.Key.Key_BracketRight:
            self.grow_brush()
        elif key == Qt.Key.Key_BraceLeft:  # Shift+[ on most layouts, as in Photoshop
            self.set_brush_hardness(self._hardness - 0.25)
        elif key == Qt.Key.Key_BraceRight:
            self.set_brush_hardness(self._hardness + 0.25)
        elif key == Qt.Key.Key_X:
            self.swap_brush_eraser()
        elif key == Qt.Key.Key_B:
            self.set_tool(Tool.BRUSH)
        elif key == Qt.Key.Key_E:
            self.set_tool(Tool.ERASER)
        elif key == Qt.Key.Key_M:
            self.set_tool(Tool.RECT)
        elif key == Qt.Key.Key_L:
            self.set_tool(Tool.LASSO)
        elif key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._set_space(True)
        elif key == Qt.Key.Key_Escape and self._drag in (_Drag.RECT, _Drag.LASSO):
            self._cancel_selection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._set_space(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._set_space(False)  # the release may go to another window
        super().focusOutEvent(event)

    def _set_space(self, held: bool) -> None:
        if held == self._space:
            return
        old_ring = self._ring_rect()
        self._space = held
        self.update(old_ring)
        self.update(self._ring_rect())
        self._update_cursor()

    # ================================================================ drag and drop of files

    @staticmethod
    def _dropped_image_path(mime) -> str | None:
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                if Path(path).suffix.lower().lstrip(".") in _IMAGE_SUFFIXES:
                    return path
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_image_path(event.mimeData()):
            event.acceptProposedAction()
            self._drop_hover = True
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if self._dropped_image_path(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._drop_hover = False
        self.update()

    def dropEvent(self, event) -> None:
        self._drop_hover = False
        self.update()
        path = self._dropped_image_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.imageDropped.emit(path)
