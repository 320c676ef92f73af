"""README screenshots for text proofing and cutouts: run under Xvfb.

    xvfb-run -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots_issue15.py

Opens a poster with a misspelt line, proofs it and shows the boxes; then a product photo whose background is
removed, over the canvas's checkerboard. Writes docs/screenshots/proof-on-canvas.png and cutout-checkerboard.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(var, None)


def wait(app, predicate, timeout=240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if predicate():
            return
        time.sleep(0.02)
    raise SystemExit("timed out")


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="gptimg-shots-"))
    os.environ["GPTIMG_HOME"] = str(scratch / "home")
    import importlib

    import numpy as np
    from PIL import Image

    coffee_poster = importlib.import_module("posters").coffee_poster  # tests/ helpers, on sys.path above
    cutout_photos = importlib.import_module("test_core_cutout")

    from gptimg_desktop.app import create_window, ensure_app

    app = ensure_app()
    window = create_window(environ={}, demo_delay=0.02)
    window.resize(1500, 940)
    window.show()
    wait(app, window.isVisible)

    # A generated result that quotes text: it is proofed by itself and its history row gets a badge.
    window.prompt.set_prompt('A cafe poster with the headline "MORNING BREW"')
    window.prompt.stream_check.setChecked(False)
    window.run()
    wait(app, lambda: window.proof_actions.view.summary is not None)

    poster = scratch / "poster.png"
    coffee_poster(subline="Fresh coffee every mornimg", extra="FREE WIFI").image.save(poster)
    window.open_image(str(poster))
    wait(app, lambda: window.source.path == str(poster) and window.current_version_id is not None)
    window.bottom_tabs.setCurrentWidget(window.history)
    window.canvas.fit_to_window()
    proofs = window.proof_actions
    proofs.controller.proof(str(window.current_version_id),
                            ["SUMMER SALE", "Fresh coffee every morning", "Open daily 7am"])
    wait(app, lambda: proofs.view.summary is not None)
    proofs.view.badge.setChecked(True)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out = ROOT / "docs" / "screenshots"
    window.grab().save(str(out / "proof-on-canvas.png"))

    product = scratch / "mug.png"
    cutout_photos.photo("gradient", cutout_photos.mug_mask(), colour=(40, 110, 190)).resize((960, 720), Image.Resampling.LANCZOS).save(product)
    window.open_image(str(product))
    wait(app, lambda: window.source.path == str(product))
    window.actionCutout.trigger()
    wait(app, lambda: bool(window.source.path) and "cutout-" in window.source.path)
    window.canvas.fit_to_window()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    window.grab().save(str(out / "cutout-checkerboard.png"))
    alpha = np.asarray(Image.open(str(window.source.path)).getchannel("A"))
    print(f"cutout: {alpha.mean() / 255:.0%} subject", flush=True)
    getattr(window, "services").close()  # noqa: B009 (set on the window by create_window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
