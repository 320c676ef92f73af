"""Autosave of the editor's unsaved work, and its restore after a crash.

The prompt and its settings, the painted mask, the references with their roles and the canvas image
are written to a session folder about two seconds after each change, on a background thread. Every
file is content-named and written atomically before ``session.json`` points at it, so a crash at any
moment leaves the previous complete session or the new one. A normal close marks the session clean;
a session that is not clean at the next start is restored.

It watches the EditorDocument (a change signal per part) and writes it back into the document on restore;
the window only shows its ``message`` and closes it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QImage

from ..store.files import atomic_write
from ..store.paths import make_private_dir
from .document import EditorDocument, ImageSource
from .image_loading import ImageLoader
from .prompt_settings import PromptSettings
from .references import Reference

log = logging.getLogger("gptimg.editor")

SESSION_FILE = "session.json"
SESSION_FORMAT = 1
SAVE_DELAY_MS = 2000
RESTORED_MESSAGE = "Restored your unsaved work from the last session"


class SessionAutosave(QObject):
    """Watches one EditorDocument and keeps ``folder`` holding its unsaved state.

    ``temp_dirs`` are folders whose files don't outlive the app (scratch, the system temp folder): references
    there are copied into the session.
    """

    restored = Signal(bool)  # a restore attempt finished: True when something was restored
    message = Signal(str)  # what the restore brought back, in one sentence

    def __init__(self, document: EditorDocument, folder: Path, *, temp_dirs: tuple[Path, ...] = (),
                 delay_ms: int = SAVE_DELAY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else document)
        self.document = document
        self._watched: QObject | None = None
        self.temp_dirs = tuple(Path(p) for p in temp_dirs)
        self.folder = make_private_dir(Path(folder))
        self.last_error: str | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gptimg-autosave")
        self._lock = threading.Lock()
        self._pending: Future | None = None
        self._restoring = False
        self._stopped = False
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._canvas_loaded)
        self._restore_data: dict[str, Any] | None = None

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._save_in_background)
        doc = document  # every part of the work has a change signal: no polling
        for signal in (doc.settingsChanged, doc.maskChanged, doc.imageChanged, doc.sourceChanged,
                       doc.referencesChanged):
            signal.connect(self.schedule)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.mark_clean)

    # ------------------------------------------------------------------ saving
    def schedule(self, *_args: object) -> None:
        """Save about ``delay_ms`` after the last change (each change restarts the wait)."""
        if not self._stopped and not self._restoring:
            self._timer.start()

    def flush(self) -> Path:
        """Save now and wait until it is on disk; returns the session file (tests, shutdown)."""
        self._timer.stop()
        self._save_in_background()
        self._wait()
        return self.folder / SESSION_FILE

    def is_restoring(self) -> bool:
        return self._restoring

    def mark_clean(self) -> None:
        """A normal close: nothing needs restoring at the next start; the session files are removed."""
        if self._stopped:
            return
        self.stop()
        try:
            atomic_write(self.folder / SESSION_FILE, json.dumps({"format": SESSION_FORMAT, "clean": True}).encode())
            _remove_unreferenced(self.folder, set())
        except OSError as exc:
            log.warning("could not mark the session clean: %s", exc)

    def stop(self) -> None:
        """Stop watching and wait for a save in progress; the session stays as last saved (as after a crash)."""
        self._stopped = True
        self._timer.stop()
        self._wait()
        self._executor.shutdown(wait=True)

    def watch_close(self, window: QObject) -> None:
        """A normal close of ``window`` marks the session clean."""
        self._watched = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.Close:
            self.mark_clean()
        return False

    def _save_in_background(self) -> None:
        if self._stopped or self._restoring:
            return
        try:
            snapshot = self._snapshot()
        except Exception:  # autosave must never disturb editing
            log.exception("reading the editor state for autosave failed")
            return
        with self._lock:
            self._pending = self._executor.submit(self._write, snapshot)

    def _wait(self) -> None:
        with self._lock:
            pending = self._pending
        if pending is not None:
            pending.result()

    def _snapshot(self) -> dict[str, Any]:
        """The state to save, copied on the GUI thread; encoding and writing happen on the worker."""
        doc = self.document
        image = doc.image()
        canvas = None
        if not image.isNull():
            source = doc.source
            modified = bool(source.modified) or not source.path
            canvas = {
                "path": source.path,
                "version_id": source.version_id,
                "modified": modified,
                "width": image.width(),
                "height": image.height(),
                "pixels": _rgba_array(image) if modified else None,
            }
        temp_roots = {Path(tempfile.gettempdir()), *self.temp_dirs}
        return {
            "prompt_settings": doc.settings().to_dict(),
            "references": [{"path": r.path, "role": r.role, "width": r.width, "height": r.height, "pinned": r.pinned}
                           for r in doc.references()],
            "canvas": canvas,
            "mask": doc.mask_array() if canvas is not None and doc.has_mask() else None,
            "current_version_id": doc.source.version_id,
            "temp_roots": [_resolved(p) for p in temp_roots],
        }

    def _write(self, snap: dict[str, Any]) -> None:
        """Worker thread: content-named files first, then session.json, then drop what is no longer used."""
        try:
            keep: set[str] = set()
            mask_name = None
            if snap["mask"] is not None:
                mask_name = self._put(_png(snap["mask"]), "mask", "png")
                keep.add(mask_name)
            canvas = snap["canvas"]
            if canvas is not None:
                pixels = canvas.pop("pixels")
                canvas["pixels"] = None
                if pixels is not None:
                    canvas["pixels"] = self._put(_png(pixels), "canvas", "png")
                    keep.add(canvas["pixels"])
            references = []
            for ref in snap["references"]:
                path = self._keep_reference(ref["path"], snap["temp_roots"])
                if path is None:
                    continue  # the file is gone; nothing left to keep
                if Path(path).parent == self.folder:
                    keep.add(Path(path).name)
                references.append({**ref, "path": path})
            session = {
                "format": SESSION_FORMAT,
                "clean": False,
                "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "prompt_settings": snap["prompt_settings"],
                "references": references,
                "canvas": canvas,
                "mask": mask_name,
                "current_version_id": snap["current_version_id"],
            }
            atomic_write(self.folder / SESSION_FILE, json.dumps(session, indent=1).encode())
            _remove_unreferenced(self.folder, keep)
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - a full disk must not stop editing; the next change retries
            self.last_error = str(exc)
            log.warning("autosave failed: %s", exc)

    def _keep_reference(self, path: str, temp_roots: list[Path]) -> str | None:
        """A path that survives the session: files in temporary or scratch folders are copied in."""
        resolved = _resolved(Path(path))
        if resolved.parent == self.folder.resolve():
            return str(self.folder / resolved.name)
        if not any(_inside(resolved, root) for root in temp_roots):
            return path
        try:
            data = resolved.read_bytes()
        except OSError:
            return None
        ext = resolved.suffix.lstrip(".").lower() or "bin"
        return str(self.folder / self._put(data, "ref", ext))

    def _put(self, data: bytes, kind: str, ext: str) -> str:
        name = f"{kind}-{hashlib.sha256(data).hexdigest()[:24]}.{ext}"
        if not (self.folder / name).is_file():
            atomic_write(self.folder / name, data)
        return name

    # ------------------------------------------------------------------ restoring
    def restore(self) -> bool:
        """Bring back a session that did not end with a normal close; False when there is none.

        The prompt and settings apply at once; the canvas image loads off the GUI thread, then the mask and
        references follow and the status bar says so. ``restored`` fires when everything is back.
        """
        data = self._read_session()
        if data is None or data.get("clean", True):
            return False
        self._restoring = True
        self._timer.stop()
        try:
            settings = PromptSettings.from_dict(data.get("prompt_settings") or {})
            self.document.set_settings(settings)
        except (TypeError, ValueError) as exc:
            log.warning("the saved prompt settings could not be restored: %s", exc)
        self._restore_data = data
        canvas = data.get("canvas")
        if canvas:
            target = self.folder / canvas["pixels"] if canvas.get("pixels") else canvas.get("path")
            if target:
                self._loader.load("session-canvas", str(target))
                return True
        self._finish_restore(None)
        return True

    def _read_session(self) -> dict[str, Any] | None:
        path = self.folder / SESSION_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("the autosaved session could not be read (%s); starting fresh", exc)
            return None
        if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
            return None
        return data

    def _canvas_loaded(self, key: str, image: QImage, error: str) -> None:
        if key != "session-canvas" or self._restore_data is None:
            return
        canvas = self._restore_data["canvas"]
        problem = None
        if image.isNull():
            name = os.path.basename(str(canvas.get("path") or canvas.get("pixels")))
            problem = f"the canvas image {name} could not be opened ({error or 'not an image'})"
        else:
            modified = bool(canvas.get("modified"))
            version_id = self._restore_data.get("current_version_id") or canvas.get("version_id")
            source = ImageSource(path=None if modified else canvas.get("path"), version_id=version_id,
                                 modified=modified)
            self.document.open_image(image, source, "Restore session")
            mask = self._read_mask(self._restore_data.get("mask"))
            if mask is not None and mask.shape == (image.height(), image.width()):
                self.document.set_mask_array(mask, "Restore mask")
        self._finish_restore(problem)

    def _read_mask(self, name: str | None) -> np.ndarray | None:
        if not name:
            return None
        from PIL import Image

        try:
            with Image.open(self.folder / name) as im:
                return np.asarray(im.convert("L")).copy()
        except (OSError, ValueError) as exc:
            log.warning("the autosaved mask could not be read: %s", exc)
            return None

    def _finish_restore(self, problem: str | None) -> None:
        data = self._restore_data or {}
        refs = [
            Reference(path=r["path"], role=r.get("role"), width=int(r.get("width") or 0),
                      height=int(r.get("height") or 0), pinned=bool(r.get("pinned")))
            for r in data.get("references", [])
            if r.get("path")
        ]
        present = [r for r in refs if os.path.isfile(r.path)]
        self.document.set_references(present)
        message = RESTORED_MESSAGE
        missing = len(refs) - len(present)
        if missing:
            problem = "; ".join(filter(None, [problem, f"{missing} reference(s) could not be found"]))
        if problem:
            message += f", except that {problem}"
        self.message.emit(message + ".")
        self._restore_data = None
        self._restoring = False
        self.restored.emit(True)


def _rgba_array(image: QImage) -> np.ndarray:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return arr[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path).absolute()


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.is_relative_to(root)
    except ValueError:
        return False


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    for entry in folder.iterdir():
        if entry.name == SESSION_FILE or entry.name in keep or not entry.is_file():
            continue
        if entry.name.startswith("."):  # another save's temporary file in flight
            continue
        try:
            entry.unlink()
        except OSError:
            pass
