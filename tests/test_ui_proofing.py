"""Text proofing and transparency in the window, the way a designer meets them: a result arrives, its proof badge
shows in the history and on the canvas, clicking the badge draws the boxes, Fix text prepares the masked edit;
Remove Background shows a checkerboard, PNG keeps the alpha and a JPEG export asks for a matte."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog, QInputDialog

from gptimg_desktop.ui.history.history_model import PROOF_ROLE

PROOF_TIMEOUT_MS = 180_000  # the first proof loads the OCR models on a worker thread
JOB_TIMEOUT_MS = 30_000


def _generate(qtbot, window, prompt: str):
    window.prompt.set_prompt(prompt)
    window.prompt.stream_check.setChecked(False)
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=JOB_TIMEOUT_MS) as blocker:
        window.run()
    return blocker.args[1].versions[0]


def test_a_result_with_quoted_text_gets_a_badge_and_fix_text_prepares_the_edit(qtbot, window, monkeypatch):
    proofs = window.proof_actions
    badge, fix = proofs.view.badge, proofs.view.fix_button
    version = _generate(qtbot, window, 'A cafe poster with the headline "MORNING BREW"')

    # The proof runs by itself off the GUI thread; meanwhile the badge says it is reading.
    qtbot.waitUntil(lambda: proofs.view.summary is not None, timeout=PROOF_TIMEOUT_MS)
    summary = proofs.view.summary
    assert summary.version_id == version.id and summary.expected == ("MORNING BREW",)
    headline = summary.report["lines"][0]
    assert headline["ok"], summary.report  # the local server draws the quoted text large
    assert badge.isVisible() and badge.text() == ("✓" if summary.ok else str(summary.problems))
    row = window.history.model.index_for(version.id)
    assert row.data(PROOF_ROLE) == badge.text()

    # The designer says it should read "MORNING BRAW": one letter is now wrong.
    monkeypatch.setattr(QInputDialog, "getMultiLineText", staticmethod(lambda *a, **k: ("MORNING BRAW", True)))
    window.proof_actions.actionEditExpected.trigger()
    qtbot.waitUntil(lambda: proofs.view.summary is not None and proofs.view.summary.expected == ("MORNING BRAW",),
                    timeout=PROOF_TIMEOUT_MS)
    summary = proofs.view.summary
    wrong = summary.report["lines"][0]
    assert not wrong["ok"] and wrong["distance"] == 1 and wrong["box"]
    assert badge.text() == str(summary.problems) and not fix.isVisible()
    assert window.history.model.index_for(version.id).data(PROOF_ROLE) == badge.text()

    before = window.canvas.grab().toImage()
    qtbot.mouseClick(badge, Qt.MouseButton.LeftButton)
    assert proofs.view.boxes_shown and fix.isVisible()
    assert window.canvas.grab().toImage() != before  # the boxes are drawn

    qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    mask = window.canvas.mask_array()
    x0, y0, x1, y1 = wrong["box"]
    assert mask[(y0 + y1) // 2, (x0 + x1) // 2] == 255  # the wrong box is masked …
    assert mask[max(0, y0 - 5), (x0 + x1) // 2] == 255  # … with padding
    assert mask[-1, -1] == 0 and window.prompt.mode() == "masked edit"
    text = window.prompt.settings().prompt
    assert '"MORNING BRAW"' in text and "M-O-R-N-I-N-G B-R-A-W" in text and "change nothing else" in text


def test_a_result_without_quoted_text_is_not_proofed(qtbot, window):
    _generate(qtbot, window, "A lighthouse on a cliff at dusk")
    qtbot.wait(200)
    assert window.proof_actions.view.summary is None and not window.proof_actions.view.badge.isVisible()


def test_remove_background_shows_a_checkerboard_png_keeps_alpha_and_jpeg_asks_for_a_matte(
        qtbot, window, monkeypatch, tmp_path):
    arr = np.full((300, 400, 3), 236, np.uint8)
    arr[60:240, 120:280] = (30, 90, 200)
    arr[120:180, 180:220] = 236  # a hole through the product
    Image.fromarray(arr).save(tmp_path / "product.png")
    window.open_image(str(tmp_path / "product.png"))
    qtbot.waitUntil(lambda: window.source.path == str(tmp_path / "product.png"), timeout=JOB_TIMEOUT_MS)
    assert window.actionCutout.text() == "Remove Background"
    window.actionCutout.trigger()
    qtbot.waitUntil(lambda: bool(window.source.path) and "cutout-" in window.source.path, timeout=JOB_TIMEOUT_MS)
    window.canvas.fit_to_window()
    qtbot.wait(50)

    # The transparent corner shows the checkerboard: two different greys next to each other.
    shot = window.canvas.grab().toImage()
    from PySide6.QtCore import QPointF

    corner = window.canvas.image_to_widget(QPointF(0, 0))
    x, y = int(corner.x()) + 3, int(corner.y()) + 3
    greys = {shot.pixelColor(x + dx, y).name() for dx in range(0, 40, 2)}
    assert len(greys) >= 2

    png = tmp_path / "cut.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(png), "")))
    window.actionExport.trigger()
    qtbot.waitUntil(png.exists, timeout=JOB_TIMEOUT_MS)
    with Image.open(png) as img:
        alpha = np.asarray(img.getchannel("A"))
        assert img.mode == "RGBA" and alpha[5, 5] == 0 and alpha[150, 200] == 0 and alpha[80, 140] == 255

    asked: list = []

    def red(*args, **kwargs):
        asked.append(args)
        return QColor("#ff0000")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(red))
    jpg = tmp_path / "cut.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(jpg), "")))
    window.actionExport.trigger()
    qtbot.waitUntil(jpg.exists, timeout=JOB_TIMEOUT_MS)
    assert asked
    with Image.open(jpg) as img:
        r, g, b = img.convert("RGB").getpixel((5, 5))
        assert r > 230 and g < 30 and b < 30  # the transparent area became the chosen matte

    # Cancelling the colour dialog cancels the JPEG export: nothing is written.
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor()))
    other = tmp_path / "cancelled.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(other), "")))
    window.actionExport.trigger()
    qtbot.wait(300)
    assert not other.exists()


def test_generate_for_cutout_keys_the_flat_colour_out(qtbot, window):
    window.prompt.set_prompt("a ceramic mug")
    window.prompt.stream_check.setChecked(False)
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=JOB_TIMEOUT_MS) as blocker:
        window.cutout_actions.actionGenerateForCutout.trigger()
    version = blocker.args[1].versions[0]
    assert "#00B140" in version.prompt and "flat" in version.prompt
    qtbot.waitUntil(lambda: bool(window.source.path) and "cutout-" in window.source.path, timeout=JOB_TIMEOUT_MS)
    assert window.source.version_id == version.id  # the keyed picture continues from the version it came from
    with Image.open(window.source.path) as img:
        alpha = np.asarray(img.getchannel("A"))
        assert img.mode == "RGBA" and alpha[2, 2] == 0 and alpha.max() == 255
    assert window.canvas.image().hasAlphaChannel()


def test_a_proof_tag_near_the_edge_stays_on_the_canvas(qapp):
    """Walkthrough: at 1280 px a "not asked for: …" tag ran off the right edge of the image and the canvas."""
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

    from gptimg_desktop.ui.canvas.proof_overlay import CanvasProofView
    from gptimg_desktop.ui.theme.style import Colors

    image = QImage(300, 200, QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    p = QPainter(image)
    metrics = QFontMetrics(QFont())
    label = "not asked for: “A cosy coffee shop poster with the headline MORNING BREW, warm flat colours”"
    CanvasProofView._box(p, lambda pt: QPointF(pt), (240, 60, 290, 90), label, QColor(Colors.warning), metrics,
                         QRectF(0, 0, 300, 200))
    p.end()
    tag_y = 60 - metrics.height() - 4 + 1  # the tag's top row: fill, above the text
    warning = QColor(Colors.warning).rgb()
    row = [image.pixel(x, tag_y) for x in range(300)]
    assert row[150] == warning and row[296] == warning  # moved in from the edge, and long enough to read
    assert row[299] != warning  # nothing past the canvas's last pixel column
