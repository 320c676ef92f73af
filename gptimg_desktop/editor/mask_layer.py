"""The edit mask of the canvas: an Alpha8 QImage (255 = edit) kept in step with a ready-to-draw tint layer.

Design (measured in tooling-notes §6): strokes are rasterised once, as pre-rendered dab stamps, into
the ARGB32_Premultiplied tint layer (Qt's fastest raster path), and the alpha of the touched rectangle
is then copied into the Alpha8 mask with numpy. Whole-mask changes go the other way: the Alpha8 mask
is written and the tint is rebuilt from it. Either way ``tint.alpha == mask`` for every pixel, so the
Alpha8 image is the exact source of truth for export and undo, and the tint never needs a full rebuild
while painting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QRadialGradient

DEFAULT_MASK_COLOR = QColor(255, 40, 90)

# Soft dabs fall off along a smoothstep curve between the hard core and the rim; a handful of
# gradient stops is indistinguishable from the exact curve.
_SOFT_STOPS = 9


def _smoothstep(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def render_stamp(diameter: int, hardness: float, color: QColor) -> QImage:
    """One brush dab as an ARGB32_Premultiplied image of ``diameter`` px, coloured, alpha = coverage."""
    d = max(1, int(diameter))
    stamp = QImage(d, d, QImage.Format.Format_ARGB32_Premultiplied)
    solid = QColor(color)
    solid.setAlpha(255)
    if d < 3:
        # An anti-aliased 1-2 px circle would only half-cover its pixels; small brushes are square.
        stamp.fill(solid)
        return stamp
    stamp.fill(Qt.GlobalColor.transparent)
    p = QPainter(stamp)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    hardness = min(1.0, max(0.0, float(hardness)))
    if hardness >= 0.999:
        p.setBrush(solid)
    else:
        grad = QRadialGradient(QPointF(d / 2, d / 2), d / 2)
        for i in range(_SOFT_STOPS):
            t = i / (_SOFT_STOPS - 1)
            c = QColor(solid)
            c.setAlpha(round(255 * (1.0 - _smoothstep(t))))
            grad.setColorAt(hardness + (1.0 - hardness) * t, c)
        if hardness > 0:
            grad.setColorAt(0.0, solid)
        p.setBrush(grad)
    p.drawEllipse(QRectF(0, 0, d, d))
    p.end()
    return stamp


class StrokeSpacer:
    """Turns pointer positions into evenly spaced dab centres, so fast drags leave no gaps."""

    def __init__(self, spacing: float) -> None:
        self.spacing = max(1.0, float(spacing))
        self._last: tuple[float, float] | None = None
        self._carry = 0.0  # distance walked since the last dab

    @property
    def last(self) -> tuple[float, float] | None:
        return self._last

    def start(self, x: float, y: float) -> list[tuple[float, float]]:
        self._last = (x, y)
        self._carry = 0.0
        return [(x, y)]

    def move_to(self, x: float, y: float) -> list[tuple[float, float]]:
        if self._last is None:
            return self.start(x, y)
        lx, ly = self._last
        dx, dy = x - lx, y - ly
        dist = math.hypot(dx, dy)
        if dist == 0.0:
            return []
        out = []
        t = self.spacing - self._carry  # distance along the segment to the next dab
        while t <= dist:
            f = t / dist
            out.append((lx + dx * f, ly + dy * f))
            t += self.spacing
        self._carry = dist - (t - self.spacing)
        self._last = (x, y)
        return out

    def finish(self) -> list[tuple[float, float]]:
        """A last dab at the final pointer position if the spacing left it bare (the stroke ends where you let go)."""
        if self._last is None or self._carry < 0.5:
            return []
        self._carry = 0.0
        return [self._last]


class MaskLayer:
    """Alpha8 mask + ARGB32_Premultiplied tint of one image size, with cheap painted-area bookkeeping."""

    def __init__(self, width: int, height: int, color: QColor = DEFAULT_MASK_COLOR) -> None:
        self._w = max(1, int(width))
        self._h = max(1, int(height))
        self._color = QColor(color)
        self._mask = QImage(self._w, self._h, QImage.Format.Format_Alpha8)
        self._mask.fill(0)
        self._tint = QImage(self._w, self._h, QImage.Format.Format_ARGB32_Premultiplied)
        self._tint.fill(Qt.GlobalColor.transparent)
        self._stamps: dict[tuple[int, float, int], QImage] = {}
        self._lut: np.ndarray | None = None  # tint pixel per mask value, for the current colour
        # _bbox always contains every painted pixel; it is only tightened (by a scan inside it) on demand.
        self._bbox = QRect()
        self._bbox_exact = True
        self._nonempty: bool | None = False  # None: unknown since an erase, decided by the next scan

    # ----- geometry and raw access -------------------------------------------------------------

    @property
    def width(self) -> int:
        return self._w

    @property
    def height(self) -> int:
        return self._h

    def size(self) -> QSize:
        return QSize(self._w, self._h)

    def bounds(self) -> QRect:
        return QRect(0, 0, self._w, self._h)

    def mask_image(self) -> QImage:
        """The live Alpha8 mask; read it, never paint on it directly."""
        return self._mask

    def tint_image(self) -> QImage:
        """The live tint layer (mask colour, alpha = mask value), drawn with the overlay opacity."""
        return self._tint

    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self._color.setAlpha(255)
        self._stamps.clear()
        self._lut = None
        self._rebuild_tint(self.bounds())

    def _mask_view(self) -> np.ndarray:
        """Writable (H, W) view of the Alpha8 pixels; rows are padded to bytesPerLine in memory."""
        buf = np.frombuffer(self._mask.bits(), dtype=np.uint8)
        return buf.reshape(self._h, self._mask.bytesPerLine())[:, : self._w]

    def _tint_view(self, writable: bool = False) -> np.ndarray:
        buf = np.frombuffer(self._tint.bits() if writable else self._tint.constBits(), dtype=np.uint32)
        return buf.reshape(self._h, self._tint.bytesPerLine() // 4)[:, : self._w]

    def _tint_lut(self) -> np.ndarray:
        """The tint pixel (premultiplied ARGB32) for each mask value, composited by Qt as _rebuild_tint does."""
        if self._lut is None:
            ramp = QImage(256, 1, QImage.Format.Format_Alpha8)
            np.frombuffer(ramp.bits(), dtype=np.uint8)[:256] = np.arange(256, dtype=np.uint8)
            row = QImage(256, 1, QImage.Format.Format_ARGB32_Premultiplied)
            p = QPainter(row)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            p.fillRect(row.rect(), self._color)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
            p.drawImage(0, 0, ramp)
            p.end()
            self._lut = np.frombuffer(row.constBits(), dtype=np.uint32)[:256].copy()
        return self._lut

    def array(self) -> np.ndarray:
        """A copy of the mask as (H, W) uint8, 255 = edit."""
        return self._mask_view().copy()

    def read_rect(self, rect: QRect) -> np.ndarray:
        r = rect.intersected(self.bounds())
        return self._mask_view()[r.top() : r.bottom() + 1, r.left() : r.right() + 1].copy()

    def write_rect(self, x: int, y: int, values: np.ndarray) -> QRect:
        """Overwrite the mask at (x, y) with ``values`` and refresh the tint there; returns the rect touched."""
        rects = self.write_patches([(x, y, values)])
        return rects[0] if rects else QRect()

    def write_patches(self, patches: Sequence[tuple[int, int, np.ndarray]]) -> list[QRect]:
        """Overwrite mask rectangles (x, y, values) and refresh the tint under them only; returns the rects touched.

        Undo writes a stroke back as the tiles it changed: re-tinting just those keeps undo proportional to the
        stroke's area rather than its bounding box. The tint of a mask value is one colour per value, so it is a
        256-entry table made by Qt's own compositing (bit for bit what _rebuild_tint paints), looked up per patch:
        half the cost of a painter clipped to the patches' region.
        """
        view = self._mask_view()
        tint = self._tint_view(writable=True)
        lut = self._tint_lut()
        rects: list[QRect] = []
        box = QRect()
        for x, y, values in patches:
            h, w = values.shape
            x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, self._w), min(y + h, self._h)
            if x1 <= x0 or y1 <= y0:
                continue
            src = values[y0 - y : y1 - y, x0 - x : x1 - x]
            view[y0:y1, x0:x1] = src
            tint[y0:y1, x0:x1] = lut.take(src)
            rect = QRect(x0, y0, x1 - x0, y1 - y0)
            rects.append(rect)
            box = box.united(rect)
        if rects:
            self._note_written(box)
        return rects

    def set_array(self, values: np.ndarray) -> None:
        """Replace the whole mask (uint8 (H, W), 255 = edit); rebuilds the tint once and rescans the bbox."""
        if values.shape != (self._h, self._w):
            raise ValueError(
                f"The mask is {values.shape[1]}x{values.shape[0]} but the image is {self._w}x{self._h}; "
                "use a mask of the image's size."
            )
        self._mask_view()[:, :] = values
        self._rebuild_tint(self.bounds())
        self.rescan()

    def _rebuild_tint(self, rect: QRect) -> None:
        # Solid colour, then keep it only where the mask is: alpha ends up exactly equal to the mask.
        p = QPainter(self._tint)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.fillRect(rect, self._color)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
        p.drawImage(rect.topLeft(), self._mask, rect)
        p.end()

    def _sync_mask(self, rect: QRect) -> None:
        """Copy the tint's alpha into the Alpha8 mask inside ``rect`` (already clipped to bounds)."""
        y0, y1 = rect.top(), rect.bottom() + 1
        x0, x1 = rect.left(), rect.right() + 1
        self._mask_view()[y0:y1, x0:x1] = self._tint_view()[y0:y1, x0:x1] >> 24

    # ----- painting --------------------------------------------------------------------------

    def stamp(self, diameter: int, hardness: float) -> QImage:
        key = (max(1, int(diameter)), round(float(hardness), 3), self._color.rgba())
        img = self._stamps.get(key)
        if img is None:
            if len(self._stamps) > 16:  # sizes change with [ and ]; keep only recent stamps
                self._stamps.clear()
            img = self._stamps[key] = render_stamp(key[0], key[1], self._color)
        return img

    def paint_dabs(
        self, centres: Sequence[tuple[float, float]], diameter: int, hardness: float, erase: bool
    ) -> QRect:
        """Stamp one dab per centre (image px, one QPainter for all); returns the changed rect, clipped."""
        if not centres:
            return QRect()
        stamp = self.stamp(diameter, hardness)
        d = stamp.width()
        half = d / 2.0
        p = QPainter(self._tint)
        if erase:
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)
        minx = miny = math.inf
        maxx = maxy = -math.inf
        for cx, cy in centres:
            # Integer placement keeps drawImage on Qt's fast blend path; half a pixel is invisible in a dab.
            x = math.floor(cx - half + 0.5)
            y = math.floor(cy - half + 0.5)
            p.drawImage(x, y, stamp)
            minx, miny = min(minx, x), min(miny, y)
            maxx, maxy = max(maxx, x), max(maxy, y)
        p.end()
        rect = QRect(int(minx), int(miny), int(maxx - minx) + d, int(maxy - miny) + d).intersected(self.bounds())
        if not rect.isEmpty():
            self._sync_mask(rect)
            self._note_removed(rect) if erase else self._note_added(rect)
        return rect

    def fill_rect(self, rect: QRect, subtract: bool) -> QRect:
        """Set (or clear) every pixel of ``rect``; returns the changed rect, clipped."""
        rect = rect.intersected(self.bounds())
        if rect.isEmpty():
            return rect
        p = QPainter(self._tint)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.fillRect(rect, Qt.GlobalColor.transparent if subtract else self._color)
        p.end()
        self._sync_mask(rect)
        self._note_removed(rect) if subtract else self._note_added(rect)
        return rect

    def fill_polygon(self, points: Iterable[QPointF], subtract: bool) -> QRect:
        """Fill (or clear) a closed polygon in image px with anti-aliased edges; returns the changed rect."""
        path = QPainterPath()
        pts = list(points)
        if len(pts) < 3:
            return QRect()
        path.moveTo(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        path.closeSubpath()
        rect = path.boundingRect().toAlignedRect().adjusted(-1, -1, 1, 1).intersected(self.bounds())
        if rect.isEmpty():
            return rect
        p = QPainter(self._tint)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if subtract:
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)
        p.fillPath(path, self._color)
        p.end()
        self._sync_mask(rect)
        self._note_removed(rect) if subtract else self._note_added(rect)
        return rect

    # ----- painted-area bookkeeping ----------------------------------------------------------

    def _note_added(self, rect: QRect) -> None:
        self._bbox = self._bbox.united(rect)
        self._bbox_exact = False
        self._nonempty = True

    def _note_removed(self, rect: QRect) -> None:
        if self._bbox.intersects(rect):
            self._bbox_exact = False
            self._nonempty = None

    def _note_written(self, rect: QRect) -> None:
        self._bbox = self._bbox.united(rect)
        self._bbox_exact = False
        self._nonempty = None

    def rescan(self) -> None:
        """Recompute the exact painted bbox with one numpy pass over the whole mask."""
        self._bbox = self.bounds()
        self._bbox_exact = False
        self.bbox()

    def bbox(self) -> QRect:
        """The tight rect around every non-zero mask pixel (empty QRect when nothing is painted).

        Only the area inside the running bbox is scanned, and only after it may have loosened.
        """
        if self._bbox_exact:
            return QRect(self._bbox)
        r = self._bbox.intersected(self.bounds())
        tight = QRect()
        if not r.isEmpty():
            sub = self._mask_view()[r.top() : r.bottom() + 1, r.left() : r.right() + 1]
            rows = np.flatnonzero(sub.any(axis=1))
            if rows.size:
                cols = np.flatnonzero(sub[rows[0] : rows[-1] + 1].any(axis=0))
                tight = QRect(
                    r.left() + int(cols[0]), r.top() + int(rows[0]),
                    int(cols[-1] - cols[0]) + 1, int(rows[-1] - rows[0]) + 1,
                )
        self._bbox = tight
        self._bbox_exact = True
        self._nonempty = not tight.isEmpty()
        return QRect(tight)

    def has_paint(self) -> bool:
        """True when any mask pixel is non-zero; free after painting, one bbox scan after erasing."""
        if self._bbox.isEmpty():
            return False
        if self._nonempty is None:
            # One max() over the running box answers yes/no three times faster than finding the tight box.
            r = self._bbox.intersected(self.bounds())
            self._nonempty = bool(self._mask_view()[r.top() : r.bottom() + 1, r.left() : r.right() + 1].max())
        return bool(self._nonempty)
