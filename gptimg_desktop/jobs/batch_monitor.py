"""The editor's view of its batches: a thin Qt bridge over the Qt-free BatchEngine.

All network and disk work runs on one worker thread; the GUI thread only receives ``BatchRow`` snapshots and
"finished" news through queued signals. It resumes at start (whatever a previous run or the CLI left behind),
then polls with backoff while a batch is unfinished and stays quiet when none is.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.batch_format import BatchPrices
from ..core.errors import RequestRefused
from ..core.pricing import PriceTable
from ..provider.batches import BatchesClient
from ..provider.config import ProviderConfig
from ..provider.errors import NotFound, ProviderError
from ..store.batches import BatchRecord, BatchStore
from ..store.history import HistoryStore
from .batch_engine import BatchEngine, BatchItem, CollectReport, first_poll_seconds
from .pipeline import JobSpec

log = logging.getLogger("gptimg.jobs.batch")
MAX_INTERVAL_MS = 60_000


@dataclass(frozen=True)
class BatchRow:
    """One batch as the Batches panel shows it."""

    batch_id: str
    status: str
    requests: int
    done: int
    failed: int
    cost_usd: float  # spent so far at the batch price, or the estimate before results
    estimated: bool
    eta: str
    created_at: str
    finished: bool
    collected: bool


def eta_text(record: BatchRecord, now: _dt.datetime | None = None) -> str:
    """When the rest should be done, from the pace so far; the 24-hour window before any line finished."""
    if record.collected_at is not None or record.finished:
        return "done"
    done = record.completed + record.failed
    if not record.submitted_at or done <= 0:
        return "within 24 h"
    now = now or _dt.datetime.now(_dt.UTC)
    started = _dt.datetime.fromisoformat(record.submitted_at.replace("Z", "+00:00"))
    elapsed = max(1.0, (now - started).total_seconds())
    left = elapsed / done * max(0, record.requests - done)
    if left < 60:
        return "< 1 min"
    if left < 3600:
        return f"about {round(left / 60)} min"
    return f"about {left / 3600:.1f} h"


def row_of(batches: BatchStore, record: BatchRecord) -> BatchRow:
    spent = batches.cost_usd(record.key)
    estimated = not spent and record.collected_at is None
    return BatchRow(record.batch_id, record.status, record.requests, record.completed, record.failed,
                    record.estimate_usd if estimated else spent, estimated, eta_text(record), record.created_at,
                    record.finished, record.collected_at is not None)


class BatchMonitor(QObject):
    batchesChanged = Signal(list)  # [BatchRow], newest first
    batchFinished = Signal(str, str, int, int)  # batch id, status, versions imported, lines failed
    submitted = Signal(list)  # [batch id]
    failed = Signal(str)  # one sentence to show

    def __init__(self, store: HistoryStore, config: Callable[[], ProviderConfig], prices: Callable[[], PriceTable],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._config = config
        self._prices = prices
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gptimg-batches")
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.poll)
        self._interval_ms = int(first_poll_seconds() * 1000)
        self._closed = False
        self.batchesChanged.connect(self._schedule)

    # ------------------------------------------------------------------ from the GUI thread
    def start(self) -> None:
        """Show what is known at once, then resume unfinished batches in the background."""
        self._work(self._resume_once)

    def poll(self) -> None:
        self._work(self._resume_once)

    def submit(self, specs: Sequence[JobSpec], project: str | None = None) -> None:
        self._interval_ms = int(first_poll_seconds() * 1000)
        self._work(lambda: self._submit(list(specs), project))

    def submit_set(self, set_id: str) -> None:
        """Approve a set's anchor and send its unfinished items as one batch, each linked to its set item."""
        self._interval_ms = int(first_poll_seconds() * 1000)
        self._work(lambda: self._submit_set(set_id))

    def submit_channels(self, version_id: str, plans: Sequence[Any], out: Any) -> None:
        """The channels of a version as one batch, delivered at exact pixels into ``out`` when collected."""
        self._interval_ms = int(first_poll_seconds() * 1000)
        self._work(lambda: self._submit_channels(version_id, list(plans), out))

    def cancel(self, batch_id: str) -> None:
        self._work(lambda: self._cancel(batch_id))

    def estimate(self, specs: Sequence[JobSpec]) -> tuple[int, float]:
        """(credits, USD) at the batch price, without preparing images (the GUI thread may call it)."""
        prices = BatchPrices.of(self._prices())
        credits, usd = 0, 0.0
        for spec in specs:
            est = spec.request.with_changes(stream=False, partial_images=0).estimate(prices)
            credits += prices.credits(est.images)
            usd += prices.cost_usd(spec.request.model, est.usage)
        return credits, round(usd, 6)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(RuntimeError):  # at quit Qt may already have deleted the timer
            self._timer.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ on the worker thread
    def _work(self, task: Callable[[], None]) -> None:
        if self._closed:
            return

        def run() -> None:
            try:
                task()
            except Exception as exc:  # one sentence for the panel, never a traceback
                log.warning("batch work failed", exc_info=True)
                self.failed.emit(getattr(exc, "user_message", None) or str(exc))
            finally:
                self._publish()

        self._pool.submit(run)

    def _engine(self) -> tuple[BatchEngine, BatchesClient]:
        client = BatchesClient(self._config())
        return BatchEngine(self.store, client, self._prices()), client

    def _resume_once(self) -> None:
        batches = BatchStore(self.store)
        if not batches.unfinished():
            return
        engine, client = self._engine()
        try:
            for record in batches.unfinished():
                try:
                    record = engine.refresh(engine.send(record))
                except NotFound:
                    if client.config.kind == "demo":  # the demo server forgot it when the app last closed
                        batches.update_status(record.key, "failed", record.completed, record.failed, None, None,
                                              [{"code": "unknown_batch", "line": None, "param": None, "message":
                                                "The demo server that ran this batch has stopped; run it again."}])
                        record = batches.require(record.key)
                    else:
                        raise
                except ProviderError as exc:
                    batches.set_note(record.key, exc.user_message)
                    continue
                if record.finished:
                    self._report(engine.collect(record))
        finally:
            client.close()

    def _report(self, report: CollectReport) -> None:
        if report.busy:
            return
        self.batchFinished.emit(report.batch.batch_id, report.batch.status, len(report.versions),
                                len(report.failed) + len(report.expired) + len(report.cancelled))

    def _submit(self, specs: list[JobSpec], project: str | None) -> None:
        engine, client = self._engine()
        try:
            items = [BatchItem(spec, f"request {i + 1}") for i, spec in enumerate(specs)]
            try:
                prepared = engine.prepare(items)
            except RequestRefused as exc:
                self.failed.emit(str(exc))
                return
            self._send_all(engine, engine.record(prepared, project))
        finally:
            client.close()

    def _submit_set(self, set_id: str) -> None:
        from ..store import sets as set_store
        from .sets import item_job_spec

        record = set_store.get_set(self.store, set_id)
        todo = [i for i in record.items if not i.anchor and i.status not in (set_store.FINISHED, "queued")]
        if not todo:
            self.failed.emit("Every item of this set is made or already waiting in a batch.")
            return
        engine, client = self._engine()
        try:
            items = [BatchItem(item_job_spec(self.store, record, i.item_id), f"item {i.item_id}") for i in todo]
            by_spec = {id(item.spec): i.item_id for item, i in zip(items, todo, strict=True)}
            try:
                prepared = engine.prepare(items)
            except RequestRefused as exc:
                self.failed.emit(str(exc))
                return
            set_store.set_anchor_approved(self.store, set_id, True)

            def link(p: Any, job: Any) -> None:
                set_store.update_item(self.store, set_id, by_spec[id(p.item.spec)], "queued", job_id=job.id)

            sent = []
            for batch in engine.record(prepared, record.project, on_job=link):
                try:
                    sent.append(engine.send(batch).batch_id)
                except ProviderError as exc:
                    self.failed.emit(f"{exc.user_message} The batch is saved and is sent at the next try.")
            if sent:
                self.submitted.emit(sent)
        finally:
            client.close()

    def _submit_channels(self, version_id: str, plans: list[Any], out: Any) -> None:
        version = self.store.get_version(version_id)
        if version is None:
            self.failed.emit(f"Version {version_id} is no longer in the history.")
            return
        engine, client = self._engine()
        try:
            try:
                records = engine.record_channels(version, plans, out)
            except RequestRefused as exc:
                self.failed.emit(str(exc))
                return
            self._send_all(engine, records)
        finally:
            client.close()

    def _send_all(self, engine: BatchEngine, records: list[Any]) -> None:
        """Send each recorded batch; one the provider refuses stays saved and is sent at the next try."""
        sent = []
        for record in records:
            try:
                sent.append(engine.send(record).batch_id)
            except ProviderError as exc:
                self.failed.emit(f"{exc.user_message} The batch is saved and is sent at the next try.")
        if sent:
            self.submitted.emit(sent)

    def _cancel(self, batch_id: str) -> None:
        engine, client = self._engine()
        try:
            record = engine.batches.require(batch_id)
            if not record.finished:
                engine.cancel(record)
        finally:
            client.close()

    def _publish(self) -> None:
        if self._closed:
            return
        batches = BatchStore(self.store)
        self.batchesChanged.emit([row_of(batches, r) for r in batches.list()])

    # ------------------------------------------------------------------ back on the GUI thread
    def _schedule(self, rows: list[BatchRow]) -> None:
        """Poll again while a batch runs, a little less often each time; stop when none does."""
        if self._closed or not any(not r.collected for r in rows):
            self._timer.stop()
            return
        if not self._timer.isActive():
            self._timer.start(self._interval_ms)
            self._interval_ms = min(int(self._interval_ms * 1.5), MAX_INTERVAL_MS)
