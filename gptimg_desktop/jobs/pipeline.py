"""One job from start to finish, without Qt: prepare inputs, record, send, keep the paid answer, store versions.

The CLI calls this directly; the editor calls it from its worker thread (jobs/queue.py).
Order matters for "nothing lost": the job row and its inputs are written before the request is
sent, and the raw answer is on disk before it is decoded, so a crash at any point leaves either a
restorable job or a version that the next start can finish without paying again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

import numpy as np

from ..core import images as core_images
from ..core import masks as core_masks
from ..core.errors import InputImageError, RequestRefused
from ..core.pricing import PriceTable, Usage, estimate
from ..core.requests import ImageInput, ImageRequest
from ..provider.client import CancelToken, ImagesClient
from ..provider.errors import Cancelled, ProviderError, StreamInterrupted
from ..provider.events import ImageResult, PartialImage, parse_saved_response
from ..store.files import atomic_write
from ..store.history import HistoryStore, Job, Version

log = logging.getLogger("gptimg.jobs")

# A file path, raw bytes with a name, or pixels (an RGB/RGBA uint8 array, e.g. an expanded canvas);
# masks may also be a painted numpy array where 255 = edit.
InputSource = Union[str, Path, tuple[str, bytes], np.ndarray]
MaskSource = Union[str, Path, tuple[str, bytes], np.ndarray]


@dataclass(frozen=True)
class JobSpec:
    """Everything a job needs; images and mask are raw sources, prepared in the worker."""

    request: ImageRequest  # parameters; its images/mask are filled in by prepare()
    images: tuple[InputSource, ...] = ()
    mask: MaskSource | None = None
    roles: tuple[str | None, ...] = ()
    project: str | None = None
    parent_version_id: str | None = None
    keep_outside_mask: bool = True
    feather_px: int = 8
    user_prompt: str | None = None  # what the user typed, before reference-role wording was added


@dataclass
class JobOutcome:
    job: Job
    versions: list[Version] = field(default_factory=list)
    result: ImageResult | None = None
    error: str | None = None
    status: str = "succeeded"
    notes: list[str] = field(default_factory=list)


class JobListener:
    """Callbacks from a running job; every method is optional. Called on the job's thread."""

    def job_recorded(self, job: Job) -> None: ...
    def stage(self, job_id: str, text: str) -> None: ...
    def partial(self, job_id: str, partial: PartialImage, expected: int) -> None: ...
    def retrying(self, job_id: str, attempt: int, delay: float, error: ProviderError) -> None: ...


@dataclass(frozen=True)
class PreparedJob:
    request: ImageRequest
    notes: tuple[str, ...]
    mask_array: np.ndarray | None  # the painted mask at the first image's size, 255 = edit


def _source_name(src: InputSource) -> str:
    if isinstance(src, tuple):
        return src[0]
    return Path(src).name


def prepare(spec: JobSpec) -> PreparedJob:
    """Turn raw sources into upload-ready inputs; raises InputImageError or RequestRefused."""
    notes: list[str] = []
    inputs: list[ImageInput] = []
    max_bytes = spec.request.spec.max_image_bytes
    for index, src in enumerate(spec.images):
        if isinstance(src, np.ndarray):
            src = (f"canvas-{index + 1}.png", _encode_pixels(src))
        if isinstance(src, tuple):
            prepared = core_images.prepare_input_image(src[1], filename=src[0], max_bytes=max_bytes)
        else:
            prepared = core_images.prepare_input_image(str(src), max_bytes=max_bytes)
        inputs.append(prepared.input)
        notes.extend(prepared.notes)
    mask_input = None
    mask_array = None
    if spec.mask is not None:
        if not inputs:
            raise RequestRefused("A mask needs an image to edit; add the image first.", param="mask")
        first = inputs[0]
        mask_src = spec.mask
        if isinstance(mask_src, tuple):
            mask_src = mask_src[1]
        elif isinstance(mask_src, Path):
            mask_src = str(mask_src)
        mask_input = core_images.painted_mask_to_api_mask(mask_src, (first.width, first.height))
        mask_array = core_images.mask_array_from_api_mask(mask_input.data)
        if core_masks.is_empty(mask_array):
            raise RequestRefused(
                "The mask is empty: paint over the area to change, or clear the mask to edit the whole image.",
                param="mask",
            )
        if core_masks.coverage(mask_array) >= 0.999:
            notes.append("The mask covers the whole image, so this is the same as a full-image edit.")
    request = spec.request.with_changes(images=tuple(inputs), mask=mask_input)
    request.validate()
    return PreparedJob(request, tuple(notes), mask_array)


def _encode_pixels(pixels: np.ndarray) -> bytes:
    """PNG bytes of an image held as pixels; an alpha channel that is fully opaque is dropped."""
    from PIL import Image

    if pixels.ndim == 3 and pixels.shape[2] == 4 and bool((pixels[:, :, 3] == 255).all()):
        pixels = pixels[:, :, :3]
    return core_images.encode_image(Image.fromarray(np.ascontiguousarray(pixels)), "png", png_level=1)


class JobPipeline:
    """Runs jobs against one provider and records them in one history."""

    def __init__(
        self,
        store: HistoryStore,
        client: ImagesClient,
        prices: PriceTable | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.prices = prices or PriceTable()

    # ------------------------------------------------------------------ running
    def run(
        self,
        spec: JobSpec,
        listener: JobListener | None = None,
        cancel: CancelToken | None = None,
        prepared: PreparedJob | None = None,
    ) -> JobOutcome:
        """Run one job to its end. Refused requests raise RequestRefused/InputImageError before
        anything is recorded; every later failure is recorded and returned, not raised."""
        listener = listener or JobListener()
        prepared = prepared or prepare(spec)
        request = prepared.request
        job = self._record(spec, prepared)
        listener.job_recorded(job)
        outcome = JobOutcome(job=job, notes=list(prepared.notes))
        if cancel is not None and cancel.cancelled:
            self.store.mark_cancelled(job.id)
            outcome.status, outcome.error = "cancelled", "Cancelled before sending."
            return outcome
        self.store.mark_running(job.id)
        listener.stage(job.id, "Sending…")
        expected = request.partial_images * request.n if request.stream else 0
        sink = _ResponseSink(self.store, job.id)
        started = time.monotonic()
        try:
            result = self.client.run(
                request,
                on_partial=lambda p: listener.partial(job.id, p, expected),
                cancel=cancel,
                response_sink=sink,
                on_attempt=lambda attempt, rid: rid and self.store.add_request_id(job.id, rid),
                on_retry=lambda attempt, delay, err: listener.retrying(job.id, attempt, delay, err),
            )
        except Cancelled:
            self.store.mark_cancelled(job.id)
            outcome.status, outcome.error = "cancelled", "Cancelled."
            return outcome
        except StreamInterrupted as exc:
            if exc.usage is not None and exc.usage.total_tokens:
                self.store.record_usage_without_version(job.id, exc.usage, self.prices.cost_usd(request.model, exc.usage))
            return self._failed(outcome, exc.user_message)
        except ProviderError as exc:
            return self._failed(outcome, exc.user_message)
        log.info("job %s answered in %.1fs", job.id, time.monotonic() - started)
        listener.stage(job.id, "Saving…")
        try:
            outcome.versions = self._store_result(job, result, prepared, spec)
        except Exception as exc:  # decoding a paid answer failed: keep the raw file for recovery
            log.exception("storing job %s failed", job.id)
            return self._failed(outcome, f"The answer arrived but could not be saved ({exc}); it is kept and will be retried at next start.")
        outcome.result = result
        outcome.job = self.store.mark_succeeded(job.id)
        outcome.versions = [self.store.get_version(v.id) for v in outcome.versions]  # now with the final status
        return outcome

    def _failed(self, outcome: JobOutcome, message: str) -> JobOutcome:
        self.store.mark_failed(outcome.job.id, message)
        outcome.status, outcome.error = "failed", message
        outcome.job = self.store.get_job(outcome.job.id)
        return outcome

    def _record(self, spec: JobSpec, prepared: PreparedJob) -> Job:
        request = prepared.request
        est = estimate(
            self.prices,
            request.model,
            request.prompt,
            request.size,
            request.quality,
            request.n,
            request.partial_images if request.stream else 0,
            tuple((img.width, img.height) for img in request.images),
        )
        roles = list(spec.roles) + [None] * (len(request.images) - len(spec.roles))
        inputs = [(img.data, img.filename, role) for img, role in zip(request.images, roles)]
        description = request.describe()
        description["keep_outside_mask"] = spec.keep_outside_mask
        description["feather_px"] = spec.feather_px
        description["user_prompt"] = spec.user_prompt if spec.user_prompt is not None else request.prompt
        return self.store.create_job(
            description,
            request.kind,
            request.model,
            request.prompt,
            spec.project,
            spec.parent_version_id,
            inputs,
            request.mask.data if request.mask else None,
            {"credits": est.credits, "cost_usd": est.cost_usd, "usage": est.usage.to_api()},
        )

    def _store_result(self, job: Job, result: ImageResult, prepared: PreparedJob, spec: JobSpec) -> list[Version]:
        request = prepared.request
        images = result.images
        count = max(1, len(images))
        shares = _split_usage(result.usage, count)
        versions = []
        for index, data in enumerate(images):
            fmt = result.output_format or request.output_format
            if prepared.mask_array is not None and spec.keep_outside_mask:
                data = blend_outside_mask(request.images[0].data, data, prepared.mask_array, spec.feather_px, fmt,
                                          request.output_compression)
            width, height = core_images.image_size(data)
            thumb = core_images.make_thumbnail(data)
            usage = shares[index]
            versions.append(
                self.store.add_version(
                    job.id,
                    data,
                    fmt,
                    width,
                    height,
                    result.quality or request.quality,
                    index,
                    usage,
                    self.prices.cost_usd(request.model, usage),
                    self.prices.credits(1),
                    thumb_bytes=thumb,
                )
            )
        return versions

    # ------------------------------------------------------------------ recovery
    def recover_paid_answers(self) -> list[Version]:
        """Finish jobs whose paid answer reached disk but whose versions were never stored."""
        recovered: list[Version] = []
        for job in self.store.interrupt_stale_jobs():
            recovered.extend(self._finish_from_disk(job))
        for job in self.store.list_jobs(status="failed") + self.store.list_jobs(status="interrupted"):
            if job.response_file and not self.store.versions_for_job(job.id):
                recovered.extend(self._finish_from_disk(job))
        return recovered

    def _finish_from_disk(self, job: Job) -> list[Version]:
        if not job.response_file:
            return []
        path = self.store.root / job.response_file
        if not path.exists():
            return []
        try:
            result = parse_saved_response(path.read_bytes())
        except ProviderError:
            return []
        if not result.images:
            return []
        params = job.params
        request = ImageRequest(
            prompt=job.prompt,
            model=job.model,
            size=params.get("size", "auto"),
            quality=params.get("quality", "auto"),
            output_format=params.get("output_format", "png"),
            output_compression=params.get("output_compression"),
        )
        mask_array = None
        inputs: tuple[ImageInput, ...] = ()
        restored = self.store.job_inputs(job.id)
        if restored.images:
            first_path, first_name, _role = restored.images[0]
            data = Path(first_path).read_bytes()
            w, h = core_images.image_size(data)
            fmt = core_images.detect_format(data)
            inputs = (ImageInput(first_name, data, fmt, w, h),)
            if restored.mask is not None:
                mask_array = core_images.mask_array_from_api_mask(Path(restored.mask).read_bytes())
        prepared = PreparedJob(request.with_changes(images=inputs), (), mask_array)
        spec = JobSpec(
            request=request,
            keep_outside_mask=bool(params.get("keep_outside_mask", True)),
            feather_px=int(params.get("feather_px", 8)),
        )
        versions = self._store_result(job, result, prepared, spec)
        self.store.mark_succeeded(job.id)
        log.info("recovered %d image(s) of job %s from its saved answer", len(versions), job.id)
        return versions


class _ResponseSink:
    """Appends each raw paid answer to responses/<job>.raw and fsyncs it before decoding."""

    def __init__(self, store: HistoryStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.rel = f"responses/{job_id}.raw"
        self.buffer = b""

    def __call__(self, data: bytes) -> None:
        self.buffer += data
        atomic_write(self.store.root / self.rel, self.buffer)
        if len(self.buffer) == len(data):
            self.store.set_response_file(self.job_id, self.rel)


def _split_usage(usage: Usage, count: int) -> list[Usage]:
    """Share one response's usage between its images so per-version costs add up to the total."""
    if count == 1:
        return [usage]
    values = [
        usage.input_tokens,
        usage.output_tokens,
        usage.total_tokens,
        usage.input_text_tokens,
        usage.input_image_tokens,
        usage.output_image_tokens,
        usage.output_text_tokens,
    ]
    shares = []
    for i in range(count):
        part = [v // count + (1 if i < v % count else 0) for v in values]
        shares.append(Usage(*part))
    return shares


def blend_outside_mask(
    original: bytes,
    result: bytes,
    mask: np.ndarray,
    feather_px: int,
    output_format: str,
    compression: int | None,
) -> bytes:
    """Composite the model's result into the original through the (feathered) mask."""
    from PIL import Image

    orig_img = core_images.decode_image(original)
    res_img = core_images.decode_image(result)
    mode = "RGBA" if "A" in res_img.getbands() or "A" in orig_img.getbands() else "RGB"
    orig_img = orig_img.convert(mode)
    res_img = res_img.convert(mode)
    if res_img.size != orig_img.size:
        res_img = res_img.resize(orig_img.size, Image.Resampling.LANCZOS)
    if mask.shape != (orig_img.height, orig_img.width):
        mask = np.asarray(Image.fromarray(mask).resize(orig_img.size, Image.Resampling.NEAREST))
    blended = core_masks.blend_back(np.asarray(orig_img), np.asarray(res_img), mask, feather_px)
    return core_images.encode_image(Image.fromarray(blended, mode), output_format, compression)


__all__ = [
    "InputImageError",
    "JobListener",
    "JobOutcome",
    "JobPipeline",
    "JobSpec",
    "PreparedJob",
    "RequestRefused",
    "blend_outside_mask",
    "prepare",
]
