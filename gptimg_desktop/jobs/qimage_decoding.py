"""Image bytes or files to QImages on worker threads, without holding Python's GIL for the decode.

Why not ``QImage.fromData`` / ``QImageReader.read()``: PySide keeps the GIL during those calls, so a
3840x2160 PNG decoded on a worker freezes the GUI thread for ~150 ms. Pillow releases the GIL while it
decodes, converts and packs; the pixels are then copied into a QImage with numpy (which releases it too),
already in the format the canvas draws fastest (RGB32, or premultiplied ARGB32 with alpha).
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from .worker_protocol import RawFrame

# Modes Pillow turns into 8-bit RGB(A) exactly; anything rarer (16-bit, CMYK …) goes through Qt's reader.
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_OPAQUE_MODES = {"RGB", "L", "P", "1", "RGBX"}
_ORIENTATION = 0x0112  # the EXIF tag


def decode_qimage(source: bytes | str | os.PathLike[str], max_side: int | None = None) -> QImage:
    """Decode ``source`` (image bytes or a path) upright per EXIF, scaled to fit ``max_side`` if given.

    Returns Format_RGB32, or Format_ARGB32_Premultiplied when the image has transparency. Raises
    OSError (or ValueError) with a short reason when the data is not a readable image.
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)
    try:
        with Image.open(stream) as im:
            if im.mode not in _ALPHA_MODES | _OPAQUE_MODES:
                return _decode_with_qt(source, max_side)
            if max_side and im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))  # libjpeg decodes at 1/2 … 1/8 scale: much faster
            im.load()
            # exif_transpose copies even an upright image: only call it when there is something to turn.
            img = ImageOps.exif_transpose(im) if im.getexif().get(_ORIENTATION, 1) not in (0, 1) else im
            if max_side and max(img.size) > max_side:
                img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
            transparent = img.mode in _ALPHA_MODES or "transparency" in img.info
            return _to_qimage(img, transparent)
    except Image.DecompressionBombError:
        raise ValueError("the image is too large to open safely") from None
    except UnidentifiedImageError:
        raise OSError("it is not an image this app can read") from None


def read_frame(frame: RawFrame) -> QImage:
    """A worker's RawFrame file read straight into a new QImage's pixels (a file read: the GIL is free), then
    deleted. Raises OSError when the file is missing or short, MemoryError when there is no room."""
    fmt = QImage.Format.Format_ARGB32_Premultiplied if frame.transparent else QImage.Format.Format_RGB32
    out = QImage(frame.width, frame.height, fmt)
    if out.isNull():
        raise MemoryError(f"not enough memory for a {frame.width}x{frame.height} image")
    if out.bytesPerLine() != 4 * frame.width:
        raise ValueError("unexpected QImage row layout")
    view = memoryview(out.bits()).cast("B")
    try:
        with open(frame.path, "rb", buffering=0) as f:
            done = 0
            while done < frame.nbytes:
                got = f.readinto(view[done:])
                if not got:
                    raise OSError(f"the frame file ended after {done} of {frame.nbytes} bytes")
                done += got
    finally:
        with contextlib.suppress(OSError):
            os.remove(frame.path)
    return out


RESULT_THUMB = 360  # px: the variant grid's tiles are cut from this


def result_thumbnail(image: QImage, side: int = RESULT_THUMB) -> QImage:
    """``image`` fitted into ``side`` px: a fast cut to twice the size, then a smooth one (~1 ms for 4K)."""
    if image.isNull():
        return QImage()
    keep = Qt.AspectRatioMode.KeepAspectRatio
    rough = image.scaled(side * 2, side * 2, keep, Qt.TransformationMode.FastTransformation)
    return rough.scaled(side, side, keep, Qt.TransformationMode.SmoothTransformation)


def _to_qimage(img: Image.Image, transparent: bool) -> QImage:
    w, h = img.size
    if transparent:
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        raw = rgba.convert("RGBa").tobytes("raw", "BGRa")  # premultiplied, in ARGB32's little-endian byte order
        fmt = QImage.Format.Format_ARGB32_Premultiplied
    else:
        raw = (img if img.mode == "RGB" else img.convert("RGB")).tobytes("raw", "BGRX")
        fmt = QImage.Format.Format_RGB32
    out = QImage(w, h, fmt)
    if out.isNull():
        raise MemoryError(f"not enough memory for a {w}x{h} image")
    pixels = np.frombuffer(out.bits(), np.uint8).reshape(h, out.bytesPerLine())[:, : 4 * w]
    pixels[:] = np.frombuffer(raw, np.uint8).reshape(h, 4 * w)
    if not transparent:
        pixels.reshape(h, w, 4)[:, :, 3] = 255  # RGB32 is 0xffRRGGBB; Pillow's X byte is 0
    return out


def _decode_with_qt(source: bytes | str | os.PathLike[str], max_side: int | None) -> QImage:
    """Qt's reader for what Pillow does not map to 8-bit RGB(A) directly (holds the GIL, so it is the exception)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        from PySide6.QtCore import QBuffer, QByteArray

        buffer = QBuffer()
        buffer.setData(QByteArray(bytes(source)))
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(os.fspath(source))
    reader.setAutoTransform(True)
    if max_side:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_side:
            reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise OSError(reader.errorString() or "not an image")
    fmt = (
        QImage.Format.Format_ARGB32_Premultiplied if image.hasAlphaChannel() else QImage.Format.Format_RGB32
    )
    return image if image.format() == fmt else image.convertToFormat(fmt)
