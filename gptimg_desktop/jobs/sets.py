"""Running a set: the anchor first, then, once it is approved, every other item as an edit of it.

Built on JobPipeline, so each item is an ordinary job (recorded before sending, paid answers kept, versions in
the history) and the set rows only say which job and version belong to which item. Qt-free: the CLI calls it
directly and the Sets workspace calls it from a worker thread.

``item_job_spec()`` is the one function that turns a stored item into a JobSpec (anchor image as input
image 1, then the pinned references); ``plan_job_specs()`` does the same for a plan that was not recorded
yet. The Batch runner reuses them so a batched set sends exactly what a live one does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputImageError, RequestRefused
from ..core.pricing import PriceTable
from ..core.requests import ImageRequest
from ..core.set_plan import ItemRequest, SetPlan
from ..provider.client import CancelToken, ImagesClient
from ..provider.errors import ProviderError
from ..provider.events import PartialImage
from ..store import sets as set_store
from ..store.history import HistoryStore, Job, Version
from ..store.sets import SetItemRecord, SetRecord
from .pipeline import JobListener, JobPipeline, JobSpec, PreparedJob, prepare


class SetListener(JobListener):
    """Callbacks from a running set (on the runner's thread); every method is optional."""

    def set_recorded(self, record: SetRecord) -> None: ...
    def item_started(self, set_id: str, item_id: str) -> None: ...
    def item_finished(self, set_id: str, item: SetItemRecord, version: Version | None) -> None: ...

    def approve_anchor(self, set_id: str, version: Version) -> bool:
        """Whether to go on with the other items now; the CLI approves automatically. Returning False leaves
        them planned, to run after the designer approves (``SetRunner.run_items``)."""
        return True


@dataclass
class SetOutcome:
    record: SetRecord
    failed: list[str] = field(default_factory=list)  # item ids that did not finish
    errors: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None  # why the run stopped early (anchor failed, cancelled, waiting for approval)


def _references(plan_data: dict) -> list[tuple[str, str | None]]:
    return [(str(r.get("path")), r.get("role")) for r in plan_data.get("references", [])]


def item_job_spec(store: HistoryStore, record: SetRecord, item_id: str) -> JobSpec:
    """The job for one stored item: its prompt and size; for edits the anchor's image first, then references."""
    item = next((i for i in record.items if i.item_id == item_id), None)
    if item is None:
        raise RequestRefused(f"Set {record.id} has no item '{item_id}'.", param="items")
    refs = _references(record.plan)
    images: list[str] = []
    roles: list[str | None] = []
    parent = None
    if not item.anchor:
        anchor = record.anchor
        if anchor is None or anchor.version_id is None:
            raise RequestRefused(f"The anchor of set {record.id} is not made yet; run it first.", param="anchor")
        version = store.get_version(anchor.version_id)
        if version is None or not version.path.is_file():
            raise RequestRefused(f"The anchor image of set {record.id} is missing from the history; replace the "
                                 "anchor or run it again.", param="anchor")
        images.append(str(version.path))
        roles.append("style")
        parent = version.id
    for path, role in refs:
        images.append(path)
        roles.append(role)
    request = ImageRequest(prompt=item.prompt, model=str(record.plan.get("model") or "gpt-image-2"),
                           size=item.size, quality=item.quality)
    return JobSpec(request=request, images=tuple(images), roles=tuple(roles), project=record.project,
                   parent_version_id=parent, user_prompt=item.prompt, canvas_image=not item.anchor)


def plan_job_specs(plan: SetPlan, anchor_image: str | Path | None, project: str | None = None,
                   anchor_version_id: str | None = None) -> list[tuple[ItemRequest, JobSpec]]:
    """Every item of a plan as a JobSpec, the anchor first and marked (``ItemRequest.anchor``).

    The edits need the anchor's image; pass None only to get the anchor's own spec (the list then holds
    just the anchor)."""
    out: list[tuple[ItemRequest, JobSpec]] = []
    for req in plan.item_requests():
        if req.uses_anchor and anchor_image is None:
            continue
        images = ([str(anchor_image)] if req.uses_anchor else []) + [r.path for r in req.references]
        roles = (["style"] if req.uses_anchor else []) + [r.role for r in req.references]
        out.append((req, JobSpec(request=req.request, images=tuple(images), roles=tuple(roles), project=project,
                                 parent_version_id=anchor_version_id if req.uses_anchor else None,
                                 user_prompt=req.item.prompt, canvas_image=req.uses_anchor)))
    return out


class _ItemJobs(JobListener):
    """Links the item to its job as soon as the job is recorded (before sending), so a paid answer recovered
    after a crash finds its way back into the set (store.sets.reconcile); forwards everything else."""

    def __init__(self, store: HistoryStore, set_id: str, item_id: str, inner: JobListener) -> None:
        self.store, self.set_id, self.item_id, self.inner = store, set_id, item_id, inner

    def job_recorded(self, job: Job) -> None:
        set_store.update_item(self.store, self.set_id, self.item_id, "running", job_id=job.id)
        self.inner.job_recorded(job)

    def stage(self, job_id: str, text: str) -> None:
        self.inner.stage(job_id, text)

    def partial(self, job_id: str, partial: PartialImage, expected: int) -> None:
        self.inner.partial(job_id, partial, expected)

    def retrying(self, job_id: str, attempt: int, delay: float, error: ProviderError) -> None:
        self.inner.retrying(job_id, attempt, delay, error)


class SetRunner:
    """Runs sets against one provider and records them in one history."""

    def __init__(self, store: HistoryStore, client: ImagesClient, prices: PriceTable | None = None) -> None:
        self.store = store
        self.prices = prices or PriceTable()
        self.pipeline = JobPipeline(store, client, self.prices)

    def record(self, plan: SetPlan, project: str | None = None) -> SetRecord:
        return set_store.create_set(self.store, plan, project)

    def run(self, plan: SetPlan, project: str | None = None, listener: SetListener | None = None,
            cancel: CancelToken | None = None) -> SetOutcome:
        """Record the set, make the anchor, ask for approval, then make every other item."""
        listener = listener or SetListener()
        record = self.record(plan, project)
        listener.set_recorded(record)
        return self.continue_set(record.id, listener, cancel)

    def continue_set(self, set_id: str, listener: SetListener | None = None,
                     cancel: CancelToken | None = None) -> SetOutcome:
        """Make whatever is left: the anchor if it is not done, then (once approved) the unfinished items."""
        listener = listener or SetListener()
        record = set_store.reconcile(self.store, set_id)
        outcome = SetOutcome(record)
        anchor = record.anchor
        assert anchor is not None
        if anchor.status != set_store.FINISHED:
            version = self.run_item(set_id, anchor.item_id, listener, cancel, outcome)
            if version is None:
                outcome.stopped = outcome.errors.get(anchor.item_id) or "The anchor was not made."
                outcome.record = set_store.get_set(self.store, set_id)
                outcome.failed = [i.item_id for i in outcome.record.items if i.status != set_store.FINISHED]
                return outcome
            record = set_store.get_set(self.store, set_id)
        if not record.anchor_approved:
            anchor_version = self._anchor_version(record)
            if anchor_version is None or not listener.approve_anchor(set_id, anchor_version):
                outcome.stopped = "Waiting for the anchor to be approved."
                outcome.record = set_store.get_set(self.store, set_id)
                return outcome
            set_store.set_anchor_approved(self.store, set_id, True)
        return self.run_items(set_id, None, listener, cancel, outcome)

    def run_items(self, set_id: str, item_ids: list[str] | None = None, listener: SetListener | None = None,
                  cancel: CancelToken | None = None, outcome: SetOutcome | None = None) -> SetOutcome:
        """Make the given items (default: every unfinished non-anchor item), one after another."""
        listener = listener or SetListener()
        record = set_store.get_set(self.store, set_id)
        outcome = outcome or SetOutcome(record)
        wanted = item_ids if item_ids is not None else [
            i.item_id for i in record.items if not i.anchor and i.status != set_store.FINISHED]
        for item_id in wanted:
            if cancel is not None and cancel.cancelled:
                set_store.update_item(self.store, set_id, item_id, "cancelled", error="Cancelled before sending.")
                outcome.stopped = "Cancelled."
                continue
            self.run_item(set_id, item_id, listener, cancel, outcome)
        outcome.record = set_store.get_set(self.store, set_id)
        outcome.failed = [i.item_id for i in outcome.record.items if i.status != set_store.FINISHED]
        return outcome

    def run_item(self, set_id: str, item_id: str, listener: SetListener | None = None,
                 cancel: CancelToken | None = None, outcome: SetOutcome | None = None) -> Version | None:
        """Make (or re-make) one item; its new version replaces the old one in the set. Failures are recorded
        on the item and returned as None, never raised (refusals included: the set goes on)."""
        listener = listener or SetListener()
        record = set_store.get_set(self.store, set_id)
        listener.item_started(set_id, item_id)
        set_store.update_item(self.store, set_id, item_id, "running")
        error: str | None = None
        version: Version | None = None
        status = "failed"
        try:
            spec = item_job_spec(self.store, record, item_id)
            prepared: PreparedJob = prepare(spec)
            result = self.pipeline.run(spec, _ItemJobs(self.store, set_id, item_id, listener), cancel,
                                       prepared=prepared)
            if result.status == "succeeded" and result.versions:
                version, status = result.versions[0], set_store.FINISHED
                set_store.update_item(self.store, set_id, item_id, status, job_id=result.job.id,
                                      version_id=version.id)
            else:
                status = "cancelled" if result.status == "cancelled" else "failed"
                error = result.error or "The job failed."
                set_store.update_item(self.store, set_id, item_id, status, job_id=result.job.id, error=error)
        except (RequestRefused, InputImageError) as exc:
            error = str(exc)
        except ProviderError as exc:
            error = exc.user_message
        except Exception as exc:  # one item going wrong must not lose the rest of the set
            error = f"{type(exc).__name__}: {exc}"
        if error is not None and status == "failed":
            set_store.update_item(self.store, set_id, item_id, "failed", error=error)
        if outcome is not None and error is not None:
            outcome.errors[item_id] = error
        item = next(i for i in set_store.get_set(self.store, set_id).items if i.item_id == item_id)
        listener.item_finished(set_id, item, version)
        return version

    def _anchor_version(self, record: SetRecord) -> Version | None:
        anchor = record.anchor
        return self.store.get_version(anchor.version_id) if anchor and anchor.version_id else None


def estimate_stored_set(record: SetRecord, prices: PriceTable,
                        item_filter: Callable[[SetItemRecord], bool] | None = None) -> tuple[int, float]:
    """Credits and USD to (re)make the stored items that pass ``item_filter`` (default: unfinished ones)."""
    keep = item_filter or (lambda i: i.status != set_store.FINISHED)
    credits, usd = 0, 0.0
    anchor_size = (1024, 1024)
    if record.anchor is not None and "x" in record.anchor.size:
        w, h = record.anchor.size.split("x")
        anchor_size = (int(w), int(h))
    refs = len(record.plan.get("references", []))
    for item in record.items:
        if not keep(item):
            continue
        request = ImageRequest(prompt=item.prompt, model=str(record.plan.get("model") or "gpt-image-2"),
                               size=item.size, quality=item.quality)
        inputs = ((anchor_size,) if not item.anchor else ()) + ((1024, 1024),) * refs
        est = request.estimate(prices, input_sizes=inputs)
        credits += est.credits
        usd += est.cost_usd
    return credits, usd
