"""The canvas's view: zoom, pan, fit and the mapping between image px and widget px."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QInputDevice,
)

from .state import _MARGIN, FIT_MARGIN, MAX_ZOOM, MIN_ZOOM, SMOOTH_UP_TO_ZOOM, ZOOM_STEPS, CanvasState


class CanvasViewport(CanvasState):
    """Zoom and pan of the canvas (no painting, no tools)."""

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

    def _widget_rect(self, image_rect: QRect) -> QRect:
        """Widget px covering an image-px rect, padded for anti-aliasing and bilinear sampling."""
        s = self._s
        pad = max(2, math.ceil(_MARGIN * s))
        return QRectF(
            self._ox + image_rect.x() * s, self._oy + image_rect.y() * s, image_rect.width() * s,
            image_rect.height() * s,
        ).toAlignedRect().adjusted(-pad, -pad, pad, pad)
