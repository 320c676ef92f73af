"""The document a designer works on: the image and where it came from, the mask and its undo, the references,
the prompt settings, the project and the edit mode. One home for that state, with a change signal for each part.

Widgets bind to it (the canvas draws ``image()`` and paints into ``mask``; the prompt panel shows ``settings()``;
the tray shows ``references()``) and never talk to each other. The job spec is built here and nowhere else,
so what is sent is what the document holds. QtCore and QtGui only (images): no widgets.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage

from ..core import masks as core_masks
from ..core.errors import RequestRefused
from ..core.mask_undo import DEFAULT_MAX_BYTES, DEFAULT_MAX_STEPS, MaskEdit, MaskUndoStack, Patch
from ..core.models import find_model
from ..core.prompt_roles import role_wording
from ..core.sizes import Size, largest_valid_within, size_problems
from ..jobs.pipeline import JobSpec
from .mask_layer import DEFAULT_MASK_COLOR, MaskLayer
from .prompt_settings import PromptSettings
from .qimages import array_to_qimage, qimage_to_array, qimage_to_array_keep_channels
from .references import Reference

DEFAULT_PROJECT = "Default"


class EditMode(enum.StrEnum):
    """What Run does with the document as it is."""

    GENERATE = "generate"
    EDIT = "edit"
    MASKED_EDIT = "masked edit"


@dataclass(frozen=True)
class ImageSource:
    """Where the canvas image came from, so an unchanged file is uploaded as it is."""

    path: str | None = None  # a file on disk (opened file or a version's file)
    version_id: str | None = None  # the version it shows: an original, a result, a version from the history
    modified: bool = False  # e.g. the canvas was expanded: upload the pixels, not the file


# image, packed mask, source, and the references when the step changed them (opening an image), else None
_State = tuple[QImage | None, bytes | None, ImageSource, tuple[Reference, ...] | None]


@dataclass
class _ImageStep:
    """An undo step that changed the image itself (open, new, expand, crop, pad): both sides, whole."""

    label: str
    before: _State
    after: _State
    _nbytes: int = field(default=0)

    @property
    def nbytes(self) -> int:
        return self._nbytes


def _pack_mask(mask: np.ndarray | None) -> bytes | None:
    return None if mask is None else zlib.compress(np.ascontiguousarray(mask).tobytes(), 1)


def _unpack_mask(data: bytes | None, image: QImage | None) -> np.ndarray | None:
    if data is None or image is None:
        return None
    return np.frombuffer(zlib.decompress(data), np.uint8).reshape(image.height(), image.width()).copy()


class EditorDocument(QObject):
    """The editor's state. See the module docstring; ARCHITECTURE.md shows how a change flows through it."""

    imageChanged = Signal()  # a different image, or the same one grown, cropped or padded
    sourceChanged = Signal()
    maskChanged = Signal(object)  # the list of QRects changed (image px), or None for the whole mask
    undoStateChanged = Signal(bool, bool)  # can undo, can redo
    referencesChanged = Signal()
    settingsChanged = Signal()
    projectChanged = Signal(str)
    modeChanged = Signal(str)

    def __init__(
        self, parent: QObject | None = None, *, undo_steps: int = DEFAULT_MAX_STEPS,
        undo_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._source = ImageSource()
        self.mask: MaskLayer | None = None  # the canvas paints into it and then calls commit_mask_edit
        self.mask_color = QColor(DEFAULT_MASK_COLOR)
        self.undo_stack = MaskUndoStack(undo_steps, undo_bytes)
        self._references: list[Reference] = []
        self._settings = PromptSettings()
        self._project = DEFAULT_PROJECT
        self._mode = EditMode.GENERATE
        self.allow_transparent_preview = False

    # ================================================================ image and source
    def image(self) -> QImage:
        """The canvas image (a null QImage when there is none); QImage copies share pixels until written."""
        return QImage(self._image) if self._image is not None else QImage()

    def has_image(self) -> bool:
        return self._image is not None

    def canvas_size(self) -> tuple[int, int] | None:
        return (self._image.width(), self._image.height()) if self._image is not None else None

    @property
    def source(self) -> ImageSource:
        return self._source

    def open_image(self, image: QImage, source: ImageSource, label: str = "Open image") -> None:
        """Start a new document on ``image``: the mask is cleared (undoably, with the old image), the mode
        recomputed, and only pinned references stay."""
        if image.isNull():
            raise ValueError("Open a valid image.")
        self._replace_whole(QImage(image), None, source, label,
                            references=[r for r in self._references if r.pinned])

    def show_result(self, image: QImage, source: ImageSource) -> None:
        """A job's result or a picked candidate arrives in the same document: the mask survives between attempts
        (scaled if the size changed, which also starts a fresh undo history)."""
        if image.isNull():
            return
        old = self._image
        same_size = old is not None and old.size() == image.size()
        self._image = QImage(image)
        if not same_size:
            old_mask = self.mask
            self.mask = MaskLayer(image.width(), image.height(), self.mask_color)
            if old_mask is not None and old_mask.has_paint():
                scaled = old_mask.mask_image().scaled(
                    image.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
                ).convertToFormat(QImage.Format.Format_Alpha8)
                buf = np.frombuffer(scaled.constBits(), dtype=np.uint8).reshape(scaled.height(), scaled.bytesPerLine())
                self.mask.set_array(buf[:, : scaled.width()].copy())
            self.undo_stack.clear()
        self._source = source
        self.imageChanged.emit()
        self.sourceChanged.emit()
        if not same_size:
            self.maskChanged.emit(None)
        self._emit_undo_state()
        self._update_mode()

    def new_image(self) -> None:
        """Clear the canvas to generate from text (undoable)."""
        if self._image is None:
            return
        self._replace_whole(None, None, ImageSource(), "New image")

    def _replace_whole(self, image: QImage | None, mask: np.ndarray | None, source: ImageSource, label: str,
                       references: list[Reference] | None = None) -> None:
        keep_refs = references is None
        before = self._snapshot(with_references=not keep_refs)
        self._apply_whole_state(image, mask, source, references)
        if before[0] is not None:  # nothing to go back to from an empty canvas
            after = self._snapshot(with_references=not keep_refs)
            size = sum(img.sizeInBytes() for img in (before[0], after[0]) if img is not None)
            size += sum(len(m) for m in (before[1], after[1]) if m is not None)
            self.undo_stack.push_step(_ImageStep(label, before, after, size))
        self._emit_undo_state()

    def _snapshot(self, with_references: bool) -> _State:
        mask = self.mask.array() if self.mask is not None and self.mask.has_paint() else None
        image = QImage(self._image) if self._image is not None else None
        return (image, _pack_mask(mask), self._source, tuple(self._references) if with_references else None)

    def _apply_whole_state(self, image: QImage | None, mask: np.ndarray | None, source: ImageSource,
                           references: list[Reference] | None) -> None:
        if references is not None:
            self.set_references(references)  # opening drops unpinned references; undo brings them back
        self._image = image
        self.mask = MaskLayer(image.width(), image.height(), self.mask_color) if image is not None else None
        if self.mask is not None and mask is not None:
            self.mask.set_array(mask)
        self._source = source
        self.imageChanged.emit()
        self.sourceChanged.emit()
        self.maskChanged.emit(None)
        self._update_mode()

    # ================================================================ image operations (undoable)
    def expand_canvas(self, left: int, top: int, right: int, bottom: int) -> None:
        """Grow the image by the given px per side and mark the new area for editing; one undo step."""
        if self._image is None or self.mask is None:
            raise ValueError("Open an image before expanding the canvas.")
        left, top, right, bottom = (int(v) for v in (left, top, right, bottom))
        if min(left, top, right, bottom) < 0:
            raise ValueError("The canvas can only grow: use zero or more pixels on every side.")
        if left == top == right == bottom == 0:
            return
        pixels = qimage_to_array_keep_channels(self._image)
        new_arr, new_mask = core_masks.expand_canvas(pixels, self.mask.array(), left, top, right, bottom)
        self._replace_whole(array_to_qimage(new_arr), new_mask, replace(self._source, modified=True), "Expand canvas")

    def fit_canvas(self, how: str) -> Size:
        """Crop (centred) or pad (edge pixels repeated, new area masked when a mask exists) the canvas to a size
        the model accepts; one undo step. Returns the new size; raises RequestRefused when none fits."""
        if self._image is None or self.mask is None:
            raise ValueError("Open an image first.")
        spec = find_model(self._settings.model)
        if spec is None:
            raise RequestRefused(f"Unknown model {self._settings.model}.", param="model")
        w, h = self._image.width(), self._image.height()
        if how == "pad":
            left, top, right, bottom = core_masks.expand_to_valid(spec, w, h, 0, 0, 0, 0)
            had_mask = self.mask.has_paint()
            pixels = qimage_to_array_keep_channels(self._image)
            new_arr, new_mask = core_masks.expand_canvas(pixels, self.mask.array(), left, top, right, bottom)
            if not had_mask:
                new_mask = None
            self._replace_whole(array_to_qimage(new_arr), new_mask, replace(self._source, modified=True), "Pad canvas")
            return Size(w + left + right, h + top + bottom)
        target = largest_valid_within(spec, w, h)
        if target is None:
            raise RequestRefused(f"No size {spec.name} accepts fits inside {w}x{h}; pad the canvas instead.",
                                 param="size")
        x, y = (w - target.width) // 2, (h - target.height) // 2
        cropped = self._image.copy(x, y, target.width, target.height)
        mask = self.mask.array()[y : y + target.height, x : x + target.width] if self.mask.has_paint() else None
        self._replace_whole(cropped, mask, replace(self._source, modified=True), "Crop canvas")
        return target

    def edit_size_problem(self) -> str | None:
        """Why the canvas can't be edited at its own size with the chosen model, in one sentence; None when it can."""
        if self._image is None:
            return None
        spec = find_model(self._settings.model)
        if spec is None:
            return None
        size = Size(self._image.width(), self._image.height())
        problems = size_problems(spec, size)
        if not problems:
            return None
        return (f"The canvas is {size}, which {spec.label} can't edit at ({'; '.join(problems)}). "
                "Crop or pad the canvas to a valid size first; edits never squeeze the image.")

    # ================================================================ mask
    def has_mask(self) -> bool:
        return self.mask is not None and self.mask.has_paint()

    def mask_array(self) -> np.ndarray:
        """A copy of the mask, (H, W) uint8, 255 = edit; (0, 0) when there is no image."""
        return self.mask.array() if self.mask is not None else np.zeros((0, 0), dtype=np.uint8)

    def set_mask_array(self, arr: np.ndarray, label: str = "Set mask") -> None:
        """Replace the mask (undoable). Bool arrays mean True = edit; other dtypes are clipped to 0-255."""
        if self.mask is None:
            raise ValueError("Open an image before setting a mask.")
        arr = np.asarray(arr)
        if arr.dtype == bool:
            arr = arr.astype(np.uint8) * 255
        elif arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        if arr.shape != (self.mask.height, self.mask.width):
            raise ValueError(
                f"The mask is {arr.shape[-1]}x{arr.shape[0]} but the image is "
                f"{self.mask.width}x{self.mask.height}; use a mask of the image's size."
            )
        before = self.mask.array()
        if self.undo_stack.push(0, 0, before, arr, label) is None:
            return  # nothing changed: no undo step, no signal
        self.mask.set_array(arr)
        self._mask_edited(None)

    def fill_mask(self) -> None:
        if self.mask is not None:
            self.set_mask_array(np.full((self.mask.height, self.mask.width), 255, np.uint8), "Fill mask")

    def clear_mask(self) -> None:
        if self.mask is not None:
            self.set_mask_array(np.zeros((self.mask.height, self.mask.width), np.uint8), "Clear mask")

    def invert_mask(self) -> None:
        if self.mask is not None:
            self.set_mask_array(core_masks.invert(self.mask.array()), "Invert mask")

    def grow_mask(self, px: int) -> None:
        if self.mask is not None and px > 0:
            self.set_mask_array(core_masks.grow(self.mask.array(), int(px)), "Grow mask")

    def shrink_mask(self, px: int) -> None:
        if self.mask is not None and px > 0:
            self.set_mask_array(core_masks.shrink(self.mask.array(), int(px)), "Shrink mask")

    def feather_mask(self, px: int) -> None:
        if self.mask is not None and px > 0:
            self.set_mask_array(core_masks.feather(self.mask.array(), int(px)), "Feather mask")

    def commit_mask_edit(self, x: int, y: int, before: np.ndarray, after: np.ndarray, label: str) -> bool:
        """Record a stroke or selection the canvas already painted into ``mask``; False if nothing changed."""
        edit = self.undo_stack.push(x, y, before, after, label)
        if edit is None:
            return False
        self._mask_edited([QRect(edit.x, edit.y, edit.width, edit.height)])
        return True

    def _mask_edited(self, rects: list[QRect] | None) -> None:
        self._emit_undo_state()
        self.maskChanged.emit(rects)
        self._update_mode()

    # ================================================================ undo (mask strokes and image operations)
    def undo(self) -> None:
        step = self.undo_stack.undo()
        if step is not None:
            self._apply_step(step, forward=False)

    def redo(self) -> None:
        step = self.undo_stack.redo()
        if step is not None:
            self._apply_step(step, forward=True)

    def can_undo(self) -> bool:
        return self.undo_stack.can_undo()

    def can_redo(self) -> bool:
        return self.undo_stack.can_redo()

    def set_undo_limits(self, max_steps: int, max_bytes: int) -> None:
        self.undo_stack.set_limits(max_steps, max_bytes)
        self._emit_undo_state()

    def _apply_step(self, step: object, forward: bool) -> None:
        if isinstance(step, _ImageStep):
            image, mask, source, references = step.after if forward else step.before
            self._apply_whole_state(image, _unpack_mask(mask, image), source,
                                    list(references) if references is not None else None)
            self._emit_undo_state()
            return
        if isinstance(step, MaskEdit) and self.mask is not None:
            patches: list[Patch] = step.after() if forward else step.before()
            self._mask_edited(self.mask.write_patches(patches))

    def _emit_undo_state(self) -> None:
        self.undoStateChanged.emit(self.undo_stack.can_undo(), self.undo_stack.can_redo())

    # ================================================================ references
    def references(self) -> list[Reference]:
        return list(self._references)

    def set_references(self, references: list[Reference]) -> None:
        references = list(references)
        if references != self._references:
            self._references = references
            self.referencesChanged.emit()
            self._update_mode()

    def reference_limit(self) -> int:
        """How many references may go with the next run: 16 images in all, the canvas counting as one."""
        return 15 if self._image is not None else 16

    # ================================================================ settings and project
    def settings(self) -> PromptSettings:
        return self._settings

    def set_settings(self, settings: PromptSettings) -> None:
        if settings != self._settings:
            self._settings = settings
            self.settingsChanged.emit()

    @property
    def project(self) -> str:
        return self._project

    def set_project(self, name: str) -> None:
        name = name or DEFAULT_PROJECT
        if name != self._project:
            self._project = name
            self.projectChanged.emit(name)

    # ================================================================ mode and the request
    def mode(self) -> EditMode:
        return self._mode

    def _update_mode(self) -> None:
        mode = EditMode.MASKED_EDIT if self.has_mask() else EditMode.EDIT if self._image is not None else EditMode.GENERATE
        if mode != self._mode:
            self._mode = mode
            self.modeChanged.emit(mode.value)

    def input_sizes(self) -> list[tuple[int, int]]:
        """The sizes of every image the next run sends: the canvas first, then the references."""
        sizes = [self.canvas_size()] if self._image is not None else []
        sizes.extend((r.width, r.height) for r in self._references)
        return [s for s in sizes if s is not None]

    def request_size(self) -> str:
        """An edit goes out at the canvas size; the chosen size applies only to generation."""
        size = self.canvas_size()
        return f"{size[0]}x{size[1]}" if size is not None else self._settings.size

    def build_spec(self, quality: str | None = None) -> JobSpec:
        """The job the next run sends, built from the document alone. Raises RequestRefused with one sentence
        when it can't be sent as it is (e.g. a canvas size the model can't edit at)."""
        has_image = self._image is not None
        if has_image and (problem := self.edit_size_problem()):
            raise RequestRefused(problem, param="size")
        refs = self._references
        wording = role_wording(refs, first_number=2 if has_image else 1) if refs else ""
        request = self._settings.to_request(
            wording, size=self.request_size(), quality=quality, allow_transparent_preview=self.allow_transparent_preview
        )
        images: list = []
        roles: list[str | None] = []
        mask = None
        if has_image:
            images.append(self._canvas_input())
            roles.append(None)
            if self.has_mask():
                mask = self.mask_array()
        images.extend(r.path for r in refs)
        roles.extend(r.role for r in refs)
        return JobSpec(
            request=request,
            user_prompt=self._settings.prompt,
            images=tuple(images),
            mask=mask,
            roles=tuple(roles),
            parent_version_id=self._source.version_id if has_image else None,
            project=self._project,
            keep_outside_mask=self._settings.keep_outside_mask,
            feather_px=self._settings.feather_px,
            canvas_image=has_image,
        )

    def _canvas_input(self) -> str | np.ndarray:
        if self._source.path and not self._source.modified:
            return self._source.path
        return qimage_to_array(self._image) if self._image is not None else np.zeros((0, 0, 4), np.uint8)
