"""The local Images API for the job benchmarks, in a process of its own, answering with worst-realistic images.

``python -m benchmarks._photo_server GRAIN DELAY`` serves ``gptimg_desktop.devserver`` on a free loopback port and
prints ``URL <base url>``. Two changes from ``gptimg serve``, both made here so the shipped server stays as it is:

- every image it sends (partial or final) is a photo-like picture with grain of +-GRAIN levels, so a 3840x2160
  PNG is ~23 MB and its base64 ~31 MB, as real gpt-image-2 4K answers are (the stand-in's smooth pictures
  compress to a tenth of that and would flatter every decoder). They are made once per size (argument 3,
  e.g. ``3840x2160,1024x1024``, before the URL is printed) in a few variants, and reused;
- after the last byte of each finished image goes out (a ``*.completed`` event, or a whole JSON answer) it
  prints ``SENT <time.monotonic()>``: the same clock as the app's on Linux, for "last byte -> on the canvas".

An optional 4th argument lowers its priority by that niceness (the UI benchmarks: a real provider runs on
another machine, so it should not take CPU from the app on this one). It stops when its standard input closes (the benchmark ended, however it ended).
"""

from __future__ import annotations

import base64
import io
import os
import sys
import threading
import time
from typing import Any

import numpy as np
from PIL import Image

from gptimg_desktop.devserver import responses
from gptimg_desktop.devserver import server as devserver

_lock = threading.Lock()
VARIANTS = 4  # distinct pictures per size, so the n images of one answer are not one file stored four times


def photo_png(width: int, height: int, amplitude: int, seed: int) -> bytes:
    """A photo-like RGB PNG (smooth colour fields plus +-amplitude grain, zlib level 1 as the server encodes)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 220, (height // 64 + 2, width // 64 + 2, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(0, 2 * amplitude + 1, (height, width, 3), dtype=np.uint8).astype(np.int16) - amplitude
    pixels = np.clip(base + grain, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


class PhotoAnswers:
    """Base64 of VARIANTS photo PNGs per size, made once: every frame the server sends is one of them."""

    def __init__(self, amplitude: int) -> None:
        self.amplitude = amplitude
        self._cache: dict[tuple[int, int, int], str] = {}
        self._next = 0

    def get(self, width: int, height: int, variant: int | None = None) -> str:
        if variant is None:
            with _lock:
                variant, self._next = self._next % VARIANTS, self._next + 1
        key = (width, height, variant)
        if key not in self._cache:
            png = photo_png(width, height, self.amplitude, seed=1000 * variant + width)
            self._cache[key] = base64.b64encode(png).decode("ascii")
        return self._cache[key]


def _sent() -> None:
    with _lock:
        print(f"SENT {time.monotonic():.6f}", flush=True)


def main() -> None:
    amplitude, delay = int(sys.argv[1]), float(sys.argv[2])
    sizes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[3].split(",")] if len(sys.argv) > 3 and sys.argv[3] else []
    if len(sys.argv) > 4 and hasattr(os, "nice"):
        os.nice(int(sys.argv[4]))  # a stand-in for a remote provider: it takes the CPU the app leaves
    answers = PhotoAnswers(amplitude)
    for width, height in sizes:  # made before READY, so no timed run pays for them
        for variant in range(VARIANTS):
            answers.get(width, height, variant)

    def photo_b64(call: Any, img: Image.Image) -> str:
        return answers.get(*img.size)

    def blank(call: Any, index: int) -> Image.Image:  # the stand-in's picture is replaced anyway: skip drawing it
        return Image.new("RGB", (call.size.width, call.size.height))

    responses.encode_b64 = photo_b64  # the server calls both through the module, for partials and finals alike
    responses.render_image = blank

    handler: Any = devserver._Handler  # noqa: SLF001 (benchmark instrumentation)
    write_event, send_json = handler._write_event, handler._send_json

    def timed_write_event(self: Any, name: str, payload: dict[str, Any]) -> None:
        write_event(self, name, payload)
        if name.endswith(".completed"):
            _sent()

    def timed_send_json(self: Any, status: int, payload: Any, fault: Any = None) -> None:
        send_json(self, status, payload, fault)
        if status == 200 and isinstance(payload, dict) and "data" in payload:
            _sent()

    handler._write_event, handler._send_json = timed_write_event, timed_send_json
    server = devserver.DevServer(port=0, delay=delay, keep_uploads=False)
    server.start()
    print(f"URL {server.url}", flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin or dies
    finally:
        server.stop()


if __name__ == "__main__":
    main()
