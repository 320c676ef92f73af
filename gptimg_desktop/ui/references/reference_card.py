"""A reference card: thumbnail, file name, image number, role picker and remove button; drag to reorder."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QImage, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.prompt_roles import ROLES
from ..common.elided_label import ElidedLabel
from ..common.panel_widgets import hint_label
from ..theme.icons import icon
from ..theme.style import SPACING, Colors, set_role
from .reference_loading import THUMB_SIZE, Reference

REORDER_MIME = "application/x-gptimg-reference-index"


class ReferenceEntry:
    """A card's state: pending (loading) until ``reference`` is set."""

    def __init__(self, token: int, label: str, role: str | None, reference: Reference | None = None) -> None:
        self.token = token
        self.label = label
        self.role = role
        self.reference = reference
        self.pinned = bool(reference.pinned) if reference is not None else False
        self.loading = True
        self.card: ReferenceCard | None = None


class ReferenceCard(QFrame):
    """Thumbnail, file name, image number, role picker and a remove button."""

    roleChanged = Signal(object, object)  # card, role key or None
    removeRequested = Signal(object)
    pinChanged = Signal(object, bool)  # card, pinned
    moveRequested = Signal(object, int)  # card, target index (0 = front)

    def __init__(self, entry: ReferenceEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.index = 0
        self._press: QPoint | None = None
        self.setObjectName("referenceCard")
        set_role(self, "card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING // 2, SPACING)
        layout.setSpacing(SPACING + 2)
        self.thumb = QLabel()
        self.thumb.setObjectName("referenceThumbnail")
        self.thumb.setFixedSize(THUMB_SIZE, THUMB_SIZE)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setStyleSheet(f"background: {Colors.window}; border-radius: 4px;")
        self.thumb.setPixmap(icon("image", Colors.text_disabled, 24).pixmap(24, 24))
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)

        text = QVBoxLayout()
        text.setSpacing(SPACING // 2)
        self.name_label = ElidedLabel()
        self.name_label.setObjectName("referenceName")
        self.info_label = hint_label("referenceInfo")
        self.info_label.setWordWrap(False)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("referenceRoleCombo")
        self.role_combo.addItem("— no role", None)
        for role in ROLES:
            self.role_combo.addItem(role.label, role.key)
        self.role_combo.setToolTip("What the model should take from this image; it becomes a sentence in the prompt.")
        self.role_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.role_combo.setMinimumContentsLength(8)
        self.role_combo.currentIndexChanged.connect(self._on_role)
        text.addWidget(self.name_label)
        text.addWidget(self.info_label)
        text.addWidget(self.role_combo)
        layout.addLayout(text, 1)

        self.pin_button = QToolButton()
        self.pin_button.setObjectName("referencePinButton")
        self.pin_button.setProperty("flat", True)
        self.pin_button.setCheckable(True)
        self.pin_button.setText("Pin")
        self.pin_button.toggled.connect(lambda on: self.pinChanged.emit(self, on))
        layout.addWidget(self.pin_button, 0, Qt.AlignmentFlag.AlignTop)

        self.remove_button = QToolButton()
        self.remove_button.setObjectName("referenceRemoveButton")
        self.remove_button.setProperty("flat", True)
        self.remove_button.setIcon(icon("close", Colors.text_muted, 14))
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.refresh()

    def refresh(self) -> None:
        e = self.entry
        name = e.reference.name if e.reference else e.label
        number = f"Image {self.index}"
        self.name_label.setText(name)
        if e.reference is not None:
            self.name_label.setToolTip(e.reference.path)
        if e.loading and e.reference is None:
            self.info_label.setText(f"{number} · loading…")
        elif e.reference is not None:
            info = f"{number} · {e.reference.width}×{e.reference.height}"
            self.info_label.setText(info)
            self.info_label.setToolTip("\n".join(e.reference.notes))
        self.role_combo.blockSignals(True)
        self.role_combo.setCurrentIndex(max(0, self.role_combo.findData(e.role)))
        self.role_combo.blockSignals(False)
        self.role_combo.setAccessibleName(f"Role of image {self.index}")
        self.pin_button.blockSignals(True)
        self.pin_button.setChecked(e.pinned)
        self.pin_button.blockSignals(False)
        self.pin_button.setAccessibleName(f"Pin {name}")
        self.pin_button.setToolTip(
            "Pinned: stays when you open another image." if e.pinned
            else "Pin to keep this reference when you open another image; unpinned ones go with the image."
        )
        self.remove_button.setAccessibleName(f"Remove {name}")
        self.remove_button.setToolTip(f"Remove {name}")
        self.setAccessibleName(f"Reference image {self.index}: {name}")

    def set_thumbnail(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image).scaled(
            THUMB_SIZE, THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.thumb.setPixmap(pixmap)

    def _on_role(self, _index: int) -> None:
        self.roleChanged.emit(self, self.role_combo.currentData())

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.build_menu()
        menu.exec(self.mapToGlobal(pos))

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        front = menu.addAction("Move to front")
        front.setEnabled(self.index_in_tray() > 0)
        front.triggered.connect(lambda: self.moveRequested.emit(self, 0))
        up = menu.addAction("Move up")
        up.setEnabled(self.index_in_tray() > 0)
        up.triggered.connect(lambda: self.moveRequested.emit(self, self.index_in_tray() - 1))
        down = menu.addAction("Move down")
        down.triggered.connect(lambda: self.moveRequested.emit(self, self.index_in_tray() + 1))
        menu.addSeparator()
        menu.addAction("Remove").triggered.connect(lambda: self.removeRequested.emit(self))
        return menu

    def index_in_tray(self) -> int:
        return int(self.property("trayIndex") or 0)

    # Drag to reorder: a QDrag carrying the card's position; the tray handles the drop.
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return super().mouseMoveEvent(event)
        if (event.position().toPoint() - self._press).manhattanLength() < QApplication.startDragDistance():
            return None
        self._press = None
        mime = QMimeData()
        mime.setData(REORDER_MIME, str(self.index_in_tray()).encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(self.grab().scaledToWidth(min(240, self.width()), Qt.TransformationMode.SmoothTransformation))
        drag.setHotSpot(QPoint(12, 12))
        drag.exec(Qt.DropAction.MoveAction)
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.removeRequested.emit(self)
            return
        super().keyPressEvent(event)
