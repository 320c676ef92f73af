"""Job pipeline benchmarks: UI-thread stalls during a 4K masked edit, request preparation, the mask encoder,
and the whole client against a plain openai-python script on the same local server.

The edit is the shared fixture: a 3840x2160 photo PNG, its painted mask and 15 references (16 images,
the API's limit per request), streamed with 3 partial images.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator

from ._util import (
    EDIT_PROMPT,
    Context,
    EditInputs,
    Figure,
    Target,
    benchmark,
    edit_inputs,
    local_server,
    median,
    ms,
    open_edit_window,
    probing,
    run_edit,
    spin,
    timed,
)

UI_STALL = Target("ui_max_stall_masked_edit_3840x2160", "ms", "<=", 30)
REENCODED = Target("prepare_inputs_reencoded", "files", "<=", 0)
MASK_ENCODE = Target("mask_encode_3840x2160", "ms", "<=", 150)
OVERHEAD = Target("client_overhead_vs_openai_sdk", "x", "<=", 1.2)

SIZE = "3840x2160"
QUALITY = "medium"
PARTIALS = 3


@benchmark("ui", UI_STALL)
def bench_ui_stall(ctx: Context) -> Iterator[Figure]:
    """The editor's event loop while Run prepares, sends, streams 3 previews, decodes and stores the result.

    The local server runs inside the app, as in demo mode. The edit is repeated: other processes on this
    shared 2-core machine can delay any thread by 100 ms at random, so the figure is the longest stall of
    the least disturbed run (every run's longest stall is in the JSON).
    """
    inputs = edit_inputs(ctx)
    runs = []
    with ctx.fresh_home("ui-stall"):
        window = open_edit_window(inputs)
        try:
            spin(0.3)  # let the window settle (first paints, thumbnails)
            for _ in range(ctx.pick(3, 2)):
                with probing() as probe:
                    started = time.perf_counter()
                    run_edit(window, partial_images=PARTIALS)
                    job_s = time.perf_counter() - started
                    spin(0.3)  # what the result triggers after it lands: repaints, history refresh
                runs.append({"job_s": round(job_s, 2), **probe.summary()})
        finally:
            window.close()
            window.deleteLater()
            spin(0.1)
    best = min(runs, key=lambda r: r["max_ms"])
    yield UI_STALL.measured(best["max_ms"], runs=runs)


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

    The server is ``gptimg serve`` as shipped (0.35 s of simulated work per image) in its own process, so
    neither client shares a GIL with it; on this 2-core machine both still share its CPUs. Ours
    includes everything the app does per job: preparing and checking the inputs, encoding the mask, recording
    the job with copies of its inputs, keeping the raw answer, blending back outside the mask, storing the
    version and its thumbnail. Each of our runs gets a new history (opened untimed, as in a running app), so
    it pays for copying its inputs as a first edit does.
    """
    import openai

    from gptimg_desktop.provider.client import ImagesClient
    from gptimg_desktop.provider.config import demo_config
    from gptimg_desktop.store.history import HistoryStore

    inputs = edit_inputs(ctx)
    times: dict[str, list[float]] = {"ours": [], "sdk": []}
    phases: list[dict[str, float]] = []
    rounds = ctx.pick(5, 2)
    with local_server() as url:
        sdk = openai.OpenAI(base_url=url, api_key="demo", max_retries=0)
        ours = ImagesClient(demo_config(url))
        try:
            for i in range(rounds + 1):  # round 0 warms both paths up (imports, first connection, page cache)
                for name in ("ours", "sdk") if i % 2 else ("sdk", "ours"):
                    if name == "ours":
                        store = HistoryStore(ctx.folder(f"client-home-{i}"))
                        elapsed, phase = timed(lambda store=store: _run_ours(store, ours, inputs))
                        store.close()
                        if i:
                            phases.append(phase)
                    else:
                        elapsed, _ = timed(lambda: _run_sdk(sdk, inputs, ctx))
                    if i:
                        times[name].append(elapsed)
        finally:
            sdk.close()
            ours.close()
    ours_s, sdk_s = median(times["ours"]), median(times["sdk"])
    yield OVERHEAD.measured(
        ours_s / sdk_s, ours_s=round(ours_s, 2), sdk_s=round(sdk_s, 2), rounds=rounds,
        ours_runs=[round(t, 2) for t in times["ours"]], sdk_runs=[round(t, 2) for t in times["sdk"]],
        ours_phases_s={k: round(median([p[k] for p in phases]), 3) for k in phases[0]},
    )


def _spec(inputs: EditInputs):
    from gptimg_desktop.core.requests import ImageRequest
    from gptimg_desktop.jobs.pipeline import JobSpec

    request = ImageRequest(prompt=EDIT_PROMPT, size=SIZE, quality=QUALITY, stream=True, partial_images=PARTIALS)
    return JobSpec(request=request, images=tuple(str(p) for p in inputs.all_images), mask=inputs.mask)


def _run_ours(store, client, inputs: EditInputs) -> dict[str, float]:
    """One edit through the app's pipeline; returns how long its phases took (s)."""
    from gptimg_desktop.jobs.pipeline import JobListener, JobPipeline

    marks = {"start": time.perf_counter()}

    class Phases(JobListener):
        def job_recorded(self, job) -> None:
            marks["recorded"] = time.perf_counter()

        def stage(self, job_id: str, text: str) -> None:
            marks["saving" if text.startswith("Saving") else "sending"] = time.perf_counter()

    outcome = JobPipeline(store, client).run(_spec(inputs), Phases())
    end = time.perf_counter()
    if outcome.status != "succeeded" or len(outcome.versions) != 1:
        raise RuntimeError(f"our edit failed: {outcome.error}")
    return {
        "prepare_and_record": marks["recorded"] - marks["start"],
        "request_and_stream": marks["saving"] - marks["sending"],
        "blend_and_store": end - marks["saving"],
    }


def _run_sdk(sdk, inputs: EditInputs, ctx: Context) -> None:
    """What a plain script does: upload the same files, read the stream, save the finished image."""
    saved = 0
    with contextlib.ExitStack() as files:
        images = [files.enter_context(open(p, "rb")) for p in inputs.all_images]
        mask = files.enter_context(open(inputs.mask_png, "rb"))
        stream = sdk.images.edit(
            model="gpt-image-2", image=images, mask=mask, prompt=EDIT_PROMPT, size=SIZE, quality=QUALITY,
            stream=True, partial_images=PARTIALS,
        )
        for event in stream:
            if event.type.endswith(".completed"):
                (ctx.folder("sdk") / "result.png").write_bytes(base64.b64decode(event.b64_json))
                saved += 1
    if saved != 1:
        raise RuntimeError("the openai SDK script got no finished image")
