"""Image → Generate for Cutout: for models without native transparency, ask for the subject on a flat key colour
chosen away from the subject's colours, then key that colour out locally (off the GUI thread).

Kept out of main_window.py: the window only creates ``CutoutActions(self)``.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from ...core.cutout import KeyColour, choose_key_colour, for_cutout_prompt
from ...editor.background import run_background

if TYPE_CHECKING:
    from .main_window import MainWindow


class CutoutActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._pending: dict[str, KeyColour] = {}  # job ticket -> the key colour it was asked for
        self.actionGenerateForCutout = QAction("Generate for Cutout", window)
        self.actionGenerateForCutout.setObjectName("actionGenerateForCutout")
        self.actionGenerateForCutout.setToolTip(
            "Generate the subject on a flat key colour, then key it out here: transparency on any model")
        self.actionGenerateForCutout.triggered.connect(self.generate_for_cutout)
        window.jobs.jobSucceeded.connect(self._job_succeeded)
        for action in window.menuBar().actions():
            menu = action.menu()
            if isinstance(menu, QMenu) and action.text().replace("&", "") == "Image":
                menu.addAction(self.actionGenerateForCutout)
                break

    def generate_for_cutout(self) -> str | None:
        w = self.window
        w.prompt.set_error(None)
        try:
            spec = w.build_spec()
        except ValueError as exc:
            w.prompt.set_error(str(exc))
            return None
        prompt = spec.request.prompt.strip()
        if not prompt:
            w.prompt.set_error("The prompt is empty: describe the subject to cut out.")
            return None
        key = choose_key_colour(prompt)
        request = dataclasses.replace(spec.request, prompt=for_cutout_prompt(prompt, key), background="opaque",
                                      output_format="png", output_compression=None)
        ticket = w._submit(dataclasses.replace(spec, request=request))
        if ticket is not None:
            self._pending[ticket] = key
            w.statusBar().showMessage(f"Generating on flat {key.name} ({key.hex}); it is keyed out when it arrives.",
                                      8000)
        return ticket

    def _job_succeeded(self, ticket: str, result) -> None:
        key = self._pending.pop(ticket, None)
        if key is None or not result.versions:
            return
        version = result.versions[0]
        source = version.path
        target = self.window.scratch_dir / f"cutout-{uuid.uuid4().hex[:8]}.png"

        def work() -> str:
            from ...core.cutout import key_out
            from ...core.images import decode_image
            from ...store.files import atomic_write

            keyed = key_out(decode_image(source.read_bytes(), source.name), key)
            buf = io.BytesIO()
            keyed.save(buf, "PNG", compress_level=1)
            atomic_write(target, buf.getvalue())
            return str(target)

        def done(path: str | None, error: str) -> None:
            w = self.window
            if error or not path:
                w.prompt.set_error(f"Keying out the {key.name} background failed: {error}. The opaque version is "
                                   "in the history; try Image → Remove Background on it.")
                return
            w.images.open_file(path, version.id, keep_mask=False, record_original=False)
            w.statusBar().showMessage(f"Keyed out the {key.name} background (transparent PNG). Export to save it.",
                                      8000)

        run_background(work, done)
