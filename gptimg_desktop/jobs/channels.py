"""Re-render one approved version for many channel sizes and deliver exactly each channel's pixels.

Each channel is an ordinary edit job (the version as Image 1, an instruction to recompose for the format) at
the nearest valid API size of the same aspect (core/channels.py); its result is kept in the history as a
child of the source, and the delivered file is that result scaled to cover the channel size and
centre-cropped, written atomically to the output folder.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..core.channels import ChannelPlan, ChannelPreset, fit_exact, plan_channel
from ..core.errors import InputImageError, RequestRefused
from ..core.models import DEFAULT_MODEL, find_model
from ..core.pricing import PriceTable
from ..core.requests import ImageRequest
from ..provider.client import CancelToken, ImagesClient
from ..provider.errors import ProviderError
from ..store.files import atomic_write
from ..store.history import HistoryStore, Version
from .pipeline import JobListener, JobPipeline, JobSpec, prepare


@dataclass(frozen=True)
class ChannelResult:
    plan: ChannelPlan
    version_id: str | None
    files: tuple[str, ...]
    cost_usd: float
    credits: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, object]:
        """The `gptimg channels --json` shape, exactly the issue's keys (notes and errors go to stderr)."""
        return {
            "preset": self.plan.preset.name,
            "size": str(self.plan.target),
            "api_size": str(self.plan.api_size),
            "version_id": self.version_id,
            "files": list(self.files),
            "cost_usd": self.cost_usd,
        }


def channel_model(version: Version) -> str:
    """The version's model when it is still known, else the default one."""
    return version.model if find_model(version.model) is not None else DEFAULT_MODEL


def plan_channels(version: Version, presets: Sequence[ChannelPreset]) -> list[ChannelPlan]:
    spec = find_model(channel_model(version))
    assert spec is not None
    return [plan_channel(spec, preset) for preset in presets]


def channel_request(version: Version, plan: ChannelPlan) -> ImageRequest:
    quality = version.quality if version.quality in ("low", "medium", "high", "auto") else "auto"
    return ImageRequest(prompt=plan.recompose_prompt(version.prompt), model=channel_model(version),
                        size=str(plan.api_size), quality=quality)


def channel_job_spec(version: Version, plan: ChannelPlan) -> JobSpec:
    request = channel_request(version, plan)
    return JobSpec(request=request, images=(str(version.path),), project=version.project,
                   parent_version_id=version.id, user_prompt=request.prompt, canvas_image=True)


def estimate_channels(version: Version, plans: Sequence[ChannelPlan], prices: PriceTable) -> tuple[int, float]:
    credits, usd = 0, 0.0
    for plan in plans:
        est = channel_request(version, plan).estimate(prices, input_sizes=((version.width, version.height),))
        credits += est.credits
        usd += est.cost_usd
    return credits, usd


def delivery_name(version: Version, plan: ChannelPlan) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", plan.preset.name).strip("-") or "channel"
    return f"{version.id[:8]}-{stem}-{plan.target.width}x{plan.target.height}.png"


def deliver(source: Path, plan: ChannelPlan, dest: Path) -> Path:
    """Write ``source`` fitted to exactly the channel's pixels as a PNG at ``dest`` (atomically)."""
    with Image.open(source) as img:
        img.load()
        mode = "RGBA" if "A" in img.getbands() else "RGB"
        fitted = fit_exact(img.convert(mode), plan.target.width, plan.target.height)
    buf = io.BytesIO()
    fitted.save(buf, "PNG", compress_level=6)
    atomic_write(dest, buf.getvalue())
    return dest


class ChannelRunner:
    def __init__(self, store: HistoryStore, client: ImagesClient, prices: PriceTable | None = None) -> None:
        self.store = store
        self.pipeline = JobPipeline(store, client, prices or PriceTable())

    def run(self, version: Version, plans: Sequence[ChannelPlan], out_dir: Path,
            listener: JobListener | None = None, cancel: CancelToken | None = None) -> list[ChannelResult]:
        """One edit per channel, one after another; a failed channel is reported and the rest go on."""
        out_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for plan in plans:
            if cancel is not None and cancel.cancelled:
                results.append(ChannelResult(plan, None, (), 0.0, 0, "Cancelled before sending."))
                continue
            results.append(self._one(version, plan, out_dir, listener, cancel))
        return results

    def _one(self, version: Version, plan: ChannelPlan, out_dir: Path, listener: JobListener | None,
             cancel: CancelToken | None) -> ChannelResult:
        try:
            spec = channel_job_spec(version, plan)
            outcome = self.pipeline.run(spec, listener, cancel, prepared=prepare(spec))
        except (RequestRefused, InputImageError) as exc:
            return ChannelResult(plan, None, (), 0.0, 0, str(exc))
        except ProviderError as exc:
            return ChannelResult(plan, None, (), 0.0, 0, exc.user_message)
        if outcome.status != "succeeded" or not outcome.versions:
            return ChannelResult(plan, None, (), 0.0, 0, outcome.error or "The job failed.")
        made = outcome.versions[0]
        try:
            path = deliver(made.path, plan, out_dir / delivery_name(version, plan))
        except (OSError, ValueError) as exc:
            return ChannelResult(plan, made.id, (), made.cost_usd, made.credits,
                                 f"The image was made (version {made.id}) but could not be written: {exc}")
        return ChannelResult(plan, made.id, (str(path.resolve()),), made.cost_usd, made.credits)
