"""The editor's image canvas: shows the current version, paints the edit mask, zooms, pans, compares.

Coordinates: "image px" are pixels of the current image; "widget px" are logical widget pixels.
``zoom()`` counts device pixels per image pixel, so 100% (``actual_size``) is pixel-for-pixel on a
HiDPI screen too; the logical scale is ``zoom / devicePixelRatio``. Up to 200% the view is filtered
(smooth); above it pixels are crisp squares and the zoom is always a whole number.

Painting cost (tooling-notes §6): a mouse move touches only the stroke's dirty rect (see
mask_layer.py) and asks for ``update(rect)`` of that rect and the brush outline; ``paintEvent`` draws
only the source sub-rects that land in ``event.rect()``. The image is kept as a QImage converted once
to a premultiplied 32-bit format rather than a QPixmap: Qt Widgets paint with the raster engine on
every desktop platform, where a QPixmap is a QImage underneath, so a pre-converted QImage draws at the
same speed without a second copy and never triggers an implicit conversion per paint. Zoomed out
below 50%, the image is drawn from half-size levels (built once, lazily) so photos don't alias.
"""

from __future__ import annotations

import enum
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QImage,
    QImageReader,
    QInputDevice,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPolygonF,
    QRegion,
    QTransform,
)
from PySide6.QtWidgets import QWidget

from ...core.mask_undo import DEFAULT_MAX_BYTES, DEFAULT_MAX_STEPS, MaskUndoStack
from ...editor.document import EditorDocument, ImageSource
from ...editor.mask_layer import DEFAULT_MASK_COLOR, MaskLayer, StrokeSpacer


class Tool(enum.Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECT = "rect"
    LASSO = "lasso"


class _Drag(enum.Enum):
    NONE = 0
    PAINT = 1
    PAN = 2
    RECT = 3
    LASSO = 4
    SPLIT = 5


HINT_TEXT = "Open an image (Ctrl+O), drop one here, or describe a new one and press Run"
NEUTRAL_SURROUND = QColor(43, 43, 46)  # used when the app palette is light: images are judged on neutral grey
ZOOM_STEPS = (
    0.02, 0.03, 0.05, 0.0625, 1 / 12, 0.1, 0.125, 1 / 6, 0.25, 1 / 3, 0.5, 2 / 3,
    1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0,
)
MIN_ZOOM, MAX_ZOOM = ZOOM_STEPS[0], ZOOM_STEPS[-1]
SMOOTH_UP_TO_ZOOM = 2.0  # above 200% pixels are shown as crisp squares (nearest neighbour)
MIN_BRUSH, MAX_BRUSH = 1, 1000
FIT_MARGIN = 16  # widget px left around an image fitted to the window
SPLIT_GRAB = 8  # widget px either side of the compare line that grab it
_MARGIN = 2  # source px drawn beyond a dirty rect so bilinear edges never show seams
_IMAGE_SUFFIXES = {bytes(f).decode().lower() for f in QImageReader.supportedImageFormats()} | {
    "png", "jpg", "jpeg", "webp",
}


def _display_format(img: QImage) -> QImage:
    """The image in the raster engine's fastest source format (converted once, not per paint)."""
    fmt = (
        QImage.Format.Format_ARGB32_Premultiplied if img.hasAlphaChannel() else QImage.Format.Format_RGB32
    )
    return img if img.format() == fmt else img.convertToFormat(fmt)


def _checker_brush() -> QBrush:
    tile = QImage(16, 16, QImage.Format.Format_RGB32)
    tile.fill(QColor(255, 255, 255))
    p = QPainter(tile)
    p.fillRect(0, 0, 8, 8, QColor(204, 204, 204))
    p.fillRect(8, 8, 8, 8, QColor(204, 204, 204))
    p.end()
    return QBrush(tile)


class ImageCanvas(QWidget):
    """Image view with a paintable edit mask (255 = edit), undo, zoom/pan, previews and a compare split.

    Size changes in ``set_image``: with ``keep_mask`` the painted mask is scaled to the new size
    (a re-generated or upscaled version of the same picture keeps its selection); without it the
    mask is cleared. Either way the undo history is cleared, because its rectangles belong to the
    old size. Selections (rect, lasso) subtract while Alt is held, or when the eraser was the last
    paint tool used; Shift forces them to add.
    """

    maskChanged = Signal()
    zoomChanged = Signal(float)
    imageDropped = Signal(str)
    toolChanged = Signal(object)  # Tool
    brushSizeChanged = Signal(int)
    brushHardnessChanged = Signal(float)
    undoStateChanged = Signal(bool, bool)
    imageExpanded = Signal(QSize)
    cursorImagePos = Signal(QPoint)

    def __init__(
        self, parent: QWidget | None = None, *, document: EditorDocument | None = None,
        undo_steps: int = DEFAULT_MAX_STEPS, undo_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__(parent)
        # The canvas is a view of the document: it draws its image and paints into its mask; the document
        # keeps the undo history and tells every view what changed.
        self._doc = document if document is not None else EditorDocument(self, undo_steps=undo_steps,
                                                                         undo_bytes=undo_bytes)
        self.setObjectName("canvas")
        self.setAccessibleName("Image canvas")
        self.setAccessibleDescription(
            "Shows the current image. Paint with the brush to mark the area to edit; "
            "[ and ] change the brush size, X swaps brush and eraser, space-drag pans."
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we paint every pixel ourselves
        self.setMinimumSize(160, 120)

        self._image: QImage | None = None  # what is drawn: the document's image as of its last imageChanged
        self._display: QImage | None = None
        self._levels: list[QImage] = []  # _levels[k] is the display image at about 1/2**k
        self._keep_origin: QPointF | None = None  # set while an expansion keeps old pixels in place on screen
        self._preview: QImage | None = None
        self._compare: QImage | None = None
        self._split = 0.5

        self._mask_visible = True
        self._mask_opacity = 0.5
        self._mask_color = QColor(DEFAULT_MASK_COLOR)

        self._tool = Tool.BRUSH
        self._last_paint_tool = Tool.BRUSH
        self._brush_size = 60
        self._hardness = 1.0

        self._zoom = 1.0
        self._dpr = 1.0
        self._s = 1.0  # logical widget px per image px
        self._ox = 0.0  # widget position of image pixel (0, 0)
        self._oy = 0.0
        self._fit_cap: float | None = None  # set while the view follows the window size (fit mode)

        self._drag = _Drag.NONE
        self._drag_last = QPointF()
        self._space = False
        self._hover: QPointF | None = None
        self._last_image_pos = QPoint(-1, -1)
        self._cursor_shape: Qt.CursorShape | None = None
        self._drop_hover = False

        self._spacer = StrokeSpacer(1.0)
        self._stroke_erase = False
        self._stroke_rect = QRect()
        self._stroke_before: np.ndarray | None = None
        self._last_stroke_end: tuple[float, float] | None = None

        self._sel_start = QPointF()  # image px
        self._sel_end = QPointF()
        self._lasso = QPolygonF()  # image px
        self._sel_subtract = False
        self._ants_phase = 0
        self._ants = QTimer(self)
        self._ants.setInterval(140)
        self._ants.timeout.connect(self._march_ants)
        self._checker = _checker_brush()
        self.paint_hooks: list = []  # callables taking the QPainter, run at the end of paintEvent
        self._doc.imageChanged.connect(self._image_changed)
        self._doc.maskChanged.connect(self._mask_changed)
        self._doc.undoStateChanged.connect(self.undoStateChanged)
        self._update_cursor()
        if self._doc.has_image():
            self._image_changed()

    @property
    def document(self) -> EditorDocument:
        return self._doc

    @property
    def _layer(self) -> MaskLayer | None:
        return self._doc.mask

    # ================================================================ image

    def image(self) -> QImage:
        """The current image as given to ``set_image`` (a null QImage when there is none)."""
        return QImage(self._image) if self._image is not None else QImage()

    def has_image(self) -> bool:
        return self._image is not None

    def set_image(self, qimage: QImage, keep_mask: bool = True) -> None:
        """Show ``qimage`` in the document: keeping the mask (a result of the same work) or as a new image."""
        if qimage is None or qimage.isNull():
            self.clear_image()
            return
        self._finish_drag()
        if keep_mask:
            self._doc.show_result(qimage, self._doc.source)
        else:
            self._doc.open_image(qimage, ImageSource())

    def clear_image(self) -> None:
        self._finish_drag()
        self._preview = self._compare = None
        self._doc.new_image()

    def _image_changed(self) -> None:
        """The document's image changed: convert it once for drawing, and fit a new size to the window."""
        self._finish_drag()
        image = self._doc.image() if self._doc.has_image() else None
        old_size = self._image.size() if self._image is not None else None
        self._image = image
        self._display = _display_format(image) if image is not None else None
        self._levels = []
        if image is None:
            self._preview = self._compare = None
        elif old_size != image.size():
            if self._keep_origin is not None and self._fit_cap is None:
                origin, self._keep_origin = self._keep_origin, None
                self._set_view(self._zoom, origin.x(), origin.y())
            elif self._keep_origin is not None and self._fit_cap is not None:
                self._fit(self._fit_cap)
            else:
                self._initial_view()
        self.update()
        self._update_cursor()

    def _mask_changed(self, region: object) -> None:
        if isinstance(region, QRegion):
            widget_region = QRegion()
            for rect in region:
                widget_region += self._widget_rect(rect)
            self.update(widget_region)
        else:
            self.update()
        self.maskChanged.emit()

    # ================================================================ view: zoom and pan

    def zoom(self) -> float:
        """Device pixels per image pixel (1.0 = 100%)."""
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget px; default the widget centre) in place."""
        if self._image is None:
            return
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        zoom = min(MAX_ZOOM, max(min(MIN_ZOOM, self._fit_zoom()), float(zoom)))
        if zoom > SMOOTH_UP_TO_ZOOM:
            # Nearest-neighbour zooms are whole numbers: Qt's fixed-point scaler then maps every screen
            # pixel to the same image pixel whichever dirty rect is repainted, so no seams appear.
            zoom = float(round(zoom))
        ix = (anchor.x() - self._ox) / self._s
        iy = (anchor.y() - self._oy) / self._s
        s = zoom / self._dpr
        self._fit_cap = None
        self._set_view(zoom, anchor.x() - ix * s, anchor.y() - iy * s)

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self._zoom * 1.001), MAX_ZOOM))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < self._zoom / 1.001), MIN_ZOOM))

    def fit_to_window(self) -> None:
        self._fit(cap=math.inf)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def widget_to_image(self, pos: QPointF) -> QPointF:
        return QPointF((pos.x() - self._ox) / self._s, (pos.y() - self._oy) / self._s)

    def image_to_widget(self, pos: QPointF) -> QPointF:
        return QPointF(pos.x() * self._s + self._ox, pos.y() * self._s + self._oy)

    def image_rect_in_widget(self) -> QRectF:
        if self._image is None:
            return QRectF()
        return QRectF(self._ox, self._oy, self._image.width() * self._s, self._image.height() * self._s)

    def _fit_zoom(self) -> float:
        if self._image is None:
            return 1.0
        w = max(1.0, self.width() - 2 * FIT_MARGIN)
        h = max(1.0, self.height() - 2 * FIT_MARGIN)
        return min(w / self._image.width(), h / self._image.height()) * self._dpr

    def _fit(self, cap: float) -> None:
        if self._image is None:
            return
        zoom = min(MAX_ZOOM, max(1e-4, min(cap, self._fit_zoom())))
        s = zoom / self._dpr
        self._set_view(
            zoom, (self.width() - self._image.width() * s) / 2, (self.height() - self._image.height() * s) / 2
        )
        self._fit_cap = cap

    def _initial_view(self) -> None:
        # A new picture is shown whole, but small ones are not blown up past 100%.
        self._dpr = self.devicePixelRatioF() or 1.0
        self._fit(cap=1.0)

    def _set_view(self, zoom: float, ox: float, oy: float) -> None:
        changed = not math.isclose(zoom, self._zoom, rel_tol=1e-9)
        self._zoom = zoom
        self._s = zoom / self._dpr
        # Snap to device pixels so 100% (and integer zooms) map image pixels onto whole screen pixels.
        self._ox = round(ox * self._dpr) / self._dpr
        self._oy = round(oy * self._dpr) / self._dpr
        self._clamp_pan()
        self.update()
        if changed:
            self._update_cursor()  # a brush that became tiny on screen gets a cross cursor
            self.zoomChanged.emit(zoom)

    def _clamp_pan(self) -> None:
        # Keep at least a strip of the image on screen so it can't be lost by panning.
        if self._image is None:
            return
        iw, ih = self._image.width() * self._s, self._image.height() * self._s
        keep_x, keep_y = min(48.0, iw), min(48.0, ih)
        self._ox = min(max(self._ox, keep_x - iw), self.width() - keep_x)
        self._oy = min(max(self._oy, keep_y - ih), self.height() - keep_y)

    def _pan_by(self, dx: float, dy: float) -> None:
        self._fit_cap = None
        self._set_view(self._zoom, self._ox + dx, self._oy + dy)

    def resizeEvent(self, event) -> None:
        if self._image is not None:
            if self._fit_cap is not None:
                self._fit(self._fit_cap)
            else:
                old = event.oldSize()
                if old.isValid():
                    self._set_view(
                        self._zoom,
                        self._ox + (event.size().width() - old.width()) / 2,
                        self._oy + (event.size().height() - old.height()) / 2,
                    )
        super().resizeEvent(event)

    def _refresh_dpr(self) -> None:
        dpr = self.devicePixelRatioF() or 1.0
        if dpr != self._dpr:
            self._dpr = dpr
            if self._fit_cap is not None:
                self._fit(self._fit_cap)
            else:
                self.set_zoom(self._zoom)

    def wheelEvent(self, event) -> None:
        if self._image is None:
            event.ignore()
            return
        dev = event.device()
        touchpad = dev is not None and dev.type() == QInputDevice.DeviceType.TouchPad
        if touchpad and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            d = event.pixelDelta()
            self._pan_by(d.x(), d.y())  # two-finger scroll pans; pinch/Ctrl zooms
        else:
            dy = event.angleDelta().y() or event.angleDelta().x()
            if dy:
                target = self._zoom * 2 ** (dy / 480)
                if target > SMOOTH_UP_TO_ZOOM:  # whole-number zooms up there: step at least one
                    target = max(round(target), math.floor(self._zoom) + 1) if dy > 0 else min(
                        round(target), math.ceil(self._zoom) - 1
                    )
                self.set_zoom(target, event.position())
        event.accept()

    # ================================================================ tools and brush

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

    # ================================================================ mask overlay

    def mask_opacity(self) -> float:
        return self._mask_opacity

    def set_mask_opacity(self, opacity: float) -> None:
        self._mask_opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    def is_mask_visible(self) -> bool:
        return self._mask_visible

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_visible = bool(visible)
        self.update()

    def mask_color(self) -> QColor:
        return QColor(self._mask_color)

    def set_mask_color(self, color: QColor) -> None:
        self._mask_color = QColor(color)
        self._doc.mask_color = QColor(color)
        if self._layer is not None:
            self._layer.set_color(self._mask_color)
        self.update()

    # ================================================================ mask data (read from the document)

    def mask_array(self) -> np.ndarray:
        """A copy of the mask, (H, W) uint8, 255 = edit; (0, 0) when there is no image."""
        return self._doc.mask_array()

    def has_mask(self) -> bool:
        """True when any pixel is marked for editing (cheap: no scan unless something was erased)."""
        return self._doc.has_mask()

    def mask_bbox(self) -> QRect:
        """The rect (image px) around every marked pixel; an empty QRect when nothing is marked."""
        return self._layer.bbox() if self._layer is not None else QRect()

    # ================================================================ whole-mask operations and undo
    # They change the document; the canvas repaints when the document says the mask changed.

    def fill_all(self) -> None:
        self._finish_drag()
        self._doc.fill_mask()

    def clear_mask(self) -> None:
        self._finish_drag()
        self._doc.clear_mask()

    def invert_mask(self) -> None:
        self._finish_drag()
        self._doc.invert_mask()

    def grow_mask(self, px: int) -> None:
        self._finish_drag()
        self._doc.grow_mask(px)

    def shrink_mask(self, px: int) -> None:
        self._finish_drag()
        self._doc.shrink_mask(px)

    def feather_mask(self, px: int) -> None:
        self._finish_drag()
        self._doc.feather_mask(px)

    def undo(self) -> None:
        self._finish_drag()
        self._doc.undo()

    def redo(self) -> None:
        self._finish_drag()
        self._doc.redo()

    def can_undo(self) -> bool:
        return self._doc.can_undo()

    def can_redo(self) -> bool:
        return self._doc.can_redo()

    def undo_stack(self) -> MaskUndoStack:
        return self._doc.undo_stack

    # ================================================================ preview, compare, expand

    def show_preview(self, qimage: QImage | None) -> None:
        """Draw a (partial, streamed) image over the canvas, scaled to the image rect, until cleared.

        The mask is kept as is but its overlay is hidden meanwhile, so the preview is seen unobstructed.
        """
        self._preview = None if qimage is None or qimage.isNull() else _display_format(qimage)
        self.update()

    def clear_preview(self) -> None:
        self.show_preview(None)

    def has_preview(self) -> bool:
        return self._preview is not None

    def set_compare_image(self, qimage: QImage | None) -> None:
        """Show ``qimage`` left of the split line and the current image right of it; None ends compare."""
        self._finish_drag()
        self._compare = None if qimage is None or qimage.isNull() else _display_format(qimage)
        self.update()
        self._update_cursor()

    def compare_split(self) -> float:
        return self._split

    def set_compare_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, float(fraction)))
        if self._compare is not None:
            self.update()

    def expand_canvas(self, left: int, top: int, right: int, bottom: int) -> None:
        """Grow the image by the given px per side and mark the new area for editing (one undo step in the
        document, image and mask together). The old pixels stay where they were on screen."""
        if self._image is None:
            raise ValueError("Open an image before expanding the canvas.")
        self._finish_drag()
        origin = self.image_to_widget(QPointF(0, 0))
        self._keep_origin = QPointF(origin.x() - max(0, int(left)) * self._s, origin.y() - max(0, int(top)) * self._s)
        try:
            self._doc.expand_canvas(left, top, right, bottom)
        finally:
            self._keep_origin = None
        if self._image is not None:
            self.imageExpanded.emit(self._image.size())

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
        self._stroke_before = self._layer.array()
        self._spacer = StrokeSpacer(max(1.0, self._brush_size / 4))
        self._start_drag(_Drag.PAINT, pos)
        ip = self.widget_to_image(pos)
        if straight and self._last_stroke_end is not None:
            self._spacer.start(*self._last_stroke_end)  # Shift-click: a straight line from the last stroke
            self._paint([self._last_stroke_end, *self._spacer.move_to(ip.x(), ip.y())])
        else:
            self._paint(self._spacer.start(ip.x(), ip.y()))

    def _paint(self, centres: list[tuple[float, float]]) -> None:
        if not centres:
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
        if before is None or r.isEmpty():
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
        if self._layer is None:
            return
        before = self._layer.array()
        if drag == _Drag.RECT:
            self.update(self._rect_outline_widget().toAlignedRect().adjusted(-3, -3, 3, 3))
            dirty = self._layer.fill_rect(self._sel_rect_image(), self._sel_subtract)
        else:
            self.update(self._lasso_widget_bounds())
            dirty = self._layer.fill_polygon(list(self._lasso), self._sel_subtract)
        self._lasso = QPolygonF()
        if dirty.isEmpty():
            return
        self.update(self._widget_rect(dirty))
        r = dirty
        label = "Subtract selection" if self._sel_subtract else "Add selection"
        b = before[r.top() : r.bottom() + 1, r.left() : r.right() + 1]
        self._doc.commit_mask_edit(r.left(), r.top(), b, self._layer.read_rect(r), label)

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

    # ================================================================ painting

    def _widget_rect(self, image_rect: QRect) -> QRect:
        """Widget px covering an image-px rect, padded for anti-aliasing and bilinear sampling."""
        s = self._s
        pad = max(2, math.ceil(_MARGIN * s))
        return QRectF(
            self._ox + image_rect.x() * s, self._oy + image_rect.y() * s, image_rect.width() * s,
            image_rect.height() * s,
        ).toAlignedRect().adjusted(-pad, -pad, pad, pad)

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
            if self._display.hasAlphaChannel():
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
        self._draw_scaled(p, level, vis)
        if self._mask_visible and self._mask_opacity > 0 and self._layer is not None:
            p.setOpacity(self._mask_opacity)
            self._draw_scaled(p, self._layer.tint_image(), vis)
            p.setOpacity(1.0)

    def _draw_scaled(self, p: QPainter, img: QImage, vis: QRectF) -> None:
        """Draw the sub-rect of ``img`` (stretched over the whole image rect) that lands in ``vis``."""
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
        # Bilinear sampling aliases below 50%; a half-size level per octave (area-averaged) fixes that.
        if self._zoom > 0.5:
            return self._display
        k = min(8, math.floor(math.log2(1.0 / self._zoom)))
        while len(self._levels) < k:
            src = self._levels[-1] if self._levels else self._display
            w, h = max(1, (src.width() + 1) // 2), max(1, (src.height() + 1) // 2)
            self._levels.append(
                src.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
            )
        return self._levels[k - 1] if k > 0 else self._display

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
