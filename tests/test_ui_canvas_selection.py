"""Canvas: the magic wand and Colour Range tools, the explicit selection mode and the mask display modes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from gptimg_desktop.ui.canvas.canvas import ImageCanvas, Tool


def product_shot() -> QImage:
    """A grey 600x400 studio backdrop with a red product (a uniform box) and a small red label elsewhere."""
    arr = np.full((400, 600, 3), 140, dtype=np.uint8)
    arr[100:300, 150:350] = (200, 30, 40)
    arr[20:60, 500:560] = (200, 30, 40)
    arr = np.ascontiguousarray(arr)
    return QImage(arr.data, 600, 400, 600 * 3, QImage.Format.Format_RGB888).copy()


@pytest.fixture
def canvas(qtbot):
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(800, 600)
    c.show()
    qtbot.waitExposed(c)
    c.set_image(product_shot())
    return c


def click(c: ImageCanvas, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(c, Qt.MouseButton.LeftButton, modifiers, c.image_to_widget(QPointF(x, y)).toPoint())


def test_the_magic_wand_selects_a_uniform_region(canvas):
    canvas.set_tool(Tool.WAND)
    click(canvas, 250, 200)
    m = canvas.mask_array()
    assert (m[100:300, 150:350] == 255).all()
    assert np.count_nonzero(m) == 200 * 200  # not the backdrop, not the separate label (contiguous)
    assert canvas.can_undo()
    canvas.undo()
    assert not canvas.has_mask()


def test_the_wand_can_select_globally_and_subtract(canvas):
    canvas.set_tool(Tool.WAND)
    canvas.set_pick_contiguous(False)
    click(canvas, 250, 200)
    m = canvas.mask_array()
    assert m[40, 530] == 255 and m[200, 250] == 255 and m[5, 5] == 0
    canvas.set_pick_contiguous(True)
    click(canvas, 530, 40, Qt.KeyboardModifier.AltModifier)  # Alt subtracts for one click
    m = canvas.mask_array()
    assert m[40, 530] == 0 and m[200, 250] == 255
    canvas.set_selection_mode("subtract")
    click(canvas, 250, 200)
    assert not canvas.has_mask()


def test_colour_range_adds_every_similar_colour(canvas):
    canvas.set_tool(Tool.COLOR_RANGE)
    canvas.set_pick_contiguous(False)
    canvas.set_pick_tolerance(20)
    click(canvas, 250, 200)
    m = canvas.mask_array()
    assert m[200, 250] == 255 and m[40, 530] == 255 and m[5, 5] == 0


def test_w_picks_the_wand_and_shift_w_colour_range(canvas):
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.tool() == Tool.WAND
    QTest.keyClick(canvas, Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.tool() == Tool.COLOR_RANGE


def test_the_default_mask_colour_contrasts_and_a_chosen_one_sticks(canvas):
    tint = canvas.mask_color()
    assert tint.blue() > 200 and tint.red() < 60  # cyan against the red product, never hot pink
    canvas.set_mask_color(QColor("#ffd400"))
    canvas.set_image(product_shot())
    assert canvas.mask_color() == QColor("#ffd400")


def test_mask_display_tint_outline_hidden(canvas):
    canvas.set_tool(Tool.WAND)
    click(canvas, 250, 200)
    canvas.set_mask_opacity(1.0)
    inside = canvas.image_to_widget(QPointF(250, 200)).toPoint()
    edge = canvas.image_to_widget(QPointF(150.5, 200)).toPoint()
    tinted = canvas.grab().toImage().pixelColor(inside)
    assert tinted == canvas.mask_color()
    canvas.set_mask_display("outline")
    img = canvas.grab().toImage()
    assert img.pixelColor(inside) == QColor(200, 30, 40)  # no tint inside
    near = {img.pixelColor(edge.x() + dx, edge.y()).name() for dx in (-1, 0, 1)}
    assert near & {"#000000", "#ffffff"}  # the ants run along the edge
    canvas.set_mask_display("hidden")
    assert not canvas.is_mask_visible()
    canvas.set_mask_visible(True)  # H brings back the last display
    assert canvas.mask_display() == "outline"
    with pytest.raises(ValueError):
        canvas.set_mask_display("glow")
