"""The window's history, image and export actions, reached the way a designer reaches them.

Each action is triggered through its menu action or the history panel's signal (not by calling the
method), so the wiring from widgets to the code behind the window is checked too. Real window,
offscreen, against the built-in local server over loopback HTTP.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from support import gradient_photo

TIMEOUT_MS = 30_000


def _open_photo(qtbot, window, path, size=(1024, 1024)) -> str:
    gradient_photo(path, size)
    window.open_image(str(path))
    qtbot.waitUntil(lambda: window.source.path == str(path), timeout=TIMEOUT_MS)
    return str(path)


def _run_and_wait(qtbot, window):
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        window.run()
    return blocker.args[1]


def _parent_and_child(qtbot, window):
    """A generated version and a masked edit of it (the edit's parent is the generated one)."""
    window.prompt.set_prompt("A lighthouse on a cliff")
    window.prompt.stream_check.setChecked(False)
    parent = _run_and_wait(qtbot, window).versions[0]
    canvas = window.canvas
    start = canvas.rect().center()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 8):
        QTest.mouseMove(canvas, start + QPoint(i * 10, i * 4))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(70, 28))
    window.prompt.set_prompt("Paint the lighthouse red")
    child = _run_and_wait(qtbot, window).versions[0]
    assert child.parent_id == parent.id
    return parent, child


def _save_dialog_returns(monkeypatch, path: str, asked: list | None = None) -> None:
    def fake(*args, **kwargs):
        if asked is not None:
            asked.append(args)
        return path, ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))


def test_history_signals_show_continue_and_compare_versions(qtbot, window, monkeypatch):
    parent, child = _parent_and_child(qtbot, window)
    compared = []
    original = window.canvas.set_compare_image
    monkeypatch.setattr(window.canvas, "set_compare_image",
                        lambda image: compared.append(image) or original(image))

    window.history.versionActivated.emit(parent.id)
    qtbot.waitUntil(lambda: window.current_version_id == parent.id, timeout=TIMEOUT_MS)
    assert window.source.path == str(parent.path) and not window.source.modified

    # A version without a parent cannot be compared: said, and the toggle stays off.
    window.actionCompare.setChecked(True)
    assert not window.actionCompare.isChecked()
    assert "has a parent" in window.statusBar().currentMessage()
    window.history.compareRequested.emit(parent.id)
    assert "no parent" in window.statusBar().currentMessage()
    assert compared == [None]  # only the toggle going off again, which ends any compare

    window.history.continueRequested.emit(child.id)
    assert "new branch" in window.statusBar().currentMessage()  # said at once; the load note follows
    qtbot.waitUntil(lambda: window.current_version_id == child.id, timeout=TIMEOUT_MS)

    def compared_and_loaded(count: int) -> bool:
        return len(compared) == count and compared[-1] is not None

    # Compare with parent (Ctrl+K): the parent is loaded off the GUI thread and shown left of the split.
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"Version {child.id}"), timeout=TIMEOUT_MS)
    window.actionCompare.setChecked(True)
    qtbot.waitUntil(lambda: compared_and_loaded(2), timeout=TIMEOUT_MS)
    assert window.actionCompare.isChecked() and compared[-1].width() == 1024
    window.history.compareRequested.emit(child.id)  # the same from the history panel
    qtbot.waitUntil(lambda: compared_and_loaded(3), timeout=TIMEOUT_MS)
    assert window.actionCompare.isChecked() and window.current_version_id == child.id
    window.actionCompare.setChecked(False)
    assert compared[-1] is None  # unchecking ends the compare


def test_comparing_the_version_on_the_canvas_keeps_the_mask_and_references(qtbot, window, tmp_path):
    """Compare only changes the view: the mask just painted and the references in the tray stay for the next run."""
    _parent, child = _parent_and_child(qtbot, window)
    assert window.current_version_id == child.id and window.canvas.has_mask()
    ref = tmp_path / "ref.png"
    gradient_photo(ref, (512, 512))
    window.tray.add_files([str(ref)])
    qtbot.waitUntil(lambda: len(window.document.references()) == 1, timeout=TIMEOUT_MS)
    mask_before = window.document.mask_array().copy()

    window.actionCompare.setChecked(True)
    qtbot.waitUntil(lambda: window.canvas.is_comparing(), timeout=TIMEOUT_MS)
    assert window.current_version_id == child.id
    assert window.canvas.has_mask() and np.array_equal(window.document.mask_array(), mask_before)
    assert len(window.document.references()) == 1
    window.actionCompare.setChecked(False)
    assert window.canvas.has_mask() and len(window.document.references()) == 1


def test_rerun_from_history_sends_again_and_rerun_with_changes_keeps_only_allowed_changes(qtbot, window):
    _parent, child = _parent_and_child(qtbot, window)
    sent = len(window.services.choice.demo_server.requests)
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS):
        window.history.rerunRequested.emit(child.id)
    assert window.prompt.prompt() == "Paint the lighthouse red"
    assert len(window.services.choice.demo_server.requests) == sent + 1

    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        window.history.rerunWithChanges.emit(child.id, {"quality": "low", "n": 2, "prompt": "ignored"})
    assert window.prompt.settings().quality == "low"
    assert window.prompt.prompt() == "Paint the lighthouse red"
    assert len(blocker.args[1].versions) == 2


def test_export_from_the_menu_and_from_the_history_panel(qtbot, window, monkeypatch, tmp_path):
    from gptimg_desktop.core.export import read_metadata

    assert not window.actionExport.isEnabled()  # nothing to export yet
    window.prompt.set_prompt("A teapot on a table")
    window.prompt.stream_check.setChecked(False)
    version = _run_and_wait(qtbot, window).versions[0]

    canvas_target = tmp_path / "out" / "canvas.png"
    canvas_target.parent.mkdir()
    asked = []
    _save_dialog_returns(monkeypatch, str(canvas_target), asked)
    window.actionExport.trigger()
    qtbot.waitUntil(canvas_target.exists, timeout=TIMEOUT_MS)
    assert asked and asked[0][2].endswith(f"gptimg-{version.id}.png")  # suggested name carries the version
    assert read_metadata(canvas_target)["version"] == version.id
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    assert window.settings.value("files/last_dir") == str(canvas_target.parent)

    version_target = tmp_path / "version.jpg"
    _save_dialog_returns(monkeypatch, str(version_target))
    window.history.exportRequested.emit(version.id)
    qtbot.waitUntil(version_target.exists, timeout=TIMEOUT_MS)
    assert read_metadata(version_target)["prompt"] == "A teapot on a table"

    window.export_to(str(tmp_path / "picture.xyz"))  # an unknown format is refused in place
    assert window.prompt.error_text()


def test_expand_cutout_and_use_as_reference_from_the_image_menu(qtbot, window, monkeypatch, tmp_path):
    from gptimg_desktop.ui.canvas import expand_dialog

    path = _open_photo(qtbot, window, tmp_path / "photo.png", (512, 384))
    assert window.actionExpandCanvas.isEnabled() and window.actionCutout.isEnabled()

    # An unchanged file is added to the tray as the file itself.
    window.actionUseAsReference.trigger()
    qtbot.waitUntil(lambda: window.tray.count() == 1 and not window.tray.is_loading(), timeout=TIMEOUT_MS)
    assert window.tray.references()[0].path == path
    window.tray.clear()

    class AcceptingDialog:
        def __init__(self, width, height, model, parent):
            assert (width, height) == (512, 384) and parent is window

        def exec(self):
            return 1

        def margins(self):
            return 64, 0, 64, 0

    monkeypatch.setattr(expand_dialog, "ExpandCanvasDialog", AcceptingDialog)
    window.actionExpandCanvas.trigger()
    assert window.canvas.image().width() == 640 and window.source.modified
    assert window.canvas.has_mask() and window.prompt.mode() == "masked edit"

    # A changed canvas goes to the tray as pixels, not as the file it came from.
    window.actionUseAsReference.trigger()
    qtbot.waitUntil(lambda: window.tray.count() == 1 and not window.tray.is_loading(), timeout=TIMEOUT_MS)
    assert window.tray.references()[0].path != path

    window.prompt.cutoutRequested.emit()
    assert "Remove Background" in window.statusBar().currentMessage()
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    window.actionCutout.trigger()
    qtbot.waitUntil(lambda: window.source.path and "cutout-" in window.source.path, timeout=TIMEOUT_MS)
    with Image.open(window.source.path) as cut:
        assert cut.mode == "RGBA" and cut.size == (640, 384)
        assert np.asarray(cut)[..., 3].min() < 255  # something became transparent
    assert any("cut out locally" in m for m in messages)  # then the load note of the new file follows


def test_ledger_and_branch_export_report_back_to_the_window(qtbot, window, monkeypatch, tmp_path):
    from gptimg_desktop.ui.ledger.ledger_view import LedgerDialog

    window.prompt.set_prompt("A postcard")
    window.prompt.stream_check.setChecked(False)
    version = _run_and_wait(qtbot, window).versions[0]

    opened = []
    monkeypatch.setattr(LedgerDialog, "exec", lambda self: opened.append(self) or 0)
    window.actionLedger.trigger()
    assert len(opened) == 1
    window.store.set_global_budget(70, None)
    opened[0].view.budgetsChanged.emit()
    assert "budget" in window.totals_label.text()  # 60 of 70 credits: the status bar warns

    target = tmp_path / "branch.gptimg"
    _save_dialog_returns(monkeypatch, str(target))
    window.history.exportBranchRequested.emit(version.id)
    qtbot.waitUntil(lambda: "Exported a branch" in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    assert target.exists()


def test_actions_that_need_an_image_a_job_or_results_are_off_without_them(qtbot, window, tmp_path):
    """Walkthrough: with no image, Image → Cancel Job, Compare, Flicker, Proof Text and Edit Expected Text all
    looked usable and did nothing."""
    proof = window.proof_actions
    idle = [window.actionCancel, window.actionCompare, window.actionFlicker, proof.actionProofText,
            proof.actionEditExpected]
    assert [a.objectName() for a in idle if a.isEnabled()] == []

    _open_photo(qtbot, window, tmp_path / "photo.png")
    assert window.actionCompare.isEnabled() and proof.actionProofText.isEnabled()
    assert proof.actionEditExpected.isEnabled()
    assert not window.actionFlicker.isEnabled() and not window.actionCancel.isEnabled()

    window.prompt.set_prompt("Two takes on a lighthouse")
    window.prompt.count_spin.setValue(2)
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS):
        window.run()
        assert window.actionCancel.isEnabled()  # while the job runs
    qtbot.waitUntil(lambda: not window.actionCancel.isEnabled(), timeout=TIMEOUT_MS)
    assert window.actionFlicker.isEnabled()  # two results to flick between

    window.new_image()
    assert [a.objectName() for a in idle if a.isEnabled()] == []


def test_another_version_or_file_on_the_canvas_ends_the_results_grid_and_the_old_details(qtbot, window, tmp_path):
    """Walkthrough: an older version opened over the last run's grid kept the grid, and an opened file left the
    history describing the version selected before."""
    parent, _child = _parent_and_child(qtbot, window)
    window.prompt.count_spin.setValue(2)
    window.prompt.set_prompt("Two takes")
    result = _run_and_wait(qtbot, window)
    assert window.results.isVisible()
    window.result_strip.choose(1)  # choosing within the grid keeps it
    qtbot.waitUntil(lambda: window.current_version_id == result.versions[1].id, timeout=TIMEOUT_MS)
    assert window.results.isVisible()

    window.history.versionActivated.emit(parent.id)
    qtbot.waitUntil(lambda: window.current_version_id == parent.id, timeout=TIMEOUT_MS)
    assert not window.results.isVisible() and not window.actionFlicker.isEnabled()
    assert window.history.current_version_id() == parent.id

    # An opened file is recorded as an original version: the history selects and describes it at once.
    _open_photo(qtbot, window, tmp_path / "photo.png")
    opened = window.current_version_id
    assert opened not in (None, parent.id)
    assert window.history.current_version_id() == opened and window.history.details.version_id == opened

    window.new_image()  # a blank canvas is no version: nothing stays selected or described
    assert window.history.current_version_id() is None and window.history.details.version_id is None
