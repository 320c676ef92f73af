"""The editor window driven like a designer: open, paint, drop, pick a size, run, watch, cancel, recover.

Every test runs the real window offscreen against the built-in local server over loopback HTTP.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from support import drop_files, gradient_photo

from gptimg_desktop.devserver.faults import Fault

TIMEOUT_MS = 30_000


def _photo(path, size=(1024, 1024)):
    return str(gradient_photo(path, size))


def _paint_stroke(canvas, start: QPoint, steps: int = 12, dx: int = 10, dy: int = 4) -> None:
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(canvas, start + QPoint(i * dx, i * dy))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(steps * dx, steps * dy))


def _run_and_wait(qtbot, window):
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        QTest.keyClick(window.prompt.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return blocker.args[1]


def test_contract_names_exist(window):
    from PySide6.QtGui import QAction

    names = ["canvas", "promptEdit", "modelCombo", "sizeCombo", "widthSpin", "heightSpin", "qualityCombo",
             "countSpin", "runButton", "cancelButton", "referenceTray", "historyView", "jobsView"]
    for name in names:
        widget = window.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    assert window.objectName() == "MainWindow"
    for name in ["actionBrush", "actionEraser", "actionRect", "actionLasso", "actionInvertMask", "actionClearMask",
                 "actionUndo", "actionRedo", "actionOpen", "actionExport", "actionExpandCanvas"]:
        assert window.findChild(QAction, name) is not None, name


def test_first_start_is_demo_mode_with_a_banner(window):
    assert window.banner.isVisible()
    assert "Demo mode" in window.provider_label.text()


def test_generate_then_masked_edit_with_previews(qtbot, window):
    previews = []
    window.jobs.jobPartial.connect(lambda t, img, i, n: previews.append((i, window.canvas.has_preview())))
    window.prompt.set_prompt("A lighthouse on a cliff at dusk")
    size_index = window.prompt.size_combo.findText("Square", Qt.MatchFlag.MatchContains)
    window.prompt.size_combo.setCurrentIndex(size_index)
    result = _run_and_wait(qtbot, window)
    assert len(result.versions) == 1
    assert window.canvas.image().size().width() == 1024
    assert previews and all(shown for _i, shown in previews)  # partials were drawn on the canvas
    assert not window.canvas.has_preview()
    generated = result.versions[0]

    canvas = window.canvas
    _paint_stroke(canvas, canvas.rect().center() - QPoint(60, 20))
    assert canvas.has_mask()
    mask_before = canvas.mask_array()
    assert window.prompt.mode() == "masked edit"
    window.prompt.set_prompt("Paint the lighthouse red")
    result = _run_and_wait(qtbot, window)
    edit = result.versions[0]
    assert edit.parent_id == generated.id and edit.kind == "edit"
    assert np.array_equal(canvas.mask_array(), mask_before)  # the mask survives between attempts
    before = np.asarray(Image.open(generated.path).convert("RGB")).astype(int)
    after = np.asarray(Image.open(edit.path).convert("RGB")).astype(int)
    outside = mask_before == 0
    assert (before[outside] == after[outside]).all()
    assert np.abs(before[~outside] - after[~outside]).mean() > 3
    window.history.refresh()
    assert window.history.model.rowCount() == 1  # one root with the edit as its child
    assert "120 credits" in window.totals_label.text()


def test_open_paint_undo_redo(qtbot, window, tmp_path):
    window.open_image(_photo(tmp_path / "photo.png", (1024, 768)))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)
    assert window.prompt.mode() == "edit"
    canvas = window.canvas
    _paint_stroke(canvas, canvas.rect().center())
    painted = canvas.mask_array()
    assert painted.any()
    window.actionUndo.trigger()
    assert not canvas.mask_array().any()
    window.actionRedo.trigger()
    assert np.array_equal(canvas.mask_array(), painted)
    window.actionInvertMask.trigger()
    assert np.array_equal(canvas.mask_array(), 255 - painted)
    window.actionClearMask.trigger()
    assert not canvas.has_mask()


def test_drop_image_on_canvas_and_references_on_tray(qtbot, window, tmp_path):
    drop_files(window.canvas, [_photo(tmp_path / "base.png")])
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)
    refs = [_photo(tmp_path / f"ref{i}.png", (512, 512)) for i in range(2)]
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    drop_files(window.tray, [*refs, str(bad)])
    qtbot.waitUntil(lambda: window.tray.count() == 2 and not window.tray.is_loading(), timeout=TIMEOUT_MS)
    assert "notes.png" in window.tray.message()
    window.tray.set_role(0, "style")
    window.prompt.set_prompt("Restyle the photo")
    spec = window.build_spec()
    assert len(spec.images) == 3 and spec.roles[1] == "style"
    assert "image 2" in spec.request.prompt
    result = _run_and_wait(qtbot, window)
    assert result.versions[0].kind == "edit"


def test_custom_size_snaps_and_explains(qtbot, window):
    prompt = window.prompt
    custom = prompt.size_combo.findText("Custom", Qt.MatchFlag.MatchContains)
    prompt.size_combo.setCurrentIndex(custom)
    prompt.width_spin.setValue(1000)
    prompt.height_spin.setValue(1000)
    prompt.width_spin.editingFinished.emit()
    assert prompt.settings().size in ("1008x1008", "992x992", "1008x1000", "1000x1008") or "x" in prompt.settings().size
    w, h = (int(v) for v in prompt.settings().size.split("x"))
    assert w % 16 == 0 and h % 16 == 0


def test_error_is_shown_in_place_and_nothing_is_lost(qtbot, window, tmp_path):
    window.open_image(_photo(tmp_path / "photo.png"))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)
    _paint_stroke(window.canvas, window.canvas.rect().center())
    mask = window.canvas.mask_array()
    window.prompt.set_prompt("Replace the sky with fireworks")
    window.services.choice.demo_server.faults.push(Fault(kind="moderation", categories=["violence"]))
    with qtbot.waitSignal(window.jobs.jobFailed, timeout=TIMEOUT_MS) as blocker:
        window.prompt.request_run()
    assert "violence" in blocker.args[1]
    assert "violence" in window.prompt.error_text()
    assert window.prompt.prompt() == "Replace the sky with fireworks"
    assert np.array_equal(window.canvas.mask_array(), mask)
    # Try again: it works and the same inputs are used.
    result = _run_and_wait(qtbot, window)
    assert result.versions


def test_cancel_a_running_job(qtbot, window):
    window.services.choice.demo_server.faults.push(Fault(kind="slow", delay=20))
    window.prompt.set_prompt("A slow painting")
    with qtbot.waitSignal(window.jobs.jobStarted, timeout=TIMEOUT_MS):
        window.prompt.request_run()
    with qtbot.waitSignal(window.jobs.jobCancelled, timeout=5000):
        QTest.mouseClick(window.prompt.cancel_button, Qt.MouseButton.LeftButton)
    assert window.prompt.prompt() == "A slow painting"
    assert window.store.list_versions() == []


def test_count_above_one_shows_a_strip_to_pick_from(qtbot, window):
    window.prompt.set_prompt("Three logo ideas for a bakery")
    window.prompt.count_spin.setValue(3)
    window.prompt.stream_check.setChecked(False)
    result = _run_and_wait(qtbot, window)
    assert len(result.versions) == 3
    assert window.result_strip.isVisible() and window.result_strip.count() == 3
    item = window.result_strip.item(2)
    window.result_strip.itemClicked.emit(item)
    assert window.current_version_id == result.versions[2].id


def test_transparent_background_on_gpt_image_2_is_refused_before_sending(qtbot, window):
    prompt = window.prompt
    prompt.set_prompt("A product shot of a mug")
    prompt.background_combo.setCurrentIndex(prompt.background_combo.findData("transparent"))
    sent_before = len(window.services.choice.demo_server.requests)
    assert not prompt.request_run()
    assert "transparent" in prompt.error_text().lower()
    assert len(window.services.choice.demo_server.requests) == sent_before


def test_restore_inputs_brings_back_prompt_settings_mask_and_references(qtbot, window, tmp_path):
    window.open_image(_photo(tmp_path / "base.png"))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=TIMEOUT_MS)
    window.tray.add_files([_photo(tmp_path / "ref.png", (512, 512))], ["palette"])
    qtbot.waitUntil(lambda: window.tray.count() == 1 and not window.tray.is_loading(), timeout=TIMEOUT_MS)
    _paint_stroke(window.canvas, window.canvas.rect().center())
    mask = window.canvas.mask_array()
    window.prompt.set_prompt("Recolour the scarf teal")
    window.prompt.quality_combo.setCurrentIndex(window.prompt.quality_combo.findData("low"))
    result = _run_and_wait(qtbot, window)
    version = result.versions[0]

    # Change everything, then restore.
    window.new_image()
    window.tray.clear()
    window.prompt.set_prompt("something else")
    window.prompt.quality_combo.setCurrentIndex(window.prompt.quality_combo.findData("high"))
    window.restore_inputs(version.id)
    qtbot.waitUntil(lambda: window.canvas.has_mask() and window.tray.count() == 1 and not window.tray.is_loading(),
                    timeout=TIMEOUT_MS)
    assert window.prompt.prompt() == "Recolour the scarf teal"  # the typed prompt, without role wording
    assert window.prompt.settings().quality == "low"
    assert window.tray.references()[0].role == "palette"
    assert np.array_equal(window.canvas.mask_array(), mask)  # exactly as painted, soft edges included


def test_budget_warns_then_asks_before_crossing(qtbot, window, monkeypatch):
    window.store.set_global_budget(100, None)
    asked = []
    monkeypatch.setattr(window, "confirm_over_budget", lambda message: asked.append(message) or False)
    window.prompt.set_prompt("A budget-friendly postcard")
    window.prompt.stream_check.setChecked(False)
    _run_and_wait(qtbot, window)  # 60 of 100 credits: runs (a warning at most)
    assert not asked
    sent_before = len(window.services.choice.demo_server.requests)
    assert window.run() is None  # the next 60 would cross 100: asked, declined, not sent
    assert asked and "budget" in asked[0].lower()
    assert "budget" in window.prompt.error_text().lower()
    assert len(window.services.choice.demo_server.requests) == sent_before
    monkeypatch.setattr(window, "confirm_over_budget", lambda message: True)
    _run_and_wait(qtbot, window)  # confirmed: it runs
    assert window.store.usage_totals().credits == 120


def test_export_embeds_provenance_and_projects_separate_history(qtbot, window, tmp_path):
    from gptimg_desktop.core.export import read_metadata

    window.prompt.set_prompt("Menu card with the title 'Café Lumière'")
    version = _run_and_wait(qtbot, window).versions[0]
    target = tmp_path / "menu.webp"
    window.export_version_to(version.id, str(target))
    qtbot.waitUntil(target.exists, timeout=TIMEOUT_MS)
    meta = read_metadata(target)
    assert meta["prompt"].startswith("Menu card") and meta["model"] == "gpt-image-2" and meta["version"] == version.id

    window.store.ensure_project("Posters")
    window._project_changed("Posters")
    window.prompt.set_prompt("A jazz night poster")
    poster = _run_and_wait(qtbot, window).versions[0]
    assert poster.project == "Posters"
    assert "Posters: 60 credits" in window.totals_label.text()
