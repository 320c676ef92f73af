"""The Qt bridge for sets and channels: one worker thread runs SetRunner / ChannelRunner tasks in order and
reports through queued signals. Thumbnails are decoded on the worker (Pillow, GIL released), so the GUI
thread only receives finished QImages. Every task can be cancelled; nothing here touches a widget.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core.channels import ChannelPlan
from ..core.errors import InputImageError, RequestRefused
from ..core.pricing import PriceTable
from ..core.set_plan import SetPlan
from ..provider.client import CancelToken, ImagesClient
from ..provider.errors import ProviderError
from ..store import sets as set_store
from ..store.history import HistoryStore, Version
from ..store.sets import SetItemRecord, SetRecord
from .channels import ChannelResult, ChannelRunner
from .qimage_decoding import decode_qimage
from .set_delivery import export_set
from .sets import SetListener, SetRunner

log = logging.getLogger("gptimg.sets")
THUMB_SIDE = 320

# What the worker needs each time: the history, the current provider client and prices (Settings may change them).
Backend = Callable[[], tuple[HistoryStore, ImagesClient, PriceTable]]


@dataclass
class _Task:
    kind: str
    args: tuple[Any, ...]
    cancel: CancelToken


class SetQueue(QObject):
    setRecorded = Signal(str)  # set id
    itemStarted = Signal(str, str)  # set id, item id
    itemFinished = Signal(str, str, str, str)  # set id, item id, status, error ("" when none)
    itemMade = Signal(str, str)  # version id, prompt: an item that was made (for its text proof)
    thumbnailReady = Signal(str, str, QImage)  # set id, item id, thumbnail
    anchorWaiting = Signal(str)  # set id: the anchor is made and waits for approval
    setFinished = Signal(str, str)  # set id, why it stopped early ("" when every item is done)
    channelFinished = Signal(object, QImage)  # ChannelResult, thumbnail (null on failure)
    channelsFinished = Signal(list)  # [ChannelResult]
    exported = Signal(str)  # one sentence saying where
    failed = Signal(str)  # one sentence; the task did not run
    busyChanged = Signal(bool)

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._backend = backend
        self._queue: queue.Queue[_Task | None] = queue.Queue()
        self._current: _Task | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="gptimg-sets", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ GUI-thread API
    def run_set(self, plan: SetPlan, project: str | None) -> None:
        self._submit("run_set", plan, project)

    def approve_and_continue(self, set_id: str) -> None:
        self._submit("approve", set_id)

    def run_items(self, set_id: str, item_ids: Sequence[str]) -> None:
        self._submit("run_items", set_id, list(item_ids))

    def replace_anchor(self, set_id: str) -> None:
        """Make a new anchor; every other item goes back to planned and waits for the new one's approval."""
        self._submit("replace_anchor", set_id)

    def load_thumbnails(self, set_id: str) -> None:
        self._submit("thumbs", set_id)

    def export(self, set_id: str, dest: Path, bundle: bool = False) -> None:
        self._submit("export", set_id, dest, bundle)

    def run_channels(self, version: Version, plans: Sequence[ChannelPlan], out_dir: Path) -> None:
        self._submit("channels", version, list(plans), out_dir)

    def cancel(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.cancel.cancel()

    def is_busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def shutdown(self) -> None:
        self.cancel()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _submit(self, kind: str, *args: Any) -> None:
        with self._lock:
            self._pending += 1
            first = self._pending == 1
        if first:
            self.busyChanged.emit(True)
        self._queue.put(_Task(kind, args, CancelToken()))

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            with self._lock:
                self._current = task
            try:
                getattr(self, f"_do_{task.kind}")(task, *task.args)
            except (RequestRefused, InputImageError, ValueError, LookupError) as exc:
                self.failed.emit(str(exc))
            except ProviderError as exc:
                self.failed.emit(exc.user_message)
            except Exception as exc:  # the worker must survive anything a task does
                log.exception("set task %s failed", task.kind)
                self.failed.emit(f"{type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._current = None
                    self._pending -= 1
                    idle = self._pending == 0
                if idle:
                    self.busyChanged.emit(False)

    def _listener(self) -> SetListener:
        owner = self

        class Bridge(SetListener):
            def set_recorded(self, record: SetRecord) -> None:
                owner.setRecorded.emit(record.id)

            def item_started(self, set_id: str, item_id: str) -> None:
                owner.itemStarted.emit(set_id, item_id)

            def item_finished(self, set_id: str, item: SetItemRecord, version: Version | None) -> None:
                owner.itemFinished.emit(set_id, item.item_id, item.status, item.error or "")
                if version is not None:
                    owner.itemMade.emit(version.id, item.prompt)
                    owner._emit_thumb(set_id, item.item_id, version)

            def approve_anchor(self, set_id: str, version: Version) -> bool:
                return False  # the designer approves in the window

        return Bridge()

    def _emit_thumb(self, set_id: str, item_id: str, version: Version) -> None:
        try:
            image = decode_qimage(str(version.thumb_path or version.path), max_side=THUMB_SIDE)
        except (OSError, ValueError):
            try:
                image = decode_qimage(str(version.path), max_side=THUMB_SIDE)
            except (OSError, ValueError):
                return
        self.thumbnailReady.emit(set_id, item_id, image)

    def _runner(self) -> SetRunner:
        store, client, prices = self._backend()
        return SetRunner(store, client, prices)

    def _finish(self, runner: SetRunner, set_id: str, stopped: str | None) -> None:
        record = set_store.get_set(runner.store, set_id)
        if not record.anchor_approved and record.anchor is not None and record.anchor.status == set_store.FINISHED:
            self.anchorWaiting.emit(set_id)
        self.setFinished.emit(set_id, stopped or "")

    def _do_run_set(self, task: _Task, plan: SetPlan, project: str | None) -> None:
        runner = self._runner()
        outcome = runner.run(plan, project, self._listener(), task.cancel)
        self._finish(runner, outcome.record.id, outcome.stopped)

    def _do_approve(self, task: _Task, set_id: str) -> None:
        runner = self._runner()
        set_store.set_anchor_approved(runner.store, set_id, True)
        outcome = runner.continue_set(set_id, self._listener(), task.cancel)
        self._finish(runner, set_id, outcome.stopped)

    def _do_run_items(self, task: _Task, set_id: str, item_ids: list[str]) -> None:
        runner = self._runner()
        outcome = runner.run_items(set_id, item_ids, self._listener(), task.cancel)
        self._finish(runner, set_id, outcome.stopped)

    def _do_replace_anchor(self, task: _Task, set_id: str) -> None:
        runner = self._runner()
        record = set_store.get_set(runner.store, set_id)
        version = runner.run_item(set_id, record.anchor_item, self._listener(), task.cancel)
        if version is not None:
            set_store.replace_anchor(runner.store, set_id, version)
            for item in record.items:
                if not item.anchor:
                    set_store.update_item(runner.store, set_id, item.item_id, "planned")
                    self.itemFinished.emit(set_id, item.item_id, "planned", "")
        self._finish(runner, set_id, None if version is not None else "The new anchor was not made.")

    def _do_thumbs(self, task: _Task, set_id: str) -> None:
        store, _client, _prices = self._backend()
        for item in set_store.get_set(store, set_id).items:
            version = store.get_version(item.version_id) if item.version_id else None
            if version is not None and item.status == set_store.FINISHED:
                self._emit_thumb(set_id, item.item_id, version)

    def _do_export(self, task: _Task, set_id: str, dest: Path, bundle: bool) -> None:
        store, _client, _prices = self._backend()
        if bundle:
            self.exported.emit(set_store.export_set_bundle(store, set_id, dest).describe_export())
        else:
            self.exported.emit(export_set(store, set_id, dest).describe())

    def _do_channels(self, task: _Task, version: Version, plans: list[ChannelPlan], out_dir: Path) -> None:
        store, client, prices = self._backend()
        runner = ChannelRunner(store, client, prices)
        results: list[ChannelResult] = []
        for plan in plans:
            result = runner.run(version, [plan], out_dir, None, task.cancel)[0]
            image = QImage()
            if result.files:
                try:
                    image = decode_qimage(result.files[0], max_side=THUMB_SIDE)
                except (OSError, ValueError):
                    pass
            results.append(result)
            self.channelFinished.emit(result, image)
        self.channelsFinished.emit(results)
