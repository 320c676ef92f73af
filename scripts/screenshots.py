"""Takes the README screenshots by driving the real window against the local demo server, at real screen sizes.

Run under Xvfb so the window is real (xcb), once per screen size:
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py 1280x800
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshots.py 1920x1080
The window fills the screen. Writes docs/screenshots/<state>-<size>.png (and, at 1920x1080, the plain names the
README has always used). The data folder is a fresh temporary one.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LEGACY_NAMES_AT = "1920x1080"  # the README's older images, without a size in their name
LEGACY_NAMES = {"first-start", "streaming", "painting-mask", "editor-masked-edit", "history", "compare"}


def _red_product(path: Path) -> Path:
    """A product shot a designer would recolour: a red mug-like shape on a warm grey backdrop (1536x1024)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    w, h = 1536, 1024
    yy = np.linspace(0, 1, h)[:, None]
    backdrop = (np.array([196, 188, 178]) * (1 - 0.25 * yy)[..., None]).repeat(w, axis=1).astype(np.uint8)
    img = Image.fromarray(backdrop)
    draw = ImageDraw.Draw(img)
    draw.ellipse((520, 760, 1020, 840), fill=(150, 142, 134))  # shadow
    draw.rounded_rectangle((560, 330, 960, 800), radius=40, fill=(196, 28, 36))
    draw.ellipse((560, 300, 960, 370), fill=(214, 40, 48))
    draw.arc((900, 420, 1080, 680), start=-80, end=80, fill=(196, 28, 36), width=36)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    img.save(path)
    return path


def main(argv: list[str]) -> int:
    size = argv[0] if argv else "1920x1080"
    sw, sh = (int(v) for v in size.split("x"))
    os.environ.setdefault("GPTIMG_HOME", tempfile.mkdtemp(prefix="gptimg-shots-"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gptimg_desktop.app import create_window, ensure_app
    from gptimg_desktop.ui.canvas.canvas import Tool

    app = ensure_app()
    window = create_window(environ={}, demo_delay=1.2)
    window.setGeometry(0, 0, sw, sh)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(name: str) -> None:
        pump(0.4)
        screen = QGuiApplication.primaryScreen()
        pixmap = screen.grabWindow(0, window.x(), window.y(), window.width(), window.height())
        if pixmap.isNull() or QApplication.platformName() == "offscreen":
            pixmap = window.grab()
        names = [f"{name}-{size}"] + ([name] if size == LEGACY_NAMES_AT and name in LEGACY_NAMES else [])
        for n in names:
            pixmap.save(str(OUT / f"{n}.png"))
            print(f"wrote {OUT / n}.png")

    done: list[str] = []
    window.jobs.jobSucceeded.connect(lambda ticket, result: done.append(ticket))

    def wait_done(count: int) -> None:
        deadline = time.monotonic() + 120
        while len(done) < count and time.monotonic() < deadline:
            pump(0.05)

    pump(1.0)
    shot("first-start")

    # A product shot, the red mug selected with the magic wand: the mask colour contrasts (cyan, not pink).
    product = _red_product(Path(os.environ["GPTIMG_HOME"]) / "red-mug.png")
    window.open_image(str(product))
    deadline = time.monotonic() + 30
    while window.canvas.image().isNull() and time.monotonic() < deadline:
        pump(0.05)
    canvas = window.canvas
    canvas.fit_to_window()
    window.actionMagicWand.trigger()
    window.context_bar.tolerance.setValue(40)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.image_to_widget(QPointF(760, 560)).toPoint())
    QTest.mouseMove(canvas, canvas.image_to_widget(QPointF(1200, 300)).toPoint())
    prompt = window.prompt
    prompt.set_prompt("Recolour the mug a deep teal glaze, keep the highlights and the shadow")
    shot("magic-wand")
    canvas.set_mask_display("outline")
    shot("mask-outline")
    canvas.set_mask_display("tint")

    # Four variants of the recolour in the grid.
    prompt.count_spin.setValue(4)
    prompt.stream_check.setChecked(False)
    window.run()
    wait_done(1)
    pump(0.8)
    window.result_strip.choose(1)
    shot("variant-grid")

    # Generate a poster from text, then paint a mask on it with the brush.
    window.new_image()
    prompt.count_spin.setValue(1)
    prompt.stream_check.setChecked(True)
    prompt.set_prompt("A cosy coffee shop poster with the headline 'MORNING BREW', warm flat illustration")
    preset = prompt.size_combo.findText("Portrait", Qt.MatchFlag.MatchContains)
    if preset >= 0:
        prompt.size_combo.setCurrentIndex(preset)
    window.run()
    deadline = time.monotonic() + 60
    while not canvas.has_preview() and time.monotonic() < deadline:
        pump(0.02)
    pump(0.4)
    shot("streaming")
    wait_done(2)
    canvas.fit_to_window()
    window.actionBrush.trigger()
    pump(0.2)
    rect = canvas.image_rect_in_widget()
    start = QPoint(int(rect.center().x() - rect.width() * 0.2), int(rect.center().y() + rect.height() * 0.1))
    canvas.set_brush_size(140)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 40):
        QTest.mouseMove(canvas, start + QPoint(i * 7, int(30 * math.sin(i / 6))))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(273, 0))
    QTest.mouseMove(canvas, start + QPoint(120, -90))
    prompt.set_prompt("Replace the masked area with a steaming blue ceramic cup")
    shot("painting-mask")
    window.run()
    wait_done(3)
    pump(0.5)
    shot("editor-masked-edit")

    window.store.set_star(window.store.list_versions()[0].id, True)
    window.history.refresh()
    pump(0.8)
    shot("history")
    window.actionTogglePanels.trigger()
    shot("panels-hidden")
    window.actionTogglePanels.trigger()

    edits = [v for v in window.store.list_versions() if v.kind == "edit" and v.parent_id]
    if edits:
        window.compare_with_parent(edits[0].id)
        pump(1.0)
        canvas.set_compare_split(0.5)
        shot("compare")
    _ = Tool  # the tools are driven through their actions above
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
