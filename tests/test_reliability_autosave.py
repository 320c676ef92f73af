"""Autosave of the editor's unsaved work: saved in the background, restored after a real crash (SIGKILL),
not restored after a normal close.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from gptimg_desktop.editor.autosave import RESTORED_MESSAGE, SESSION_FILE
from gptimg_desktop.ui.prompt.prompt_panel import PromptSettings

LONG_PROMPT = "Put a red umbrella in the painted area.\nKeep the light soft; match the grain of the photo."

# The editor in its own process: set up unsaved work, autosave it, then wait to be killed.
_CRASHING_EDITOR = textwrap.dedent(
    """
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    import numpy as np
    from gptimg_desktop.app import create_window, ensure_app
    from gptimg_desktop.ui.prompt.prompt_panel import PromptSettings

    home, photo, mask_file, ref_a, ref_b, prompt = sys.argv[1:7]
    os.environ["GPTIMG_HOME"] = home
    app = ensure_app()
    window = create_window(environ={}, demo_delay=0.0)
    window.show()

    def wait(condition, seconds=30):
        end = time.monotonic() + seconds
        while not condition():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise SystemExit("timed out")

    window.open_image(photo)
    wait(lambda: not window.canvas.image().isNull())
    window.document.set_mask_array(np.load(mask_file))
    window.tray.add_files([ref_a, ref_b])
    wait(lambda: window.tray.count() == 2 and not window.tray.is_loading())
    window.tray.set_role(0, "style")
    window.tray.set_role(1, "palette")
    window.prompt.apply_settings(PromptSettings(prompt=prompt, quality="high", n=3, size="1536x1024",
                                                keep_outside_mask=False, feather_px=20))
    window.autosave.flush()
    print("saved", flush=True)
    time.sleep(120)
    """
)


def _photo(path: Path, size=(1024, 768), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = np.linspace(20, 230, w, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(50, 200, h, dtype=np.uint8)[:, None]
    arr[..., 2] = rng.integers(60, 120)
    Image.fromarray(arr).save(path)
    return path


def _array(image: QImage) -> np.ndarray:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


@pytest.fixture
def open_window(qtbot, gptimg_home, monkeypatch):
    from gptimg_desktop.app import create_window

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    windows = []

    def open_():
        win = create_window(environ={}, demo_delay=0.0)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        windows.append(win)
        qtbot.waitUntil(lambda: not win.autosave.is_restoring(), timeout=10_000)
        return win

    yield open_
    for win in windows:
        win.services.close()


def test_unsaved_work_comes_back_after_the_editor_is_killed(open_window, gptimg_home, tmp_path):
    photo = _photo(tmp_path / "photo.png")
    ref_a, ref_b = _photo(tmp_path / "style.png", (512, 512), 1), _photo(tmp_path / "colours.png", (640, 480), 2)
    mask = np.zeros((768, 1024), np.uint8)
    mask[100:300, 200:600] = 255
    mask[300:320, 200:600] = 128  # a feathered edge survives as it is
    np.save(tmp_path / "mask.npy", mask)
    editor = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_EDITOR, str(gptimg_home), str(photo), str(tmp_path / "mask.npy"),
         str(ref_a), str(ref_b), LONG_PROMPT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert editor.stdout.readline().strip() == "saved", editor.stderr.read()
    finally:
        os.kill(editor.pid, signal.SIGKILL)
        editor.communicate(timeout=30)
    assert editor.returncode == -signal.SIGKILL
    session = json.loads((gptimg_home / "session" / SESSION_FILE).read_text())
    assert session["clean"] is False
    ref_a_bytes = ref_a.read_bytes()
    ref_a.unlink()  # a reference from a temporary folder: the session kept its own copy

    window = open_window()
    assert RESTORED_MESSAGE in window.statusBar().currentMessage()
    settings = window.prompt.settings()
    assert settings.prompt == LONG_PROMPT
    assert (settings.quality, settings.n, settings.size) == ("high", 3, "1536x1024")
    assert (settings.keep_outside_mask, settings.feather_px) == (False, 20)
    assert window.canvas.image().size().width() == 1024 and window.source.path == str(photo)
    assert not window.source.modified
    assert np.array_equal(_array(window.canvas.image())[..., :3], np.asarray(Image.open(photo).convert("RGB")))
    assert np.array_equal(window.canvas.mask_array(), mask)
    refs = window.tray.references()
    assert [r.role for r in refs] == ["style", "palette"]
    assert all(Path(r.path).is_file() for r in refs)
    assert Path(refs[0].path).parent == gptimg_home / "session"
    assert Path(refs[0].path).read_bytes() == ref_a_bytes
    assert Path(refs[1].path).read_bytes() == ref_b.read_bytes()
    assert window.prompt.mode() == "masked edit"


def test_changes_are_saved_in_the_background_after_a_pause(qtbot, open_window, gptimg_home):
    window = open_window()
    session_file = gptimg_home / "session" / SESSION_FILE
    window.prompt.set_prompt("A teapot shaped like a whale")

    def saved_prompt() -> str | None:
        try:
            return json.loads(session_file.read_text())["prompt_settings"]["prompt"]
        except (OSError, ValueError, KeyError):
            return None

    assert saved_prompt() != "A teapot shaped like a whale"  # debounced: not written on every keystroke
    qtbot.waitUntil(lambda: saved_prompt() == "A teapot shaped like a whale", timeout=8000)
    assert json.loads(session_file.read_text())["clean"] is False
    assert (gptimg_home / "session").stat().st_mode & 0o777 == 0o700


def test_an_expanded_canvas_is_saved_as_pixels_and_restored(qtbot, open_window, gptimg_home, tmp_path):
    first = open_window()
    first.open_image(str(_photo(tmp_path / "photo.png", (1024, 1024))))
    qtbot.waitUntil(lambda: not first.canvas.image().isNull(), timeout=5000)
    first.canvas.expand_canvas(0, 0, 512, 0)  # what Image → Expand Canvas does
    assert first.source.modified  # the document marks expanded pixels as changed
    expanded, mask = _array(first.canvas.image()), first.canvas.mask_array()
    assert expanded.shape[:2] == (1024, 1536) and mask[:, 1024:].all()
    first.prompt.set_prompt("Extend the beach to the right")
    first.autosave.flush()
    first.autosave.stop()  # the process "dies" here: no clean close

    second = open_window()
    assert RESTORED_MESSAGE in second.statusBar().currentMessage()
    assert second.source.modified and second.source.path is None
    assert np.array_equal(_array(second.canvas.image()), expanded)
    assert np.array_equal(second.canvas.mask_array(), mask)
    assert second.prompt.prompt() == "Extend the beach to the right"
    spec = second.build_spec()
    assert isinstance(spec.images[0], np.ndarray) and spec.images[0].shape[:2] == (1024, 1536)


def test_a_normal_close_is_not_restored(qtbot, open_window, gptimg_home, tmp_path):
    first = open_window()
    first.open_image(str(_photo(tmp_path / "photo.png")))
    qtbot.waitUntil(lambda: not first.canvas.image().isNull(), timeout=5000)
    first.canvas.fill_all()
    first.tray.add_files([str(_photo(tmp_path / "ref.png", (512, 512)))])
    qtbot.waitUntil(lambda: first.tray.count() == 1 and not first.tray.is_loading(), timeout=5000)
    first.autosave.flush()
    assert len(list((gptimg_home / "session").iterdir())) >= 3  # session, mask, reference copy
    first.close()
    session = json.loads((gptimg_home / "session" / SESSION_FILE).read_text())
    assert session["clean"] is True
    assert [p.name for p in (gptimg_home / "session").iterdir()] == [SESSION_FILE]

    second = open_window()
    assert RESTORED_MESSAGE not in second.statusBar().currentMessage()
    assert second.canvas.image().isNull() and second.tray.count() == 0


def test_a_damaged_session_file_starts_fresh(open_window, gptimg_home):
    folder = gptimg_home / "session"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SESSION_FILE).write_bytes(b'{"format": 1, "clean": false, "prompt_settings": {"prom')
    window = open_window()
    assert RESTORED_MESSAGE not in window.statusBar().currentMessage()
    assert window.canvas.image().isNull()


def test_a_saved_session_with_a_missing_canvas_file_restores_the_rest(open_window, gptimg_home, tmp_path):
    folder = gptimg_home / "session"
    folder.mkdir(parents=True, exist_ok=True)
    settings = PromptSettings(prompt="Recolour the car", quality="medium").to_dict()
    (folder / SESSION_FILE).write_text(json.dumps({
        "format": 1, "clean": False, "prompt_settings": settings, "references": [],
        "canvas": {"path": str(tmp_path / "gone.png"), "version_id": None, "modified": False, "pixels": None,
                   "width": 1024, "height": 1024},
        "mask": None, "current_version_id": None,
    }))
    window = open_window()
    message = window.statusBar().currentMessage()
    assert RESTORED_MESSAGE in message and "gone.png could not be opened" in message
    assert window.prompt.prompt() == "Recolour the car" and window.prompt.settings().quality == "medium"
