"""Exports that carry their provenance: PNG text chunks, EXIF/XMP for JPEG and WebP."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, PngImagePlugin

from .errors import RequestRefused

EXPORT_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_EXIF_IMAGE_DESCRIPTION = 0x010E
_EXIF_SOFTWARE = 0x0131
_EXIF_IFD = 0x8769
_EXIF_USER_COMMENT = 0x9286
_XMP_NS = "https://gptimg-desktop.app/ns/1.0/"
# EXIF 2.3 §4.6.5: UserComment starts with an 8-byte character code, then the text in that code.
_CHARSET_ASCII = b"ASCII\0\0\0"
_CHARSET_UNICODE = b"UNICODE\0"  # UCS-2 (we write UTF-16) in the byte order of the EXIF block
_CHARSET_UNDEFINED = b"\0" * 8
# A JPEG APP1 segment holds at most 65,533 bytes; EXIF and XMP each get one. Leave room for the other tags.
_JPEG_SEGMENT_BUDGET = 60_000
_DESCRIPTION_CHARS = 2000


def format_for_path(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise RequestRefused(f"Can't export to '{suffix or 'no extension'}': use .png, .jpg or .webp.", param="format")
    return EXPORT_FORMATS[suffix]


def _xmp(metadata: dict[str, Any]) -> bytes:
    fields = "".join(
        f"<gptimg:{k}>{escape(str(v))}</gptimg:{k}>"
        for k, v in metadata.items()
        if v is not None and k != "prompt" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k)
    )
    # The prompt is written once, as the standard description every photo tool shows.
    description = escape(str(metadata.get("prompt", "")))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:gptimg="{_XMP_NS}">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>'
        f"{fields}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def encode_user_comment(text: str, endian: str = "<") -> bytes:
    """An EXIF UserComment value: the ASCII charset code for plain ASCII, else UNICODE with UTF-16 text in
    the EXIF block's byte order (``"<"`` little-endian, ``">"`` big-endian)."""
    if text.isascii():
        return _CHARSET_ASCII + text.encode("ascii")
    return _CHARSET_UNICODE + text.encode("utf-16-le" if endian == "<" else "utf-16-be")


def decode_user_comment(value: bytes | str, endian: str | None = "<") -> str:
    """The text of an EXIF UserComment, whatever charset code it was written with."""
    if isinstance(value, str):  # some writers store it as a plain string
        return value.rstrip("\0")
    code, body = value[:8], value[8:]
    if code == _CHARSET_UNICODE:
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a byte-order mark overrides the block's order
            return body.decode("utf-16").rstrip("\0")
        order = "utf-16-be" if endian == ">" else "utf-16-le"
        return body.decode(order, "replace").rstrip("\0")
    if code in (_CHARSET_ASCII, _CHARSET_UNDEFINED):
        return body.decode("utf-8", "replace").rstrip("\0 ")
    return value.decode("utf-8", "replace").rstrip("\0")  # no charset code at all


def _fits_jpeg(meta: dict[str, Any]) -> bool:
    comment = encode_user_comment(json.dumps(meta, ensure_ascii=False))
    return len(comment) + _DESCRIPTION_CHARS * 3 <= _JPEG_SEGMENT_BUDGET and len(_xmp(meta)) <= _JPEG_SEGMENT_BUDGET


def _fit_jpeg(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` small enough for a JPEG's 64 KB EXIF and XMP segments: a long prompt is cut and flagged."""
    if _fits_jpeg(meta):
        return meta
    prompt = str(meta.get("prompt", ""))
    low, high = 0, len(prompt)  # the longest prefix that fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if _fits_jpeg({**meta, "prompt": prompt[:mid] + "…", "prompt_truncated": True}):
            low = mid
        else:
            high = mid - 1
    return {**meta, "prompt": prompt[:low] + "…", "prompt_truncated": True}


def has_transparency(img: Image.Image) -> bool:
    """True when some pixel is not fully opaque (PNG and WebP keep it; JPEG needs a matte)."""
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        low = img.convert("RGBA").getchannel("A").getextrema()[0]
        return isinstance(low, int | float) and low < 255
    return False


def encode_with_metadata(img: Image.Image, fmt: str, metadata: dict[str, Any], quality: int = 92,
                         icc_profile: bytes | None = None, matte: tuple[int, int, int] = (255, 255, 255)) -> bytes:
    """Encode ``img`` as ``fmt`` with the prompt, model, size, quality and parent embedded (and ``icc_profile``,
    when an export preset converted the pixels to a colour space and must say which).

    PNG and WebP keep the alpha channel; JPEG has none, so transparent pixels are laid on ``matte``."""
    buf = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc_profile} if icc_profile else {}
    meta = {k: v for k, v in metadata.items() if v is not None}
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        for key, value in meta.items():
            info.add_itxt(f"gptimg:{key}", str(value))
        info.add_itxt("parameters", json.dumps(meta, ensure_ascii=False))
        info.add_itxt("Software", "gptimg-desktop")
        img.save(buf, "PNG", pnginfo=info, compress_level=6, **extra)
        return buf.getvalue()
    if fmt == "jpeg" and img.mode not in ("RGB", "L"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", img.size, tuple(matte))
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    # WebP chunks have no such limit, so WebP keeps the whole prompt.
    embedded = _fit_jpeg(meta) if fmt == "jpeg" else meta
    exif = Image.Exif()
    exif.endian = "<"
    # ImageDescription is an "ASCII" tag; UTF-8 there is what exiftool and most viewers read and write.
    exif[_EXIF_IMAGE_DESCRIPTION] = str(meta.get("prompt", ""))[:_DESCRIPTION_CHARS].encode("utf-8")
    exif[_EXIF_SOFTWARE] = "gptimg-desktop"
    # UserComment belongs in the Exif sub-IFD, with its charset code (a bare str would be stored as '?'s).
    exif.get_ifd(_EXIF_IFD)[_EXIF_USER_COMMENT] = encode_user_comment(json.dumps(embedded, ensure_ascii=False))
    save_kwargs: dict[str, Any] = {"exif": exif.tobytes(), "xmp": _xmp(embedded), "quality": quality, **extra}
    img.save(buf, "JPEG" if fmt == "jpeg" else "WEBP", **save_kwargs)
    return buf.getvalue()


def read_metadata(path_or_bytes: str | Path | bytes) -> dict[str, Any]:
    """The provenance embedded by encode_with_metadata (used by tests and by import); {} when there is none."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        if img.format == "PNG":
            text = getattr(img, "text", {}) or {}
            if "parameters" in text:
                return json.loads(text["parameters"])
            return {k.removeprefix("gptimg:"): v for k, v in text.items() if k.startswith("gptimg:")}
        exif = img.getexif()
        comment = exif.get_ifd(_EXIF_IFD).get(_EXIF_USER_COMMENT)
        if comment is None:
            comment = exif.get(_EXIF_USER_COMMENT)  # files written before the comment moved to the Exif IFD
        if comment:
            try:
                return json.loads(decode_user_comment(comment, exif.endian))
            except ValueError:
                pass
    return {}
