"""The set grid: one cell per item with its thumbnail, name, size and a status badge; the anchor is outlined."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from ...store.sets import SetItemRecord
from ..theme.style import Colors, status_color

CELL = 176
ITEM_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_TEXT = {"planned": "planned", "queued": "queued", "running": "making…", "succeeded": "done",
               "failed": "failed", "cancelled": "cancelled"}


class SetGrid(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setGrid")
        self.setAccessibleName("Set items")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(QSize(CELL, CELL))
        self.setGridSize(QSize(CELL + 24, CELL + 58))
        self.setWordWrap(True)
        self.setSpacing(6)
        self.setUniformItemSizes(True)
        self._items: dict[str, SetItemRecord] = {}
        self._thumbs: dict[str, QImage] = {}

    def show_items(self, items: tuple[SetItemRecord, ...] | list[SetItemRecord], keep_thumbs: bool = True) -> None:
        if not keep_thumbs:
            self._thumbs.clear()
        current = self.current_item_id()
        self.clear()
        self._items = {i.item_id: i for i in items}
        for record in items:
            cell = QListWidgetItem()
            cell.setData(ITEM_ID_ROLE, record.item_id)
            cell.setSizeHint(QSize(CELL + 20, CELL + 54))
            self.addItem(cell)
            self._paint(cell, record)
        if current:
            self.select_item(current)

    def update_item(self, record: SetItemRecord) -> None:
        self._items[record.item_id] = record
        cell = self._cell(record.item_id)
        if cell is not None:
            self._paint(cell, record)

    def set_status(self, item_id: str, status: str) -> None:
        record = self._items.get(item_id)
        if record is not None:
            self.update_item(replace(record, status=status))

    def set_thumbnail(self, item_id: str, image: QImage) -> None:
        self._thumbs[item_id] = image
        record = self._items.get(item_id)
        cell = self._cell(item_id)
        if record is not None and cell is not None:
            self._paint(cell, record)

    def status_of(self, item_id: str) -> str | None:
        record = self._items.get(item_id)
        return record.status if record else None

    def has_thumbnail(self, item_id: str) -> bool:
        return item_id in self._thumbs

    def current_item_id(self) -> str | None:
        cell = self.currentItem()
        return cell.data(ITEM_ID_ROLE) if cell is not None else None

    def select_item(self, item_id: str) -> None:
        cell = self._cell(item_id)
        if cell is not None:
            self.setCurrentItem(cell)

    def _cell(self, item_id: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            cell = self.item(row)
            if cell.data(ITEM_ID_ROLE) == item_id:
                return cell
        return None

    def _paint(self, cell: QListWidgetItem, record: SetItemRecord) -> None:
        cell.setIcon(QIcon(self._icon(record)))
        label = f"{record.name}{' (anchor)' if record.anchor else ''}\n{record.size}"
        cell.setText(label)
        tip = record.prompt if not record.error else f"{record.error}\n\n{record.prompt}"
        cell.setToolTip(tip[:1200])
        cell.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)

    def _icon(self, record: SetItemRecord) -> QPixmap:
        pixmap = QPixmap(CELL, CELL)
        pixmap.fill(QColor(Colors.panel))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        thumb = self._thumbs.get(record.item_id)
        inner = QRect(6, 6, CELL - 12, CELL - 12)
        if thumb is not None and not thumb.isNull():
            scaled = thumb.scaled(inner.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
            painter.drawImage(inner.x() + (inner.width() - scaled.width()) // 2,
                              inner.y() + (inner.height() - scaled.height()) // 2, scaled)
        else:
            painter.fillRect(inner, QColor(Colors.control))
            w, h = _aspect_box(record.size, inner.width() - 40, inner.height() - 60)
            box = QRect(inner.center().x() - w // 2, inner.center().y() - h // 2 - 8, w, h)
            painter.setPen(QPen(QColor(Colors.border), 1, Qt.PenStyle.DashLine))
            painter.drawRect(box)
        colour = status_color(record.status if record.status != "planned" else "queued")
        text = STATUS_TEXT.get(record.status, record.status)
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        font.setBold(True)
        painter.setFont(font)
        badge = QRect(10, CELL - 30, painter.fontMetrics().horizontalAdvance(text) + 16, 20)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 21, 24, 215))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(colour)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        if record.anchor:
            painter.setPen(QPen(QColor(Colors.warning), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRect(2, 2, CELL - 4, CELL - 4), 6, 6)
        painter.end()
        return pixmap


def _aspect_box(size: str, max_w: int, max_h: int) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        return max_w, max_h
    scale = min(max_w / w, max_h / h)
    return max(8, int(w * scale)), max(8, int(h * scale))
