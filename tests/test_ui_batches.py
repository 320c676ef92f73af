"""The Batches panel in the real editor window (demo mode: its own local server with the Batch API).

A designer types a prompt, sends three requests as a batch at half price, watches the batch run, and finds the
results in the history; cancels a batch that holds; and at the next start the window collects what the command
line left unfinished."""

from __future__ import annotations

import json
import urllib.request

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QSpinBox, QTableWidget
from support import lay_out_window

from gptimg_desktop.store.batches import BatchStore, via_for

TIMEOUT_MS = 60_000


@pytest.fixture
def fast_polls(monkeypatch):
    monkeypatch.setenv("GPTIMG_BATCH_POLL_SECONDS", "0.1")


def _panel(window):
    panel = window.batches_panel
    window.batches_dock.raise_()  # the Batches tab in front of Jobs, as a designer would click it
    return panel


def _status(table: QTableWidget, row: int = 0) -> str:
    item = table.item(row, 1)
    return item.text() if item is not None else ""


def test_three_requests_as_a_batch_land_in_history_at_half_price(fast_polls, window, qtbot):
    panel = _panel(window)
    lay_out_window(qtbot, window, (1280, 800))
    left_width = panel.width()
    assert panel.findChild(QPushButton, "runAsBatchButton").text() == "Run as batch (½ price, within 24 h)"
    assert panel.findChild(QPushButton, "runNowButton") is not None
    window.prompt.prompt_edit.setPlainText("a ceramic vase on linen, product shot")
    spin = panel.findChild(QSpinBox, "batchRequests")
    spin.setValue(3)
    assert "3 request(s)" in panel.estimate_label.text()

    QTest.mouseClick(panel.batch_button, Qt.MouseButton.LeftButton)
    table = panel.findChild(QTableWidget, "batchesTable")
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: _status(table) == "Completed" and panel._rows[0].collected, timeout=TIMEOUT_MS)

    row = panel._rows[0]
    assert row.requests == 3 and row.done == 3 and row.failed == 0 and not row.estimated
    assert table.item(0, 4).text().startswith("$")  # spent, not "≈" estimated
    assert row.batch_id in table.item(0, 0).toolTip()
    assert table.item(0, 3).text() == "done"
    qtbot.waitUntil(lambda: "Completed" in panel.message.text() or "completed" in panel.message.text(),
                    timeout=TIMEOUT_MS)
    assert "3 image(s)" in panel.message.text()
    # The message names the batch as a designer would, and no long id widens the panel or squeezes the canvas.
    assert row.batch_id not in panel.message.text() and "batch of 3 sent at" in panel.message.text()
    qtbot.wait(50)
    assert panel.width() <= left_width
    assert "Batch completed" in str(window.property("lastNotification"))

    versions = window.store.list_versions()
    assert len(versions) == 3
    assert set(via_for(window.store, {v.job_id for v in versions}).values()) == {"batch"}
    full = window.prices.cost_usd(versions[0].model, _usage(versions[0]))
    assert versions[0].cost_usd == pytest.approx(full / 2, abs=1e-6)
    panel.table.selectRow(0)
    assert not panel.cancel_button.isEnabled()  # a finished batch has nothing to cancel


def _usage(version):
    from gptimg_desktop.core.pricing import Usage

    # The ledger keeps the token breakdown; the version keeps totals, enough to check the factor.
    rows = version.input_tokens, version.output_tokens
    return Usage(input_tokens=rows[0], output_tokens=rows[1], input_text_tokens=rows[0],
                 output_image_tokens=rows[1])


def test_a_running_batch_can_be_cancelled_from_the_panel(fast_polls, window, qtbot):
    server = window.services.choice.demo_server  # its own process: the hold is set over its control endpoint
    hold = json.dumps({"faults": [{"kind": "hold", "after_lines": 1}]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{server.root}/__batches", hold, method="POST"), timeout=10).close()
    panel = _panel(window)
    window.prompt.prompt_edit.setPlainText("a paper boat")
    panel.copies.setValue(3)
    QTest.mouseClick(panel.batch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel._rows) == 1 and panel._rows[0].done == 1, timeout=TIMEOUT_MS)
    panel.table.selectRow(0)
    assert panel.cancel_button.isEnabled()
    QTest.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _status(panel.table) == "Cancelled" and panel._rows[0].collected, timeout=TIMEOUT_MS)
    assert len(window.store.list_versions()) == 1
    statuses = sorted(j.status for j in window.store.list_jobs())
    assert statuses == ["cancelled", "cancelled", "succeeded"]
    assert not panel.cancel_button.isEnabled()


def test_a_refused_request_is_said_in_the_panel_and_nothing_is_sent(fast_polls, window, qtbot):
    panel = _panel(window)
    window.prompt.prompt_edit.setPlainText("")
    QTest.mouseClick(panel.batch_button, Qt.MouseButton.LeftButton)
    assert "prompt is empty" in panel.message.text()
    assert BatchStore(window.store).list() == []


def test_the_next_start_of_the_editor_collects_a_batch_the_command_line_sent(fast_polls, qtbot, gptimg_home,
                                                                             dev_server, tmp_path):
    import os
    import subprocess
    import sys

    from gptimg_desktop.app import create_window

    key = "sk-test-ui-batch-0123456789abcdef"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red kite\na blue kite\n")
    dev_server.batches.settings.update({"validate_seconds": 1.0})  # still running when the command ends
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=key, GPTIMG_HOME=str(gptimg_home))
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", "batch", "submit", str(prompts), "--size",
                           "1024x1024"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr

    win = create_window(environ={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": dev_server.url})
    qtbot.addWidget(win)
    try:
        panel = win.batches_panel
        qtbot.waitUntil(lambda: len(panel._rows) == 1 and panel._rows[0].collected, timeout=TIMEOUT_MS)
        assert panel._rows[0].status == "completed" and len(win.store.list_versions()) == 2
        assert "Batch completed" in str(win.property("lastNotification"))
    finally:
        win.services.close()


def test_a_set_anchor_runs_now_and_the_rest_goes_as_one_batch_into_the_grid(fast_polls, window, qtbot):
    from gptimg_desktop.store import sets as set_store
    from tests.test_ui_sets import _fill_vi

    sets_window = window.sets.open_sets()
    qtbot.waitExposed(sets_window)
    _fill_vi(sets_window, qtbot)
    queue = window.sets.queue
    batch_button = sets_window.findChild(QPushButton, "setApproveBatch")
    assert batch_button is not None and batch_button.text() == "Approve, rest as batch (½ price, within 24 h)"
    assert not batch_button.isEnabled()  # nothing to approve yet
    with qtbot.waitSignal(queue.anchorWaiting, timeout=TIMEOUT_MS):
        QTest.mouseClick(sets_window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not queue.is_busy() and batch_button.isEnabled(), timeout=TIMEOUT_MS)

    QTest.mouseClick(batch_button, Qt.MouseButton.LeftButton)
    grid = sets_window.grid
    qtbot.waitUntil(lambda: [grid.status_of(i) for i in ("business-card", "avatar")] == ["succeeded"] * 2,
                    timeout=TIMEOUT_MS)
    panel = window.batches_panel  # its rows follow the grid by one queued signal
    qtbot.waitUntil(lambda: len(panel._rows) == 1 and panel._rows[0].collected, timeout=TIMEOUT_MS)
    record = set_store.get_set(window.store, sets_window.set_id)
    assert record.done == 3 and record.anchor_approved
    [row] = panel._rows
    assert row.requests == 2 and row.status == "completed"
    made = {i.item_id: i.version_id for i in record.items}
    via = via_for(window.store, {window.store.get_version(v).job_id for v in made.values() if v})
    assert sorted(via.values()) == ["batch", "batch", "now"]
    assert not batch_button.isEnabled()


def test_channels_as_a_batch_from_the_dialog_arrive_at_exact_pixels(fast_polls, window, qtbot, tmp_path):
    from PIL import Image

    window.prompt.prompt_edit.setPlainText("a lighthouse poster")
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        window.run()
    version_id = done.args[1].versions[0].id
    dialog = window.sets.open_channels(version_id)
    qtbot.addWidget(dialog)
    out = tmp_path / "channels"
    dialog.out.setText(str(out))
    dialog.check("instagram-post", "story")
    button = dialog.findChild(QPushButton, "channelRunBatch")
    assert button.text() == "Render as batch (½ price, within 24 h)"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    panel = window.batches_panel
    qtbot.waitUntil(lambda: len(panel._rows) == 1 and panel._rows[0].collected, timeout=TIMEOUT_MS)
    sizes = set()
    for path in out.iterdir():
        with Image.open(path) as img:
            sizes.add(img.size)
    assert sizes == {(1080, 1080), (1080, 1920)}
