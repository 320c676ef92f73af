"""What the editor does with a stored version: show it, restore its inputs, re-run it, finalize it at high.

``VersionController`` takes the document, the store and the image controller, never the window. Restoring
writes the document in one place (settings, image, mask, references) and says ``restored`` when everything
has loaded; a re-run waits for that signal instead of polling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core.errors import RequestRefused
from ..core.images import edit_array_from_mask
from ..jobs.pipeline import JobSpec
from ..store.history import HistoryStore
from .background import run_background
from .document import EditorDocument, ImageSource
from .image_loading import read_image
from .prompt_settings import PromptSettings
from .references import Reference

RERUN_FIELDS = ("quality", "size", "n")


@dataclass(frozen=True)
class _Restored:
    image: QImage | None
    source: ImageSource
    mask: np.ndarray | None
    references: list[Reference]
    problems: list[str]


class VersionController(QObject):
    """The history actions on one document."""

    message = Signal(str)  # a status line
    failed = Signal(str)  # one sentence: what went wrong and what to do
    restored = Signal()  # restore_inputs finished: the document holds the version's inputs
    runRequested = Signal()  # a re-run's inputs are restored: the window runs the document now

    def __init__(self, document: EditorDocument, store: HistoryStore, images: Any,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.store = store
        self.images = images  # ImageController
        self._run_after_restore = False

    def show_version(self, version_id: str) -> bool:
        version = self.store.get_version(version_id)
        if version is None:
            return False
        self.images.open_file(str(version.path), version_id=version_id)
        return True

    def restore_inputs(self, version_id: str, changes: dict[str, Any] | None = None) -> None:
        """Bring back exactly what made a version: prompt, settings, canvas image, mask and references."""
        version = self.store.get_version(version_id)
        if version is None:
            return
        job = self.store.get_job(version.job_id)
        if job is None or job.kind == "original":
            self.failed.emit("An opened original has no request to restore; edit it or branch from it instead.")
            return
        params = dict(job.params)
        restored = {**self.document.settings().to_dict(), **params, "prompt": params.get("user_prompt", job.prompt)}
        restored.update({k: v for k, v in (changes or {}).items() if k in RERUN_FIELDS})
        try:
            self.document.set_settings(PromptSettings.from_dict(restored))
        except (TypeError, ValueError) as exc:
            self.failed.emit(f"Some settings of that version could not be restored: {exc}")
        inputs = self.store.job_inputs(job.id)
        images = list(inputs.images)
        canvas: tuple[str, str | None] | None = None
        if params.get("canvas_image") and images:
            canvas_path = str(images.pop(0)[0])
            parent = self.store.get_version(job.parent_version_id) if job.parent_version_id else None
            canvas = (str(parent.path), parent.id) if parent else (canvas_path, None)
        mask_path = str(inputs.mask) if inputs.mask and canvas else None
        refs = [(str(path), role or None) for path, _name, role in images]

        def work() -> _Restored:
            problems: list[str] = []
            image = None
            source = ImageSource()
            if canvas is not None:
                image, error = read_image(canvas[0])
                if image.isNull():
                    problems.append(f"The image could not be restored: {error}.")
                    image = None
                source = ImageSource(path=canvas[0], version_id=canvas[1])
            mask = None
            if mask_path and image is not None:
                try:
                    mask = edit_array_from_mask(Path(mask_path).read_bytes())
                except Exception as exc:  # noqa: BLE001 (reported in one sentence)
                    problems.append(f"The mask could not be restored: {exc}")
                if mask is not None and mask.shape != (image.height(), image.width()):
                    mask = None
            references = []
            for path, role in refs:
                try:
                    with Image.open(path) as im:
                        width, height = im.size
                except OSError as exc:
                    problems.append(f"A reference could not be restored: {exc}")
                    continue
                references.append(Reference(path, role, width, height))
            return _Restored(image, source, mask, references, problems)

        def done(result: _Restored | None, error: str) -> None:
            if result is None:
                self.failed.emit(f"The inputs could not be restored: {error}")
                self._run_after_restore = False
                return
            self._apply(result)

        run_background(work, done)

    def _apply(self, result: _Restored) -> None:
        doc = self.document
        if result.image is not None:
            doc.open_image(result.image, result.source, "Restore inputs")
            if result.mask is not None:
                doc.set_mask_array(result.mask, "Restore mask")
        else:
            doc.new_image()
        pinned = [r for r in doc.references() if r.pinned and r.path not in {x.path for x in result.references}]
        doc.set_references(result.references + pinned)
        for problem in result.problems:
            self.failed.emit(problem)
        self.message.emit("Inputs restored: prompt, settings, image, mask and references.")
        self.restored.emit()
        if self._run_after_restore:
            self._run_after_restore = False
            if result.problems:
                self.failed.emit("Not re-run: some inputs could not be restored. Check them and press Run.")
            else:
                self.runRequested.emit()

    def rerun(self, version_id: str, changes: dict[str, Any] | None = None) -> None:
        """Restore a version's inputs (optionally with another quality, size or count), then run once loaded."""
        self._run_after_restore = True
        self.restore_inputs(version_id, changes)

    # ------------------------------------------------------------------ finalize
    def finalize_spec(self, version_id: str, quality: str = "high") -> JobSpec:
        """The version's own request again at ``quality``, as a sibling: same prompt, size, inputs and mask.

        A generation stays a generation and an edit stays an edit. Raises RequestRefused when the version has
        no request (an opened original) or its inputs are gone.
        """
        version = self.store.get_version(version_id)
        job = self.store.get_job(version.job_id) if version is not None else None
        if version is None or job is None or job.kind == "original":
            raise RequestRefused("Pick a generated or edited version to finalize; an opened original has no request.")
        params = dict(job.params)
        settings = PromptSettings.from_dict({**params, "prompt": job.prompt})
        request = settings.to_request(size=str(params.get("size") or settings.size), quality=quality,
                                      allow_transparent_preview=bool(params.get("allow_transparent_preview")))
        inputs = self.store.job_inputs(job.id)
        for path, _name, _role in inputs.images:
            if not Path(path).is_file():
                raise RequestRefused(f"An input of that version is missing from the history ({Path(path).name}).")
        mask = None
        if inputs.mask is not None:
            mask = edit_array_from_mask(Path(inputs.mask).read_bytes())
        return JobSpec(
            request=request,
            user_prompt=str(params.get("user_prompt", job.prompt)),
            images=tuple(Path(path) for path, _n, _r in inputs.images),
            mask=mask,
            roles=tuple(role or None for _p, _n, role in inputs.images),
            parent_version_id=job.parent_version_id,
            project=job.project or self.document.project,
            keep_outside_mask=bool(params.get("keep_outside_mask", True)),
            feather_px=int(params.get("feather_px", 8)),
            canvas_image=bool(params.get("canvas_image")),
        )

    def finalize_version_id(self) -> str | None:
        """The version Finalize at high re-runs: the one on the canvas, when it came from a request."""
        version_id = self.document.source.version_id
        version = self.store.get_version(version_id) if version_id else None
        return version_id if version is not None and version.kind != "original" else None


