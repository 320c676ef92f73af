"""Job pipeline benchmarks: request preparation, the mask encoder, and the whole client against a plain
openai-python script on the same local server (UI stalls during jobs are in bench_jobs.py).

The edit is the shared fixture: a 3840x2160 photo PNG, its painted mask and 15 references (16 images,
the API's limit per request), streamed with 3 partial images.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator

from ._jobs_session import PhotoServer
from ._util import (
    EDIT_PROMPT,
    Context,
    EditInputs,
    Figure,
    Target,
    benchmark,
    edit_inputs,
    median,
    ms,
    timed,
)

REENCODED = Target("prepare_inputs_reencoded", "files", "<=", 0)
MASK_ENCODE = Target("mask_encode_3840x2160", "ms", "<=", 150)
OVERHEAD = Target("client_overhead_vs_openai_sdk", "x", "<=", 1.2)

SIZE = "3840x2160"
GRAIN, SERVER_DELAY = 64, 0.35  # as bench_jobs: worst-realistic 4K answers, the shipped server's simulated work
QUALITY = "medium"
PARTIALS = 3


@benchmark("prepare", REENCODED, MASK_ENCODE)
def bench_prepare(ctx: Context) -> Iterator[Figure]:
    from gptimg_desktop.core.images import painted_mask_to_api_mask
    from gptimg_desktop.jobs.pipeline import prepare

    inputs = edit_inputs(ctx)
    prepared = prepare(_spec(inputs))
    changed = [img.filename for img, path in zip(prepared.request.images, inputs.all_images, strict=False)
               if img.data != path.read_bytes()]
    yield REENCODED.measured(len(changed), inputs=len(prepared.request.images), changed=changed)
    times = []
    mask = inputs.mask
    for _ in range(ctx.pick(9, 3)):
        start = time.perf_counter()
        painted_mask_to_api_mask(mask, (3840, 2160))
        times.append(time.perf_counter() - start)
    yield MASK_ENCODE.measured(ms(median(times)), runs=len(times), min_ms=round(ms(min(times)), 1))


@benchmark("client", OVERHEAD)
def bench_client_overhead(ctx: Context) -> Iterator[Figure]:
    """Edit end to end with the app's JobPipeline vs. the openai SDK, interleaved, against one local server.

    The server is the photo server (benchmarks/_photo_server.py: the local server as shipped, 0.35 s of simulated
    work per image, answering with ~23 MB photo-like 4K PNGs that do not compress, as real answers are) in its own
    process, so neither client shares a GIL with it; on this 2-core machine both still share its CPUs. Ours
    includes everything the app does per job: preparing and checking the inputs, encoding the mask, recording
    the job with copies of its inputs, keeping the raw answer, blending back outside the mask, storing the
    version and its thumbnail. Each of our runs gets a new history (opened untimed, as in a running app), so
    it pays for copying its inputs as a first edit does.
    """
    import openai

    from gptimg_desktop.provider.client import ImagesClient
    from gptimg_desktop.provider.config import demo_config
    from gptimg_desktop.store.history import HistoryStore

    from .bench_jobs import _small_inputs

    inputs, size = (_small_inputs(ctx), "1536x1024") if ctx.quick else (edit_inputs(ctx), SIZE)
    times: dict[str, list[float]] = {"ours": [], "sdk": []}
    phases: list[dict[str, float]] = []
    rounds = ctx.pick(5, 2)
    server = PhotoServer(GRAIN, SERVER_DELAY, [size])
    url = server.url
    try:
        sdk = openai.OpenAI(base_url=url, api_key="demo", max_retries=0)
        ours = ImagesClient(demo_config(url))
        try:
            for i in range(rounds + 1):  # round 0 warms both paths up (imports, first connection, page cache)
                for name in ("ours", "sdk") if i % 2 else ("sdk", "ours"):
                    if name == "ours":
                        store = HistoryStore(ctx.folder(f"client-home-{i}"))
                        elapsed, phase = timed(lambda store=store: _run_ours(store, ours, inputs, size))
                        store.close()
                        if i:
                            phases.append(phase)
                    else:
                        elapsed, _ = timed(lambda: _run_sdk(sdk, inputs, ctx, size))
                    if i:
                        times[name].append(elapsed)
        finally:
            sdk.close()
            ours.close()
    finally:
        server.close()
    ours_s, sdk_s = median(times["ours"]), median(times["sdk"])
    yield OVERHEAD.measured(
        ours_s / sdk_s, ours_s=round(ours_s, 2), sdk_s=round(sdk_s, 2), rounds=rounds,
        ours_runs=[round(t, 2) for t in times["ours"]], sdk_runs=[round(t, 2) for t in times["sdk"]],
        ours_phases_s={k: round(median([p[k] for p in phases]), 3) for k in phases[0]},
    )


def _spec(inputs: EditInputs, size: str = SIZE):
    from gptimg_desktop.core.requests import ImageRequest
    from gptimg_desktop.jobs.pipeline import JobSpec

    request = ImageRequest(prompt=EDIT_PROMPT, size=size, quality=QUALITY, stream=True, partial_images=PARTIALS)
    return JobSpec(request=request, images=tuple(str(p) for p in inputs.all_images), mask=inputs.mask)


def _run_ours(store, client, inputs: EditInputs, size: str) -> dict[str, float]:
    """One edit through the app's pipeline; returns how long its phases took (s)."""
    from gptimg_desktop.jobs.pipeline import JobListener, JobPipeline

    marks = {"start": time.perf_counter()}

    class Phases(JobListener):
        def job_recorded(self, job) -> None:
            marks["recorded"] = time.perf_counter()

        def stage(self, job_id: str, text: str) -> None:
            marks["saving" if text.startswith("Saving") else "sending"] = time.perf_counter()

    outcome = JobPipeline(store, client).run(_spec(inputs, size), Phases())
    end = time.perf_counter()
    if outcome.status != "succeeded" or len(outcome.versions) != 1:
        raise RuntimeError(f"our edit failed: {outcome.error}")
    return {
        "prepare_and_record": marks["recorded"] - marks["start"],
        "request_and_stream": marks["saving"] - marks["sending"],
        "blend_and_store": end - marks["saving"],
    }


def _run_sdk(sdk, inputs: EditInputs, ctx: Context, size: str) -> None:
    """What a plain script does: upload the same files, read the stream, save the finished image."""
    saved = 0
    with contextlib.ExitStack() as files:
        images = [files.enter_context(open(p, "rb")) for p in inputs.all_images]
        mask = files.enter_context(open(inputs.mask_png, "rb"))
        stream = sdk.images.edit(
            model="gpt-image-2", image=images, mask=mask, prompt=EDIT_PROMPT, size=size, quality=QUALITY,
            stream=True, partial_images=PARTIALS,
        )
        for event in stream:
            if event.type.endswith(".completed"):
                (ctx.folder("sdk") / "result.png").write_bytes(base64.b64decode(event.b64_json))
                saved += 1
    if saved != 1:
        raise RuntimeError("the openai SDK script got no finished image")
