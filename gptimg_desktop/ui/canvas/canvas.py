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

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QImage,
    QPolygonF,
    QRegion,
)
from PySide6.QtWidgets import QWidget

from ...core.mask_undo import DEFAULT_MAX_BYTES, DEFAULT_MAX_STEPS, MaskUndoStack
from ...core.selection import contrasting_color
from ...editor.document import EditorDocument, ImageSource
from ...editor.mask_layer import DEFAULT_MASK_COLOR, StrokeSpacer
from .levels import ImageLevels
from .painting import CanvasPainting
from .pick_tools import PickSettings, image_rgb
from .state import (  # noqa: F401 (HINT_TEXT, Tool, PICK_TOOLS, MASK_DISPLAYS: public)
    HINT_TEXT,
    MASK_DISPLAYS,
    PICK_TOOLS,
    SELECTION_TOOLS,
    Tool,
    _checker_brush,
    _display_format,
    _Drag,
)


class ImageCanvas(CanvasPainting):
    """Image view with a paintable edit mask (255 = edit), undo, zoom/pan, previews and a compare split.

    Size changes in ``set_image``: with ``keep_mask`` the painted mask is scaled to the new size
    (a re-generated or upscaled version of the same picture keeps its selection); without it the
    mask is cleared. Either way the undo history is cleared, because its rectangles belong to the
    old size. Selections (rect, lasso) subtract while Alt is held, or when the eraser was the last
    paint tool used; Shift forces them to add.
    """

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
        self._levels = ImageLevels(self)  # the display image at 1/2, 1/4 … for zoomed-out drawing
        self._levels.ready.connect(self.update)
        self._keep_origin: QPointF | None = None  # set while an expansion keeps old pixels in place on screen
        self._preview: QImage | None = None
        self._compare: QImage | None = None
        self._split = 0.5

        self._mask_visible = True
        self._mask_opacity = 0.5
        self._mask_color = QColor(DEFAULT_MASK_COLOR)
        self._mask_color_chosen = False
        self._mask_display = "tint"
        self._shown_display = "tint"
        self._outline = None
        self._selection_mode = "add"
        self._pick = PickSettings()
        self._preview_base = None
        self._pixels = None

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
        self.paint_hooks = []
        self._outline_ants = QTimer(self)  # marches the ants of the "outline" mask display
        self._outline_ants.setInterval(200)
        self._outline_ants.timeout.connect(self._march_outline)
        self.maskChanged.connect(self._mask_edited)
        self._doc.imageChanged.connect(self._image_changed)
        self._doc.maskChanged.connect(self._mask_changed)
        self._doc.undoStateChanged.connect(self.undoStateChanged)
        self._update_cursor()
        if self._doc.has_image():
            self._image_changed()

    @property
    def document(self) -> EditorDocument:
        return self._doc


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
        self._levels.reset(self._display)
        self._pixels = None
        self._outline = None
        self._preview_base = None
        if image is not None and not self._mask_color_chosen:
            self._auto_mask_color(image)
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

    def _mask_changed(self, rects: list[QRect] | None) -> None:
        if rects is not None:
            # Repaint only the changed tiles: a region, not their bounding box (a long stroke's box is mostly
            # untouched).
            widget_region = QRegion()
            for rect in rects:
                widget_region += self._widget_rect(rect)
            self.update(widget_region)
        else:
            self.update()
        self.maskChanged.emit()

    # ================================================================ mask overlay

    def mask_opacity(self) -> float:
        return self._mask_opacity

    def set_mask_opacity(self, opacity: float) -> None:
        self._mask_opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    def is_mask_visible(self) -> bool:
        return self._mask_visible

    def set_mask_visible(self, visible: bool) -> None:
        """H: show or hide the mask; showing a hidden mask brings back the last display (tint or outline)."""
        if bool(visible) and self._mask_display == "hidden":
            self.set_mask_display(self._shown_display)
            return
        if not visible and self._mask_display != "hidden":
            self.set_mask_display("hidden")
            return
        self._mask_visible = bool(visible)
        self.update()


    def mask_color(self) -> QColor:
        return QColor(self._mask_color)

    def set_mask_color(self, color: QColor, *, chosen: bool = True) -> None:
        """Tint the mask in ``color``; ``chosen`` (a user's pick) stops the automatic contrasting colour."""
        color = QColor(color)
        self._mask_color_chosen = self._mask_color_chosen or chosen
        if color == self._mask_color:
            return
        self._mask_color = color
        self._doc.mask_color = QColor(color)
        if self._layer is not None:
            self._layer.set_color(self._mask_color)
        self.update()
        self.maskColorChanged.emit(QColor(color))

    def _auto_mask_color(self, image: QImage) -> None:
        small = image.scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        r, g, b = contrasting_color(image_rgb(small))
        self.set_mask_color(QColor(r, g, b), chosen=False)

    def mask_display(self) -> str:
        return self._mask_display

    def set_mask_display(self, mode: str) -> None:
        """``tint`` (colour over the area), ``outline`` (marching ants round it) or ``hidden``."""
        if mode not in MASK_DISPLAYS:
            raise ValueError(f"mask display is one of {', '.join(MASK_DISPLAYS)}, not {mode!r}")
        if mode == self._mask_display:
            return
        self._mask_display = mode
        self._mask_visible = mode != "hidden"
        if mode != "hidden":
            self._shown_display = mode
        self._sync_ants()
        self.update()
        self.maskDisplayChanged.emit(mode)

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

    def is_comparing(self) -> bool:
        return self._compare is not None

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
