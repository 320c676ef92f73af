"""Side-by-side compare: two images with synced zoom and pan, as a widget or a dialog.

Both panes show the same part of their image: the view keeps one zoom (relative to "fit") and one centre
(as a fraction of the image), so a 1024 px parent and a 1536 px result still line up.
(The on-canvas split slider is ImageCanvas.set_compare_image; this is the roomier alternative.)
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...editor.image_loading import ImageLoader
from ..theme.style import SPACING, Colors, set_role

MIN_ZOOM, MAX_ZOOM = 0.1, 64.0  # relative to fit
FIT_MARGIN = 12
DEFAULT_LABELS = ("Before (parent)", "After")
PANE_BACKGROUND = "#161719"  # darker than the window, so each image sits in its own well


def _checker() -> QBrush:
    tile = QPixmap(16, 16)
    tile.fill(QColor("#2a2c30"))
    p = QPainter(tile)
    p.fillRect(0, 0, 8, 8, QColor("#34363b"))
    p.fillRect(8, 8, 8, 8, QColor("#34363b"))
    p.end()
    return QBrush(tile)


class _Pane(QWidget):
    """One image, drawn where the shared view state says; reports drags and wheel turns to the view."""

    panned = Signal(float, float)  # widget px
    zoomed = Signal(float, QPointF)  # factor, widget position under the cursor

    def __init__(self, view: CompareView, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._view = view
        self.image = QImage()
        self._drag: QPointF | None = None
        self._checker = _checker()
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def fit_scale(self) -> float:
        if self.image.isNull():
            return 1.0
        w = max(1.0, self.width() - 2 * FIT_MARGIN)
        h = max(1.0, self.height() - 2 * FIT_MARGIN)
        return min(w / self.image.width(), h / self.image.height())

    def scale(self) -> float:
        return self.fit_scale() * self._view.zoom

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        if self.image.isNull():
            return QRectF()
        s = self.scale()
        w, h = self.image.width() * s, self.image.height() * s
        cx, cy = self._view.center.x() * w, self._view.center.y() * h
        return QRectF(self.width() / 2 - cx, self.height() / 2 - cy, w, h)

    def to_fraction(self, pos: QPointF) -> QPointF:
        """A widget position as a fraction of the image (0..1 inside it)."""
        rect = self.image_rect()
        if rect.isEmpty():
            return QPointF(0.5, 0.5)
        return QPointF((pos.x() - rect.left()) / rect.width(), (pos.y() - rect.top()) / rect.height())

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(PANE_BACKGROUND))
        p.setPen(QColor(Colors.border))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if self.image.isNull():
            p.setPen(QColor(Colors.text_muted))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loading…" if self._view.loading else "No image")
            return
        rect = self.image_rect()
        p.setClipRect(self.rect().adjusted(1, 1, -1, -1))
        p.fillRect(rect, self._checker)  # transparent areas read as transparent
        smooth = self.scale() < 2.0  # past 200 % show crisp pixels, like the canvas
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        p.drawImage(rect, self.image, QRectF(self.image.rect()))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.panned.emit(delta.x(), delta.y())

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, _event: QMouseEvent) -> None:
        self._view.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y() or event.angleDelta().x()
        if dy:
            self.zoomed.emit(2 ** (dy / 480), event.position())
        event.accept()


class CompareView(QWidget):
    """Two images side by side with synced zoom and pan. ``closeRequested`` when its Close is pressed
    (for windows that show it in place of the canvas)."""

    closeRequested = Signal()
    viewChanged = Signal()

    def __init__(self, parent: QWidget | None = None, closable: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare two versions")
        self.zoom = 1.0  # 1.0 = the whole image fits its pane
        self.center = QPointF(0.5, 0.5)  # the image point at the pane centre, as fractions of the image
        self.loading = False

        self.before = _Pane(self, "compareBefore", self)
        self.after = _Pane(self, "compareAfter", self)
        self.before.setAccessibleName("Before")
        self.after.setAccessibleName("After")
        self.before_label = QLabel(DEFAULT_LABELS[0], self)
        self.before_label.setObjectName("compareBeforeLabel")
        self.after_label = QLabel(DEFAULT_LABELS[1], self)
        self.after_label.setObjectName("compareAfterLabel")
        self.before_size = QLabel(self)
        self.after_size = QLabel(self)
        for label in (self.before_label, self.after_label):
            label.setStyleSheet("font-weight: bold;")
        for label in (self.before_size, self.after_size):
            set_role(label, "hint")

        self.fit_button = QToolButton(self)
        self.fit_button.setObjectName("compareFit")
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show both images whole (double-click an image)")
        self.actual_button = QToolButton(self)
        self.actual_button.setObjectName("compareActualSize")
        self.actual_button.setText("100%")
        self.actual_button.setToolTip("One image pixel per screen pixel (of the right-hand image)")
        self.swap_button = QToolButton(self)
        self.swap_button.setObjectName("compareSwap")
        self.swap_button.setText("Swap sides")
        self.zoom_label = QLabel(self)
        self.zoom_label.setObjectName("compareZoom")
        set_role(self.zoom_label, "hint")
        self.close_button = QPushButton("Close compare", self)
        self.close_button.setObjectName("compareClose")
        self.close_button.setVisible(closable)

        bar = QHBoxLayout()
        bar.setSpacing(SPACING // 2)
        hint = QLabel("Drag to pan · wheel to zoom · both sides follow", self)
        set_role(hint, "hint")
        bar.addWidget(hint)
        bar.addStretch(1)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addWidget(self.swap_button)
        bar.addWidget(self.close_button)

        panes = QHBoxLayout()
        panes.setSpacing(SPACING * 2)
        for pane, label, size in ((self.before, self.before_label, self.before_size),
                                  (self.after, self.after_label, self.after_size)):
            column = QVBoxLayout()
            column.setSpacing(4)
            head = QHBoxLayout()
            head.setSpacing(SPACING)
            head.addWidget(label)
            head.addWidget(size)
            head.addStretch(1)
            column.addLayout(head)
            column.addWidget(pane, 1)
            panes.addLayout(column, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(SPACING)
        layout.addLayout(panes, 1)
        layout.addLayout(bar)

        for pane in (self.before, self.after):
            pane.panned.connect(lambda dx, dy, pane=pane: self._pan(pane, dx, dy))
            pane.zoomed.connect(lambda f, pos, pane=pane: self._zoom_at(pane, f, pos))
        self.fit_button.clicked.connect(self.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.swap_button.clicked.connect(self.swap)
        self.close_button.clicked.connect(self.closeRequested)
        self._update_labels()

    def sizeHint(self) -> QSize:
        return QSize(1100, 640)

    # ------------------------------------------------------------------ content
    def set_images(self, before: QImage, after: QImage, labels: tuple[str, str] = DEFAULT_LABELS) -> None:
        self.before.image = QImage(before) if before is not None else QImage()
        self.after.image = QImage(after) if after is not None else QImage()
        self.before_label.setText(labels[0])
        self.after_label.setText(labels[1])
        self.loading = False
        self.fit()

    def set_image(self, side: str, image: QImage, label: str | None = None) -> None:
        """Set one side ("before" or "after"), e.g. as its file finishes loading."""
        pane, text = (self.before, self.before_label) if side == "before" else (self.after, self.after_label)
        pane.image = QImage(image) if image is not None else QImage()
        if label is not None:
            text.setText(label)
        self._update_labels()
        pane.update()

    def swap(self) -> None:
        self.before.image, self.after.image = self.after.image, self.before.image
        a, b = self.before_label.text(), self.after_label.text()
        self.before_label.setText(b)
        self.after_label.setText(a)
        self._changed()

    # ------------------------------------------------------------------ view
    def fit(self) -> None:
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)
        self._changed()

    def actual_size(self) -> None:
        pane = self.after if not self.after.image.isNull() else self.before
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, 1.0 / pane.fit_scale()))
        self._changed()

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._changed()

    def _pan(self, pane: _Pane, dx: float, dy: float) -> None:
        rect = pane.image_rect()
        if rect.isEmpty():
            return
        self.center = QPointF(self.center.x() - dx / rect.width(), self.center.y() - dy / rect.height())
        self._changed()

    def _zoom_at(self, pane: _Pane, factor: float, pos: QPointF) -> None:
        new = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom * factor))
        if new == self.zoom:
            return
        anchor = pane.to_fraction(pos)  # the image point under the cursor stays under it
        ratio = self.zoom / new
        self.center = QPointF(anchor.x() + (self.center.x() - anchor.x()) * ratio,
                              anchor.y() + (self.center.y() - anchor.y()) * ratio)
        self.zoom = new
        self._changed()

    def _changed(self) -> None:
        self.center = QPointF(min(1.0, max(0.0, self.center.x())), min(1.0, max(0.0, self.center.y())))
        self._update_labels()
        self.before.update()
        self.after.update()
        self.viewChanged.emit()

    def _update_labels(self) -> None:
        for pane, label in ((self.before, self.before_size), (self.after, self.after_size)):
            image = pane.image
            label.setText("" if image.isNull() else f"{image.width()}×{image.height()}")
        pane = self.after if not self.after.image.isNull() else self.before
        self.zoom_label.setText(f"{pane.scale() * 100:.0f}%" if not pane.image.isNull() else "")


class CompareDialog(QDialog):
    """CompareView in its own window."""

    def __init__(
        self,
        before: QImage | None = None,
        after: QImage | None = None,
        labels: tuple[str, str] = DEFAULT_LABELS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setAccessibleName("Compare versions")
        self.setWindowTitle("Compare versions")
        self.view = CompareView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.set_images(before or QImage(), after or QImage(), labels)
        self.resize(1200, 720)
        self._loader: ImageLoader | None = None
        self._pending: dict[str, str] = {}

    def load_files(self, before_path: str, after_path: str, labels: tuple[str, str] = DEFAULT_LABELS) -> None:
        """Load both images off the UI thread; each side appears when it is read."""
        self.view.before_label.setText(labels[0])
        self.view.after_label.setText(labels[1])
        self.view.loading = True
        if self._loader is None:
            self._loader = ImageLoader(self)
            self._loader.loaded.connect(self._loaded)
        self._pending = {f"compare-before:{before_path}": "before", f"compare-after:{after_path}": "after"}
        for key in list(self._pending):
            self._loader.load(key, key.split(":", 1)[1])

    def _loaded(self, key: str, image: QImage, error: str) -> None:
        side = self._pending.pop(key, None)
        if side is None:
            return
        self.view.set_image(side, image)
        if not self._pending:
            self.view.loading = False
            self.view.fit()


def compare_labels(store, first_id: str, second_id: str) -> tuple[str, str, str, str]:
    """(before id, after id, before label, after label) for two versions: a parent goes left as
    "Before (parent)"; otherwise the older one goes left."""
    a, b = store.get_version(first_id), store.get_version(second_id)
    if a is None or b is None:
        raise LookupError("One of the versions to compare is no longer in the history.")
    if a.parent_id == b.id or (b.parent_id != a.id and a.created_at > b.created_at):
        a, b = b, a
    if b.parent_id == a.id:
        return a.id, b.id, "Before (parent)", "After"
    return a.id, b.id, f"Earlier · {_short(a.prompt)}", f"Later · {_short(b.prompt)}"


def open_compare_dialog(parent: QWidget | None, store, first_id: str, second_id: str) -> CompareDialog:
    """Show two versions of the history side by side in a new, non-modal dialog (images load off-thread)."""
    before_id, after_id, before_label, after_label = compare_labels(store, first_id, second_id)
    before, after = store.get_version(before_id), store.get_version(after_id)
    dialog = CompareDialog(parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.load_files(str(before.path), str(after.path), (before_label, after_label))
    dialog.show()
    return dialog


def _short(prompt: str, limit: int = 36) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
