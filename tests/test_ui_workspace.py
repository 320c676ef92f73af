"""The workspace of issue 11, in the real window: tools and their checked state, the context bar, the wheel,
panels that never clip or scroll sideways at 1280x800 and 1920x1080, Tab, the results grid, recent files."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QColor, QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)
from support import lay_out_window

from gptimg_desktop.ui.canvas.canvas import Tool
from gptimg_desktop.ui.common.elided_label import ElidedLabel

TIMEOUT_MS = 20000
TOOL_ACTIONS = {"actionBrush": Tool.BRUSH, "actionEraser": Tool.ERASER, "actionRect": Tool.RECT,
                "actionLasso": Tool.LASSO, "actionMagicWand": Tool.WAND, "actionColorRange": Tool.COLOR_RANGE}


def product_shot(path) -> str:
    """A grey backdrop with a uniform red product, saved as a real PNG file."""
    arr = np.full((400, 600, 3), 140, dtype=np.uint8)
    arr[100:300, 150:350] = (200, 30, 40)
    arr = np.ascontiguousarray(arr)
    QImage(arr.data, 600, 400, 600 * 3, QImage.Format.Format_RGB888).copy().save(str(path))
    return str(path)


def open_product(qtbot, window, tmp_path) -> None:
    window.open_image(product_shot(tmp_path / "product.png"))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)


def wheel(widget: QWidget, delta: int = -120) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, delta),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def checked_tools(window) -> list[Tool]:
    return [tool for name, tool in TOOL_ACTIONS.items() if window.findChild(QAction, name).isChecked()]


# ---------------------------------------------------------------------------------------- contract names


def test_new_contract_names_exist(window):
    for name in ("actionMagicWand", "actionColorRange"):
        action = window.findChild(QAction, name)
        assert action is not None and action.isCheckable() and action.toolTip(), name
    assert window.findChild(QWidget, "maskColorButton") is not None
    assert window.findChild(QWidget, "variantGrid") is window.result_strip
    for name in TOOL_ACTIONS:
        assert window.findChild(QAction, name).isCheckable(), name


# ---------------------------------------------------------------------------------------- the wheel


def test_a_wheel_over_an_unfocused_combo_leaves_its_value(qtbot, window):
    prompt = window.prompt
    prompt.prompt_edit.setFocus()
    qtbot.waitUntil(prompt.prompt_edit.hasFocus)
    for control in (prompt.model_combo, prompt.quality_combo, prompt.count_spin, window.context_bar.opacity_slider):
        before = control.currentIndex() if isinstance(control, QComboBox) else control.value()
        for delta in (-120, 120, -120, -120):
            wheel(control, delta)
        after = control.currentIndex() if isinstance(control, QComboBox) else control.value()
        assert after == before, control.objectName()
        assert not control.hasFocus()
    assert prompt.settings().model == "gpt-image-2"  # the model never switched under the pointer


def test_a_focused_control_still_takes_the_wheel_and_the_panel_scrolls(qtbot, window):
    combo = window.prompt.quality_combo
    combo.setCurrentIndex(1)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    before = combo.currentIndex()
    wheel(combo, -120)
    assert combo.currentIndex() != before  # a deliberate wheel on a focused control works as in any app
    spin = window.prompt.count_spin
    assert spin.focusPolicy() != Qt.FocusPolicy.WheelFocus  # a passing wheel cannot focus it either


# ---------------------------------------------------------------------------------------- tools


def test_the_checked_tool_action_always_matches_the_canvas_tool(qtbot, window, tmp_path):
    open_product(qtbot, window, tmp_path)
    canvas = window.canvas
    assert checked_tools(window) == [canvas.tool()] == [Tool.BRUSH]
    for name, tool in TOOL_ACTIONS.items():  # the strip and the menus
        window.findChild(QAction, name).trigger()
        assert canvas.tool() == tool and checked_tools(window) == [tool]
    for tool in Tool:  # anything that sets the tool directly
        canvas.set_tool(tool)
        assert checked_tools(window) == [tool]
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    for key, modifiers in ((Qt.Key.Key_B, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier),
                           (Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_M, Qt.KeyboardModifier.NoModifier),
                           (Qt.Key.Key_L, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_W, Qt.KeyboardModifier.NoModifier),
                           (Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier), (Qt.Key.Key_E, Qt.KeyboardModifier.NoModifier)):
        QTest.keyClick(canvas, key, modifiers)
        assert checked_tools(window) == [canvas.tool()], (key, canvas.tool())
    window.actionEraser.trigger()
    window.actionEraser.trigger()  # triggering the checked tool again keeps it checked: one is always checked
    assert checked_tools(window) == [Tool.ERASER]
    assert window.context_bar.tool_label.text() == "Eraser"


def test_after_x_then_the_rectangle_tool_a_drag_adds_unless_subtract_is_chosen(qtbot, window, tmp_path):
    open_product(qtbot, window, tmp_path)
    canvas = window.canvas
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    QTest.keyClick(canvas, Qt.Key.Key_X)
    assert canvas.tool() == Tool.ERASER
    window.actionRect.trigger()
    bar = window.context_bar
    assert bar.add_button.isVisible() and bar.add_button.isChecked() and not bar.subtract_button.isChecked()

    def drag(x0, y0, x1, y1):
        a = canvas.image_to_widget(QPointF(x0, y0)).toPoint()
        b = canvas.image_to_widget(QPointF(x1, y1)).toPoint()
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
        QTest.mouseMove(canvas, b)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)

    drag(50, 50, 250, 200)
    mask = canvas.mask_array()
    assert mask[100, 100] == 255 and mask[190, 240] == 255  # added, not subtracted
    QTest.mouseClick(bar.subtract_button, Qt.MouseButton.LeftButton)  # chosen explicitly
    assert canvas.selection_mode() == "subtract"
    drag(50, 50, 150, 120)
    mask = canvas.mask_array()
    assert mask[80, 80] == 0 and mask[190, 240] == 255
    window.actionSelectAdd.trigger()
    assert bar.add_button.isChecked() and canvas.selection_mode() == "add"


def test_the_magic_wand_selects_a_uniform_region_from_the_window(qtbot, window, tmp_path):
    open_product(qtbot, window, tmp_path)
    window.actionMagicWand.trigger()
    bar = window.context_bar
    assert bar.tolerance.isVisible() and bar.contiguous_check.isVisible() and not window.size_spin.isVisible()
    canvas = window.canvas
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.image_to_widget(QPointF(250, 200)).toPoint())
    mask = canvas.mask_array()
    assert (mask[100:300, 150:350] == 255).all() and np.count_nonzero(mask) == 200 * 200
    assert window.prompt.mode() == "masked edit"
    assert "Masked edit" in window.mask_hint.text()


def test_mask_colour_display_and_opacity_from_the_context_bar(qtbot, window, tmp_path):
    open_product(qtbot, window, tmp_path)
    canvas, bar = window.canvas, window.context_bar
    assert canvas.mask_color().red() < 60  # contrasts with the red product: not the old hot pink
    assert bar.color_button.color() == canvas.mask_color()
    bar.color_button.set_color(Qt.GlobalColor.yellow)
    assert canvas.mask_color().name() == "#ffff00"
    bar.set_display("outline")
    assert canvas.mask_display() == "outline"
    bar.set_display("hidden")
    assert not canvas.is_mask_visible() and not window.actionToggleMask.isChecked()
    window.actionToggleMask.trigger()
    assert canvas.mask_display() == "outline" and bar.display() == "outline"
    bar.opacity.setValue(80)
    assert canvas.mask_opacity() == pytest.approx(0.8) and bar.opacity.text() == "80 %"
    assert window.hardness_slider.parent().findChild(QLabel, "brushHardnessSliderValue").text().endswith("%")


def test_each_image_gets_its_own_contrasting_mask_colour_until_the_designer_picks_one(qtbot, window, tmp_path):
    """Walkthrough: the first image's automatic colour was echoed back as if picked, so a red mug opened later
    kept a magenta mask."""
    canvas, bar = window.canvas, window.context_bar
    cyan_sky = np.full((400, 600, 3), (10, 220, 250), dtype=np.uint8)
    QImage(cyan_sky.data, 600, 400, 600 * 3, QImage.Format.Format_RGB888).copy().save(str(tmp_path / "sky.png"))
    window.open_image(str(tmp_path / "sky.png"))
    qtbot.waitUntil(lambda: window.source.path == str(tmp_path / "sky.png"), timeout=TIMEOUT_MS)
    on_sky = canvas.mask_color()
    assert on_sky.blue() < 200 and bar.color_button.color() == on_sky  # not cyan on a cyan sky
    open_product(qtbot, window, tmp_path)
    qtbot.waitUntil(lambda: canvas.mask_color() != on_sky, timeout=TIMEOUT_MS)
    assert canvas.mask_color().red() < 60 and bar.color_button.color() == canvas.mask_color()

    bar.color_button.set_color(QColor("#ffff00"))  # the designer's pick stays for every image after
    window.open_image(str(tmp_path / "sky.png"))
    qtbot.waitUntil(lambda: window.source.path == str(tmp_path / "sky.png"), timeout=TIMEOUT_MS)
    assert canvas.mask_color().name() == "#ffff00"


# ---------------------------------------------------------------------------------------- panels


def _side_panel_problems(window) -> list[str]:
    problems = []
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
    assert {d.objectName() for d in docks} >= {"promptDock", "outputDock", "historyDock", "jobsDock",
                                                 "referencesDock"}
    for dock in docks:
        inner = dock.widget()
        if inner is None or not inner.isVisible():
            continue
        dock_width = dock.width()
        for widget in [inner, *inner.findChildren(QWidget)]:
            if not widget.isVisible() or widget.isWindow():
                continue
            name = f"{dock.objectName()}/{widget.objectName() or type(widget).__name__}"
            left = widget.mapTo(dock, QPoint(0, 0)).x()
            if left < -1 or left + widget.width() > dock_width + 1:
                problems.append(f"{name} spans x {left}..{left + widget.width()} in a {dock_width} px dock")
            if isinstance(widget, QAbstractScrollArea) and widget.horizontalScrollBar().isVisible():
                problems.append(f"{name} scrolls sideways")
            if isinstance(widget, QSpinBox):  # the value, the arrows and the padding fit
                need = widget.fontMetrics().horizontalAdvance(widget.text()) + 40
                if widget.width() < need:
                    problems.append(f"{name} is {widget.width()} px, shows {widget.text()!r} in {need}")
            elif isinstance(widget, QAbstractButton | QSlider):
                need = widget.minimumSizeHint().width()
                if widget.width() + 1 < need:
                    problems.append(f"{name} is {widget.width()} px, needs {need}")
            if isinstance(widget, QLabel) and not isinstance(widget, ElidedLabel) and not widget.wordWrap():
                text = widget.text()
                if text and "<" not in text and widget.fontMetrics().horizontalAdvance(text) > \
                        widget.contentsRect().width() + 2:
                    problems.append(f"{name} clips {text!r}")
    return problems


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_side_panels_never_clip_or_scroll_sideways(qtbot, window, size):
    lay_out_window(qtbot, window, size)
    assert _side_panel_problems(window) == []
    # The walkthrough's case: a 4K experimental size widened the form past its dock.
    prompt = window.prompt
    index = prompt.size_combo.findText("4K", Qt.MatchFlag.MatchContains)
    if index >= 0:
        prompt.size_combo.setCurrentIndex(index)
    else:
        prompt.width_spin.setValue(3840)
        prompt.height_spin.setValue(2160)
    qtbot.wait(50)
    QApplication.processEvents()
    assert _side_panel_problems(window) == []


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_an_error_and_references_never_squeeze_the_prompt_or_cut_the_run_button(qtbot, window, size):
    """The walkthrough's case: an error pushed the prompt out of its dock and "+1 reference" cut Run's label."""
    lay_out_window(qtbot, window, size)
    prompt = window.prompt
    prompt.set_mode("masked edit")
    prompt.set_reference_count(16, "+16 references")
    prompt.set_error("huge.png could not be opened: it is 9000x6000 pixels — too large to open safely; "
                     "resize it below 40 megapixels and open it again.")
    qtbot.wait(50)
    QApplication.processEvents()
    edit = prompt.prompt_edit
    assert edit.visibleRegion().boundingRect().height() >= 100  # five lines of prompt, not one
    run = prompt.run_button
    assert run.width() >= run.fontMetrics().horizontalAdvance(run.text()) + 16, run.text()
    text = prompt.error_strip.findChild(QLabel, "errorStripText")
    assert text.height() >= text.heightForWidth(text.width())  # every line of the message shows
    title = window.references_dock.title_bar  # folded at 1280x800: its whole title still shows
    assert title.visibleRegion().boundingRect().height() == title.height()

    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    QTest.keyClicks(edit, " at dusk")
    assert prompt.error_text() == ""  # typing the fix takes the message about the last attempt away


def test_at_1920x1080_prompt_output_run_and_references_show_at_once(qtbot, window):
    lay_out_window(qtbot, window, (1920, 1080))

    def on_screen(widget: QWidget) -> bool:
        if not widget.isVisible():
            return False
        r = widget.visibleRegion().boundingRect()
        return r.height() >= min(widget.height(), 20) and r.width() > 0

    prompt = window.prompt
    for widget in (prompt.prompt_edit, prompt.model_combo, prompt.size_combo, prompt.quality_combo,
                   prompt.count_spin, prompt.run_button, window.tray):
        assert on_screen(widget), widget.objectName()
    assert not window.references_dock.is_collapsed() and not window.output_dock.is_collapsed()


def test_tab_hides_and_shows_all_panels(qtbot, window):
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    window.jobs_dock.hide()  # a panel the user closed stays closed
    QTest.keyClick(window.canvas, Qt.Key.Key_Tab)
    docks = window.findChildren(QDockWidget)
    assert not any(d.isVisible() for d in docks)
    QTest.keyClick(window.canvas, Qt.Key.Key_Tab)
    shown = {d.objectName() for d in docks if d.isVisible()}
    # Batches shares the Jobs dock area as a tab: with Jobs closed it is the one left showing there.
    assert shown == {"promptDock", "outputDock", "referencesDock", "historyDock", "batchesDock"}


def test_panels_collapse_and_the_layout_is_saved(qtbot, window):
    window.output_dock.set_collapsed(True)
    assert not window.output_dock.widget().isVisible()
    window.save_layout()
    assert window.settings.value("window/collapsed_panels") in (["outputDock"], "outputDock")
    window.output_dock.set_collapsed(False)
    window._restore_layout()
    assert window.output_dock.is_collapsed()
    window.reset_layout()
    assert not window.output_dock.is_collapsed()


def test_shortcuts_focus_the_prompt_the_history_and_the_results(qtbot, window):
    window.actionFocusPrompt.trigger()
    qtbot.waitUntil(window.prompt.prompt_edit.hasFocus)
    window.actionFocusHistory.trigger()  # an empty history: its search field
    qtbot.waitUntil(lambda: window.history.search.hasFocus() or window.history.tree.hasFocus())
    window.actionFocusResults.trigger()  # nothing to choose from yet: says so, no crash
    assert "No results" in window.statusBar().currentMessage()


# ---------------------------------------------------------------------------------------- results, files


def test_n_results_show_in_a_grid_keys_pick_and_ab_flickers(qtbot, window):
    prompt = window.prompt
    prompt.set_prompt("Four label ideas for a jam jar")
    prompt.count_spin.setValue(4)
    prompt.stream_check.setChecked(False)
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        window.run()
    result = blocker.args[1]
    grid = window.result_strip
    assert window.results.isVisible() and grid.count() == 4
    assert window.results.title.text() == "4 results"
    assert grid.tile_size() >= 72
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_3)
    assert window.current_version_id == result.versions[2].id and grid.currentRow() == 2
    QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     grid.visualItemRect(grid.item(1)).center())
    assert window.current_version_id == result.versions[1].id
    frames = []
    grid.flickerFrame.connect(frames.append)
    window.actionFlicker.trigger()
    assert grid.is_flickering() and window.results.flicker_button.isChecked()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=3000)
    assert set(frames) <= {1, 2} and 2 in frames  # B is the one chosen before
    window.actionFlicker.trigger()
    assert not grid.is_flickering() and not window.canvas.has_preview()


def test_open_recent_and_copy_to_clipboard(qtbot, window, tmp_path):
    path = product_shot(tmp_path / "recent.png")
    window.open_image(path)
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)
    assert window.recent_files.paths()[0] == str(tmp_path / "recent.png")
    texts = [a.text() for a in window.recent_files.menu.actions()]
    assert any("recent.png" in t for t in texts)
    window.actionCopyImage.trigger()
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (600, 400)
    window.recent_files.clear()
    assert window.recent_files.paths() == []


def test_the_status_bar_counts_in_words(window):
    from gptimg_desktop.ui.common.plural import plural

    assert plural(1, "image") == "1 image" and plural(0, "image") == "0 images" and plural(2, "credit") == "2 credits"
    assert "0 images" in window.totals_label.text()


# ---------------------------------------------------------------------------------------- dialogs


def test_expand_canvas_shows_exactly_what_it_applies_and_follows_the_anchor(qtbot):
    from gptimg_desktop.ui.canvas.expand_dialog import ExpandCanvasDialog

    dialog = ExpandCanvasDialog(1536, 1024, "gpt-image-2")
    qtbot.addWidget(dialog)
    dialog.findChild(QAbstractButton, "expandPresetWidento169").click()
    shown = tuple(dialog.spins[k].value() for k in ("left", "top", "right", "bottom"))
    assert shown == dialog.margins()  # the walkthrough: 142 shown a side, 144 applied
    left, _top, right, _bottom = shown
    assert f"{1536 + left + right}×1024" in dialog.result_label.text()
    dialog.anchor.set_anchor(0, 1)  # keep the picture on the left: all the growth goes right
    assert dialog.margins()[0] == 0 and dialog.margins()[2] == left + right
    dialog.anchor.set_anchor(2, 1)
    assert dialog.margins()[2] == 0 and dialog.margins()[0] == left + right
    dialog.preview.marginsDragged.emit(0, 160, 0, 0)  # a handle dragged up
    assert dialog.margins()[1] >= 160 and dialog.spins["top"].value() == dialog.margins()[1]


def test_grow_and_feather_preview_live_and_ok_is_one_undo_step(qtbot, window, tmp_path, monkeypatch):
    from gptimg_desktop.ui.canvas import amount_dialog

    open_product(qtbot, window, tmp_path)
    canvas = window.canvas
    window.actionMagicWand.trigger()
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.image_to_widget(QPointF(250, 200)).toPoint())
    before = canvas.mask_array()
    seen = {}

    class Driven(amount_dialog.AmountDialog):
        def exec(self) -> int:
            self.slider.setValue(20)
            self._show_preview()  # what the debounce timer does after the drag
            seen["preview"] = canvas.mask_array().copy()
            assert self.slider.text() == "20 px"
            return 1

    monkeypatch.setattr("gptimg_desktop.ui.window.main_window.AmountDialog", Driven)
    window.actionGrowMask.trigger()
    assert np.count_nonzero(seen["preview"]) > np.count_nonzero(before)  # the canvas showed the grown mask
    grown = canvas.mask_array()
    assert np.array_equal(grown, seen["preview"])
    canvas.undo()
    assert np.array_equal(canvas.mask_array(), before)  # one undo step takes the whole grow back


# ---------------------------------------------------------------------------------------- history rows


def test_sibling_rows_say_what_differs():
    from gptimg_desktop.ui.history.sibling_labels import sibling_title

    same = ["Recolour the mug a deep teal glaze"] * 3
    assert [sibling_title(same, i) for i in range(3)] == [
        f"Variant {i} of 3 · Recolour the mug a deep teal glaze" for i in (1, 2, 3)]
    alike = ["Recolour the mug a deep teal glaze", "Recolour the mug a matte black glaze", "A new poster"]
    assert sibling_title(alike, 0) == "…deep teal glaze"
    assert sibling_title(alike, 1) == "…matte black glaze"
    assert sibling_title(alike, 2) == "A new poster"
    assert sibling_title(["Only child"], 0) == "Only child"


def test_history_thumbnails_have_a_size_slider(qtbot, window):
    history = window.history
    slider = history.thumb_slider
    assert slider.value() == history.delegate.thumb >= 64 and slider.text() == f"{slider.value()} px"
    slider.setValue(112)
    assert history.delegate.thumb == 112 and history.delegate.row_height() == 128
    slider.setValue(10)  # clamped to the smallest useful size
    assert history.delegate.thumb == 40


def test_export_with_a_preset_resizes_converts_and_names_the_file(qtbot, window, tmp_path):
    import io

    from PIL import Image, ImageCms

    from gptimg_desktop.core.export_presets import preset_named, srgb_profile

    open_product(qtbot, window, tmp_path)
    target = tmp_path / "for-the-web.png"  # the preset's format wins: the file becomes .webp
    window.export_actions.export_to(str(target), preset_named("Social WebP"))
    written = tmp_path / "for-the-web.webp"
    qtbot.waitUntil(written.exists, timeout=TIMEOUT_MS)
    with Image.open(written) as img:
        assert img.format == "WEBP" and img.size == (600, 400)  # already under 1080: never enlarged
        icc = img.info.get("icc_profile")
        assert icc and ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).startswith("sRGB")
        assert icc == srgb_profile()
    menu = window._export_presets_menu
    assert menu.isEnabled() and any("Web JPEG" in a.text() for a in menu.actions())


def test_switching_tools_never_widens_a_1280_window(qtbot, window):
    # The context bar used to show the new tool's options before hiding the old ones: for a moment its minimum
    # was wider than 1280 px, and Qt grew the window to 1432 px, past the screen's edge.
    window.resize(1280, 800)
    qtbot.wait(20)
    for action in (window.actionMagicWand, window.actionBrush, window.actionColorRange, window.actionEraser,
                   window.actionRect, window.actionMagicWand, window.actionLasso, window.actionBrush):
        action.trigger()
        QApplication.processEvents()
        assert window.width() == 1280, action.objectName()
    assert window.minimumSizeHint().width() <= 1280
