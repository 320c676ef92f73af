"""Crash-safe file writes and the content-addressed store for images, inputs, thumbnails and raw responses.

Files are named by the SHA-256 of their bytes, so the same image is stored once and a path in the
database always points at exactly the bytes that were recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_EXT_RE = re.compile(r"^[a-z0-9]{1,10}$")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only when the ``with`` block finishes without an error.

    The bytes go to a temporary file in the same folder (os.replace is only atomic within one file system),
    are flushed to disk, then renamed over ``path``; the folder is synced so the rename survives a power cut.
    On any error the temporary file is removed and ``path`` keeps its old content.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` holds either the old content or all of the new, never a part."""
    with atomic_file(path) as tmp:
        tmp.write(data)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder for fsync; NTFS journals the rename itself
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders; the file itself is already on disk
    finally:
        os.close(fd)


def sniff_ext(data: bytes, filename: str | None = None) -> str:
    """The file extension for image bytes, from their magic number, else from ``filename``, else "bin"."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:1] in (b"{", b"["):
        return "json"
    suffix = PurePosixPath(filename or "").suffix.lower().lstrip(".")
    return suffix if _EXT_RE.match(suffix) else "bin"


class ImageFiles:
    """Content-addressed files under ``root``: ``<folder>/<first 2 hex>/<sha256>.<ext>``.

    Returned paths are relative, with forward slashes, so the database stays valid when the
    data folder moves or is copied to another operating system.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, ext: str) -> str:
        """Store a generated image; return its relative path."""
        return self._put("images", data, ext)

    def put_input(self, data: bytes, ext: str) -> str:
        """Store an input image or mask of a job, so the job's inputs can be restored later."""
        return self._put("inputs", data, ext)

    def put_thumb(self, data: bytes, ext: str) -> str:
        return self._put("thumbs", data, ext)

    def put_response(self, data: bytes, ext: str = "json") -> str:
        """Store a raw provider response before it is decoded, so a paid result survives a decoding failure."""
        return self._put("responses", data, ext)

    def path(self, rel: str) -> Path:
        """The absolute path of a relative path returned by one of the put methods."""
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel:
            raise ValueError(f"'{rel}' is not a path inside the data folder.")
        return self.root.joinpath(*parts)

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def _put(self, folder: str, data: bytes, ext: str) -> str:
        ext = ext.lower().lstrip(".")
        if not _EXT_RE.match(ext):
            raise ValueError(f"'{ext}' is not a usable file extension.")
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{folder}/{digest[:2]}/{digest}.{ext}"
        target = self.path(rel)
        # Writes are atomic, so an existing file with this name already holds exactly these bytes.
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(target, data)
        return rel
