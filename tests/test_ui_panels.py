"""The side panels as a designer uses them: type, pick, drop, paste, run — real widgets, offscreen."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QPlainTextEdit,
)

from gptimg_desktop.core.models import FIXED_SIZES
from gptimg_desktop.core.pricing import PriceTable
from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.ui.jobs.jobs_view import JobsView
from gptimg_desktop.ui.prompt.prompt_panel import PromptPanel, PromptSettings
from gptimg_desktop.ui.references.reference_tray import Reference, ReferenceTray
from gptimg_desktop.ui.theme.style import apply_theme, stylesheet, theme_images_dir

CTRL = Qt.KeyboardModifier.ControlModifier


# ---------------------------------------------------------------------- helpers
@pytest.fixture
def panel(qtbot):
    w = PromptPanel()
    qtbot.addWidget(w)
    w.resize(360, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def tray(qtbot, tmp_path):
    w = ReferenceTray()
    qtbot.addWidget(w)
    w.set_scratch_dir(tmp_path / "scratch")
    w.resize(340, 600)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.wait_for_loads()


@pytest.fixture
def pngs(tmp_path):
    paths = []
    for i, colour in enumerate([(200, 80, 60), (60, 140, 200), (90, 180, 90)]):
        path = tmp_path / f"ref_{i}.png"
        Image.new("RGB", (320 + 64 * i, 240), colour).save(path)
        paths.append(str(path))
    return paths


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in {combo.objectName()}"
    combo.setCurrentIndex(index)


def _drop(widget, mime: QMimeData, at: QPointF | None = None) -> QDropEvent:
    """Send drag-enter + drop like a real drag; QDragEnterEvent takes QPointF on 6.12, QPoint on 6.11."""
    centre = at or QPointF(widget.width() / 2, widget.height() / 2)
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    try:
        enter = QDragEnterEvent(centre, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    except TypeError:
        enter = QDragEnterEvent(
            centre.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    try:
        drop = QDropEvent(centre, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    except TypeError:
        drop = QDropEvent(centre.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def _url_mime(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


# ---------------------------------------------------------------------- prompt panel
def test_typing_a_prompt_and_ctrl_enter_runs(panel, qtbot):
    qtbot.keyClicks(panel.prompt_edit, "A lighthouse at dusk")
    with qtbot.waitSignal(panel.runRequested, timeout=1000):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, CTRL)
    assert panel.prompt_edit.toPlainText() == "A lighthouse at dusk"  # Ctrl+Enter added no newline
    assert panel.error_text() == ""


def test_empty_prompt_is_refused_inline_without_a_signal(panel, qtbot):
    panel.count_spin.setFocus()
    with qtbot.assertNotEmitted(panel.runRequested):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert "prompt is empty" in panel.error_text()
    assert panel.error_strip.isVisible()
    assert panel.focusWidget() is panel.prompt_edit
    qtbot.mouseClick(panel.error_strip.findChild(QAbstractButton, "errorStripCloseButton"), Qt.MouseButton.LeftButton)
    assert panel.error_text() == "" and not panel.error_strip.isVisible()


def test_refused_transparent_background_focuses_background(panel, qtbot):
    panel.set_prompt("A logo mark")
    _select(panel.background_combo, "transparent")
    with qtbot.assertNotEmitted(panel.runRequested):
        assert panel.request_run() is False
    assert "transparent" in panel.error_text()
    assert panel.focusWidget() is panel.background_combo


def test_custom_size_snaps_and_explains(panel):
    _select(panel.size_combo, "custom")
    assert panel.width_spin.isEnabled() and panel.height_spin.isEnabled()
    panel.width_spin.setValue(1000)
    panel.height_spin.setValue(1000)
    panel.width_spin.editingFinished.emit()
    assert (panel.width_spin.value(), panel.height_spin.value()) == (1008, 1008)
    assert panel.settings().size == "1008x1008"
    assert panel.size_picker.hint_text() == "1000×1000 → 1008×1008: both sides must be multiples of 16"
    panel.set_prompt("x")
    panel.to_request().validate()


def test_presets_show_their_size_and_disable_the_spins(panel):
    texts = [panel.size_combo.itemText(i) for i in range(panel.size_combo.count())]
    assert texts[0] == "Auto" and texts[-1] == "Custom…"
    assert "Landscape 3:2 — 1536×1024" in texts
    _select(panel.size_combo, "1536x1024")
    assert not panel.width_spin.isEnabled()
    assert panel.settings().size == "1536x1024"
    assert not panel.experimental_badge.isVisible()
    _select(panel.size_combo, "3840x2160")
    assert panel.experimental_badge.isVisible()


def test_switching_model_repopulates_every_control(panel):
    _select(panel.size_combo, "3840x2160")
    _select(panel.model_combo, "gpt-image-1.5")
    model = panel.size_combo.model()
    enabled_sizes = {
        panel.size_combo.itemData(i)
        for i in range(panel.size_combo.count())
        if model.item(i).isEnabled() and panel.size_combo.itemData(i) not in ("auto", "custom")
    }
    assert enabled_sizes == set(FIXED_SIZES)
    assert not model.item(panel.size_combo.findData("custom")).isEnabled()
    assert panel.settings().size == "1536x1024"  # 4K 16:9 snapped to the nearest of the three
    assert "→ 1536×1024" in panel.size_picker.hint_text()
    # "shuts down on 2026-12-01" before that day, "was shut down on 2026-12-01" after it: the note says which
    assert "shut" in panel.model_note.text() and "2026-12-01" in panel.model_note.text()
    assert panel.model_note.isVisible()
    assert panel.count_spin.maximum() == 10

    _select(panel.model_combo, "gpt-image-2.6-sunburst")
    qualities = [panel.quality_combo.itemData(i) for i in range(panel.quality_combo.count())]
    assert "xhigh" in qualities and "max" in qualities
    assert not panel.model_note.isVisible()
    _select(panel.quality_combo, "xhigh")
    panel.set_prompt("x")
    assert panel.to_request().validate().quality == "xhigh"
    _select(panel.model_combo, "gpt-image-2")
    assert panel.settings().quality == "auto"  # gpt-image-2 has no xhigh: falls back


def test_transparent_on_gpt_image_2_warns_and_offers_cutout(panel, qtbot):
    _select(panel.background_combo, "transparent")
    warning = panel.transparent_warning
    assert warning.isVisible()
    assert warning.message().startswith("GPT Image 2 can't make transparent backgrounds.")
    assert "enable the preview in Settings" in warning.message()
    action = warning.action_button
    assert action.isVisible() and action.text() == "Use local cutout instead"
    with qtbot.waitSignal(panel.cutoutRequested, timeout=1000):
        qtbot.mouseClick(action, Qt.MouseButton.LeftButton)
    assert panel.settings().background == "auto"
    assert not warning.isVisible()


def test_transparent_preview_allowed_runs(panel, qtbot):
    panel.set_transparent_preview_allowed(True)
    panel.set_prompt("A sticker of a cat")
    _select(panel.background_combo, "transparent")
    assert panel.transparent_warning.property("kind") == "info"
    assert not panel.transparent_warning.action_button.isVisible()
    with qtbot.waitSignal(panel.runRequested, timeout=1000):
        panel.request_run()
    assert panel.to_request().allow_transparent_preview


def test_estimate_follows_quality_and_count(panel):
    panel.set_price_table(PriceTable(credits_per_image=60))
    panel.set_prompt("A red bicycle")
    _select(panel.quality_combo, "low")
    low = panel.estimate_text()
    _select(panel.quality_combo, "high")
    high = panel.estimate_text()
    assert low.startswith("≈ 60 credits · $") and low.endswith("· 1 image")
    assert low != high
    panel.count_spin.setValue(3)
    assert panel.estimate_text().startswith("≈ 180 credits")
    assert panel.estimate_text().endswith("· 3 images")
    before = panel.estimate_text()
    panel.set_input_sizes([(1024, 1024), (1536, 1024)])  # an edit sends images: more input tokens
    assert panel.estimate_text() != before
    panel.show_actual_cost(60, 0.19)
    assert panel.last_cost_label.text() == "Last run: 60 credits · $0.19"


def test_to_request_builds_a_valid_request(panel):
    panel.set_prompt("A bowl of ramen, top view")
    _select(panel.size_combo, "1024x1536")
    _select(panel.quality_combo, "medium")
    panel.count_spin.setValue(2)
    _select(panel.format_combo, "webp")
    assert panel.compression_spin.isEnabled()
    panel.compression_spin.setValue(80)
    request = panel.to_request(prompt_suffix="Match the style of image 2.")
    assert isinstance(request, ImageRequest)
    assert request.validate() is request
    assert (request.size, request.quality, request.n, request.output_format) == ("1024x1536", "medium", 2, "webp")
    assert request.output_compression == 80
    assert request.prompt.endswith("Match the style of image 2.")
    assert request.kind == "generate"
    _select(panel.format_combo, "png")
    assert not panel.compression_spin.isEnabled()
    assert panel.to_request().output_compression is None


def test_settings_round_trip(panel, qtbot):
    wanted = PromptSettings(
        prompt="Two foxes\nin the snow",
        model="gpt-image-2.6-sunburst",
        size="2000x1200",
        quality="xhigh",
        n=3,
        output_format="jpeg",
        output_compression=72,
        background="opaque",
        moderation="low",
        stream=False,
        partial_images=0,
        keep_outside_mask=False,
        feather_px=20,
    )
    with qtbot.waitSignal(panel.settingsChanged, timeout=1000):
        panel.apply_settings(wanted)
    assert panel.settings() == wanted
    assert panel.size_picker.is_custom()
    other = PromptPanel()
    qtbot.addWidget(other)
    other.apply_settings(PromptSettings.from_dict(panel.settings().to_dict()))
    assert other.settings() == wanted


def test_settings_from_dict_tolerates_old_and_odd_records():
    s = PromptSettings.from_dict({"prompt": "x", "n": "2", "stream": "false", "unknown": 1, "quality": None})
    assert (s.prompt, s.n, s.stream, s.quality) == ("x", 2, False, "auto")
    assert PromptSettings.from_dict(None) == PromptSettings()


def test_prompt_history_recall(panel, qtbot):
    panel.set_prompt_history(["newest prompt", "older prompt", "newest prompt", ""])
    assert panel.prompt_history() == ["newest prompt", "older prompt"]
    qtbot.keyClicks(panel.prompt_edit, "my draft")
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Up, CTRL)
    assert panel.prompt() == "newest prompt"
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Up, CTRL)
    assert panel.prompt() == "older prompt"
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Up, CTRL)  # no older entry: stays
    assert panel.prompt() == "older prompt"
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Down, CTRL)
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Down, CTRL)
    assert panel.prompt() == "my draft"
    actions = panel.recent_menu.actions()
    assert [a.text() for a in actions] == ["newest prompt", "older prompt"]
    actions[1].trigger()
    assert panel.prompt() == "older prompt"
    panel.set_prompt_history([])
    assert not panel.recent_button.isEnabled()


def test_mode_busy_cancel_and_finalize(panel, qtbot):
    for mode, text in (("edit", "Edit image"), ("masked edit", "Edit masked area"), ("generate", "Generate")):
        panel.set_mode(mode)
        assert panel.run_button.text() == text
    with pytest.raises(ValueError):
        panel.set_mode("paint")
    assert "Ctrl+Enter" in panel.run_button.toolTip()
    assert not panel.cancel_button.isEnabled()
    panel.set_busy(True)
    with qtbot.waitSignal(panel.cancelRequested, timeout=1000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    panel.set_busy(False)
    assert not panel.cancel_button.isEnabled()

    assert not panel.finalize_button.isEnabled()
    panel.set_last_run_quality("low")
    assert panel.finalize_button.isEnabled()
    with qtbot.waitSignal(panel.finalizeRequested, timeout=1000):
        qtbot.mouseClick(panel.finalize_button, Qt.MouseButton.LeftButton)
    panel.set_last_run_quality("high")
    assert not panel.finalize_button.isEnabled()


def test_keep_outside_mask_defaults_on_and_is_explained(panel):
    assert panel.keep_outside_check.isChecked()
    assert "blended back" in panel.keep_outside_check.toolTip()
    panel.feather_spin.setValue(12)
    assert panel.settings().feather_px == 12 and panel.settings().keep_outside_mask


def test_every_control_has_an_object_and_accessible_name(panel):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QPlainTextEdit)
    controls = [w for w in panel.findChildren(object) if isinstance(w, kinds)]
    assert len(controls) >= 15
    for w in controls:
        assert w.objectName(), w
        assert w.accessibleName(), w.objectName()
    names = {w.objectName(): w.accessibleName() for w in controls}
    assert names["promptEdit"] == "Prompt" and names["modelCombo"] == "Model" and names["sizeCombo"] == "Size"
    assert names["widthSpin"] == "Width" and names["countSpin"] == "Image count" and names["runButton"] == "Run"
    assert panel.minimumWidth() >= 320


# ---------------------------------------------------------------------- reference tray
def test_dropping_three_files_makes_three_cards(tray, qtbot, pngs):
    seen = []
    tray.changed.connect(lambda: seen.append(tray.count()))
    _drop(tray, _url_mime(*(QUrl.fromLocalFile(p) for p in pngs)))
    qtbot.waitUntil(lambda: tray.count() == 3, timeout=5000)
    refs = tray.references()
    assert [r.path for r in refs] == pngs  # drop order kept, whatever order the workers finished in
    assert (refs[2].width, refs[2].height) == (448, 240)
    assert len(tray.cards()) == 3
    assert (tray.cards()[0].thumb.pixmap().width(), tray.cards()[0].thumb.pixmap().height()) == (64, 48)
    assert tray.header_text() == "References (3 of 16)"
    tray.set_limit(15)
    assert tray.header_text() == "References (3 of 15 — with the canvas image, at most 16)"
    assert seen and seen[-1] == 3


def test_a_text_file_named_png_is_refused_by_name_and_others_stay(tray, qtbot, pngs, tmp_path):
    tray.add_files(pngs[:2])
    qtbot.waitUntil(lambda: tray.count() == 2, timeout=5000)
    fake = tmp_path / "notes.png"
    fake.write_text("just some text, not pixels")
    with qtbot.waitSignal(tray.refused, timeout=5000) as blocker:
        _drop(tray, _url_mime(QUrl.fromLocalFile(str(fake))))
    assert "notes.png" in blocker.args[0]
    assert "notes.png" in tray.message() and tray.message_strip.isVisible()
    assert [r.path for r in tray.references()] == pngs[:2]
    assert len(tray.cards()) == 2


def test_limit_is_enforced(tray, qtbot, pngs):
    tray.set_limit(2, canvas_counts=False)
    refused = []
    tray.refused.connect(refused.append)
    assert tray.add_files(pngs) == 2
    assert refused == [f"At most 2 images per edit; remove one first ({os.path.basename(pngs[2])} was not added)."]
    qtbot.waitUntil(lambda: tray.count() == 2, timeout=5000)
    assert not tray.paste_button.isEnabled()
    tray.set_limit(16)
    tray.add_files([pngs[2]])
    qtbot.waitUntil(lambda: tray.count() == 3, timeout=5000)
    tray.set_limit(3)  # 15 would leave room; 3 with the canvas is full
    assert tray.add_files([pngs[0] + ".missing.png"]) == 0
    assert "At most 4 images per edit, counting the canvas image; remove one first" in refused[-1]


def test_reorder_roles_and_wording(tray, qtbot, pngs):
    tray.set_limit(15)  # editing: image 1 is the canvas
    tray.add_files(pngs)
    qtbot.waitUntil(lambda: tray.count() == 3, timeout=5000)
    tray.move_reference(2, 0)
    assert [r.path for r in tray.references()] == [pngs[2], pngs[0], pngs[1]]
    card = tray.cards()[0]
    _select(card.role_combo, "subject")
    tray.set_role(2, "Style")
    assert [r.role for r in tray.references()] == ["subject", None, "style"]
    assert tray.role_wording() == "Use image 2 as the subject. Match the style of image 4."
    assert tray.cards()[2].info_label.text().startswith("Image 4")
    # the card's context menu moves it to the front
    menu = tray.cards()[2].build_menu()
    next(a for a in menu.actions() if a.text() == "Move to front").trigger()
    assert [r.role for r in tray.references()] == ["style", "subject", None]
    tray.remove(1)
    assert [r.path for r in tray.references()] == [pngs[1], pngs[0]]
    # a card dragged below the others lands last (the drop carries its position, as a QDrag would)
    mime = QMimeData()
    mime.setData("application/x-gptimg-reference-index", b"0")
    _drop(tray, mime, at=QPointF(tray.width() / 2, tray.height() - 4))
    assert [r.path for r in tray.references()] == [pngs[0], pngs[1]]
    mime.setData("application/x-gptimg-reference-index", b"1")
    top = tray.cards()[0].mapTo(tray, QPoint(10, 2))
    _drop(tray, mime, at=QPointF(top))
    assert [r.path for r in tray.references()] == [pngs[1], pngs[0]]
    tray.clear()
    assert tray.count() == 0 and tray.empty_hint.isVisible()


def test_set_references_restores_roles(tray, qtbot, pngs):
    saved = [Reference(pngs[0], "layout", 320, 240), Reference(pngs[1], None, 384, 240)]
    tray.set_references(saved)
    assert [r.role for r in tray.references()] == ["layout", None]  # at once, before thumbnails
    qtbot.waitUntil(lambda: not tray.is_loading(), timeout=5000)
    assert [(r.path, r.role, r.width) for r in tray.references()] == [(pngs[0], "layout", 320), (pngs[1], None, 384)]


def test_paste_image_from_clipboard(tray, qtbot, tmp_path):
    image = QImage(200, 120, QImage.Format.Format_RGB32)
    image.fill(QColor("#c04080"))
    QGuiApplication.clipboard().setImage(image)
    tray.setFocus()
    qtbot.keyClick(tray, Qt.Key.Key_V, CTRL)
    qtbot.waitUntil(lambda: tray.count() == 1, timeout=5000)
    ref = tray.references()[0]
    assert os.path.dirname(ref.path) == str(tmp_path / "scratch")
    assert (ref.width, ref.height) == (200, 120)
    with Image.open(ref.path) as im:
        assert im.format == "PNG" and im.getpixel((10, 10))[:3] == (0xC0, 0x40, 0x80)
    # the Paste button does the same
    qtbot.mouseClick(tray.paste_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tray.count() == 2, timeout=5000)


def test_clipboard_without_an_image_says_so(tray):
    QGuiApplication.clipboard().setText("hello")
    assert tray.paste_from_clipboard() == 0
    assert "clipboard has no image" in tray.message()


def test_web_link_is_refused_and_data_url_is_decoded(tray, qtbot):
    refused = []
    tray.refused.connect(refused.append)
    _drop(tray, _url_mime(QUrl("https://example.com/pictures/cat.jpg")))
    assert len(refused) == 1 and "Drag the image itself, or save it first" in refused[0]
    assert "cat.jpg" in refused[0] and tray.count() == 0 and not tray.is_loading()

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (10, 200, 30)).save(buf, "PNG")
    mime = QMimeData()
    mime.setText("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    _drop(tray, mime)
    qtbot.waitUntil(lambda: tray.count() == 1, timeout=5000)
    assert (tray.references()[0].width, tray.references()[0].height) == (96, 64)


def test_dropped_image_data_is_saved_as_a_scratch_png(tray, qtbot):
    image = QImage(64, 48, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 255, 128))
    mime = QMimeData()
    mime.setImageData(image)
    _drop(tray, mime)
    qtbot.waitUntil(lambda: tray.count() == 1, timeout=5000)
    assert tray.references()[0].path.endswith(".png")


def test_use_current_version_button(tray, qtbot):
    with qtbot.waitSignal(tray.useCurrentRequested, timeout=1000):
        qtbot.mouseClick(tray.use_current_button, Qt.MouseButton.LeftButton)
    assert tray.objectName() == "referenceTray" and tray.accessibleName() == "Reference images"


# ---------------------------------------------------------------------- jobs view
@pytest.fixture
def jobs(qtbot):
    w = JobsView()
    qtbot.addWidget(w)
    w.resize(340, 600)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_job_rows_progress_and_cost(jobs):
    assert jobs.empty_hint.isVisible()
    jobs.add_job("j1", "A cosy reading nook", "gpt-image-2 · 1536×1024 · high")
    jobs.add_job("j2", "Poster for a jazz night", "gpt-image-2 · 1024×1536 · low")
    assert jobs.job_ids() == ["j2", "j1"]  # newest first
    assert not jobs.empty_hint.isVisible()
    row = jobs.row("j1")
    assert row.status() == "queued" and row.status_text() == "Waiting in the queue"
    assert row.progress.maximum() == 0  # indeterminate while waiting
    jobs.set_status("j1", "running")
    jobs.set_progress("j1", 2, 3)
    assert row.status_text() == "preview 2 of 3"
    assert (row.progress.value(), row.progress.maximum()) == (2, 3)
    jobs.set_progress("j1", 0, None)
    assert row.progress.maximum() == 0
    jobs.set_status("j1", "succeeded")
    jobs.set_cost("j1", 60, 0.19)
    assert row.cost_text() == "60 credits · $0.19"
    assert not row.cancel_button.isVisible() and not row.progress.isVisible()
    assert not row.retry_button.isVisible()
    with pytest.raises(ValueError):
        row.set_status("exploded")


def test_failure_shows_error_and_retry(jobs, qtbot):
    jobs.add_job("j1", "Replace the sky", "gpt-image-2 · auto · medium")
    jobs.set_status("j1", "running")
    jobs.set_status("j1", "failed", "Refused")
    jobs.set_error("j1", "The request timed out after 120 seconds. Try again, or pick a lower quality.")
    row = jobs.row("j1")
    assert row.status() == "failed" and row.status_text() == "Refused"
    assert row.error_text().startswith("The request timed out")
    assert row.error_label.wordWrap() and row.retry_button.isVisible()
    with qtbot.waitSignal(jobs.retryJob, timeout=1000) as blocker:
        qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["j1"]


def test_cancel_signal_and_removal(jobs, qtbot):
    jobs.add_job("a", "First", "d")
    jobs.add_job("b", "Second", "d")
    jobs.set_status("b", "running")
    with qtbot.waitSignal(jobs.cancelJob, timeout=1000) as blocker:
        qtbot.mouseClick(jobs.row("b").cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["b"]
    jobs.set_status("b", "cancelled")
    assert jobs.row("b").retry_button.isVisible()
    jobs.set_status("a", "interrupted")
    assert "Interrupted" in jobs.row("a").status_text()
    jobs.set_progress("missing", 1, 2)  # an unknown job is ignored, not an error
    jobs.clear_finished()
    assert jobs.job_ids() == []
    jobs.add_job("c", "Third", "d")
    jobs.remove_job("c")
    assert jobs.job_ids() == [] and jobs.empty_hint.isVisible()


# ---------------------------------------------------------------------- theme and rendering
def test_theme_applies_and_widgets_render(qtbot, tmp_path, pngs):
    app = QApplication.instance()
    old_sheet, old_palette = app.styleSheet(), app.palette()
    try:
        apply_theme(app)
        images = theme_images_dir()
        assert images and os.path.exists(os.path.join(images, "check.png"))
        assert "#4c8dff" in stylesheet(images)
        for widget, size in ((PromptPanel(), (340, 900)), (ReferenceTray(), (340, 500)), (JobsView(), (340, 400))):
            qtbot.addWidget(widget)
            widget.resize(*size)
            widget.show()
            qtbot.waitExposed(widget)
            shot = widget.grab()
            path = tmp_path / f"{widget.objectName()}.png"
            assert shot.save(str(path))
            with Image.open(path) as im:
                assert im.size[0] >= 320
                # a themed dark surface, not the default light grey
                assert sum(im.convert("RGB").getpixel((2, im.size[1] - 3))) < 3 * 80
    finally:
        app.setStyleSheet(old_sheet)
        app.setPalette(old_palette)
