"""Takes the README screenshots of the Sets workspace and a Channels export against the local demo server.

Run under Xvfb so the windows are real (xcb):
    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots_sets.py
Writes docs/screenshots/sets-grid.png and channels-export.png. The data folder is a fresh temporary one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main() -> int:
    os.environ.setdefault("GPTIMG_HOME", tempfile.mkdtemp(prefix="gptimg-shots-"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QWidget

    from gptimg_desktop.app import create_window, ensure_app
    from gptimg_desktop.store import sets as set_store

    app = ensure_app()
    window = create_window(environ={}, demo_delay=0.3)
    window.resize(1280, 800)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait_idle() -> None:
        deadline = time.monotonic() + 180
        pump(0.3)
        while window.sets.queue.is_busy() and time.monotonic() < deadline:
            pump(0.05)
        pump(0.5)

    def shot(widget: QWidget, name: str) -> None:
        pump(0.4)
        screen = QGuiApplication.primaryScreen()
        geo = widget.frameGeometry()
        pixmap = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
        if pixmap.isNull() or QApplication.platformName() == "offscreen":
            pixmap = widget.grab()
        pixmap.save(str(OUT / f"{name}.png"))
        print(f"wrote {OUT / name}.png")

    sets_window = window.sets.open_sets()
    sets_window.resize(1280, 800)
    sets_window.move(0, 0)
    form = sets_window.form
    form.select_template("vi")
    form.brief.setText("A friendly specialty coffee roaster in Lisbon, warm and hand-made.")
    form.set_field("brand", "Lume")
    form.set_field("colours", "terracotta, cream and deep green")
    form.set_field("tagline", "Roasted slowly")
    form.replan()
    for edit in (form.brief, form._field_edits["colours"]):
        edit.setCursorPosition(0)  # type: ignore[union-attr]
    sets_window.run_set()
    wait_idle()
    sets_window.approve_anchor()
    wait_idle()
    shot(sets_window, "sets-grid")

    anchor = set_store.get_set(window.store, sets_window.set_id).anchor
    assert anchor is not None
    dialog = window.sets.open_channels(anchor.version_id)
    dialog.resize(1000, 700)
    dialog.move(140, 50)
    dialog.check("instagram-post", "story", "youtube-thumbnail", "linkedin-banner", "facebook-cover")
    dialog.run()
    wait_idle()
    shot(dialog, "channels-export")
    dialog.close()
    sets_window.close()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
