"""Finishing paid answers that reached disk but were never stored (the process died, the disk or the database
failed), without sending anything again.

Each job is finished on its own: one answer that can't be used never stops the others. A job is tried a
bounded number of times (counted before each try, so a try that kills the process counts too); an answer
that can never be used (damaged, not an image, implausibly large) is given up at once. Giving up is recorded
on the job, with the reason as its error, and the raw answer stays on disk.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..core import images as core_images
from ..core.errors import InputImageError, OutputImageError
from ..core.pricing import PriceTable
from ..core.requests import ImageInput, ImageRequest
from ..provider.errors import MalformedResponse
from ..provider.events import parse_saved_response
from ..store.db import StoreUnavailable
from ..store.history import HistoryStore, Job, Version
from .pipeline import MAX_SAVED_ANSWER_BYTES, JobSpec, PreparedJob, response_path, store_result

log = logging.getLogger("gptimg.jobs")

MAX_RECOVERY_ATTEMPTS = 3


class _GiveUp(Exception):
    """This answer can never be finished; the message says why, in one sentence."""


@dataclass
class RecoveryReport:
    """What one recovery pass did: images stored, jobs given up now, and jobs found interrupted now."""

    versions: list[Version] = field(default_factory=list)
    gave_up: list[Job] = field(default_factory=list)
    interrupted: list[Job] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def recover(store: HistoryStore, prices: PriceTable | None = None) -> RecoveryReport:
    """Mark jobs of dead processes interrupted, then finish every saved paid answer that can be finished."""
    prices = prices or PriceTable()
    report = RecoveryReport()
    try:
        report.interrupted = store.interrupt_stale_jobs()
        candidates = store.list_jobs(status="interrupted") + store.list_jobs(status="failed")
    except (StoreUnavailable, sqlite3.OperationalError) as exc:  # a busy database: the next start tries again
        log.warning("recovery skipped: %s", exc)
        return report
    for job in candidates:
        if job.recovery_gave_up or response_path(store, job) is None:
            continue
        try:
            if store.versions_for_job(job.id) or not store.claim_job(job.id):
                continue
        except (StoreUnavailable, sqlite3.OperationalError) as exc:
            log.warning("recovery of job %s skipped: %s", job.id, exc)
            continue
        try:
            _recover_one(store, prices, job, report)
        finally:
            store.release_job(job.id)
    return report


def _recover_one(store: HistoryStore, prices: PriceTable, job: Job, report: RecoveryReport) -> None:
    attempts = 0
    try:
        attempts = store.note_recovery_attempt(job.id)
        if store.versions_for_job(job.id):  # checked again now that the job is ours
            return
        if attempts > MAX_RECOVERY_ATTEMPTS:
            raise _GiveUp(f"Finishing this job's paid answer failed {MAX_RECOVERY_ATTEMPTS} times, so it was "
                          "given up.")
        report.versions.extend(_finish_from_disk(store, prices, job, report.notes))
    except _GiveUp as exc:
        _give_up(store, job, str(exc), report)
    except (OutputImageError, MalformedResponse, InputImageError) as exc:
        _give_up(store, job, f"Its paid answer can't be used: {exc}", report)
    except Exception as exc:  # a busy database, a full disk …: try again at the next start, up to the limit
        log.warning("finishing the paid answer of job %s failed: %s", job.id, exc)
        log.debug("details", exc_info=True)
        if attempts >= MAX_RECOVERY_ATTEMPTS:
            try:
                _give_up(store, job, f"Finishing its paid answer failed {attempts} times (last: {exc}).", report)
            except Exception:
                log.warning("could not record that job %s was given up", job.id)


def _give_up(store: HistoryStore, job: Job, reason: str, report: RecoveryReport) -> None:
    path = response_path(store, job)
    where = f" The raw answer stays in {path}." if path is not None else ""
    report.gave_up.append(store.give_up_recovery(job.id, reason.rstrip() + where))
    log.info("gave up finishing job %s: %s", job.id, reason)


def _finish_from_disk(store: HistoryStore, prices: PriceTable, job: Job, notes: list[str]) -> list[Version]:
    path = response_path(store, job)
    if path is None:
        return []
    size = path.stat().st_size
    if size > MAX_SAVED_ANSWER_BYTES:
        raise _GiveUp(f"Its saved answer is {size / 1024**2:,.0f} MB, larger than any real answer, so it "
                      "was not read.")
    result = parse_saved_response(path.read_bytes())
    if not result.images:
        return []
    params = job.params
    n = params.get("n", 1)
    request = ImageRequest(
        prompt=job.prompt,
        model=job.model,
        size=params.get("size", "auto"),
        quality=params.get("quality", "auto"),
        n=n if isinstance(n, int) and 1 <= n <= 10 else 1,
        output_format=params.get("output_format", "png"),
        output_compression=params.get("output_compression"),
    )
    mask_array = None
    inputs: tuple[ImageInput, ...] = ()
    restored = store.job_inputs(job.id)
    if restored.images:
        first_path, first_name, _role = restored.images[0]
        data = Path(first_path).read_bytes()
        w, h = core_images.image_size(data)
        fmt = core_images.output_format_of(data) or "png"
        inputs = (ImageInput(first_name, data, fmt, w, h),)
        if restored.mask is not None:
            mask_array = core_images.edit_array_from_mask(Path(restored.mask).read_bytes())
    prepared = PreparedJob(request.with_changes(images=inputs), (), mask_array)
    spec = JobSpec(
        request=request,
        keep_outside_mask=bool(params.get("keep_outside_mask", True)),
        feather_px=int(params.get("feather_px", 8)),
    )
    if not job.response_file:  # the database was busy when the answer was saved: link it now
        store.set_response_file(job.id, path.relative_to(store.root).as_posix())
    versions = store_result(store, prices, job, result, prepared, spec, notes=notes)
    store.mark_succeeded(job.id)
    log.info("recovered %d image(s) of job %s from its saved answer", len(versions), job.id)
    return versions


__all__ = ["MAX_RECOVERY_ATTEMPTS", "RecoveryReport", "recover"]
