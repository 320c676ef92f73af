"""Image files in and out: safe decoding, upload preparation, API masks, thumbnails and a local cutout.

All of it is CPU work meant for worker threads, never the UI thread. Nothing here touches Qt
or the network. Every refusal is an InputImageError naming the file and saying what to do.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageOps

from . import masks as _masks
from .errors import InputImageError, OutputImageError
from .requests import ImageInput

# Our own decompression-bomb limit, checked on the header before any pixel is decoded. Pillow's
# global Image.MAX_IMAGE_PIXELS (89 MP warning, 179 MP error) is left alone for the rest of the
# process: we open files through the format plugins directly, so Pillow's check never fires and
# this one is the only one that applies here.
MAX_PIXELS = 40_000_000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
API_FORMATS = ("png", "jpeg", "webp")

# Formats we decode and convert; anything else Pillow knows is refused by name.
_CONVERTIBLE = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "DIB", "TIFF", "AVIF", "TGA", "PPM", "QOI", "ICO"}
_PASS_THROUGH_MODES = {"png": {"L", "RGB", "RGBA"}, "jpeg": {"L", "RGB"}, "webp": {"RGB", "RGBA"}}
_PREFERRED = ("PNG", "JPEG", "WEBP", "GIF", "AVIF", "BMP", "TIFF", "PPM")
_SUFFIXES = {"png": (".png",), "jpeg": (".jpg", ".jpeg", ".jpe"), "webp": (".webp",)}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"heif", b"mif1", b"msf1"}
_DAMAGED = "is damaged or incomplete; re-export it"


@dataclass(frozen=True)
class PreparedImage:
    """An upload-ready input plus what was changed on the way (shown to the user, empty when sent as is)."""

    input: ImageInput
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- decoding


def _open_lazy(data: bytes, filename: str, check_pixels: bool = True) -> Image.Image:
    """Identify ``data`` and read its header only, with our pixel limit instead of Pillow's.

    Mirrors Image.open's plugin loop without its bomb check, so a 30000x30000 header gives us
    its size (for a useful message) instead of an exception that hides it.
    """
    Image.init()
    prefix = data[:16]
    # The common formats first, as Image.open does, so a lenient plugin cannot claim them.
    order = [f for f in _PREFERRED if f in Image.OPEN] + [f for f in Image.ID if f not in _PREFERRED]
    for fmt in order:
        factory, accept = Image.OPEN[fmt]
        try:
            if accept is not None:
                verdict = accept(prefix)
                if not verdict or isinstance(verdict, str):
                    continue
            im = factory(io.BytesIO(data), filename)
        except Image.DecompressionBombError:
            # A few plugins check the size while opening; no size is available in that case.
            raise InputImageError(filename, "is too large to open safely; resize it below 40 megapixels") from None
        except (SyntaxError, IndexError, TypeError, ValueError, struct.error, EOFError, OSError):
            continue
        if check_pixels:
            _check_pixels(im.size, filename)
        return im
    raise InputImageError(filename, _unidentified_reason(data))


def _check_pixels(size: tuple[int, int], filename: str) -> None:
    w, h = size
    if w * h > MAX_PIXELS:
        raise InputImageError(
            filename,
            f"is {w}x{h} pixels — too large to open safely; resize it below {MAX_PIXELS // 1_000_000} megapixels",
        )


def _refuse_known_non_raster(data: bytes, filename: str) -> None:
    """Refuse the files designers most often drop in by mistake, before Pillow sees them."""
    if not data:
        raise InputImageError(filename, "is empty (0 bytes)")
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        compatible = {data[i : i + 4] for i in range(16, min(len(data), 64), 4)}
        is_avif = brand in (b"avif", b"avis") or (brand in (b"mif1", b"msf1") and b"avif" in compatible)
        if brand in _HEIF_BRANDS and not is_avif:
            raise InputImageError(filename, "is HEIC; export it as PNG or JPEG first")
    if data[:4] == b"8BPS":
        # Pillow only reads a PSD's merged preview, which Photoshop writes only with "Maximize
        # compatibility" on; without it the upload would be blank, so we ask for a flat export.
        raise InputImageError(filename, "is a Photoshop PSD; export a flattened PNG or JPEG")
    if _looks_like_svg(data):
        raise InputImageError(filename, "is a vector SVG; export it as PNG first")


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data[:2] == b"\x1f\x8b":  # .svgz
        try:
            head = zlib.decompressobj(31).decompress(data[:4096], 4096).lower()
        except zlib.error:
            return False
    return head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in head


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # only a character cut at the end of the sample is allowed
            return False
        text = sample[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def _unidentified_reason(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] == b"GIF8":
        return _DAMAGED
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _DAMAGED
    if _looks_like_text(data):
        return "is not an image (it looks like text)"
    return "is not an image format this app can read; export it as PNG or JPEG"


def decode_image(data: bytes, filename: str = "image") -> Image.Image:
    """Decode ``data`` fully, refusing bombs (checked on the header first) and damaged files."""
    _refuse_known_non_raster(data, filename)
    im = _open_lazy(data, filename)
    _load(im, filename)
    return im


def _load(im: Image.Image, filename: str) -> None:
    try:
        im.load()
    except Image.DecompressionBombError:
        raise InputImageError(filename, "is too large to open safely; resize it below 40 megapixels") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error):
        raise InputImageError(filename, _DAMAGED) from None


def image_size(data: bytes, filename: str = "image") -> tuple[int, int]:
    """(width, height) as stored, read from the header only (before any EXIF rotation)."""
    _refuse_known_non_raster(data, filename)
    # Reading a bomb's size is harmless; only decoding it is not.
    return _open_lazy(data, filename, check_pixels=False).size


# ---------------------------------------------------------------------------------------- images received

OUTPUT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


def output_format_of(data: bytes) -> str | None:
    """"png", "jpeg" or "webp" from the bytes' magic number (what the provider actually sent), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def decode_output(data: bytes, what: str = "The image in the answer") -> Image.Image:
    """Decode an image the provider sent, as received (no EXIF turn), or raise OutputImageError.

    Unlike the input checks, the messages speak of the provider's answer: there is no file to re-export.
    """
    if output_format_of(data) is None:
        kind = "text" if _looks_like_text(data) else "not a PNG, JPEG or WebP image"
        raise OutputImageError(f"{what} is {kind}, so it can't be shown or saved as an image.")
    try:
        im = _open_lazy(data, "answer")
        _load(im, "answer")
    except InputImageError as exc:
        if "too large" in exc.reason:
            raise OutputImageError(f"{what} is too large to open safely ({MAX_PIXELS // 1_000_000} megapixels "
                                   "at most), which no real answer is.") from None
        raise OutputImageError(f"{what} is damaged or cut short, so it can't be decoded.") from None
    return im


# ---------------------------------------------------------------------------------------- encoding


def encode_image(img: Image.Image, format: str, compression: int | None = None, *, png_level: int = 6) -> bytes:
    """Encode as ``png``, ``jpeg`` or ``webp``.

    ``compression`` is the quality 0–100 for JPEG and WebP (like the API's output_compression;
    None means 95). JPEG has no alpha, so transparent pixels are flattened onto white. PNG at
    ``png_level`` 1 or less means "fast": see ``_encode_png_fast``.
    """
    fmt = format.lower().replace("jpg", "jpeg")
    if fmt not in API_FORMATS:
        raise ValueError(f"cannot encode as {format!r}; use png, jpeg or webp")
    img = _normalise_mode(img)[0]
    if fmt == "jpeg":
        img = _flatten(img)
    elif fmt == "webp" and img.mode == "L":
        img = img.convert("RGB")
    buf = io.BytesIO()
    icc = img.info.get("icc_profile")
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    quality = 95 if compression is None else max(0, min(100, int(compression)))
    if fmt == "png":
        fast = _encode_png_fast(img) if png_level <= 1 else None
        if fast is not None:
            return fast
        img.save(buf, "PNG", compress_level=png_level, **extra)
    elif fmt == "jpeg":
        img.save(buf, "JPEG", quality=quality, **extra)
    else:
        img.save(buf, "WEBP", quality=quality, **extra)
    return buf.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    """RGB(A)/L(A) to an alpha-free mode, compositing transparent pixels onto white."""
    if "A" not in img.getbands():
        return img
    rgba = img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    base.alpha_composite(rgba)
    return base.convert("RGB")


def make_thumbnail(data: bytes, max_side: int = 256) -> bytes:
    """A WebP (quality 80) no larger than ``max_side`` on its long edge, upright per EXIF."""
    _refuse_known_non_raster(data, "thumbnail")
    im = _open_lazy(data, "thumbnail")
    if im.format in ("JPEG", "MPO"):
        im.draft("RGB", (max_side, max_side))  # let libjpeg decode at 1/2, 1/4 or 1/8 scale
    _load(im, "thumbnail")
    return thumbnail_of(ImageOps.exif_transpose(im), max_side)


def thumbnail_of(img: Image.Image, max_side: int = 256) -> bytes:
    """``make_thumbnail`` of pixels already in memory (e.g. a result just blended): no second decode.

    ``img`` is not changed.
    """
    im = _normalise_mode(img)[0]
    if im.mode == "L":
        im = im.convert("RGB")
    scale = min(1.0, max_side / max(im.size))
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    if size != im.size:
        im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=80, method=4)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------- upload preparation


def prepare_input_image(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    filename: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> PreparedImage:
    """Make a file ready to upload as an input image, or refuse it with one clear sentence.

    A PNG, JPEG or WebP that needs nothing is sent byte for byte. Otherwise: EXIF rotation is
    applied, CMYK/16-bit/palette/grey+alpha pixels become 8-bit RGB(A) or L, animations give
    their first frame, other raster formats (GIF, TIFF, BMP, AVIF …) become PNG, and files of
    ``max_bytes`` or more are recompressed and, if needed, scaled down.
    """
    source_path: str | None = None
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
        name = filename or "image"
    else:
        source_path = os.fspath(path_or_bytes)
        name = filename or os.path.basename(source_path)
        data = _read_file(source_path, name)
    name = os.path.basename(name) or "image"

    _refuse_known_non_raster(data, name)
    im = _open_lazy(data, name)
    fmt = im.format or ""
    if fmt not in _CONVERTIBLE:
        described = getattr(im, "format_description", None) or fmt
        raise InputImageError(name, f"is a {described} file, which can't be sent; export it as PNG or JPEG")
    if fmt == "PNG":
        # Every chunk's CRC instead of a full decode: as sure to catch a cut or damaged file, ~40x faster.
        orientation = _exif_orientation(_check_png(data, name))
    else:
        _load(im, name)
        orientation = _orientation(im)

    notes: list[str] = []
    api_fmt = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp"}.get(fmt)
    animated = bool(getattr(im, "is_animated", False)) and fmt != "MPO"  # MPO extras are previews/depth
    sixteen_bit = fmt == "PNG" and len(data) > 24 and data[24] == 16
    unchanged = (
        api_fmt is not None
        and not animated
        and orientation in (0, 1)
        and not sixteen_bit
        and im.mode in _PASS_THROUGH_MODES[api_fmt]
        and "transparency" not in im.info
    )
    if unchanged and api_fmt is not None and len(data) < max_bytes:
        return PreparedImage(_image_input(name, data, api_fmt, im.size, "A" in im.getbands(), source_path), notes)
    if fmt == "PNG":
        _load(im, name)  # the pixels are needed from here on

    if animated:
        # The loaded frame is the first one; later frames are never decoded.
        kind = {"GIF": "GIF", "WEBP": "WebP", "PNG": "PNG (APNG)"}.get(fmt, fmt)
        notes.append(f"{name} is an animated {kind}; only its first frame is sent.")
    img: Image.Image = im
    if orientation not in (0, 1):
        # Before any mode change: conversions through numpy would drop the EXIF block.
        img = ImageOps.exif_transpose(img)
        notes.append(f"{name}: rotated upright as its camera orientation says.")
    img, mode_note = _normalise_mode(img)
    if mode_note:
        notes.append(f"{name}: {mode_note}.")
    if sixteen_bit and not mode_note:
        notes.append(f"{name}: converted from 16 to 8 bits per channel.")

    has_alpha = "A" in img.getbands()
    if has_alpha:
        out_fmt = "png"
    elif fmt in ("JPEG", "MPO"):
        out_fmt = "jpeg"
    else:
        out_fmt = "png"
    if unchanged and api_fmt is not None:
        out, out_fmt = data, api_fmt  # only too big: let the size fitting below decide
    else:
        out = encode_image(img, out_fmt, 95, png_level=1)
        if api_fmt is None or out_fmt != api_fmt:
            notes.append(f"{name}: converted from {fmt} to {out_fmt.upper()}.")
    if len(out) >= max_bytes:
        img, out, out_fmt, fit_note = _fit_under(img, len(out), max_bytes, name)
        notes.append(fit_note)
        has_alpha = "A" in img.getbands()
    return PreparedImage(_image_input(_renamed(name, out_fmt), out, out_fmt, img.size, has_alpha, source_path), notes)


# No input image this app can open is anywhere near this size on disk (40 megapixels as an uncompressed
# 16-bit TIFF is 320 MB); a bigger file is refused from its size, before a byte of it is read.
MAX_INPUT_FILE_BYTES = 512 * 1024 * 1024
_HEAD_BYTES = 64 * 1024


def _read_file(path: str, name: str) -> bytes:
    """The file's bytes, after checking its size and its first bytes: a huge or plainly wrong file is refused
    without being read whole (a 2 GB sparse ".png" would otherwise take 2 GB of memory)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_INPUT_FILE_BYTES:
                raise InputImageError(name, f"is {_human_bytes(size)}, far larger than any image this app can "
                                            "send; export a smaller PNG or JPEG")
            head = fh.read(_HEAD_BYTES)
            _refuse_known_non_raster(head, name)
            if _looks_like_text(head) and not _looks_like_svg(head):
                raise InputImageError(name, "is not an image (it looks like text)")
            return head + fh.read()
    except FileNotFoundError:
        raise InputImageError(name, "was not found; it may have been moved or deleted") from None
    except IsADirectoryError:
        raise InputImageError(name, "is a folder, not an image file") from None
    except OSError as exc:
        raise InputImageError(name, f"could not be read ({exc.strerror or exc}); check that you can open it") from None


def _image_input(name: str, data: bytes, fmt: str, size: tuple[int, int], alpha: bool, path: str | None) -> ImageInput:
    return ImageInput(
        filename=name, data=data, format=fmt, width=size[0], height=size[1], has_alpha=alpha, source_path=path
    )


def _renamed(name: str, fmt: str) -> str:
    stem, suffix = os.path.splitext(name)
    if suffix.lower() in _SUFFIXES[fmt]:
        return name
    return f"{stem or name}{_SUFFIXES[fmt][0]}"


def _check_png(data: bytes, name: str) -> bytes | None:
    """Walk a PNG's chunks up to IEND, checking each one's CRC; return its eXIf payload, if any.

    A few milliseconds for a 4K photo where decoding takes ~130 ms, and it refuses the same files:
    one cut short or with damaged bytes fails a length or a CRC.
    """
    view = memoryview(data)
    pos, exif = 8, None
    while True:
        if pos + 12 > len(data):
            raise InputImageError(name, _DAMAGED)
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data) or zlib.crc32(view[pos + 4 : end - 4]) != struct.unpack_from(">I", data, end - 4)[0]:
            raise InputImageError(name, _DAMAGED)
        if kind == b"eXIf":
            exif = bytes(view[pos + 8 : end - 4])
        elif kind == b"IEND":
            return exif
        pos = end


def _exif_orientation(payload: bytes | None) -> int:
    if not payload:
        return 1
    try:
        exif = Image.Exif()
        exif.load(payload)
        return int(exif.get(ExifTags.Base.Orientation, 1) or 1)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error):
        return 1  # a broken EXIF block must not make a good image unusable


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error):
        # a broken EXIF block must not make a good image unusable
        return 1


def _normalise_mode(im: Image.Image) -> tuple[Image.Image, str]:
    """8-bit L, RGB or RGBA for any input mode, and a short note when the change matters to a user."""
    mode = im.mode
    transparent = "transparency" in im.info
    if mode in ("RGB", "L") and not transparent:
        return im, ""
    if mode == "RGBA":
        return im, ""
    if mode in ("P", "PA"):
        return (im.convert("RGBA"), "") if transparent or mode == "PA" else (im.convert("RGB"), "")
    if mode in ("RGB", "L", "1"):  # with a tRNS colour key, or 1-bit
        return (im.convert("RGBA"), "") if transparent else (im.convert("L"), "")
    if mode in ("LA", "La", "RGBa"):
        return im.convert("RGBA"), ""
    if mode == "CMYK":
        return im.convert("RGB"), "converted from CMYK to RGB (colours may shift slightly)"
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(im)
        if mode == "F":
            scaled = np.clip(arr * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255)
        else:
            # 16-bit data keeps its top 8 bits; an "I" image with 8-bit values is only clipped.
            scaled = arr.astype(np.int64) >> 8 if arr.max(initial=0) > 255 or ";16" in mode else arr
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L"), "converted from 16 to 8 bits per channel"
    return im.convert("RGB"), f"converted from {mode} to RGB"


def _min_alpha(img: Image.Image) -> int:
    low = img.getchannel("A").getextrema()[0]
    return int(low) if isinstance(low, int | float) else 0


def _fit_under(img: Image.Image, size_now: int, max_bytes: int, name: str) -> tuple[Image.Image, bytes, str, str]:
    """Re-encode (and then scale down) until the file is under ``max_bytes``; refuse if it cannot be."""
    limit = _human_bytes(max_bytes)
    was = _human_bytes(size_now)
    alpha_matters = "A" in img.getbands() and _min_alpha(img) < 255
    if not alpha_matters and "A" in img.getbands():
        img = img.convert("RGB")
    if alpha_matters:
        out = encode_image(img, "png", png_level=9)
        attempts = [("png", None)]
    else:
        attempts = [("jpeg", q) for q in (92, 85, 75)]
        out = b""
    for fmt, q in attempts:
        out = out if fmt == "png" else encode_image(img, fmt, q)
        if len(out) < max_bytes:
            how = "PNG, optimised" if fmt == "png" else f"JPEG quality {q}"
            return img, out, fmt, f"{name} was {was}; re-encoded as {how} to stay under {limit}."
    fmt, q = attempts[-1]
    scaled = img
    for _ in range(12):
        # Bytes scale roughly with the pixel count: aim a little below the limit each step.
        factor = min(0.9, math.sqrt(max_bytes / max(len(out), 1)) * 0.95)
        size = (max(1, int(scaled.width * factor)), max(1, int(scaled.height * factor)))
        if min(size) < 64:
            break
        scaled = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = encode_image(scaled, fmt, q, png_level=9)
        if len(out) < max_bytes:
            return scaled, out, fmt, (f"{name} was {was}; scaled down to {size[0]}x{size[1]} to stay under {limit}.")
    raise InputImageError(
        name,
        f"is too large to send ({was}) even after compressing and scaling it down; "
        f"export a smaller version under {limit}",
    )


def _human_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


# ---------------------------------------------------------------------------------------- masks for the API


EDIT_THRESHOLD = 32


def painted_mask_to_api_mask(
    mask: str | os.PathLike[str] | bytes | Image.Image | np.ndarray, target_size: tuple[int, int]
) -> ImageInput:
    """Turn a mask into what the API wants: an RGBA PNG, black, alpha 0 where to edit, 255 where to keep.

    Accepts an API mask (anything with transparency: transparent = edit) or a painted mask
    without alpha (white = edit, black = keep), as a path, bytes, a PIL image or a 2-D uint8
    array (255 = edit). A mask with an alpha channel that is fully opaque is read as painted.
    Scaled to ``target_size`` (the first input image's size) and made hard-edged, because the
    API edits only fully transparent pixels.
    """
    edit = _edit_array(mask)
    w, h = target_size
    # A soft brush edge counts as editable from 1/8 coverage on: the blend-back then fades the
    # result in over the soft edge, so the model must be allowed to repaint it.
    edit = np.where(edit >= EDIT_THRESHOLD, np.uint8(255), np.uint8(0))
    if edit.shape != (h, w):
        # Bilinear then threshold: smoother outlines than nearest when scaling either way.
        edit = np.asarray(Image.fromarray(edit, "L").resize((w, h), Image.Resampling.BILINEAR))
    alpha = np.where(edit >= 128, np.uint8(0), np.uint8(255))  # uint8 scalars: no 66 MB int64 temporary at 4K
    data = _encode_black_rgba_png(alpha)
    return ImageInput(filename="mask.png", data=data, format="png", width=w, height=h, has_alpha=True)


def edit_array(mask: str | os.PathLike[str] | bytes | Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) uint8 with 255 = edit from any mask a job accepts (see painted_mask_to_api_mask), at its own size."""
    return _edit_array(mask)


def edit_array_from_mask(data: bytes) -> np.ndarray:
    """(H, W) uint8 with 255 = edit from a stored mask file: an API mask (alpha) or a painted one (soft)."""
    return _edit_array(data).copy()


def mask_array_from_api_mask(data: bytes) -> np.ndarray:
    """The edit area of an API mask PNG as a (H, W) uint8 array: 255 where alpha is 0, else 0."""
    im = decode_image(data, "mask")
    if "A" not in im.getbands() and "transparency" not in im.info:
        raise InputImageError("mask", "has no transparency, so it marks nothing to edit; paint the area to change")
    alpha = np.asarray(im.convert("RGBA").getchannel("A"))
    return np.where(alpha == 0, 255, 0).astype(np.uint8)


def _edit_array(mask: Any) -> np.ndarray:
    """(H, W) uint8, 255 = edit, from any supported mask input."""
    if isinstance(mask, np.ndarray):
        if mask.ndim != 2:
            raise ValueError(f"a mask array is 2-D (H, W), got shape {mask.shape}")
        return _masks._as_mask(mask) if mask.dtype != np.uint8 else mask
    if isinstance(mask, Image.Image):
        im = mask
    elif isinstance(mask, (bytes, bytearray, memoryview)):
        im = decode_image(bytes(mask), "mask")
    else:
        path = os.fspath(mask)
        im = decode_image(_read_file(path, os.path.basename(path)), os.path.basename(path))
    if "A" in im.getbands() or "transparency" in im.info:
        alpha = np.asarray(im.convert("RGBA").getchannel("A"))
        if alpha.min() < 255:
            return np.where(alpha == 0, 255, 0).astype(np.uint8)
    return np.asarray(_flatten(_normalise_mode(im)[0]).convert("L"))


def _encode_black_rgba_png(alpha: np.ndarray) -> bytes:
    """An RGBA PNG, black everywhere, with ``alpha`` as its alpha channel.

    Written directly with zlib level 1 (filter type 0): about twice as fast as Pillow's encoder,
    which tries a row filter per line; a 3840x2160 mask takes ~50 ms and ~200 kB.
    """
    h, w = alpha.shape
    rows = np.zeros((h, w * 4 + 1), dtype=np.uint8)  # leading 0 per row = filter "None"
    rows[:, 4::4] = alpha
    idat = zlib.compress(rows.data.cast("B"), 1)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit, colour type 6 = RGBA
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _encode_png_fast(img: Image.Image) -> bytes | None:
    """An 8-bit L, RGB or RGBA image as PNG, written directly: "Up" row filter, zlib level 1, one IDAT.

    Pillow tries every row filter on every row, which costs ~1.0 s (level 1) to ~2.4 s (level 6) for
    a 3840x2160 photo; one numpy subtraction plus zlib takes ~0.3 s for a file about as small as
    Pillow's level 1 (within ~20% of level 6), and zlib releases the GIL while it works, so the GUI
    thread stays responsive. Returns None for anything else, which Pillow then encodes.
    """
    channels = {"L": 1, "RGB": 3, "RGBA": 4}.get(img.mode)
    if channels is None or "transparency" in img.info:
        return None
    pixels = np.asarray(img)
    h, w = pixels.shape[:2]
    flat = pixels.reshape(h, w * channels)
    rows = np.empty((h, w * channels + 1), dtype=np.uint8)
    rows[:, 0] = 2  # filter "Up": each byte minus the one above it (the row above the first is zeros)
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])
    ihdr = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[channels], 0, 0, 0)
    chunks = [_chunk(b"IHDR", ihdr)]
    icc = img.info.get("icc_profile")
    if icc:
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    chunks += [_chunk(b"IDAT", _deflate_parallel(rows.data.cast("B"), 1)), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


_PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # below this one thread is as quick as starting others


def _deflate_parallel(data: memoryview, level: int) -> bytes:
    """A zlib stream of ``data``, compressed in bands on every core (pigz's trick).

    Each band is raw deflate closed by a full flush (the last one finished), so the bands simply
    concatenate into one valid stream; a band loses only the previous band's 32 kB of history.
    """
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(data) < _PARALLEL_MIN_BYTES:
        return zlib.compress(data, level)
    step = -(-len(data) // workers)
    bands = [data[i : i + step] for i in range(0, len(data), step)]

    def deflate(index: int) -> bytes:
        c = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw: no header, no checksum
        return c.compress(bands[index]) + c.flush(zlib.Z_FINISH if index == len(bands) - 1 else zlib.Z_FULL_FLUSH)

    with ThreadPoolExecutor(max_workers=len(bands), thread_name_prefix="gptimg-deflate") as pool:
        parts = list(pool.map(deflate, range(len(bands))))
    header = b"\x78\x01"  # deflate, 32 kB window, "fastest" (CMF*256 + FLG is a multiple of 31)
    return header + b"".join(parts) + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


# ---------------------------------------------------------------------------------------- local cutout


def cutout_background(img: Image.Image) -> Image.Image:
    """Remove the background locally; returns RGBA. OpenCV-based, holes and soft edges included: see core.cutout."""
    from .cutout import remove_background

    return remove_background(_flatten(_normalise_mode(img)[0]))
