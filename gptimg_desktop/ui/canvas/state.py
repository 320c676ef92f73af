"""The canvas's shared vocabulary: tools, zoom steps, display helpers, and the declared signals and state."""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QImageReader,
    QPainter,
    QPainterPath,
    QPolygonF,
)
from PySide6.QtWidgets import QWidget

from ...editor.document import EditorDocument
from ...editor.mask_layer import MaskLayer, StrokeSpacer
from .levels import ImageLevels
from .pick_tools import PickSettings


class Tool(enum.Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECT = "rect"
    LASSO = "lasso"
    WAND = "wand"  # magic wand: click a colour, the connected (or every) similar pixel is selected
    COLOR_RANGE = "color_range"  # Select Colour Range: similar colours with soft edges


SELECTION_TOOLS = (Tool.RECT, Tool.LASSO, Tool.WAND, Tool.COLOR_RANGE)
PICK_TOOLS = (Tool.WAND, Tool.COLOR_RANGE)
MASK_DISPLAYS = ("tint", "outline", "hidden")


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
_IMAGE_SUFFIXES = {f.toStdString().lower() for f in QImageReader.supportedImageFormats()} | {
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


class CanvasState(QWidget):
    """The canvas's signals and state, declared once; ImageCanvas.__init__ sets them. The layers above
    (viewport.py, tools.py, painting.py, canvas.py) each add one concern."""

    maskChanged = Signal()
    zoomChanged = Signal(float)
    imageDropped = Signal(str)
    toolChanged = Signal(object)  # Tool
    selectionModeChanged = Signal(str)  # "add" or "subtract"
    maskColorChanged = Signal(QColor)
    maskDisplayChanged = Signal(str)  # "tint", "outline" or "hidden"
    brushSizeChanged = Signal(int)
    brushHardnessChanged = Signal(float)
    undoStateChanged = Signal(bool, bool)
    imageExpanded = Signal(QSize)
    cursorImagePos = Signal(QPoint)


    _doc: EditorDocument
    _image: QImage | None  # what is drawn: the document's image as of its last imageChanged
    _display: QImage | None
    _levels: ImageLevels  # the display image at about 1/2**k, made on a thread
    _keep_origin: QPointF | None  # set while an expansion keeps old pixels in place on screen
    _preview: QImage | None
    _compare: QImage | None
    _split: float
    _mask_visible: bool
    _mask_opacity: float
    _mask_color: QColor
    _mask_color_chosen: bool  # until the user picks one, each image gets a colour that contrasts with it
    _mask_display: str  # "tint", "outline" or "hidden"
    _shown_display: str  # the last display that was not "hidden" (H brings it back)
    _outline: QPainterPath | None  # the mask edge (image px), traced lazily for "outline"
    _selection_mode: str  # "add" or "subtract": what rectangle, lasso, wand and colour range do
    _tool: Tool
    _last_paint_tool: Tool
    _brush_size: int
    _hardness: float
    _zoom: float
    _dpr: float
    _s: float  # logical widget px per image px
    _ox: float  # widget position of image pixel (0, 0)
    _oy: float
    _fit_cap: float | None  # set while the view follows the window size (fit mode)
    _drag: _Drag
    _drag_last: QPointF
    _space: bool
    _hover: QPointF | None
    _last_image_pos: QPoint
    _cursor_shape: Qt.CursorShape | None
    _drop_hover: bool
    _spacer: StrokeSpacer
    _stroke_erase: bool
    _stroke_rect: QRect
    _stroke_before: np.ndarray | None
    _last_stroke_end: tuple[float, float] | None
    _sel_start: QPointF  # image px
    _sel_end: QPointF
    _lasso: QPolygonF  # image px
    _sel_subtract: bool
    _ants_phase: int
    _ants: QTimer
    _checker: QBrush
    paint_hooks: list[Callable[[QPainter], None]]  # overlays drawn last, in widget coordinates (proof boxes)
    _outline_ants: QTimer  # marches the ants of the "outline" mask display
    _pick: PickSettings  # the magic wand's and colour range's tolerance and contiguous
    _pixels: np.ndarray | None  # RGB copy of the image for the picking tools, made on first use
    _preview_base: np.ndarray | None  # the real mask while a Grow/Feather preview shows

    @property
    def _layer(self) -> MaskLayer | None:
        return self._doc.mask

    # Implemented by the layers above; declared here so each layer can rely on them.
    def _update_cursor(self) -> None:
        raise NotImplementedError

    def set_compare_split(self, fraction: float) -> None:
        raise NotImplementedError
