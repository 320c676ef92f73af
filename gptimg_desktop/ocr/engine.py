"""The OCR engine: rapidocr loaded once, lazily, on whichever worker thread first needs it.

Loading the ONNX models takes a few seconds and a recognition pass about one to three, so neither
may ever happen on the GUI thread; callers are the job worker, a background task or the CLI.
Nothing is downloaded: the models come inside the rapidocr wheel.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from typing import Any

import numpy as np
from PIL import Image

from ..core.proofing import Reading

MODES = ("full", "quick")
# full: detection at up to 1280 px on the long side, plus the text-direction classifier (upside-down text);
# quick: detection at 960 px and no classifier, about twice as fast, for large headline text.
_PARAMS: dict[str, dict[str, Any]] = {
    "full": {"Global.use_cls": True, "Det.limit_type": "max", "Det.limit_side_len": 1280},
    "quick": {"Global.use_cls": False, "Det.limit_type": "max", "Det.limit_side_len": 960},
}
MIN_CONFIDENCE = 0.5  # below this a reading is usually texture, not text


class OcrUnavailable(RuntimeError):
    """The OCR runtime can't be loaded (a broken install); the message says what to do."""


class OcrEngine:
    """Thread-safe wrapper around one RapidOCR instance per mode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, Any] = {}

    @staticmethod
    def engine_id(mode: str = "full") -> str:
        """Names the models and settings, so cached readings of another engine are not reused."""
        try:
            version = importlib.metadata.version("rapidocr")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        return f"rapidocr-{version}-{mode}"

    @property
    def loaded(self) -> bool:
        return bool(self._engines)

    def _engine(self, mode: str) -> Any:
        if mode not in MODES:
            raise ValueError(f"OCR mode is one of {', '.join(MODES)} (got {mode!r})")
        engine = self._engines.get(mode)
        if engine is None:
            try:
                from rapidocr import RapidOCR
            except Exception as exc:  # an install without the OCR runtime or with a broken onnxruntime
                raise OcrUnavailable(
                    f"Text proofing needs the OCR runtime, which failed to load ({type(exc).__name__}); "
                    "reinstall gptimg-desktop."
                ) from exc
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            engine = RapidOCR(params={"Global.log_level": "warning", **_PARAMS[mode]})
            self._engines[mode] = engine
        return engine

    def read(self, image: Image.Image | np.ndarray, mode: str = "full") -> list[Reading]:
        """Every line of text found in ``image``, with axis-aligned boxes in image pixels."""
        rgb = _as_rgb_array(image)
        with self._lock:  # one pass at a time: onnxruntime already uses every core
            result = self._engine(mode)(rgb)
        texts = getattr(result, "txts", None) or ()
        boxes = getattr(result, "boxes", None)
        scores = getattr(result, "scores", None) or ()
        readings: list[Reading] = []
        if boxes is None:
            return readings
        for text, poly, score in zip(texts, boxes, scores, strict=False):
            if not str(text).strip() or float(score) < MIN_CONFIDENCE:
                continue
            pts = np.asarray(poly, dtype=np.float32).reshape(-1, 2)
            box = (int(pts[:, 0].min()), int(pts[:, 1].min()), int(np.ceil(pts[:, 0].max())),
                   int(np.ceil(pts[:, 1].max())))
            readings.append(Reading(str(text), box, float(score)))
        return readings


def _as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Text on a transparent asset is read against white, like a designer sees it on a page.
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


_shared: OcrEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> OcrEngine:
    """The process's one engine (models are loaded at most once per mode)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OcrEngine()
        return _shared
