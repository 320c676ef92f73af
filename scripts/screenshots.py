"""Takes the README screenshots by driving the real window against the local demo server.

Run under Xvfb so the window is real (xcb):  xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py
Writes docs/screenshots/*.png. The data folder is a fresh temporary one.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main() -> int:
    os.environ.setdefault("GPTIMG_HOME", tempfile.mkdtemp(prefix="gptimg-shots-"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gptimg_desktop.app import create_window, ensure_app

    app = ensure_app()
    window = create_window(environ={}, demo_delay=1.2)
    window.resize(1560, 940)
    window.move(20, 20)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(name: str) -> None:
        pump(0.3)
        screen = QGuiApplication.primaryScreen()
        pixmap = screen.grabWindow(0, window.x(), window.y(), window.width(), window.height())
        if pixmap.isNull() or QApplication.platformName() == "offscreen":
            pixmap = window.grab()
        pixmap.save(str(OUT / f"{name}.png"))
        print(f"wrote {OUT / name}.png")

    def wait_done(count: int) -> None:
        deadline = time.monotonic() + 120
        while len(done) < count and time.monotonic() < deadline:
            pump(0.05)

    done: list[str] = []
    window.jobs.jobSucceeded.connect(lambda ticket, result: done.append(ticket))
    pump(1.0)
    shot("first-start")

    prompt = window.prompt
    prompt.set_prompt("A cosy coffee shop poster with the headline 'MORNING BREW', warm flat illustration")
    preset = prompt.size_combo.findText("Portrait", Qt.MatchFlag.MatchContains)
    if preset >= 0:
        prompt.size_combo.setCurrentIndex(preset)
    window.run()
    # Catch the canvas while partial images stream in.
    deadline = time.monotonic() + 60
    while not window.canvas.has_preview() and time.monotonic() < deadline:
        pump(0.02)
    pump(0.4)
    shot("streaming")
    wait_done(1)

    canvas = window.canvas
    canvas.fit_to_window()
    pump(0.2)
    rect = canvas.image_rect_in_widget() if hasattr(canvas, "image_rect_in_widget") else canvas.rect()
    start = QPoint(int(rect.center().x() - rect.width() * 0.2), int(rect.center().y() + rect.height() * 0.1))
    canvas.set_brush_size(140)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 40):
        QTest.mouseMove(canvas, start + QPoint(i * 7, int(30 * __import__("math").sin(i / 6))))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(273, 0))
    QTest.mouseMove(canvas, start + QPoint(120, -90))
    prompt.set_prompt("Replace the masked area with a steaming blue ceramic cup")
    shot("painting-mask")

    window.run()
    wait_done(2)
    pump(0.5)
    shot("editor-masked-edit")

    # A branch: go back to the first poster and try a night-time variant, and star the favourite.
    first = window.store.list_versions()[-1]
    window.continue_from(first.id)
    pump(1.0)
    canvas.clear_mask()
    prompt.set_prompt("Same poster at night, neon sign glow")
    prompt.quality_combo.setCurrentIndex(prompt.quality_combo.findData("low"))
    window.run()
    wait_done(3)
    window.store.set_star(window.store.list_versions()[0].id, True)
    window.bottom_tabs.setCurrentWidget(window.history)
    window.history.refresh()
    pump(1.0)
    shot("history")

    edits = [v for v in window.store.list_versions() if v.kind == "edit" and v.parent_id]
    versions = edits[-1:] or window.store.list_versions()
    if versions:
        window.compare_with_parent(versions[0].id)
        pump(1.0)
        canvas.set_compare_split(0.5)
        shot("compare")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
