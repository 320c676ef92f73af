"""The n-results grid (``variantGrid``): every result of a job side by side, large enough to compare.

Click a tile (or press 1–9) to put that result on the canvas; A/B flickers between the chosen result and the one
chosen before it, the quickest way to see what differs. Tiles grow to fill the space the grid is given, two
rows at most, so four results read as a 2x2 contact sheet instead of a strip of stamps.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from ...jobs.qimage_decoding import RESULT_THUMB, result_thumbnail

FLICKER_MS = 450
MIN_TILE, MAX_TILE = 72, 360
THUMB = RESULT_THUMB  # px of the stored thumbnail: tiles scale it down, never up past this


class VariantGrid(QListWidget):
    """A QListWidget in icon mode whose tiles fit the widget; items carry (version_id, path) as UserRole."""

    chosen = Signal(int)  # index of the result put on the canvas
    flickerChanged = Signal(bool)
    flickerFrame = Signal(int)  # the index to show now while flickering

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variantGrid")
        self.setAccessibleName("Results to compare: click or press 1 to 9 to choose, A/B to flicker")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(6)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self._previous = -1
        self._current = -1
        self._aspect = 1.0
        self._flicker_on = False
        self._flicker_phase = False
        self._timer = QTimer(self)
        self._timer.setInterval(FLICKER_MS)
        self._timer.timeout.connect(self._flick)
        self.itemClicked.connect(lambda item: self.choose(self.row(item)))

    # ------------------------------------------------------------------ content
    def set_results(self, results: list[tuple[str, str, QImage]], thumbnails: list[QImage] | None = None) -> None:
        """(version_id, path, image) per result; their thumbnails (at most THUMB px) if already cut, else cut here."""
        self.stop_flicker()
        self.clear()
        for i, (version_id, path, image) in enumerate(results):
            thumb = thumbnails[i] if thumbnails and i < len(thumbnails) else result_thumbnail(image, THUMB)
            label = f"{i + 1}" if i < 9 else f"#{i + 1}"
            tile = QIcon()
            pixmap = QPixmap.fromImage(thumb)
            for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
                tile.addPixmap(pixmap, mode)  # the chosen tile gets a frame, not a blue wash over the picture
            item = QListWidgetItem(tile, label)
            item.setData(Qt.ItemDataRole.UserRole, (version_id, path))
            item.setToolTip(f"Result {i + 1}: click or press {i + 1} to put it on the canvas" if i < 9
                            else f"Result {i + 1}: click to put it on the canvas")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.addItem(item)
        self._previous = -1
        self._current = 0 if results else -1
        first = next((img for _v, _p, img in results if not img.isNull()), None)
        self._aspect = first.width() / max(1, first.height()) if first is not None else 1.0
        if results:
            self.setCurrentRow(0)
        self._fit_tiles()

    def current_index(self) -> int:
        return self._current

    def choose(self, index: int) -> None:
        """Put result ``index`` on the canvas (emits ``chosen``); the one before becomes B for the flicker."""
        if not 0 <= index < self.count():
            return
        if index != self._current:
            self._previous = self._current
            self._current = index
        self.setCurrentRow(index)
        self.chosen.emit(index)

    # ------------------------------------------------------------------ A/B flicker
    def flicker_pair(self) -> tuple[int, int] | None:
        """(A, B): the chosen result and the one chosen before (or the next one); None with fewer than two."""
        if self.count() < 2 or self._current < 0:
            return None
        other = self._previous if 0 <= self._previous < self.count() and self._previous != self._current else (
            (self._current + 1) % self.count())
        return self._current, other

    def is_flickering(self) -> bool:
        return self._flicker_on

    def set_flicker(self, on: bool) -> None:
        if on and self.flicker_pair() is None:
            on = False
        if on == self._flicker_on:
            return
        self._flicker_on = on
        self._flicker_phase = False
        if on:
            self._timer.start()
        else:
            self._timer.stop()
            if self._current >= 0:
                self.flickerFrame.emit(self._current)
        self.flickerChanged.emit(on)

    def stop_flicker(self) -> None:
        self.set_flicker(False)

    def _flick(self) -> None:
        pair = self.flicker_pair()
        if pair is None:
            self.stop_flicker()
            return
        self._flicker_phase = not self._flicker_phase
        self.flickerFrame.emit(pair[1] if self._flicker_phase else pair[0])

    # ------------------------------------------------------------------ keys and layout
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.choose(key - Qt.Key.Key_1)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.choose(self.currentRow())
            event.accept()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._fit_tiles()

    def tile_size(self) -> int:
        return self.iconSize().width()

    def _fit_tiles(self) -> None:
        """The largest tiles (in the results' aspect) that show every result in the viewport, 1 or 2 rows."""
        n = max(1, self.count())
        aspect = self._aspect
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        text_h = self.fontMetrics().height() + 6
        pad = 2 * self.spacing() + 12
        best = 0.0
        for rows in (1, 2, 3):
            cols = math.ceil(n / rows)
            tile_w = min((vw - 4) / cols - pad, ((vh - 4) / rows - pad - text_h) * aspect)
            best = max(best, tile_w)
        w = int(min(MAX_TILE, max(MIN_TILE, best)))
        h = max(24, round(w / aspect))
        if (w, h) != (self.iconSize().width(), self.iconSize().height()):
            self.setIconSize(QSize(w, h))
            self.setGridSize(QSize(w + pad - 2 * self.spacing(), h + text_h + pad - 2 * self.spacing()))
