"""The typed messages between the editor and its job worker process, and the raw pixel frames they point at.

The editor (jobs/queue.py) sends a ``RunJob`` or ``RecoverJob`` on the job pipe and a ``CancelJob`` on the
control pipe; the worker (jobs/worker_process.py) answers on the job pipe with one ``Recorded``, any number
of ``Stage``/``Preview``/``Retrying``, and exactly one terminal message (``Succeeded``, ``Failed`` or
``Cancelled``) per job. Messages are small: images travel as ``RawFrame`` files of already decoded pixels,
so the editor's process never base64-decodes, parses or decodes an image of a job; it only reads pixels
into a QImage, a file read that lets go of the GIL.

Pure Python (no Qt): the worker process imports it too.
"""

from __future__ import annotations

import os
import pickle
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PIL import Image

from ..core.pricing import PriceTable
from ..provider.config import ProviderConfig
from ..store.records import Version
from .pipeline import JobSpec

# ---------------------------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class RawFrame:
    """Decoded pixels in a file: ``height`` rows of ``4 * width`` bytes in QImage's 32-bit layout.

    Opaque frames are BGRA with alpha 255 (Format_RGB32); transparent ones premultiplied BGRA
    (Format_ARGB32_Premultiplied). The reader deletes the file.
    """

    path: str
    width: int
    height: int
    transparent: bool

    @property
    def nbytes(self) -> int:
        return 4 * self.width * self.height


def write_frame(img: Image.Image, folder: Path) -> RawFrame:
    """``img`` as a RawFrame file in ``folder`` (Pillow packs the pixels without holding the GIL)."""
    transparent = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if transparent:
        raw = img.convert("RGBA").convert("RGBa").tobytes("raw", "BGRa")
    else:
        raw = (img if img.mode == "RGB" else img.convert("RGB")).convert("RGBA").tobytes("raw", "BGRA")
    path = folder / f"{uuid.uuid4().hex}.bgra"
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(raw)
    os.replace(tmp, path)  # the reader never sees half a frame
    return RawFrame(str(path), img.width, img.height, transparent)


# ---------------------------------------------------------------------------------------------- editor -> worker


@dataclass(frozen=True)
class WorkerSetup:
    """Where and with what a job runs: the history folder, the provider (key included: pipes only) and prices."""

    store_root: str
    config: ProviderConfig
    prices: PriceTable = field(default_factory=PriceTable)


@dataclass(frozen=True)
class RunJob:
    ticket: str
    spec: JobSpec
    setup: WorkerSetup


@dataclass(frozen=True)
class RecoverJob:
    """Finish a job whose paid answer reached disk before the previous worker died, from that answer."""

    ticket: str
    job_id: str
    setup: WorkerSetup


@dataclass(frozen=True)
class CancelJob:
    ticket: str


# ---------------------------------------------------------------------------------------------- worker -> editor


@dataclass(frozen=True)
class Recorded:
    ticket: str
    job_id: str


@dataclass(frozen=True)
class Stage:
    ticket: str
    text: str


@dataclass(frozen=True)
class Preview:
    ticket: str
    frame: RawFrame
    index: int
    expected: int


@dataclass(frozen=True)
class Retrying:
    ticket: str
    message: str


@dataclass(frozen=True)
class Succeeded:
    ticket: str
    job_id: str
    versions: list[Version]
    frames: list[RawFrame | None]  # one per version; None when it could not be decoded for display
    notes: list[str]


@dataclass(frozen=True)
class Failed:
    ticket: str
    message: str
    refused: bool  # refused before anything was sent or recorded


@dataclass(frozen=True)
class Cancelled:
    ticket: str


# ---------------------------------------------------------------------------------------------- the wire


class ByteChannel(Protocol):
    """What a multiprocessing Connection (or Windows' PipeConnection) offers for whole byte messages."""

    def send_bytes(self, buf: bytes | memoryview, offset: int = 0, size: int | None = None) -> None: ...
    def recv_bytes(self, maxlength: int | None = None) -> bytes: ...
    def recv_bytes_into(self, buf: bytearray, offset: int = 0) -> int: ...


def send_message(conn: ByteChannel, message: object) -> None:
    """Pickle ``message`` with its big buffers (the canvas's pixels, the mask) out of band, and send each as is.

    ``Connection.send`` pickles into one bytes object and, for a pipe, re-slices (copies) what is left after
    every partial write: a 33 MB canvas costs gigabytes of copying with the GIL held. Here pickle protocol 5
    hands numpy's buffers over without a copy and ``send_bytes`` writes them through memoryviews.
    """
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    conn.send_bytes(struct.pack(f"!{1 + len(views)}Q", len(data), *(v.nbytes for v in views)))
    conn.send_bytes(data)
    for view in views:
        conn.send_bytes(view)


def receive_message(conn: ByteChannel) -> object:
    """The next message sent with ``send_message``; its buffers are writable (arrays come back as sent)."""
    header = conn.recv_bytes()
    sizes = struct.unpack(f"!{len(header) // 8}Q", header)
    data = conn.recv_bytes()
    buffers = []
    for size in sizes[1:]:
        buffer = bytearray(size)
        if size:
            conn.recv_bytes_into(buffer)
        else:
            conn.recv_bytes()
        buffers.append(buffer)
    return pickle.loads(data, buffers=buffers)


TERMINAL = (Succeeded, Failed, Cancelled)
WorkerEvent = Recorded | Stage | Preview | Retrying | Succeeded | Failed | Cancelled

__all__ = [
    "TERMINAL",
    "CancelJob",
    "Cancelled",
    "Failed",
    "Preview",
    "RawFrame",
    "RecoverJob",
    "Recorded",
    "Retrying",
    "RunJob",
    "Stage",
    "Succeeded",
    "WorkerEvent",
    "WorkerSetup",
    "receive_message",
    "send_message",
    "write_frame",
]
