"""Bad input through the app: damaged, odd and hostile files dropped on the reference tray and opened on
the canvas, odd masks and prompts through the CLI and the window. Each gives one clear message naming the
file and the reason, or a correct conversion; the app keeps running and nothing else is lost.
"""

from __future__ import annotations

import functools
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage
from support import drop_files

from gptimg_desktop.editor.image_loading import load_note
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-test-reliability-inputs-0123"
TIMEOUT_MS = 30_000
SMALL_LIMIT = 300_000  # stands in for the 50 MB upload limit, to stay fast


# ---------------------------------------------------------------------------------------------- the files


def _noise(size=(400, 300), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3)).astype(np.uint8)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def make_truncated_png(path):
    Image.fromarray(_noise()).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def make_truncated_jpeg(path):
    Image.fromarray(_noise()).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def make_empty(path):
    path.write_bytes(b"")


def make_text(path):
    path.write_text("Meeting notes: the poster goes to print on Friday.\n" * 20)


def make_bomb(path):
    # A real PNG header claiming 30000x30000 RGB (2.7 GB decoded) with a few bytes of data.
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (30000 * 3 + 1) * 2)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))


def make_cmyk(path):
    Image.fromarray(_noise(seed=3)).convert("CMYK").save(path, quality=95)


def make_16bit(path):
    Image.fromarray(np.linspace(0, 65535, 400 * 300).reshape(300, 400).astype(np.uint16)).save(path)


def make_palette(path):
    img = Image.fromarray(_noise(seed=4)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    img.save(path, transparency=0)


def _frames():
    return [Image.new("RGB", (320, 240), c) for c in ((230, 20, 20), (20, 230, 20), (20, 20, 230))]


def make_gif(path):
    frames = _frames()
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def make_webp(path):
    frames = _frames()
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)


def make_rotated(path):
    # Stored landscape (left half blue, right half red); EXIF 6 says: turn it 90° clockwise to view.
    img = Image.new("RGB", (120, 80), (220, 20, 20))
    img.paste((20, 20, 220), (0, 0, 60, 80))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path, exif=exif.tobytes(), quality=95)


def make_large(path):
    Image.fromarray(_noise((800, 600), seed=5)).save(path, compress_level=1)  # ~1.4 MB > SMALL_LIMIT


def make_heic(path):
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)


def make_svg(path):
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
                    '<rect width="200" height="100" fill="teal"/></svg>')


def make_psd(path):
    path.write_bytes(b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 300, 400, 8, 3) + b"\x00" * 200)


# (file name, maker, refused-reason fragment or None when it converts)
REFUSED = [
    ("cut.png", make_truncated_png, "damaged or incomplete"),
    ("cut.jpg", make_truncated_jpeg, "damaged or incomplete"),
    ("empty.png", make_empty, "empty (0 bytes)"),
    ("notes.png", make_text, "not an image (it looks like text)"),
    ("bomb.png", make_bomb, "30000x30000 pixels — too large to open safely"),
    ("photo.heic", make_heic, "HEIC; export it as PNG or JPEG"),
    ("logo.svg", make_svg, "vector SVG; export it as PNG"),
    ("layers.psd", make_psd, "Photoshop PSD; export a flattened PNG or JPEG"),
]
# (file name, maker, expected (width, height) after conversion, a note the tray shows or None)
CONVERTED = [
    ("print.jpg", make_cmyk, (400, 300), "converted from CMYK to RGB"),
    ("deep.png", make_16bit, (400, 300), "16 to 8 bits"),
    ("palette.png", make_palette, (400, 300), None),
    ("moving.gif", make_gif, (320, 240), "animated GIF; only its first frame"),
    ("moving.webp", make_webp, (320, 240), "animated WebP; only its first frame"),
    ("phone.jpg", make_rotated, (80, 120), "rotated upright"),
    ("huge.png", make_large, (800, 600), "to stay under"),
]


@pytest.fixture(autouse=True)
def small_upload_limit(monkeypatch):
    """Every upload preparation (tray and jobs) uses a small byte limit instead of 50 MB."""
    from gptimg_desktop.core import images

    original = images.prepare_input_image

    @functools.wraps(original)
    def limited(path_or_bytes, filename=None, max_bytes=images.MAX_UPLOAD_BYTES):
        return original(path_or_bytes, filename, max_bytes=min(max_bytes, SMALL_LIMIT))

    monkeypatch.setattr(images, "prepare_input_image", limited)


# ---------------------------------------------------------------------------------------------- the window


def _good(path: Path, size=(1024, 1024)) -> str:
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[..., 0] = np.linspace(30, 220, size[0], dtype=np.uint8)[None, :]
    arr[..., 2] = 120
    Image.fromarray(arr).save(path)
    return str(path)


def _rgb(image: QImage) -> np.ndarray:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


@pytest.fixture
def editing(qtbot, window, tmp_path):
    """A window mid-work: a canvas image, one good reference and a prompt, all of which must survive."""
    canvas_file = _good(tmp_path / "canvas.png")
    window.open_image(canvas_file)
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=5000)
    good_ref = _good(tmp_path / "good-ref.png", (512, 512))
    window.tray.add_files([good_ref])
    qtbot.waitUntil(lambda: window.tray.count() == 1 and not window.tray.is_loading(), timeout=5000)
    window.prompt.set_prompt("Blend the references into the scene")
    window.tray.cards()[0].pin_button.click()  # pinned: it stays when another image is opened
    refusals: list[str] = []
    window.tray.refused.connect(refusals.append)
    window.refusals = refusals
    window.canvas_file = canvas_file
    return window


def _assert_nothing_else_lost(window) -> None:
    assert window.prompt.prompt() == "Blend the references into the scene"
    assert window.tray.references()[0].name == "good-ref.png"


@pytest.mark.parametrize(("name", "maker", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_name_the_file_and_the_reason(qtbot, editing, tmp_path, name, maker, reason):
    window = editing
    path = tmp_path / name
    maker(path)
    drop_files(window.tray, [str(path)])
    qtbot.waitUntil(lambda: bool(window.refusals) and not window.tray.is_loading(), timeout=10_000)
    assert window.tray.count() == 1
    assert name in window.refusals[-1] and reason in window.refusals[-1]
    assert name in window.tray.message()

    before = window.canvas.image().cacheKey()
    window.open_image(str(path))
    qtbot.waitUntil(lambda: name in window.prompt.error_text(), timeout=10_000)
    assert reason in window.prompt.error_text()
    assert window.canvas.image().cacheKey() == before and window.source.path == window.canvas_file
    _assert_nothing_else_lost(window)


@pytest.mark.parametrize(("name", "maker", "size", "note"), CONVERTED, ids=[c[0] for c in CONVERTED])
def test_odd_files_are_converted_correctly(qtbot, editing, tmp_path, name, maker, size, note):
    window = editing
    path = tmp_path / name
    maker(path)
    drop_files(window.tray, [str(path)])
    qtbot.waitUntil(lambda: window.tray.count() == 2 and not window.tray.is_loading(), timeout=10_000)
    added = window.tray.references()[1]
    assert (added.width, added.height) == size and added.name == name
    if note:
        assert any(note in n for n in added.notes), added.notes
    assert window.refusals == []

    window.open_image(str(path))
    qtbot.waitUntil(lambda: window.source.path == str(path), timeout=10_000)
    image = window.canvas.image()
    assert (image.width(), image.height()) == size and window.prompt.error_text() == ""
    _assert_nothing_else_lost(window)
    pixels = _rgb(image)
    if name == "phone.jpg":  # upright: the blue half (stored on the left) is now on top
        assert pixels[10, 40, 2] > 180 and pixels[110, 40, 0] > 180
    elif name in ("moving.gif", "moving.webp"):  # the first frame, and the canvas says so
        assert tuple(pixels[100, 100, :3]) == (230, 20, 20)
        assert "only its first frame" in load_note(image)
    elif name == "palette.png":
        expected = np.asarray(Image.open(path).convert("RGBA"))
        assert image.hasAlphaChannel() and np.array_equal(pixels[..., 3], expected[..., 3])
    elif name == "print.jpg":  # the same colours Pillow (and so the upload) makes of the CMYK pixels
        expected = np.asarray(Image.open(path).convert("RGB")).astype(int)
        assert np.abs(pixels[..., :3].astype(int) - expected).mean() < 2
    elif name == "deep.png":
        expected = (np.asarray(Image.open(path)).astype(np.int64) >> 8).astype(int)
        assert np.abs(pixels[..., 0].astype(int) - expected).max() <= 1


def test_an_animated_canvas_image_runs_with_its_first_frame_and_says_so(qtbot, window, tmp_path):
    path = tmp_path / "moving.gif"
    # At a size the model can edit at: an edit goes out at the canvas size (a smaller one must be padded first).
    frames = [Image.new("RGB", (1024, 768), c) for c in ((230, 20, 20), (20, 230, 20), (20, 20, 230))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    window.open_image(str(path))
    qtbot.waitUntil(lambda: window.source.path == str(path), timeout=10_000)
    window.prompt.set_prompt("Add snow")
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        assert window.prompt.request_run()
    assert any("only its first frame is sent" in note for note in done.args[1].notes)
    job = window.store.get_job(done.args[1].job_id)
    with Image.open(window.store.job_inputs(job.id).images[0][0]) as sent:
        assert sent.format == "PNG" and not getattr(sent, "is_animated", False)
        assert sent.convert("RGB").getpixel((10, 10)) == (230, 20, 20)


def test_a_file_over_the_upload_limit_is_shrunk_before_sending(qtbot, window, tmp_path):
    path = tmp_path / "huge.png"
    make_large(path)
    assert path.stat().st_size > SMALL_LIMIT
    window.tray.add_files([str(path)])
    qtbot.waitUntil(lambda: window.tray.count() == 1 and not window.tray.is_loading(), timeout=10_000)
    window.prompt.set_prompt("Use this texture for a poster")
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        assert window.prompt.request_run()
    assert any("to stay under" in note for note in done.args[1].notes)
    job = window.store.get_job(done.args[1].job_id)
    sent = window.store.job_inputs(job.id).images[0][0]
    assert sent.stat().st_size < SMALL_LIMIT


# ---------------------------------------------------------------------------------------------- masks and prompts


def test_window_refuses_an_empty_or_too_long_prompt_inline(qtbot, window):
    server = window.services.choice.demo_server
    window.prompt.set_prompt("   ")
    assert not window.prompt.request_run()
    assert "prompt is empty" in window.prompt.error_text()
    long_prompt = "a very detailed scene " * 1500  # 33,000 characters
    window.prompt.set_prompt(long_prompt)
    assert not window.prompt.request_run()
    assert "32,000" in window.prompt.error_text() and "Shorten it" in window.prompt.error_text()
    assert window.prompt.prompt() == long_prompt  # nothing was cut off behind the user's back
    assert window.store.list_jobs() == [] and not [r for r in server.requests if "/images/" in r.path]


def test_window_full_mask_and_cleared_mask(qtbot, window, tmp_path):
    window.open_image(_good(tmp_path / "canvas.png"))
    qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=5000)
    window.prompt.set_prompt("Make it a night scene")
    window.canvas.fill_all()  # a mask covering everything
    with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS) as done:
        assert window.prompt.request_run()
    assert any("covers the whole image" in note for note in done.args[1].notes)
    window.canvas.clear_mask()  # an empty mask means: edit the whole image, without a mask
    spec = window.build_spec()
    assert spec.mask is None and spec.images


@pytest.fixture
def cli(dev_server, gptimg_home):
    def run(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=KEY, GPTIMG_HOME=str(gptimg_home))
        return subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)

    return run


def _mask_file(path: Path, size: tuple[int, int], box=None, fill=0) -> str:
    mask = np.full((size[1], size[0]), fill, np.uint8)
    if box:
        x0, y0, x1, y1 = box
        mask[y0:y1, x0:x1] = 255
    Image.fromarray(mask).save(path)
    return str(path)


def test_cli_mask_of_another_size_is_scaled_to_the_image(cli, tmp_path, gptimg_home):
    image = _good(tmp_path / "photo.png")
    mask = _mask_file(tmp_path / "small-mask.png", (512, 512), box=(100, 100, 300, 300))
    proc = cli("edit", "add a window", "--image", image, "--mask", mask, "--size", "1024x1024", "--json")
    assert proc.returncode == 0, proc.stderr
    job_id = json.loads(proc.stdout)[0]["job_id"]
    with HistoryStore(gptimg_home) as store, Image.open(store.job_inputs(job_id).mask) as stored:
        assert stored.size == (1024, 1024)


def test_cli_refuses_an_empty_mask_and_notes_a_full_one(cli, tmp_path, dev_server):
    image = _good(tmp_path / "photo.png")
    empty = cli("edit", "add a door", "--image", image, "--mask", _mask_file(tmp_path / "empty.png", (1024, 1024)))
    assert empty.returncode == 2 and "mask is empty" in empty.stderr and "Traceback" not in empty.stderr
    assert not [r for r in dev_server.requests if "/images/" in r.path]
    full = cli("edit", "make it winter", "--image", image, "--size", "1024x1024",
               "--mask", _mask_file(tmp_path / "full.png", (1024, 1024), fill=255))
    assert full.returncode == 0, full.stderr
    assert "covers the whole image" in full.stderr


@pytest.mark.parametrize(("prompt", "fragment"), [("", "prompt is empty"), ("x" * 32_001, "32,000")],
                         ids=["empty", "too-long"])
def test_cli_refuses_empty_and_too_long_prompts(cli, dev_server, prompt, fragment):
    proc = cli("generate", prompt, "--size", "1024x1024")
    assert proc.returncode == 2 and fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not [r for r in dev_server.requests if "/images/" in r.path]
