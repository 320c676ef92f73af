"""Undo history of the editor document: mask edits keep only their changed tiles, zlib-compressed; other steps
(an image operation such as Expand Canvas, opening another image) are opaque objects the document applies.
The history is bounded by step count and bytes. Pure numpy: no Qt.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_MAX_STEPS = 200
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

# Level 1 is ~5x faster than the default and masks (long runs of 0 and 255) compress almost as well.
_ZLIB_LEVEL = 1
# A stroke's bounding box is mostly untouched: only 32x32 tiles with a changed pixel are kept, so undo
# writes, re-tints and repaints the stroke's own area (about an eighth of its box for a wandering 4K stroke;
# smaller tiles fit tighter but cost more per rect).
TILE = 32

Patch = tuple[int, int, np.ndarray]  # (x, y, values): a mask rectangle to write back, in image px


@dataclass(frozen=True)
class MaskEdit:
    """One undo step: the bytes of the changed tiles of a mask rectangle, before and after (uint8, 255 = edit).

    ``x, y, width, height`` is the tight box around every changed pixel; ``tiles`` are (x, y, w, h) rects
    relative to it (runs of changed tiles, row by row), and the payloads hold those rects' bytes in order.
    """

    x: int
    y: int
    width: int
    height: int
    before_z: bytes
    after_z: bytes
    label: str = ""
    tiles: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def nbytes(self) -> int:
        """Memory this step costs in the history (compressed payloads only)."""
        return len(self.before_z) + len(self.after_z)

    def before(self) -> list[Patch]:
        """The rects to write back to undo this step."""
        return self._unpack(self.before_z)

    def after(self) -> list[Patch]:
        """The rects to write back to redo this step."""
        return self._unpack(self.after_z)

    def _unpack(self, payload: bytes) -> list[Patch]:
        flat = np.frombuffer(zlib.decompress(payload), dtype=np.uint8)
        patches, offset = [], 0
        for tx, ty, tw, th in self.tiles:
            patches.append((self.x + tx, self.y + ty, flat[offset : offset + tw * th].reshape(th, tw)))
            offset += tw * th
        return patches



@runtime_checkable
class UndoStep(Protocol):
    """Any step of the history: a MaskEdit, or an image operation the document knows how to undo."""

    @property
    def label(self) -> str: ...

    @property
    def nbytes(self) -> int: ...


def _changed_box(diff: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight (y0, y1, x0, x1) around the True pixels of ``diff``, or None when there are none."""
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _changed_tiles(diff: np.ndarray) -> tuple[tuple[int, int, int, int], ...]:
    """(x, y, w, h) runs of TILE x TILE tiles that hold a True pixel, row by row, clipped to ``diff``."""
    h, w = diff.shape
    hit = np.logical_or.reduceat(diff, np.arange(0, h, TILE), axis=0)
    hit = np.logical_or.reduceat(hit, np.arange(0, w, TILE), axis=1)
    rects = []
    for ty, row in enumerate(hit):
        cols = np.flatnonzero(row)
        if cols.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(cols) > 1)
        starts = cols[np.r_[0, breaks + 1]]
        ends = cols[np.r_[breaks, cols.size - 1]] + 1
        y0 = ty * TILE
        th = min(TILE, h - y0)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=False):
            x0 = a * TILE
            rects.append((x0, y0, min(b * TILE, w) - x0, th))
    return tuple(rects)


def _pack(values: np.ndarray, tiles: tuple[tuple[int, int, int, int], ...]) -> bytes:
    data = b"".join(values[y : y + h, x : x + w].tobytes() for x, y, w, h in tiles)
    return zlib.compress(data, _ZLIB_LEVEL)


class MaskUndoStack:
    """Linear undo/redo of mask rectangles and of other steps pushed with ``push_step``.

    The oldest steps are dropped when there are more than ``max_steps`` or their compressed size
    passes ``max_bytes``; the newest step is always kept, even when it alone is over budget.
    """

    def __init__(self, max_steps: int = DEFAULT_MAX_STEPS, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._undo: deque[UndoStep] = deque()
        self._redo: list[UndoStep] = []
        self._bytes = 0
        self.max_steps = max(1, int(max_steps))
        self.max_bytes = max(1, int(max_bytes))

    def set_limits(self, max_steps: int, max_bytes: int) -> None:
        self.max_steps = max(1, int(max_steps))
        self.max_bytes = max(1, int(max_bytes))
        self._trim()

    def push(self, x: int, y: int, before: np.ndarray, after: np.ndarray, label: str = "") -> MaskEdit | None:
        """Record an edit of the rectangle at (x, y); returns the stored step, or None if no pixel changed.

        Only the tiles that really differ are kept, so a wide stroke box or a whole-mask operation that
        touched little costs little, and undoing it touches only those tiles.
        """
        if before.shape != after.shape or before.ndim != 2:
            raise ValueError("Undo needs two mask rectangles of the same size.")
        diff = before != after
        box = _changed_box(diff)
        if box is None:
            return None
        y0, y1, x0, x1 = box
        tiles = _changed_tiles(diff[y0:y1, x0:x1])
        b = np.asarray(before[y0:y1, x0:x1], dtype=np.uint8)
        a = np.asarray(after[y0:y1, x0:x1], dtype=np.uint8)
        edit = MaskEdit(x + x0, y + y0, x1 - x0, y1 - y0, _pack(b, tiles), _pack(a, tiles), label, tiles)
        self.push_step(edit)
        return edit

    def push_step(self, step: UndoStep) -> None:
        """Record a step that is already applied; it drops whatever could be redone."""
        self._bytes -= sum(e.nbytes for e in self._redo)
        self._redo.clear()
        self._undo.append(step)
        self._bytes += step.nbytes
        self._trim()

    def undo(self) -> UndoStep | None:
        """Step back; the caller writes back the patches of ``edit.before()``."""
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        return edit

    def redo(self) -> UndoStep | None:
        """Step forward again; the caller writes back the patches of ``edit.after()``."""
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        return edit

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._bytes = 0

    @property
    def memory_bytes(self) -> int:
        return self._bytes

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    def __len__(self) -> int:
        return len(self._undo) + len(self._redo)

    def _trim(self) -> None:
        while len(self._undo) > 1 and (
            len(self._undo) + len(self._redo) > self.max_steps or self._bytes > self.max_bytes
        ):
            self._bytes -= self._undo.popleft().nbytes
