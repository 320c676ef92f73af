"""Jobs through OpenAI's Batch API: half price, run on the provider's machines within 24 hours. No Qt.

Order matters for "nothing lost, nothing paid twice": every job, the JSONL file and each line's link to its job
are written before anything is sent; the batch is created once (a create that may have gone through is looked
up by its metadata before trying again); results are written to disk before they are imported, and each line
is imported once. Any later start (``resume``) carries on where the last one stopped.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core import images as core_images
from ..core.batch_format import (
    BatchPrices,
    LineResult,
    batch_estimate,
    endpoint_for,
    input_line,
    jsonl,
    parse_result_lines,
)
from ..core.errors import RequestRefused
from ..core.pricing import PriceTable
from ..core.requests import ImageInput, ImageRequest
from ..provider.batches import BatchesClient, BatchObject
from ..provider.errors import ProviderError
from ..provider.events import parse_images_response
from ..store.batches import BatchRecord, BatchStore
from ..store.files import atomic_write
from ..store.history import HistoryStore, Job, Version
from .pipeline import JobSpec, PreparedJob, prepare, store_result
from .pipeline import _split_usage as _split

log = logging.getLogger("gptimg.jobs.batch")

METADATA_KEY = "gptimg_batch"
POLL_ENV = "GPTIMG_BATCH_POLL_SECONDS"  # the first pause between polls (tests make it short)
FIRST_POLL = 2.0
MAX_POLL = 60.0
# Test-only, like pipeline.CRASH_ENV: "batch_line_imported" kills the process after the first imported line.
CRASH_ENV = "GPTIMG_TEST_CRASH_AFTER"


@dataclass(frozen=True)
class BatchItem:
    """One request for a batch and where it came from, for refusals ("line 4: …")."""

    spec: JobSpec
    label: str


@dataclass(frozen=True)
class PreparedItem:
    item: BatchItem
    prepared: PreparedJob
    line_body_checked: bool = True


@dataclass
class CollectReport:
    """What one collect did to one batch."""

    batch: BatchRecord
    versions: list[tuple[str, Version]] = field(default_factory=list)  # (custom_id, version)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (custom_id, message)
    expired: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    busy: bool = False  # another process is collecting it


class BatchEngine:
    """Builds, sends, follows and collects batches for one history and one provider."""

    def __init__(
        self,
        store: HistoryStore,
        client: BatchesClient | None,
        prices: PriceTable | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.batches = BatchStore(store)
        self.client = client
        self.prices = prices or PriceTable()
        self.batch_prices = BatchPrices.of(self.prices)
        self._sleep = sleep

    # ------------------------------------------------------------------ building
    def prepare(self, items: Sequence[BatchItem]) -> list[PreparedItem]:
        """Check and prepare every item; the first refusal raises RequestRefused naming its item. Nothing is kept."""
        out = []
        for item in items:
            try:
                prepared = prepare(item.spec)
                input_line("check", _batch_request(prepared.request))  # an image too large for a line is refused
            except RequestRefused as exc:
                raise RequestRefused(f"{item.label}: {exc}", param=exc.param) from None
            except Exception as exc:  # InputImageError and other unreadable inputs
                raise RequestRefused(f"{item.label}: {exc}") from None
            out.append(PreparedItem(item, prepared))
        return out

    def estimate(self, prepared: Sequence[PreparedItem]) -> tuple[int, float]:
        """(credits, USD) at the batch price."""
        credits, usd = 0, 0.0
        for p in prepared:
            est = batch_estimate(self.prices, p.prepared.request)
            credits += est.credits
            usd += est.cost_usd
        return credits, round(usd, 6)

    def record(self, prepared: Sequence[PreparedItem], project: str | None = None,
               on_job: Callable[[PreparedItem, Job], None] | None = None) -> list[BatchRecord]:
        """Jobs, JSONL files and batch rows for ``prepared``, one batch per endpoint; nothing is sent.
        ``on_job`` hears of each job as it is recorded (a set links its items to them)."""
        groups: dict[str, list[PreparedItem]] = {}
        for p in prepared:
            groups.setdefault(endpoint_for(p.prepared.request), []).append(p)
        records = []
        for endpoint, group in groups.items():
            jobs = [self._record_job(p, project) for p in group]
            for p, job in zip(group, jobs, strict=True):
                if on_job is not None:
                    on_job(p, job)
            lines = [input_line(job.id, _batch_request(p.prepared.request)) for p, job in zip(group, jobs, strict=True)]
            rel = f"batches/{uuid.uuid4().hex}.jsonl"
            self._write(rel, jsonl(lines))
            credits, usd = self.estimate(group)
            records.append(self.batches.record(endpoint, rel, [(job.id, job.id) for job in jobs], project, usd, credits))
        return records

    def _record_job(self, p: PreparedItem, project: str | None) -> Job:
        request, spec = p.prepared.request, p.item.spec
        est = batch_estimate(self.prices, request)
        roles = list(spec.roles) + [None] * (len(request.images) - len(spec.roles))
        inputs = [(img.data, img.filename, role or "image") for img, role in zip(request.images, roles, strict=False)]
        description = request.describe()
        description.update(keep_outside_mask=spec.keep_outside_mask, feather_px=spec.feather_px,
                           user_prompt=spec.user_prompt if spec.user_prompt is not None else request.prompt,
                           canvas_image=spec.canvas_image, via="batch", stream=False, partial_images=0)
        return self.store.create_job(description, request.kind, request.model, request.prompt,
                                     project if project is not None else spec.project, spec.parent_version_id, inputs,
                                     p.prepared.mask_record,
                                     {"credits": est.credits, "cost_usd": est.cost_usd, "usage": est.usage.to_api()})

    def submit(self, items: Sequence[BatchItem], project: str | None = None) -> list[BatchRecord]:
        """Prepare, record and send; refusals raise before anything is recorded."""
        records = self.record(self.prepare(items), project)
        return [self.send(r) for r in records]

    # ------------------------------------------------------------------ sending
    def send(self, record: BatchRecord) -> BatchRecord:
        """Upload and create the batch, once. Safe to call again after any failure or crash."""
        if record.sent:
            return record
        client = self._client()
        if record.input_file_id is not None:
            found = client.find_batch(METADATA_KEY, record.key)  # a create that went through before we stopped
            if found is not None:
                self.batches.set_submitted(record.key, found.id, found.status)
                return self.batches.require(record.key)
            file_id = record.input_file_id
        else:
            data = (self.store.root / record.input_file).read_bytes()
            file_id = client.upload_file(Path(record.input_file).name, data, "batch").id
            self.batches.set_uploaded(record.key, file_id)
        metadata = {METADATA_KEY: record.key}
        if record.project:
            metadata["project"] = record.project[:500]
        created = client.create_batch(file_id, record.endpoint, metadata)
        self.batches.set_submitted(record.key, created.id, created.status)
        log.info("batch %s sent as %s (%d requests)", record.key, created.id, record.requests)
        return self.batches.require(record.key)

    # ------------------------------------------------------------------ following
    def refresh(self, record: BatchRecord) -> BatchRecord:
        if not record.sent or record.remote_id is None:
            return record
        remote = self._client().get_batch(record.remote_id)
        return self._apply(record, remote)

    def _apply(self, record: BatchRecord, remote: BatchObject) -> BatchRecord:
        errors = [{"code": e.code, "message": e.message, "param": e.param, "line": e.line} for e in remote.errors]
        return self.batches.update_status(record.key, remote.status, remote.completed, remote.failed,
                                          remote.output_file_id, remote.error_file_id, errors or None)

    def cancel(self, record: BatchRecord) -> BatchRecord:
        if not record.sent or record.remote_id is None:
            # Never sent: nothing runs anywhere, so cancel it here.
            self.batches.update_status(record.key, "cancelled", 0, 0, None, None)
            return self.batches.require(record.key)
        return self._apply(record, self._client().cancel_batch(record.remote_id))

    def resume(
        self,
        batch_ids: Sequence[str] | None = None,
        wait: bool = False,
        on_update: Callable[[BatchRecord], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[CollectReport]:
        """Send what was never sent, follow what runs, collect what finished. With ``wait``, poll with backoff
        until every batch is collected (or ``stop`` is set)."""
        self.sweep_orphans()
        wanted = None if batch_ids is None else set(batch_ids)
        reports: dict[str, CollectReport] = {}
        delay = first_poll_seconds()
        while True:
            pending = [b for b in self.batches.unfinished() if wanted is None or {b.key, b.batch_id} & wanted]
            for record in pending:
                record = self.send(record)
                record = self.refresh(record)
                if on_update is not None:
                    on_update(record)
                if record.finished:
                    reports[record.key] = self.collect(record)
            left = [b for b in self.batches.unfinished() if wanted is None or {b.key, b.batch_id} & wanted]
            if not wait or not left or (stop is not None and stop.is_set()):
                return list(reports.values())
            if stop is not None:
                if stop.wait(delay):
                    return list(reports.values())
            else:
                self._sleep(delay)
            delay = min(delay * 1.5, MAX_POLL)

    # ------------------------------------------------------------------ collecting
    def collect(self, record: BatchRecord) -> CollectReport:
        """Import a finished batch's results; each line once, even across crashes and concurrent processes."""
        report = CollectReport(record)
        if not record.finished or record.collected_at is not None:
            return report
        if not self.batches.claim(record.key):
            report.busy = True
            return report
        try:
            results = self._download(record)
            lines = {line.custom_id: line for line in self.batches.lines(record.key)}
            for result in results:
                line = lines.get(result.custom_id)
                if line is None or line.state != "pending" or line.job_id is None:
                    continue
                self._import(record, line.custom_id, line.job_id, result, report)
            self._close_leftovers(record, report)
            self.batches.mark_ledger(record.key)
            self.batches.mark_collected(record.key)
        finally:
            self.batches.release(record.key)
        report.batch = self.batches.require(record.key)
        return report

    def _download(self, record: BatchRecord) -> list[LineResult]:
        """The output and error files, kept on disk before they are read (a paid answer is never only in memory)."""
        results: list[LineResult] = []
        for kind, file_id in (("output", record.output_file_id), ("error", record.error_file_id)):
            if file_id is None:
                continue
            path = self.store.root / f"batches/{record.key}.{kind}.jsonl"
            if not path.exists():
                self._write(path.relative_to(self.store.root).as_posix(), self._client().file_content(file_id))
            results.extend(parse_result_lines(path.read_bytes()))
        return results

    def _import(self, record: BatchRecord, custom_id: str, job_id: str, result: LineResult,
                report: CollectReport) -> None:
        if result.ok and result.body is not None:
            try:
                versions = self._store_versions(job_id, result)
            except Exception as exc:  # an unreadable answer: say so on the job, keep the raw file
                log.exception("importing %s of batch %s failed", custom_id, record.batch_id)
                message = f"The batch answer for this job could not be read ({exc}); it is kept in batches/."
                self.store.mark_failed(job_id, message)
                self.batches.mark_line(record.key, custom_id, "failed", message)
                report.failed.append((custom_id, message))
                return
            self.store.mark_succeeded(job_id)
            self.batches.update_set_item(job_id, "succeeded", versions[0].id if versions else None)
            try:
                self._deliver(record, job_id, versions)
            except (OSError, ValueError) as exc:  # the version is in the history all the same
                log.warning("delivering %s of batch %s failed: %s", custom_id, record.batch_id, exc)
            self.batches.mark_line(record.key, custom_id, "imported")
            report.versions.extend((custom_id, v) for v in versions)
            _crash_point("batch_line_imported")
            return
        message = result.message or "The request failed."
        if result.code == "batch_expired":
            self.batches.mark_line(record.key, custom_id, "expired", message)
            report.expired.append(custom_id)
        elif result.code == "batch_cancelled":
            self.store.mark_cancelled(job_id)
            self.batches.update_set_item(job_id, "cancelled", error=message)
            self.batches.mark_line(record.key, custom_id, "cancelled", message)
            report.cancelled.append(custom_id)
        else:
            self.store.mark_failed(job_id, message)
            self.batches.update_set_item(job_id, "failed", error=message)
            self.batches.mark_line(record.key, custom_id, "failed", message)
            report.failed.append((custom_id, message))

    def _close_leftovers(self, record: BatchRecord, report: CollectReport) -> None:
        """Lines no result file mentioned: failed validation, expired or cancelled as the batch was."""
        by_line = {e.get("line"): str(e.get("message")) for e in record.errors if isinstance(e, dict)}
        general = "; ".join(sorted({str(e.get("message")) for e in record.errors if isinstance(e, dict)})[:3])
        for line in self.batches.lines(record.key):
            if line.state != "pending" or line.job_id is None:
                continue
            if record.status == "expired":
                self.batches.mark_line(record.key, line.custom_id, "expired", "The batch expired first.")
                report.expired.append(line.custom_id)
            elif record.status == "cancelled":
                self.store.mark_cancelled(line.job_id)
                self.batches.update_set_item(line.job_id, "cancelled", error="The batch was cancelled.")
                self.batches.mark_line(record.key, line.custom_id, "cancelled", "The batch was cancelled.")
                report.cancelled.append(line.custom_id)
            else:
                message = by_line.get(line.line_no) or (
                    f"The provider refused the batch: {general}" if general else
                    "The provider returned no result for this request; run it again.")
                self.store.mark_failed(line.job_id, message)
                self.batches.update_set_item(line.job_id, "failed", error=message)
                self.batches.mark_line(record.key, line.custom_id, "failed", message)
                report.failed.append((line.custom_id, message))

    def _store_versions(self, job_id: str, result: LineResult) -> list[Version]:
        existing = self.store.versions_for_job(job_id)
        job = self.store.get_job(job_id)
        if job is None:
            return []
        answer = parse_images_response(json.dumps(result.body).encode(), request_id=result.request_id,
                                       requested_format=job.params.get("output_format", "png"))
        if len(existing) >= len(answer.images):  # imported before a crash, line not yet marked: never twice
            return existing
        prepared, spec = _restore(self.store, job)
        if existing:  # a crash between two images of one answer: store only the ones still missing
            shares = _split(answer.usage, len(answer.images))[len(existing):]
            rest = replace(answer, images=answer.images[len(existing):], usage=sum(shares[1:], shares[0]))
            return existing + store_result(self.store, self.batch_prices, job, rest, prepared, spec)
        return store_result(self.store, self.batch_prices, job, answer, prepared, spec)

    # ------------------------------------------------------------------ delivery at exact pixels (channels)
    def attach_delivery(self, record: BatchRecord, targets: dict[str, tuple[int, int, str]]) -> None:
        """When the batch's line for job X is imported, also write it fitted to (width, height) at path."""
        data = {job: {"width": w, "height": h, "path": path} for job, (w, h, path) in targets.items()}
        self._write(f"batches/{record.key}.deliver.json", json.dumps(data).encode())

    def record_channels(self, version: Version, plans: Sequence[Any], out: Path) -> list[BatchRecord]:
        """Channel re-renders of ``version`` as one batch, each delivered at exact pixels into ``out`` when
        collected (jobs/channels.py makes the same edit the live run makes). Nothing is sent yet."""
        from .channels import channel_job_spec, delivery_name

        items = [BatchItem(channel_job_spec(version, plan), f"channel {plan.preset.name}") for plan in plans]
        by_spec = {id(item.spec): plan for item, plan in zip(items, plans, strict=True)}
        prepared = self.prepare(items)
        targets: dict[str, tuple[int, int, str]] = {}

        def remember(p: PreparedItem, job: Job) -> None:
            plan = by_spec[id(p.item.spec)]
            targets[job.id] = (plan.target.width, plan.target.height,
                               str((out / delivery_name(version, plan)).absolute()))

        records = self.record(prepared, version.project, on_job=remember)
        for record in records:
            self.attach_delivery(record, targets)
        return records

    def _deliver(self, record: BatchRecord, job_id: str, versions: list[Version]) -> None:
        path = self.store.root / f"batches/{record.key}.deliver.json"
        if not versions or not path.exists():
            return
        target = json.loads(path.read_text()).get(job_id)
        if not isinstance(target, dict):
            return
        from PIL import Image

        from ..core.channels import fit_exact

        with Image.open(versions[0].path) as img:
            img.load()
            mode = "RGBA" if "A" in img.getbands() else "RGB"
            fitted = fit_exact(img.convert(mode), int(target["width"]), int(target["height"]))
        dest = Path(target["path"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        fitted.save(buf, "PNG", compress_level=6)
        atomic_write(dest, buf.getvalue())

    # ------------------------------------------------------------------ expired lines
    def resubmit_expired(self, record: BatchRecord) -> BatchRecord | None:
        """A new batch of the lines that expired (same jobs, same custom ids); None when there are none."""
        expired = [line for line in self.batches.lines(record.key) if line.state == "expired" and line.job_id]
        if not expired:
            return None
        wanted = {line.custom_id for line in expired}
        lines = [json.loads(raw) for raw in (self.store.root / record.input_file).read_bytes().splitlines()
                 if raw.strip()]
        keep = [line for line in lines if line.get("custom_id") in wanted]
        rel = f"batches/{uuid.uuid4().hex}.jsonl"
        self._write(rel, jsonl(keep))
        share = len(keep) / max(1, record.requests)
        new = self.batches.record(record.endpoint, rel, [(line.custom_id, str(line.job_id)) for line in expired],
                                  record.project, round(record.estimate_usd * share, 6),
                                  round(record.estimate_credits * share))
        for line in expired:
            self._resubmitted(record.key, line.custom_id, new.key)
        return self.send(new)

    def _resubmitted(self, old_key: str, custom_id: str, new_key: str) -> None:
        with self.store.write_transaction() as conn:
            conn.execute("UPDATE batch_lines SET state = 'resubmitted', message = ? WHERE batch_id = ? "
                         "AND custom_id = ? AND state = 'expired'", (f"Resubmitted in {new_key}.", old_key, custom_id))

    def sweep_orphans(self) -> None:
        """Jobs recorded for a batch whose process died before the batch itself was recorded: never sent."""
        with self.store.write_transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner_pid, owner_started FROM jobs WHERE status = 'queued' AND params_json LIKE "
                "'%\"via\": \"batch\"%' AND id NOT IN (SELECT job_id FROM batch_lines WHERE job_id IS NOT NULL)"
            ).fetchall()
        from ..store.owner import is_alive

        for row in rows:
            if not is_alive(row["owner_pid"], row["owner_started"]):
                self.store.mark_failed(row["id"], "gptimg stopped before this job's batch was recorded; nothing was "
                                                  "sent or charged. Run it again.")

    def _write(self, rel: str, data: bytes) -> None:
        path = self.store.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)

    def _client(self) -> BatchesClient:
        if self.client is None:
            raise ProviderError("No provider is set up for batches; add your key in Settings → Provider.")
        return self.client


def _batch_request(request: ImageRequest) -> ImageRequest:
    return request.with_changes(stream=False, partial_images=0)


def _restore(store: HistoryStore, job: Job) -> tuple[PreparedJob, JobSpec]:
    """What storing a batch answer needs from the job as recorded: the first image and mask, for the blend-back."""
    params = job.params
    request = ImageRequest(prompt=job.prompt, model=job.model, size=params.get("size", "auto"),
                           quality=params.get("quality", "auto"), output_format=params.get("output_format", "png"),
                           output_compression=params.get("output_compression"))
    mask_array = None
    inputs: tuple[ImageInput, ...] = ()
    restored = store.job_inputs(job.id)
    if restored.images:
        first_path, first_name, _role = restored.images[0]
        data = Path(first_path).read_bytes()
        w, h = core_images.image_size(data)
        inputs = (ImageInput(first_name, data, _format_of(data), w, h),)
        if restored.mask is not None:
            mask_array = core_images.edit_array_from_mask(Path(restored.mask).read_bytes())
    prepared = PreparedJob(request.with_changes(images=inputs), (), mask_array)
    spec = JobSpec(request=request, keep_outside_mask=bool(params.get("keep_outside_mask", True)),
                   feather_px=int(params.get("feather_px", 8)))
    return prepared, spec


def _format_of(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[8:12] == b"WEBP":
        return "webp"
    return "png"


def first_poll_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get(POLL_ENV, FIRST_POLL)))
    except ValueError:
        return FIRST_POLL


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
