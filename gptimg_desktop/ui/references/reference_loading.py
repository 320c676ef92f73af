"""Loading reference images off the UI thread: check the file, measure it, make its thumbnail.

Runs in QThreadPool workers; pasted or dropped pixels are first written to the scratch folder as PNG.
Results (or a one-sentence refusal naming the file) go back to the tray through a queued signal.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from dataclasses import dataclass
from urllib.parse import unquote

from PySide6.QtCore import QObject, QRunnable, Signal
from PySide6.QtGui import QImage

from ...core.errors import InputImageError
from ...editor.references import Reference

THUMB_SIZE = 64


@dataclass(frozen=True)
class ReferenceSource:
    label: str  # what the user would call it, for messages
    path: str | None = None
    image: QImage | None = None  # pasted or dropped pixels, written to the scratch folder first
    data_url: str | None = None


@dataclass(frozen=True)
class LoadedReference:
    reference: Reference
    thumbnail: QImage


class LoadSignals(QObject):
    # token, and either LoadedReference or the refusal message (str)
    finished = Signal(int, object)


class LoadTask(QRunnable):
    def __init__(self, token: int, source: ReferenceSource, scratch_dir: str, signals: LoadSignals) -> None:
        super().__init__()
        self.token, self.source, self.scratch_dir, self.signals = token, source, scratch_dir, signals

    def run(self) -> None:
        try:
            result: object = load_reference(self.source, self.scratch_dir, self.token)
        except InputImageError as exc:
            result = f"Not added: {exc.filename} {exc.reason.rstrip('.')}."
        except Exception as exc:  # noqa: BLE001 (one bad file must never take the tray down)
            result = f"Not added: {self.source.label} could not be opened ({exc})."
        try:
            self.signals.finished.emit(self.token, result)
        except RuntimeError:
            pass  # the tray was closed while this file loaded


def load_reference(source: ReferenceSource, scratch_dir: str, token: int = 0) -> LoadedReference:
    """Worker-thread work: write pasted data to disk if needed, check the image, make its thumbnail."""
    path = source.path
    if source.image is not None:
        path = _write_scratch_png(source.image, scratch_dir, token)
    elif source.data_url is not None:
        path = _write_data_url(source.data_url, scratch_dir, token)
    assert path is not None
    name = os.path.basename(path)
    width, height, notes = _prepare(path, name)
    return LoadedReference(Reference(path=path, width=width, height=height, notes=notes), _thumbnail(path, name))


def _scratch_path(scratch_dir: str, token: int, ext: str) -> str:
    os.makedirs(scratch_dir, exist_ok=True)
    return os.path.join(scratch_dir, f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{token}.{ext}")


def _write_scratch_png(image: QImage, scratch_dir: str, token: int) -> str:
    path = _scratch_path(scratch_dir, token, "png")
    if image.isNull() or not image.save(path):
        raise InputImageError("the pasted image", "could not be saved to the scratch folder; paste it again")
    return path


def _write_data_url(url: str, scratch_dir: str, token: int) -> str:
    header, _, payload = url.partition(",")
    media = header[5:].split(";")[0].lower()  # after "data:"
    if not media.startswith("image/"):
        raise InputImageError("the dropped data", "is not an image")
    try:
        data = base64.b64decode(payload, validate=False) if ";base64" in header else unquote(payload).encode()
    except (binascii.Error, ValueError):
        raise InputImageError("the dropped image", "is damaged; save the image and drop the file") from None
    ext = {"image/jpeg": "jpg", "image/jpg": "jpg", "image/webp": "webp", "image/gif": "gif"}.get(media, "png")
    path = _scratch_path(scratch_dir, token, ext)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def _prepare(path: str, name: str) -> tuple[int, int, tuple[str, ...]]:
    """Size and notes, through core.images when it is available, else a plain Pillow check."""
    try:
        from ...core.images import prepare_input_image  # type: ignore[attr-defined]
    except ImportError:
        prepare_input_image = None
    if prepare_input_image is not None:
        prepared = prepare_input_image(path)
        inp = prepared.input
        return inp.width, inp.height, tuple(getattr(prepared, "notes", ()) or ())
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            width, height = im.size
            fmt = (im.format or "").upper()
    except FileNotFoundError:
        raise InputImageError(name, "was not found; it may have been moved or deleted") from None
    except PermissionError:
        raise InputImageError(name, "can't be read (permission denied)") from None
    except UnidentifiedImageError:
        raise InputImageError(name, "is not an image file, or not in a format this app can read") from None
    except (OSError, SyntaxError, ValueError):
        raise InputImageError(name, "is damaged or incomplete; re-export it") from None
    notes = () if fmt in ("PNG", "JPEG", "WEBP") else (f"{fmt or 'This format'} will be sent as PNG.",)
    return width, height, notes


def _thumbnail(path: str, name: str) -> QImage:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))  # JPEG decodes at reduced scale: much faster
            im = ImageOps.exif_transpose(im)
            im.thumbnail((THUMB_SIZE * 2, THUMB_SIZE * 2))
            im = im.convert("RGBA")
            data = im.tobytes("raw", "RGBA")
            qimage = QImage(data, im.width, im.height, 4 * im.width, QImage.Format.Format_RGBA8888)
            return qimage.copy()  # detach from ``data``
    except (OSError, ValueError):
        raise InputImageError(name, "could not be shown; it may be damaged") from None
