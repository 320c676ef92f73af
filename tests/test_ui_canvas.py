"""The image + mask canvas: painting, selections, undo, zoom/pan, drops, previews, compare, expansion."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gptimg_desktop.core.mask_undo import MaskUndoStack
from gptimg_desktop.editor.mask_layer import MaskLayer, StrokeSpacer
from gptimg_desktop.ui.canvas.canvas import HINT_TEXT, ImageCanvas, Tool

W, H = 800, 600


def make_image(w: int = W, h: int = H, alpha: bool = False) -> QImage:
    """A real picture: colour gradients plus a bright disc, as RGB888 (or RGBA8888 with a transparent band)."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // max(1, w - 1), yy * 255 // max(1, h - 1), np.full_like(xx, 90)], -1)
    rgb[(xx - w // 2) ** 2 + (yy - h // 2) ** 2 < (min(w, h) // 6) ** 2] = (250, 250, 240)
    if alpha:
        a = np.full((h, w, 1), 255)
        a[:, : w // 4] = 0
        arr = np.ascontiguousarray(np.concatenate([rgb, a], -1).astype(np.uint8))
        return QImage(arr.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()
    arr = np.ascontiguousarray(rgb.astype(np.uint8))
    return QImage(arr.data, w, h, w * 3, QImage.Format.Format_RGB888).copy()


def solid(w: int, h: int, color: QColor) -> QImage:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(color)
    return img


@pytest.fixture
def canvas(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(1000, 700)
    c.show()
    qtbot.waitExposed(c)
    c.set_image(make_image())
    assert c.zoom() == 1.0  # an 800x600 image fits a 1000x700 canvas at 100%
    return c


def wpt(c: ImageCanvas, x: float, y: float) -> QPoint:
    """Widget point over image position (x, y)."""
    return c.image_to_widget(QPointF(x, y)).toPoint()


def drag(c: ImageCanvas, pts, modifiers=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton):
    """Press at the first image point, move through the rest, release at the last."""
    w = [wpt(c, x, y) for x, y in pts]
    QTest.mousePress(c, button, modifiers, w[0])
    for p in w[1:]:
        QTest.mouseMove(c, p)
        QApplication.processEvents()
    QTest.mouseRelease(c, button, modifiers, w[-1])
    QApplication.processEvents()


def argb_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    buf = np.frombuffer(img.constBits(), dtype=np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return buf[:, : img.width()].copy()


def channels(a: np.ndarray) -> np.ndarray:
    return np.stack([(a >> 16) & 255, (a >> 8) & 255, a & 255], -1).astype(int)


# ------------------------------------------------------------------------------------------ brush


def test_fast_brush_stroke_marks_the_path_without_gaps(canvas, qtbot):
    canvas.set_brush_size(20)
    with qtbot.waitSignal(canvas.maskChanged):
        # 150 px jumps between events: the stroke must be interpolated, not a string of dots.
        drag(canvas, [(100, 300), (250, 300), (400, 300), (550, 300)])
    m = canvas.mask_array()
    assert m.shape == (H, W) and m.dtype == np.uint8
    assert (m[300, 100:551] == 255).all()
    assert (m[294:307, 120:530] == 255).all()  # the full width of the stroke, all along
    assert (m[280, :] == 0).all() and (m[320, :] == 0).all()
    assert (m[:, :85] == 0).all() and (m[:, 566:] == 0).all()
    assert canvas.has_mask() and canvas.can_undo()
    assert canvas.mask_bbox() == QRect(90, 290, 470, 20)


def test_eraser_removes_paint(canvas):
    canvas.fill_all()
    canvas.set_tool(Tool.ERASER)
    canvas.set_brush_size(30)
    drag(canvas, [(200, 200), (600, 200)])
    m = canvas.mask_array()
    assert (m[190:211, 200:601] == 0).all()
    assert (m[150, :] == 255).all() and (m[250, :] == 255).all()


def test_soft_brush_gives_a_graded_edge_and_hard_brush_a_crisp_one(canvas):
    canvas.set_brush_size(80)
    canvas.set_brush_hardness(0.0)
    drag(canvas, [(200, 200)])
    soft = canvas.mask_array()[160:241, 160:241]
    canvas.clear_mask()
    canvas.set_brush_hardness(1.0)
    drag(canvas, [(200, 200)])
    hard = canvas.mask_array()[160:241, 160:241]
    assert soft[40, 40] >= 250 and hard[40, 40] == 255
    profile = soft[40, 40:80].astype(int)  # centre to rim
    assert (np.diff(profile) <= 0).all() and profile[20] < 255 and profile[30] > 0
    soft_mid = ((soft > 10) & (soft < 245)).sum()
    hard_mid = ((hard > 10) & (hard < 245)).sum()
    assert soft_mid > 1500 and hard_mid < 400  # hard: only the anti-aliased rim is partial


def test_shift_click_draws_a_straight_line_from_the_last_stroke(canvas):
    canvas.set_brush_size(10)
    drag(canvas, [(100, 100)])
    drag(canvas, [(400, 400)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    m = canvas.mask_array()
    assert all(m[i, i] == 255 for i in range(100, 401, 10))


def test_brush_size_keys_and_limits(canvas, qtbot):
    canvas.set_brush_size(100)
    with qtbot.waitSignal(canvas.brushSizeChanged) as sig:
        QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert sig.args == [110] and canvas.brush_size() == 110
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size() == 99
    canvas.set_brush_size(1)
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size() == 1
    QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size() == 2  # at least one pixel per step
    canvas.set_brush_size(5000)
    assert canvas.brush_size() == 1000


def test_x_swaps_brush_and_eraser(canvas, qtbot):
    assert canvas.tool() == Tool.BRUSH
    with qtbot.waitSignal(canvas.toolChanged) as sig:
        QTest.keyClick(canvas, Qt.Key.Key_X)
    assert sig.args == [Tool.ERASER] and canvas.tool() == Tool.ERASER
    QTest.keyClick(canvas, Qt.Key.Key_X)
    assert canvas.tool() == Tool.BRUSH
    canvas.set_tool(Tool.LASSO)
    canvas.swap_brush_eraser()
    assert canvas.tool() == Tool.ERASER  # from a selection tool: the other one than the last paint tool


# ------------------------------------------------------------------------------------------ selections


def test_rect_selection_adds_and_alt_subtracts(canvas):
    canvas.set_tool(Tool.RECT)
    drag(canvas, [(100, 100), (200, 150), (300, 200)])
    m = canvas.mask_array()
    assert (m[100:200, 100:300] == 255).all()
    assert m.sum() == 255 * 100 * 200
    drag(canvas, [(150, 120), (200, 180)], modifiers=Qt.KeyboardModifier.AltModifier)
    m = canvas.mask_array()
    assert (m[120:180, 150:200] == 0).all()
    assert m.sum() == 255 * (100 * 200 - 60 * 50)


def test_after_x_then_the_rectangle_a_drag_adds_unless_subtract_was_chosen(canvas):
    # Issue 11: X (swap to the eraser) used to make the next rectangle silently subtract.
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_X)
    assert canvas.tool() == Tool.ERASER
    QTest.keyClick(canvas, Qt.Key.Key_M)
    assert canvas.tool() == Tool.RECT and canvas.selection_mode() == "add"
    drag(canvas, [(10, 10), (110, 60)])
    assert (canvas.mask_array()[10:60, 10:110] == 255).all()
    canvas.set_selection_mode("subtract")  # chosen explicitly: now it subtracts
    drag(canvas, [(10, 10), (60, 30)])
    m = canvas.mask_array()
    assert (m[10:30, 10:60] == 0).all() and (m[35:60, 70:110] == 255).all()
    drag(canvas, [(10, 10), (60, 30)], modifiers=Qt.KeyboardModifier.ShiftModifier)  # Shift adds for one drag
    assert (canvas.mask_array()[10:30, 10:60] == 255).all() and canvas.selection_mode() == "subtract"
    with pytest.raises(ValueError):
        canvas.set_selection_mode("multiply")


def test_lasso_fills_the_polygon(canvas):
    canvas.set_tool(Tool.LASSO)
    drag(canvas, [(100, 100), (300, 100), (300, 300), (200, 350), (100, 300)])
    m = canvas.mask_array()
    assert (m[110:290, 110:290] == 255).all() and m[330, 200] == 255
    assert m[50, 50] == 0 and m[340, 110] == 0 and m[100:400, 320:].sum() == 0


def test_escape_cancels_a_selection_drag(canvas):
    canvas.set_tool(Tool.RECT)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wpt(canvas, 10, 10))
    QTest.mouseMove(canvas, wpt(canvas, 100, 100))
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wpt(canvas, 100, 100))
    assert not canvas.has_mask() and not canvas.can_undo()


# ------------------------------------------------------------------------------------------ whole-mask ops


def test_fill_clear_invert(canvas, qtbot):
    with qtbot.waitSignal(canvas.maskChanged):
        canvas.fill_all()
    assert (canvas.mask_array() == 255).all() and canvas.mask_bbox() == QRect(0, 0, W, H)
    canvas.clear_mask()
    assert not canvas.mask_array().any() and not canvas.has_mask() and canvas.mask_bbox().isEmpty()
    canvas.set_tool(Tool.RECT)
    drag(canvas, [(0, 0), (400, 600)])
    canvas.invert_mask()
    m = canvas.mask_array()
    assert (m[:, :400] == 0).all() and (m[:, 400:] == 255).all()


def test_grow_shrink_feather_use_core_masks(canvas):
    canvas.set_tool(Tool.RECT)
    drag(canvas, [(200, 200), (300, 300)])
    canvas.grow_mask(10)
    m = canvas.mask_array()
    assert m[195, 250] == 255 and m[185, 250] == 0
    canvas.shrink_mask(20)
    m = canvas.mask_array()
    assert m[205, 250] == 0 and m[250, 250] == 255
    canvas.feather_mask(8)
    m = canvas.mask_array()
    assert 0 < m[210, 250] < 255
    canvas.undo()
    canvas.undo()
    canvas.undo()
    assert canvas.mask_bbox() == QRect(200, 200, 100, 100)


# ------------------------------------------------------------------------------------------ undo


def tint_alpha(c: ImageCanvas) -> np.ndarray:
    """Alpha of the on-screen tint layer, which must always equal the mask."""
    tint = c._layer.tint_image()
    buf = np.frombuffer(tint.constBits(), np.uint32).reshape(tint.height(), tint.bytesPerLine() // 4)
    return (buf[:, : tint.width()] >> 24).astype(np.uint8)


def test_undo_and_redo_restore_exact_bytes(canvas, qtbot):
    canvas.set_brush_size(40)
    canvas.set_brush_hardness(0.5)
    drag(canvas, [(100, 100), (400, 300)])
    after_a = canvas.mask_array()
    canvas.set_tool(Tool.ERASER)
    drag(canvas, [(100, 300), (400, 100)])
    after_b = canvas.mask_array()
    canvas.invert_mask()
    after_c = canvas.mask_array()
    assert not np.array_equal(after_a, after_b)
    with qtbot.waitSignal(canvas.undoStateChanged) as sig:
        canvas.undo()
    assert sig.args == [True, True]
    assert np.array_equal(canvas.mask_array(), after_b) and np.array_equal(tint_alpha(canvas), after_b)
    canvas.undo()
    assert np.array_equal(canvas.mask_array(), after_a) and np.array_equal(tint_alpha(canvas), after_a)
    canvas.undo()
    assert not canvas.mask_array().any() and not canvas.can_undo() and not canvas.has_mask()
    assert not tint_alpha(canvas).any()
    canvas.redo()
    assert np.array_equal(canvas.mask_array(), after_a) and np.array_equal(tint_alpha(canvas), after_a)
    canvas.redo()
    canvas.redo()
    assert np.array_equal(canvas.mask_array(), after_c) and not canvas.can_redo()
    assert np.array_equal(tint_alpha(canvas), after_c)


def test_a_stroke_undo_step_stores_only_its_rectangle(canvas):
    canvas.set_brush_size(20)
    drag(canvas, [(100, 100), (150, 120)])
    stack = canvas.undo_stack()
    assert stack.undo_count == 1
    canvas.undo()
    edit = stack.redo()
    assert (edit.x, edit.y, edit.width, edit.height) == (90, 90, 70, 40)  # ends where the pointer let go


def test_new_edit_clears_redo(canvas):
    drag(canvas, [(100, 100)])
    canvas.undo()
    assert canvas.can_redo()
    drag(canvas, [(300, 300)])
    assert not canvas.can_redo() and canvas.can_undo()


def test_history_is_bounded_by_count(canvas):
    canvas.document.set_undo_limits(5, 10**9)
    canvas.set_brush_size(8)
    for i in range(8):
        drag(canvas, [(20 + 60 * i, 50)])
    undos = 0
    while canvas.can_undo():
        canvas.undo()
        undos += 1
    assert undos == 5
    m = canvas.mask_array()
    assert m[50, 20 + 60 * 2] == 255 and m[50, 20 + 60 * 3] == 0  # the 3 oldest strokes stay


def test_history_is_bounded_by_memory():
    rng = np.random.default_rng(1)
    stack = MaskUndoStack(max_steps=200, max_bytes=1_000_000)
    for _ in range(20):  # random bytes don't compress: ~2 x 90 kB per step
        stack.push(0, 0, np.zeros((300, 300), np.uint8), rng.integers(0, 256, (300, 300), dtype=np.uint8))
    assert stack.memory_bytes <= 1_000_000 and 4 <= stack.undo_count < 20


def test_hundred_4k_strokes_fit_in_fifty_megabytes():
    """Stroke-shaped edits on a 3840x2160 mask: compressed rects stay far below the 50 MB budget."""
    stack = MaskUndoStack()
    layer_h, layer_w = 2160, 3840
    yy, xx = np.mgrid[0:400, 0:900]
    for i in range(100):
        before = np.zeros((400, 900), np.uint8)
        band = np.abs(yy - 200 - 120 * np.sin(xx / 90 + i)) < 40
        after = np.where(band, 255, 0).astype(np.uint8)
        stack.push((i * 37) % (layer_w - 900), (i * 53) % (layer_h - 400), before, after)
    assert stack.undo_count == 100 and stack.memory_bytes < 5 * 1024 * 1024


# ------------------------------------------------------------------------------------------ view


def test_wheel_zoom_keeps_the_point_under_the_cursor(canvas, qtbot):
    pos = QPointF(wpt(canvas, 600, 150)) + QPointF(0.25, 0.25)
    before = canvas.widget_to_image(pos)
    ev = QWheelEvent(
        pos, canvas.mapToGlobal(pos), QPoint(), QPoint(0, 240), Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    with qtbot.waitSignal(canvas.zoomChanged) as sig:
        QApplication.sendEvent(canvas, ev)
    assert sig.args[0] == pytest.approx(canvas.zoom()) and canvas.zoom() > 1.3
    after = canvas.widget_to_image(pos)
    tol = 1.0 / canvas.zoom()  # offsets snap to whole device pixels
    assert abs(after.x() - before.x()) <= tol and abs(after.y() - before.y()) <= tol


def test_fit_actual_size_and_zoom_keys(canvas):
    canvas.set_image(make_image(2400, 1200))
    assert canvas.zoom() == pytest.approx((1000 - 32) / 2400)  # shown whole
    r = canvas.image_rect_in_widget()
    assert r.left() >= 0 and r.right() <= 1000 and r.top() >= 0 and r.bottom() <= 700
    QTest.keyClick(canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == 1.0
    QTest.keyClick(canvas, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == 1.5
    QTest.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == pytest.approx(2 / 3)
    QTest.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == pytest.approx((1000 - 32) / 2400)
    canvas.resize(1400, 800)  # fit mode follows the window
    assert canvas.zoom() == pytest.approx((1400 - 32) / 2400)
    canvas.actual_size()
    for _ in range(3):
        canvas.zoom_in()
    assert canvas.zoom() == 3.0


def test_zoom_above_200_percent_is_whole_numbers(canvas):
    canvas.set_zoom(3.4)
    assert canvas.zoom() == 3.0
    canvas.set_zoom(1.7)
    assert canvas.zoom() == 1.7


def test_space_drag_and_middle_drag_pan_without_painting(canvas):
    canvas.set_zoom(2.0)
    origin = canvas.image_to_widget(QPointF(0, 0))
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(500, 300))
    QTest.mouseMove(canvas, QPoint(540, 330))
    QTest.mouseMove(canvas, QPoint(560, 350))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(560, 350))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    moved = canvas.image_to_widget(QPointF(0, 0)) - origin
    assert (moved.x(), moved.y()) == (60, 50)
    assert not canvas.has_mask()
    QTest.mousePress(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(500, 300))
    QTest.mouseMove(canvas, QPoint(470, 280))
    QTest.mouseRelease(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(470, 280))
    moved = canvas.image_to_widget(QPointF(0, 0)) - origin
    assert (moved.x(), moved.y()) == (30, 30) and not canvas.has_mask()
    # After space is released the left button paints again.
    drag(canvas, [(100, 100)])
    assert canvas.has_mask()


# ------------------------------------------------------------------------------------------ drops


def _drag_enter(target, mime: QMimeData, pos: QPointF) -> QDragEnterEvent:
    try:  # PySide6 >= 6.12 takes QPointF; 6.11 only QPoint (tooling-notes §2, gotcha 4)
        return QDragEnterEvent(
            pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
    except TypeError:
        return QDragEnterEvent(
            pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )


def test_dropping_an_image_file_emits_its_path(canvas, qtbot, tmp_path):
    png = tmp_path / "photo.png"
    assert make_image(64, 48).save(str(png))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    enter = _drag_enter(canvas, mime, QPointF(100, 100))
    QApplication.sendEvent(canvas, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(canvas.imageDropped) as sig:
        QApplication.sendEvent(canvas, drop)
    assert sig.args == [str(png)] and drop.isAccepted()


def test_drag_enter_rejects_text_and_non_images(canvas, tmp_path):
    text = QMimeData()
    text.setText("hello")
    ev = _drag_enter(canvas, text, QPointF(10, 10))
    QApplication.sendEvent(canvas, ev)
    assert not ev.isAccepted()
    doc = tmp_path / "notes.txt"
    doc.write_text("x")
    files = QMimeData()
    files.setUrls([QUrl.fromLocalFile(str(doc))])
    ev = _drag_enter(canvas, files, QPointF(10, 10))
    QApplication.sendEvent(canvas, ev)
    assert not ev.isAccepted()


# ------------------------------------------------------------------------------------------ mask I/O


def test_mask_array_round_trip_with_padded_rows(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.set_image(make_image(801, 601))  # Alpha8 rows are padded to 804 bytes
    assert c._layer.mask_image().bytesPerLine() != 801
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 256, (601, 801), dtype=np.uint8)
    c.document.set_mask_array(arr)
    out = c.mask_array()
    assert out.shape == (601, 801) and np.array_equal(out, arr)
    out[:] = 0  # a copy: changing it leaves the canvas alone
    assert np.array_equal(c.mask_array(), arr)
    c.undo()
    assert not c.mask_array().any()
    b = np.zeros((601, 801), bool)
    b[10:20, 30:40] = True
    c.document.set_mask_array(b)
    assert c.mask_bbox() == QRect(30, 10, 10, 10) and c.mask_array()[15, 35] == 255
    with pytest.raises(ValueError, match="801x601"):
        c.document.set_mask_array(np.zeros((600, 800), np.uint8))


def test_has_mask_is_cheap_and_right_after_erasing(canvas):
    assert not canvas.has_mask()
    canvas.set_brush_size(20)
    drag(canvas, [(300, 300)])
    assert canvas.has_mask()
    canvas.set_tool(Tool.ERASER)
    canvas.set_brush_size(60)
    drag(canvas, [(300, 300)])
    assert not canvas.has_mask() and canvas.mask_bbox().isEmpty()


def test_no_image_means_no_mask(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    assert c.mask_array().shape == (0, 0) and not c.has_mask() and c.image().isNull()
    with pytest.raises(ValueError, match="Open an image"):
        c.document.set_mask_array(np.zeros((2, 2), np.uint8))


def test_set_image_keeps_scales_or_resets_the_mask(canvas):
    canvas.set_tool(Tool.RECT)
    drag(canvas, [(0, 0), (400, 300)])
    canvas.set_image(make_image())  # same size: the selection stays, undo too
    assert canvas.mask_bbox() == QRect(0, 0, 400, 300) and canvas.can_undo()
    canvas.set_image(make_image(1600, 1200))  # re-generated bigger: the selection is scaled along
    assert canvas.image().size().width() == 1600
    m = canvas.mask_array()
    assert m.shape == (1200, 1600) and m[300, 400] == 255 and m[900, 1200] == 0
    assert not canvas.can_undo()  # history belonged to the old size
    canvas.set_image(make_image(1600, 1200), keep_mask=False)
    assert not canvas.has_mask()
    canvas.clear_image()
    assert not canvas.has_image() and canvas.mask_array().shape == (0, 0)


# ------------------------------------------------------------------------------------------ rendering


def test_overlay_tints_painted_pixels_and_can_be_hidden(canvas):
    canvas.set_brush_size(60)
    drag(canvas, [(100, 500)])
    p = wpt(canvas, 100, 500)
    original = make_image().pixelColor(100, 500)
    tint = canvas.mask_color()  # chosen to contrast with this picture (issue 11), not a fixed pink
    base = canvas.grab().toImage().pixelColor(p)
    assert abs(base.red() - (original.red() + tint.red()) / 2) <= 2  # 50% tint over the picture
    assert abs(base.green() - (original.green() + tint.green()) / 2) <= 2
    canvas.set_mask_opacity(1.0)
    full = canvas.grab().toImage().pixelColor(p)
    assert (full.red(), full.green(), full.blue()) == (tint.red(), tint.green(), tint.blue())
    canvas.set_mask_visible(False)
    assert canvas.grab().toImage().pixelColor(p) == original


def test_checkerboard_behind_transparent_pixels(canvas):
    canvas.set_image(make_image(alpha=True))
    img = canvas.grab().toImage()
    colours = {img.pixelColor(wpt(canvas, x, 300)).name() for x in range(0, 190, 4)}
    assert colours == {"#ffffff", "#cccccc"}


def test_preview_draws_over_the_image_until_cleared(canvas):
    p = wpt(canvas, 400, 100)
    before = canvas.grab().toImage().pixelColor(p)
    canvas.show_preview(solid(200, 150, QColor(0, 200, 0)))  # smaller: scaled to the image rect
    assert canvas.grab().toImage().pixelColor(p) == QColor(0, 200, 0)
    canvas.clear_preview()
    assert canvas.grab().toImage().pixelColor(p) == before and not canvas.has_preview()


def test_compare_split_shows_before_left_and_after_right(canvas):
    canvas.set_compare_image(solid(W, H, QColor(0, 0, 255)))
    canvas.set_compare_split(0.5)
    img = canvas.grab().toImage()
    assert img.pixelColor(wpt(canvas, 150, 450)) == QColor(0, 0, 255)
    right = wpt(canvas, 650, 450)
    assert img.pixelColor(right) == make_image().pixelColor(650, 450)
    # Dragging the handle moves the split instead of painting.
    line = canvas.image_to_widget(QPointF(400, 300)).toPoint()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, line)
    QTest.mouseMove(canvas, line + QPoint(200, 0))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, line + QPoint(200, 0))
    assert canvas.compare_split() == pytest.approx(0.75)
    assert not canvas.has_mask()
    moved_over = wpt(canvas, 550, 450)
    assert canvas.grab().toImage().pixelColor(moved_over) == QColor(0, 0, 255)
    assert canvas.grab().toImage().pixelColor(right) == make_image().pixelColor(650, 450)
    canvas.set_compare_image(None)
    assert canvas.grab().toImage().pixelColor(right) == make_image().pixelColor(650, 450)


@pytest.mark.parametrize("zoom", [1.0, 3.3, 0.7])  # 3.3 snaps to 3: crisp zooms are whole numbers
def test_dirty_rect_repaints_match_a_full_repaint(canvas, zoom):
    """What reached the screen piece by piece equals a fresh full render (no seams, nothing stale)."""
    canvas.set_zoom(zoom)
    canvas.set_brush_size(24)
    canvas.set_brush_hardness(0.4)
    QApplication.processEvents()
    pts = [(300 + 200 * np.sin(i / 7) / zoom, 300 + 150 * np.sin(i / 5) / zoom) for i in range(40)]
    drag(canvas, pts)
    screen = argb_array(canvas.screen().grabWindow(canvas.winId()).toImage())
    fresh = argb_array(canvas.grab().toImage())
    diff = np.abs(channels(screen) - channels(fresh)).max()
    # Nearest-neighbour zooms must be exact; filtered ones may differ by bilinear rounding only.
    assert diff == 0 if zoom >= 1 else diff <= 4


def test_empty_canvas_paints_the_hint(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(700, 500)
    img = argb_array(c.grab().toImage())
    centre = img[200:300, 150:550]
    assert len(np.unique(centre)) > 5  # text and pictogram, not a flat fill
    assert "Ctrl+O" in HINT_TEXT


def test_accessibility_and_focus(canvas):
    assert canvas.objectName() == "canvas"
    assert canvas.accessibleName() == "Image canvas"
    assert canvas.focusPolicy() == Qt.FocusPolicy.StrongFocus


# ------------------------------------------------------------------------------------------ expand


def test_expand_canvas_masks_the_new_area(canvas, qtbot):
    canvas.set_tool(Tool.RECT)
    drag(canvas, [(10, 10), (20, 20)])
    with qtbot.waitSignal(canvas.imageExpanded) as sig:
        canvas.expand_canvas(30, 20, 10, 0)
    assert sig.args[0].width() == W + 40 and sig.args[0].height() == H + 20
    img = canvas.image()
    assert (img.width(), img.height()) == (W + 40, H + 20)
    assert img.pixelColor(0, 100) == img.pixelColor(30, 100)  # edge-extended, not blank
    assert img.pixelColor(130, 120) == make_image().pixelColor(100, 100)
    m = canvas.mask_array()
    assert (m[:20, :] == 255).all() and (m[:, :30] == 255).all() and (m[:, -10:] == 255).all()
    assert (m[30:40, 40:50] == 255).all() and m[100, 100] == 0  # the old selection moved along
    canvas.undo()  # Ctrl+Z takes back the expansion itself, not just its mask
    img = canvas.image()
    assert (img.width(), img.height()) == (W, H)
    m = canvas.mask_array()
    assert m.shape == (H, W) and (m[10:20, 10:20] == 255).all() and not m[:, 30:].any()
    canvas.redo()  # and redo grows it again, with the new area masked
    assert (canvas.image().width(), canvas.image().height()) == (W + 40, H + 20)
    assert (canvas.mask_array()[:20, :] == 255).all()
    canvas.undo()
    canvas.undo()  # the older selection step still applies to the original image
    assert not canvas.has_mask()
    with pytest.raises(ValueError):
        canvas.expand_canvas(-1, 0, 0, 0)


# ------------------------------------------------------------------------------------------ model units


def test_mask_layer_tint_alpha_always_equals_mask(qapp):
    layer = MaskLayer(301, 201)
    layer.paint_dabs([(50.3, 60.7), (90.0, 70.0)], 40, 0.2, erase=False)
    layer.fill_polygon([QPointF(100, 10), QPointF(290, 30), QPointF(200, 190)], subtract=False)
    layer.paint_dabs([(200.0, 100.0)], 70, 0.6, erase=True)
    layer.fill_rect(QRect(0, 150, 80, 40), subtract=False)
    tint = np.frombuffer(layer.tint_image().constBits(), np.uint32).reshape(201, 301)
    assert np.array_equal((tint >> 24).astype(np.uint8), layer.array())
    assert 0 < len(np.unique(layer.array())) > 20

@pytest.mark.parametrize("color", [QColor(255, 40, 90), QColor(10, 200, 120)])
def test_written_patches_tint_exactly_as_a_full_rebuild_does(qapp, color):
    """Undo and redo write tiles back through a colour table; the tint must be what the painter would make."""
    layer = MaskLayer(301, 201, color)
    layer.set_color(color)
    rng = np.random.default_rng(5)
    patches = [(-7, -3, rng.integers(0, 256, (40, 60), dtype=np.uint8)),  # partly off the top-left edge
               (120, 80, rng.integers(0, 256, (33, 17), dtype=np.uint8)),
               (290, 190, np.full((30, 30), 255, np.uint8))]  # partly off the bottom-right edge
    rects = layer.write_patches(patches)
    assert rects == [QRect(0, 0, 53, 37), QRect(120, 80, 17, 33), QRect(290, 190, 11, 11)]
    written = np.frombuffer(layer.tint_image().constBits(), np.uint32).reshape(201, 301).copy()
    layer.set_array(layer.array())  # the painter's full rebuild from the same mask
    rebuilt = np.frombuffer(layer.tint_image().constBits(), np.uint32).reshape(201, 301)
    assert np.array_equal(written, rebuilt)
    ys, xs = np.nonzero(layer.array())
    assert layer.has_paint()
    assert layer.bbox() == QRect(int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    layer.write_patches([(x, y, np.zeros_like(v)) for x, y, v in patches])
    assert not layer.has_paint() and layer.bbox().isEmpty()



def test_stroke_spacer_spaces_dabs_evenly_across_events():
    s = StrokeSpacer(10)
    pts = s.start(0, 0) + s.move_to(7, 0) + s.move_to(26, 0) + s.move_to(26, 0) + s.move_to(43, 0)
    assert [round(x, 6) for x, _ in pts] == [0, 10, 20, 30, 40]
    assert s.finish() == [(43, 0)] and s.finish() == []


def test_identical_edits_make_no_undo_step():
    stack = MaskUndoStack()
    same = np.full((5, 5), 9, np.uint8)
    assert stack.push(0, 0, same, same.copy()) is None and not stack.can_undo()


def test_pointer_position_is_reported_in_image_pixels(canvas, qtbot):
    with qtbot.waitSignal(canvas.cursorImagePos) as sig:
        QTest.mouseMove(canvas, wpt(canvas, 123.2, 45.3))
    assert sig.args == [QPoint(123, 45)]


def test_preview_on_an_empty_canvas_is_shown_fitted(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(600, 400)
    c.show_preview(solid(300, 200, QColor(200, 30, 30)))
    img = c.grab().toImage()
    assert img.pixelColor(300, 200) == QColor(200, 30, 30)
    assert img.pixelColor(100, 50) != QColor(200, 30, 30)  # shown at 100%, not stretched over the widget


# ---------------------------------------------------------------------------------------------- zoomed-out levels
@pytest.mark.parametrize(("fmt", "size"), [(QImage.Format.Format_RGB32, (7, 5)),
                                            (QImage.Format.Format_ARGB32_Premultiplied, (8, 6))])
def test_a_half_size_level_is_the_mean_of_each_2x2_block(fmt, size):
    from gptimg_desktop.ui.canvas.levels import half_size

    w, h = size
    rng = np.random.default_rng(3)
    img = QImage(w, h, fmt)
    rows = np.frombuffer(img.bits(), np.uint8).reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4)
    rows[:] = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if fmt == QImage.Format.Format_ARGB32_Premultiplied:
        rows[..., :3] = np.minimum(rows[..., :3], rows[..., 3:])  # valid premultiplied pixels
    else:
        rows[..., 3] = 255
    src = rows.astype(float)
    half = half_size(img)
    assert (half.width(), half.height()) == ((w + 1) // 2, (h + 1) // 2) and half.format() == fmt
    got = np.frombuffer(half.constBits(), np.uint8).reshape(half.height(), half.bytesPerLine())
    got = got[:, : 4 * half.width()].reshape(half.height(), half.width(), 4)
    expected = src[0:2, 0:2].mean(axis=(0, 1))  # the first block, every channel (alpha too)
    assert np.abs(got[0, 0] - expected).max() <= 1


def test_zoomed_out_the_canvas_draws_area_averaged_levels_made_off_the_gui_thread(canvas):
    c = canvas
    # One-pixel black and white stripes: sampled, they alias to black or white; averaged, they are grey.
    stripes = np.zeros((2048, 2048, 3), np.uint8)
    stripes[:, ::2] = 255
    c.set_image(QImage(stripes.data, 2048, 2048, 2048 * 3, QImage.Format.Format_RGB888).copy())
    c.set_zoom(0.125)
    c.grab()  # the first paint draws from the full image and starts making the levels
    assert c._levels.wait() and c._levels.built() >= 3  # 1/2, 1/4 and 1/8, made on their thread
    shot = c.grab().toImage()
    centre = QColor(shot.pixel(shot.width() // 2, shot.height() // 2))
    assert 110 <= centre.red() <= 145 and 110 <= centre.green() <= 145
    c.set_image(make_image())  # a new image: the old levels are gone and no stale build lands later
    assert c._levels.built() == 0
    c._levels.wait()
    assert c._levels.built() == 0 or c._levels.level(1).width() == (W + 1) // 2
