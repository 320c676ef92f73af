"""The everyday loop, driven through the real window, checked against what the local server received.

Each test is one bug of issue 10 that billed for the wrong request: the edit size, the opened original as
parent, Finalize at high, a mask left over from the previous image, and cancelling the running job.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton
from support import gradient_photo

from gptimg_desktop.devserver.faults import Fault

TIMEOUT_MS = 30_000


def _photo(path, size=(1536, 1024)) -> str:
    return str(gradient_photo(path, size))


def _server(window):
    server = window.services.choice.demo_server
    server.keep_uploads = True  # keep what was sent, so the test can read the request
    return server


def _open(qtbot, window, path: str) -> None:
    window.open_image(path)
    qtbot.waitUntil(lambda: window.document.source.path == path and bool(window.document.source.version_id),
                    timeout=TIMEOUT_MS)


def _paint(window) -> None:
    canvas = window.canvas
    start = canvas.rect().center()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 10):
        QTest.mouseMove(canvas, start + QPoint(i * 8, i * 3))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(72, 27))
    assert window.canvas.has_mask()


def _run(qtbot, window):
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        QTest.mouseClick(window.prompt.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[1]


def _last_image_request(server):
    return next(r for r in reversed(server.requests) if "/images/" in r.path)


def test_an_edit_is_sent_at_the_canvas_size_not_the_chosen_preset(qtbot, window, tmp_path):
    server = _server(window)
    prompt = window.prompt
    prompt.size_combo.setCurrentIndex(prompt.size_combo.findText("Poster", Qt.MatchFlag.MatchContains))
    assert prompt.settings().size == "1536x2304"
    _open(qtbot, window, _photo(tmp_path / "photo.png", (1536, 1024)))
    assert "1536×1024" in prompt.size_picker.canvas_size_text()  # the Size control shows the canvas while editing
    _paint(window)
    prompt.set_prompt("Put a hot-air balloon in the sky")
    result = _run(qtbot, window)
    sent = _last_image_request(server)
    assert sent.path.endswith("/images/edits") and sent.fields["size"] == "1536x1024"
    assert (result.versions[0].width, result.versions[0].height) == (1536, 1024)

    window.canvas.expand_canvas(0, 0, 288, 0)  # Expand Canvas to 1824x1024
    assert "1824×1024" in prompt.size_picker.canvas_size_text()
    _run(qtbot, window)
    assert _last_image_request(server).fields["size"] == "1824x1024"
    assert prompt.settings().size == "1536x2304"  # the chosen size still applies to generation


def test_a_canvas_the_model_cant_edit_at_is_refused_before_sending_and_cropped_on_request(
        qtbot, window, tmp_path, monkeypatch):
    server = _server(window)
    _open(qtbot, window, _photo(tmp_path / "odd.png", (1000, 750)))
    assert "multiples of 16" in window.prompt.size_picker.canvas_size_text()
    window.prompt.set_prompt("Make it autumn")
    sent_before = len(server.requests)
    monkeypatch.setattr(window, "choose_fit", lambda problem: None)
    window.run()
    assert len(server.requests) == sent_before and "1000x750" in window.prompt.error_text()
    monkeypatch.setattr(window, "choose_fit", lambda problem: "crop")
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS):
        window.run()
    assert _last_image_request(server).fields["size"] == "992x736"


def test_the_opened_original_is_the_parent_of_the_first_edit(qtbot, window, tmp_path, capsys):
    path = _photo(tmp_path / "portrait.png", (1024, 1024))
    _open(qtbot, window, path)
    original_id = window.document.source.version_id
    window.prompt.set_prompt("Warmer light")
    result = _run(qtbot, window)
    assert result.versions[0].parent_id == original_id

    from gptimg_desktop.cli import main

    assert main(["history", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {row["id"]: row for row in rows}
    assert by_id[original_id]["kind"] == "original" and by_id[original_id]["cost_usd"] == 0
    assert by_id[result.versions[0].id]["parent_id"] == original_id


def test_finalize_sends_a_generation_at_high_with_the_same_prompt_and_size(qtbot, window, monkeypatch):
    server = _server(window)
    prompt = window.prompt
    prompt.set_prompt("A lighthouse on a cliff at dusk")
    prompt.size_combo.setCurrentIndex(prompt.size_combo.findData("1536x1024"))
    prompt.quality_combo.setCurrentIndex(prompt.quality_combo.findData("low"))
    draft = _run(qtbot, window).versions[0]
    button = window.findChild(QPushButton, "finalizeButton")
    assert button is not None and button.isEnabled()
    shown: list[str] = []
    monkeypatch.setattr(window, "confirm_finalize", lambda text: shown.append(text) or True)
    prompt.set_prompt("something typed since")  # finalize re-runs the version's request, not the panel
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as blocker:
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert shown and "credits" in shown[0]  # the estimate is shown first
    sent = _last_image_request(server)
    body = sent.json or {k: v for k, v in sent.fields.items()}
    assert sent.path.endswith("/images/generations")
    assert body["quality"] == "high" and body["prompt"] == "A lighthouse on a cliff at dusk"
    assert body["size"] == "1536x1024"
    final = blocker.args[1].versions[0]
    assert final.kind == "generate" and final.parent_id == draft.parent_id  # a sibling, not a child


def test_after_opening_another_image_the_next_run_has_no_mask(qtbot, window, tmp_path):
    server = _server(window)
    _open(qtbot, window, _photo(tmp_path / "first.png", (1024, 1024)))
    _paint(window)
    _open(qtbot, window, _photo(tmp_path / "second.png", (1024, 1024)))
    assert not window.canvas.has_mask() and window.prompt.mode() == "edit"
    window.prompt.set_prompt("Add snow")
    _run(qtbot, window)
    sent = _last_image_request(server)
    assert [name for name, *_ in sent.files] == ["image"]  # no mask part
    window.actionUndo.trigger()  # the cleared mask comes back with the first image
    assert window.canvas.has_mask() and window.document.source.path.endswith("first.png")


def test_references_stay_only_when_pinned_and_the_count_is_shown_beside_run(qtbot, window, tmp_path):
    _open(qtbot, window, _photo(tmp_path / "base.png", (1024, 1024)))
    refs = [_photo(tmp_path / f"ref{i}.png", (512, 512)) for i in range(2)]
    window.tray.add_files(refs)
    qtbot.waitUntil(lambda: window.tray.count() == 2 and not window.tray.is_loading(), timeout=TIMEOUT_MS)
    label = window.prompt.findChild(QLabel, "referenceCount")  # beside Run
    assert label is not None and label.text() == "+2 references" and label.isVisible()
    assert window.tray.findChild(QLabel, "referenceCount").text() == "+2 references"  # the tray says the same
    window.tray.cards()[1].pin_button.click()
    _open(qtbot, window, _photo(tmp_path / "next.png", (1024, 1024)))
    assert [r.path for r in window.tray.references()] == [refs[1]]
    assert label.text() == "+1 reference"
    assert [str(p) for p in window.build_spec().images[1:]] == [refs[1]]


def test_cancel_current_cancels_the_running_job_not_the_newest(qtbot, window):
    server = _server(window)
    server.faults.push(Fault(kind="slow", delay=20))
    window.prompt.set_prompt("A slow painting")
    window.prompt.stream_check.setChecked(False)
    with qtbot.waitSignal(window.jobs.jobStarted, timeout=TIMEOUT_MS) as started:
        first = window.run()
    second = window.run()  # queued behind the first
    assert started.args[0] == first and first != second
    with qtbot.waitSignal(window.jobs.jobCancelled, timeout=TIMEOUT_MS) as cancelled:
        window.cancel_current()
    assert cancelled.args[0] == first
    qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS).wait()
