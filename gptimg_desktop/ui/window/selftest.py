"""`gptimg-desktop --selftest`: open the window, generate, paint a mask, run a masked edit, check, exit.

It drives the real window against the local demo server, the same way a designer would, and
exits 0 only when both jobs produced versions of the right size in the history.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

TIMEOUT_S = 90.0


def _say(text: str) -> None:
    print(f"selftest: {text}", flush=True)


def _wait(predicate, timeout: float = TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return False


def run_selftest(window) -> int:
    app = QApplication.instance()
    try:
        code = _script(window)
    except Exception as exc:  # report one line and fail, never hang
        _say(f"FAILED: {type(exc).__name__}: {exc}")
        code = 1
    window.close()
    if app is not None:
        QTimer.singleShot(0, app.quit)
        app.processEvents()
    return code


def _script(window) -> int:
    window.resize(1280, 800)
    window.show()
    if not _wait(window.isVisible, 10):
        _say("FAILED: the window did not show")
        return 1
    _say(f"platform {QApplication.platformName()}, window shown")
    done: list[str] = []
    failed: list[str] = []
    window.jobs.jobSucceeded.connect(lambda ticket, result: done.append(ticket))
    window.jobs.jobFailed.connect(lambda ticket, message, refused: failed.append(message))

    prompt = window.prompt
    prompt.set_prompt("A red bicycle leaning on a yellow wall, flat poster style")
    window.run()
    if not _wait(lambda: done or failed):
        _say("FAILED: generation timed out")
        return 1
    if failed:
        _say(f"FAILED: generation: {failed[0]}")
        return 1
    image = window.canvas.image()
    _say(f"generated {image.width()}x{image.height()}")

    canvas = window.canvas
    canvas.fit_to_window()
    QApplication.processEvents()
    center = canvas.rect().center()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, center)
    for step in range(1, 12):
        QTest.mouseMove(canvas, center + QPoint(step * 8, step * 3))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, center + QPoint(96, 36))
    if not canvas.has_mask():
        _say("FAILED: painting did not change the mask")
        return 1
    _say("painted a mask")

    prompt.set_prompt("Make the masked area a blue bicycle")
    window.run()
    if not _wait(lambda: len(done) >= 2 or failed):
        _say("FAILED: masked edit timed out")
        return 1
    if failed:
        _say(f"FAILED: masked edit: {failed[0]}")
        return 1
    versions = window.store.list_versions()
    if len(versions) < 2 or versions[0].parent_id != versions[1].id:
        _say(f"FAILED: expected an edit whose parent is the generated version, got {len(versions)} versions")
        return 1
    if not canvas.has_mask():
        _say("FAILED: the mask did not survive the edit")
        return 1
    _say(f"masked edit stored as {versions[0].id} (parent {versions[0].parent_id}); OK")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through gptimg-desktop --selftest")
