"""How one history row looks: thumbnail, prompt, "1536×1024 · high · 60 cr · $0.17", a star and a branch badge.

Painted by hand (no widgets per row) so a list of 10,000 versions scrolls smoothly. The delegate also
handles clicks on the star and on the expand chevron, reporting them as signals.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeView

from ..theme.style import Colors
from .history_model import (
    CHILD_COUNT_ROLE,
    DAY_SUMMARY_ROLE,
    DEPTH_ROLE,
    IMAGE_FILE_ROLE,
    KIND_ROLE,
    META_ROLE,
    PROOF_ROLE,
    SET_ITEM_ROLE,
    STARRED_ROLE,
    TIME_ROLE,
    VERSION_ID_ROLE,
    HistoryModel,
)
from .sibling_labels import sibling_title
from .thumbnail_cache import ThumbnailCache

THUMB = 64  # the default; the panel's slider sets 40-128 (set_thumb_size)
MIN_THUMB, MAX_THUMB = 40, 128
PAD = 8
ROW_HEIGHT = THUMB + 2 * PAD
MAX_SIBLINGS = 40  # rows with more siblings than this keep the plain prompt (no per-paint scan of a long list)
DAY_HEIGHT = 34
INDENT = 12  # per tree level
MAX_INDENT_LEVELS = 6  # deeper edits draw at this indent with their depth written in the connector
CHEVRON = 14
STAR = 22  # hit box of the star toggle
NARROW_TEXT = 200  # below this text width a row leaves out its time

_Index = QModelIndex | QPersistentModelIndex


class HistoryDelegate(QStyledItemDelegate):
    """Paints version rows and day headers for HistoryModel in a QTreeView with indentation 0."""

    starClicked = Signal(str)  # version id
    expandClicked = Signal(QModelIndex)

    def __init__(
        self, view: QTreeView, thumbnails: ThumbnailCache, resolve: Callable[[str], str], parent: QObject | None = None
    ) -> None:
        super().__init__(parent or view)
        self._view = view
        self._thumbs = thumbnails
        self._resolve = resolve  # relative image path -> absolute path
        self.thumb = THUMB

    def set_thumb_size(self, px: int) -> None:
        """Thumbnail side in the rows; the view must relayout (HistoryView does it)."""
        self.thumb = max(MIN_THUMB, min(MAX_THUMB, int(px)))

    def row_height(self) -> int:
        return self.thumb + 2 * PAD

    # ------------------------------------------------------------------ geometry
    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        # Asked for every row in the timeline (rows differ in height): no trip through data() roles.
        model = index.model()
        is_day = model.is_day(index) if isinstance(model, HistoryModel) else index.data(KIND_ROLE) == "day"
        return QSize(200, DAY_HEIGHT if is_day else self.row_height())

    @staticmethod
    def _indent(index: _Index) -> int:
        return min(index.data(DEPTH_ROLE) or 0, MAX_INDENT_LEVELS) * INDENT

    def chevron_rect(self, rect: QRect, index: _Index) -> QRect:
        x = rect.left() + PAD // 2 + self._indent(index)
        return QRect(x, rect.top() + (rect.height() - CHEVRON) // 2, CHEVRON, CHEVRON)

    def thumb_rect(self, rect: QRect, index: _Index) -> QRect:
        x = self.chevron_rect(rect, index).right() + 3
        return QRect(x, rect.top() + PAD, self.thumb, self.thumb)

    @staticmethod
    def star_rect(rect: QRect) -> QRect:
        return QRect(rect.right() - PAD - STAR + 2, rect.top() + (rect.height() - STAR) // 2, STAR, STAR)

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if index.data(KIND_ROLE) == "day":
            self._paint_day(painter, option, index)
        else:
            self._paint_version(painter, option, index)
        painter.restore()

    def _paint_day(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect = option.rect
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        p.setPen(QColor(Colors.text))
        text_rect = rect.adjusted(PAD + 4, 6, -PAD - 4, -4)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, index.data())
        label_width = QFontMetrics(font).horizontalAdvance(index.data()) + 8
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        p.setFont(small)
        p.setPen(QColor(Colors.text_muted))
        summary_rect = text_rect.adjusted(label_width, 0, 0, 0)
        p.drawText(summary_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   index.data(DAY_SUMMARY_ROLE) or "")
        p.setPen(QPen(QColor(Colors.border), 1))
        p.drawLine(rect.left() + PAD, rect.bottom(), rect.right() - PAD, rect.bottom())

    def _paint_version(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        card = QRectF(rect.adjusted(2, 1, -2, -1))
        if selected:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(Colors.selection))
            p.drawRoundedRect(card, 6, 6)
        elif hover:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(Colors.control))
            p.drawRoundedRect(card, 6, 6)
        if option.state & QStyle.StateFlag.State_HasFocus and self._view.hasFocus():
            p.setPen(QPen(QColor(Colors.border_focus), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)

        depth = index.data(DEPTH_ROLE) or 0
        if depth:
            self._paint_connector(p, rect, index, depth)
        if index.model().hasChildren(index):  # tree mode only: the timeline is flat
            chevron = self.chevron_rect(rect, index)
            expanded = self._view.isExpanded(index)
            self._paint_chevron(p, chevron, expanded)
            if expanded:  # the line down to the first child's elbow
                x = chevron.left() + CHEVRON // 2 + 0.5
                p.setPen(QPen(QColor(Colors.border), 1.2))
                p.drawLine(QPointF(x, chevron.bottom() + 3), QPointF(x, rect.bottom() + 1))

        thumb = self.thumb_rect(rect, index)
        self._paint_thumb(p, thumb, index)

        star = self.star_rect(rect)
        self._paint_star(p, star, bool(index.data(STARRED_ROLE)), selected or hover)

        text_left = thumb.right() + 10
        text_right = star.left() - 6
        proof = index.data(PROOF_ROLE)
        if proof:
            text_right = self._paint_proof_badge(p, star, str(proof), option.font) - 6
        font = QFont(option.font)
        metrics = QFontMetrics(font)
        # In a narrow panel the prompt needs the room more than the date does.
        time_text = (index.data(TIME_ROLE) or "") if text_right - text_left >= NARROW_TEXT else ""
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        small_metrics = QFontMetrics(small)
        time_width = small_metrics.horizontalAdvance(time_text) if time_text else 0

        text_top = thumb.top() + max(3, (thumb.height() - metrics.height() - 5 - small_metrics.height()) // 2)
        line1 = QRect(text_left, text_top, max(0, text_right - text_left - time_width - 8), metrics.height())
        p.setFont(font)
        p.setPen(QColor(Colors.text))
        prompt = metrics.elidedText(self.row_title(index), Qt.TextElideMode.ElideRight, line1.width())
        p.drawText(line1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, prompt)

        p.setFont(small)
        p.setPen(QColor(Colors.text_muted))
        if time_text:
            time_rect = QRect(text_right - time_width, line1.top(), time_width, metrics.height())
            p.drawText(time_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text)

        badge_width = 0
        children = index.data(CHILD_COUNT_ROLE) or 0
        line2_top = line1.bottom() + 5
        if children >= 2:
            badge_width = self._paint_badge(p, small, QPointF(text_right, line2_top), children)
        line2 = QRect(text_left, line2_top, max(0, text_right - text_left - badge_width - 6), small_metrics.height())
        meta = small_metrics.elidedText(index.data(META_ROLE) or "", Qt.TextElideMode.ElideRight, line2.width())
        p.setPen(QColor(Colors.text_muted))
        p.drawText(line2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, meta)

    @staticmethod
    def row_title(index: _Index) -> str:
        """The set item's name, the prompt, or among siblings what tells this row apart (``sibling_labels``).

        A set item's prompt is the template's wording ("Image 1: the approved anchor…"); its name is what the
        designer asked for ("Business card · Visual identity set")."""
        set_item = index.data(SET_ITEM_ROLE)
        if set_item:
            return str(set_item)
        prompt = index.data() or ""
        parent = index.parent()
        model = index.model()
        if not parent.isValid() or parent.data(KIND_ROLE) == "day":
            return prompt  # roots and timeline rows: nothing to tell apart from
        count = model.rowCount(parent)
        if count < 2 or count > MAX_SIBLINGS:
            return prompt
        prompts = [model.index(r, 0, parent).data() or "" for r in range(count)]
        return sibling_title(prompts, index.row())

    def _paint_connector(self, p: QPainter, rect: QRect, index: _Index, depth: int) -> None:
        """Tree lines like a file browser's: an elbow from the parent's chevron to this row, and the lines of
        ancestors that continue below. Levels past MAX_INDENT_LEVELS share the last column."""
        model = index.model()
        lines = model.tree_lines(index) if isinstance(model, HistoryModel) else [False] * depth
        base = rect.left() + PAD // 2 + CHEVRON // 2
        top, bottom, mid = rect.top(), rect.bottom() + 1, rect.top() + rect.height() // 2
        shown = min(depth, MAX_INDENT_LEVELS)
        pen = QPen(QColor(Colors.border), 1.2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for level in range(1, shown):  # ancestors' lines passing by
            if lines[level - 1]:
                x = base + (level - 1) * INDENT + 0.5
                p.drawLine(QPointF(x, top), QPointF(x, bottom))
        x = base + (shown - 1) * INDENT + 0.5
        path = QPainterPath(QPointF(x, top))
        if lines[-1]:
            path.lineTo(QPointF(x, bottom))
            path.moveTo(QPointF(x, mid))
        else:
            path.lineTo(QPointF(x, mid - 4))
            path.quadTo(QPointF(x, mid), QPointF(x + 4, mid))
        has_children = model.hasChildren(index)
        end = self.chevron_rect(rect, index).left() - 1 if has_children else self.thumb_rect(rect, index).left() - 3
        path.lineTo(QPointF(end, mid))
        p.drawPath(path)
        if depth > MAX_INDENT_LEVELS:
            small = QFont(p.font())
            small.setPointSizeF(7)
            p.setFont(small)
            p.setPen(QColor(Colors.text_disabled))
            p.drawText(QRect(int(x) - INDENT, top + 1, INDENT * 2, 12), Qt.AlignmentFlag.AlignCenter, str(depth))

    @staticmethod
    def _paint_chevron(p: QPainter, rect: QRect, expanded: bool) -> None:
        pen = QPen(QColor(Colors.text_muted), 1.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        c = QRectF(rect).center()
        if expanded:
            p.drawPolyline([QPointF(c.x() - 3.5, c.y() - 1.5), QPointF(c.x(), c.y() + 2), QPointF(c.x() + 3.5, c.y() - 1.5)])
        else:
            p.drawPolyline([QPointF(c.x() - 1.5, c.y() - 3.5), QPointF(c.x() + 2, c.y()), QPointF(c.x() - 1.5, c.y() + 3.5)])

    def _paint_thumb(self, p: QPainter, rect: QRect, index: _Index) -> None:
        frame = QRectF(rect)
        clip = QPainterPath()
        clip.addRoundedRect(frame, 5, 5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(Colors.window))
        p.drawPath(clip)
        version_id = index.data(VERSION_ID_ROLE)
        rel = index.data(IMAGE_FILE_ROLE)
        pixmap = self._thumbs.get(version_id, self._resolve(rel) if rel else None) if version_id else None
        if pixmap is None:
            self._paint_placeholder(p, frame, self._thumbs.failed(version_id) if version_id else False)
        else:
            p.save()
            p.setClipPath(clip)
            p.drawPixmap(_fit(pixmap, frame), pixmap, QRectF(pixmap.rect()))
            p.restore()
        p.setPen(QPen(QColor(Colors.border), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(frame.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)

    @staticmethod
    def _paint_placeholder(p: QPainter, frame: QRectF, missing: bool) -> None:
        """A neutral frame with a faint picture glyph while loading; a slashed one when the file is gone."""
        pen = QPen(QColor(Colors.text_disabled if not missing else Colors.error), 1.2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        c = frame.center()
        glyph = QRectF(c.x() - 9, c.y() - 7, 18, 14)
        p.drawRoundedRect(glyph, 2, 2)
        p.drawPolyline([QPointF(glyph.left() + 2, glyph.bottom() - 2), QPointF(glyph.left() + 7, glyph.top() + 7),
                        QPointF(glyph.left() + 11, glyph.bottom() - 4), QPointF(glyph.right() - 2, glyph.bottom() - 2)])
        if missing:
            p.drawLine(QPointF(glyph.left() - 2, glyph.bottom() + 2), QPointF(glyph.right() + 2, glyph.top() - 2))

    @staticmethod
    def _paint_proof_badge(p: QPainter, star: QRect, text: str, font: QFont) -> int:
        """The text proof's pill left of the star: green ✓, or red with the number of problems. Returns its left."""
        bold = QFont(font)
        bold.setBold(True)
        width = max(20, QFontMetrics(bold).horizontalAdvance(text) + 10)
        pill = QRectF(star.left() - width - 4, star.center().y() - 9, width, 18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(Colors.success if text == "✓" else Colors.error))
        p.drawRoundedRect(pill, 9, 9)
        p.setPen(QColor("#ffffff"))
        p.setFont(bold)
        p.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        return int(pill.left())

    @staticmethod
    def _paint_star(p: QPainter, rect: QRect, starred: bool, emphasised: bool) -> None:
        color = QColor(Colors.warning) if starred else QColor(Colors.text_muted if emphasised else Colors.text_disabled)
        path = _star_path(QRectF(rect).center(), 7.0)
        p.setPen(QPen(color, 1.3))
        p.setBrush(color if starred else Qt.BrushStyle.NoBrush)
        p.drawPath(path)

    @staticmethod
    def _paint_badge(p: QPainter, font: QFont, top_right: QPointF, children: int) -> int:
        """A pill "⑂ 3" at the end of the second line: this version was branched 3 ways. Returns its width."""
        metrics = QFontMetrics(font)
        text = str(children)
        width = metrics.horizontalAdvance(text) + 26
        height = metrics.height() + 2
        pill = QRectF(top_right.x() - width, top_right.y() - 1, width, height)
        p.setPen(QPen(QColor(Colors.border), 1))
        p.setBrush(QColor(Colors.control))
        p.drawRoundedRect(pill, height / 2, height / 2)
        # A small fork glyph: a stem with a branch curving off to the right, dots at the ends.
        color = QColor(Colors.accent_hover)
        pen = QPen(color, 1.2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        gx, gy = pill.left() + 6.5, pill.center().y()
        p.drawLine(QPointF(gx, gy + 3.5), QPointF(gx, gy - 3.5))
        fork = QPainterPath(QPointF(gx, gy + 2))
        fork.cubicTo(QPointF(gx, gy - 1), QPointF(gx + 4.5, gy - 0.5), QPointF(gx + 4.5, gy - 3.5))
        p.drawPath(fork)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        for dx, dy in ((0, 3.8), (0, -3.8), (4.5, -3.8)):
            p.drawEllipse(QPointF(gx + dx, gy + dy), 1.5, 1.5)
        p.setFont(font)
        p.setPen(QColor(Colors.text))
        p.drawText(pill.adjusted(15, 0, -5, 0), Qt.AlignmentFlag.AlignCenter, text)
        return int(width)

    # ------------------------------------------------------------------ clicks
    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem,
                    index: _Index) -> bool:
        """Star and chevron clicks are handled here and do not select the row."""
        if index.data(KIND_ROLE) != "version":
            return False
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick):
            return False
        if not isinstance(event, QMouseEvent) or event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = event.position().toPoint()
        on_star = self.star_rect(option.rect).contains(pos)
        on_chevron = model.hasChildren(index) and self.chevron_rect(option.rect, index).adjusted(
            -3, -6, 3, 6).contains(pos)
        if not (on_star or on_chevron):
            return False
        if kind == QEvent.Type.MouseButtonRelease:
            if on_star:
                self.starClicked.emit(index.data(VERSION_ID_ROLE))
            else:
                self.expandClicked.emit(index)
        return True


def _fit(pixmap: QPixmap, frame: QRectF) -> QRectF:
    """The largest rectangle of the pixmap's shape inside ``frame``, centred."""
    ratio = pixmap.devicePixelRatio() or 1.0
    w, h = pixmap.width() / ratio, pixmap.height() / ratio
    if w <= 0 or h <= 0:
        return frame
    scale = min(frame.width() / w, frame.height() / h)
    sw, sh = w * scale, h * scale
    return QRectF(frame.center().x() - sw / 2, frame.center().y() - sh / 2, sw, sh)


def _star_path(center: QPointF, radius: float) -> QPainterPath:
    import math

    path = QPainterPath()
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        point = QPointF(center.x() + r * math.cos(angle), center.y() + r * math.sin(angle))
        path.moveTo(point) if i == 0 else path.lineTo(point)
    path.closeSubpath()
    return path
