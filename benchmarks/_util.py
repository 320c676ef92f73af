"""The benchmark harness shared by every bench module: targets and BENCH lines, timing, the event-loop stall
probe, test pictures and subprocess helpers.

Nothing here measures anything by itself; ``run.py`` collects the figures the bench modules yield.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
STALL_PROBE_MS = 5  # the probe timer's interval: lateness beyond it is time the event loop was blocked


# ---------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Target:
    """One figure the issue asks for: its name, unit and the bound it must meet."""

    name: str
    unit: str
    op: str  # "<=" or ">="
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"a target is '<=' or '>=', not {self.op!r}")

    def met_by(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def measured(self, value: float, note: str = "", **details: Any) -> Figure:
        return Figure(self, float(value), note, details)


@dataclass(frozen=True)
class Figure:
    """A measured value of a target, with what produced it (baselines, repeats, sizes) as details."""

    target: Target
    value: float
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.target.met_by(self.value)

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "name": t.name,
            "value": None if math.isnan(self.value) else self.value,
            "unit": t.unit,
            "target": f"{t.op}{t.bound:g}",
            "ok": self.ok,
            "note": self.note,
            "details": self.details,
        }


def format_number(value: float) -> str:
    """Three significant digits without exponent notation: 0.0123, 0.412, 4.12, 41.2, 412, 4120."""
    if math.isnan(value):
        return "nan"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    decimals = max(0, 2 - magnitude)
    return f"{value:.{decimals}f}"


def format_line(figure: Figure) -> str:
    """``BENCH <name> <value> <unit> target <op><bound> ok|MISS``: one line per figure, as the issue asks."""
    t = figure.target
    verdict = "ok" if figure.ok else "MISS"
    return f"BENCH {t.name} {format_number(figure.value)} {t.unit} target {t.op}{t.bound:g} {verdict}"


# ---------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Bench:
    group: str
    run: Callable[[Context], Iterator[Figure]]
    targets: tuple[Target, ...]


REGISTRY: list[Bench] = []


def benchmark(group: str, *targets: Target) -> Callable:
    """Register a generator ``fn(ctx)`` that yields a Figure for each of ``targets``, in run order."""

    def register(fn: Callable[[Context], Iterator[Figure]]) -> Callable[[Context], Iterator[Figure]]:
        REGISTRY.append(Bench(group, fn, targets))
        return fn

    return register


@dataclass
class Context:
    """What every benchmark gets: the mode, a scratch folder, and the shared test pictures."""

    quick: bool
    scratch: Path
    _cache: dict[str, Any] = field(default_factory=dict)

    def pick(self, full: Any, quick: Any) -> Any:
        """The full-mode value, or the quick-mode one: fewer repeats where the figure stays meaningful."""
        return quick if self.quick else full

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @contextlib.contextmanager
    def fresh_home(self, name: str) -> Iterator[Path]:
        """A new, empty GPTIMG_HOME for the duration (the app and HistoryStore read it when they start)."""
        home = self.folder(f"home-{name}")
        old = os.environ.get("GPTIMG_HOME")
        os.environ["GPTIMG_HOME"] = str(home)
        try:
            yield home
        finally:
            if old is None:
                os.environ.pop("GPTIMG_HOME", None)
            else:
                os.environ["GPTIMG_HOME"] = old


# ---------------------------------------------------------------------------------------- statistics and timing


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> float:
    return seconds * 1000.0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# ---------------------------------------------------------------------------------------- Qt


def qt_app():
    """The process's QApplication (offscreen: run.py sets QT_QPA_PLATFORM before anything imports Qt)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(_qt_message)
        app = QApplication([sys.argv[0]])
    return app


def _qt_message(_mode, _context, message: str) -> None:
    if "propagateSizeHints" not in message:  # the offscreen platform says this for every window shown
        print(message, file=sys.stderr)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop (a real exec(), so a StallProbe sees only genuine stalls) until ``predicate()`` holds.

    Raises TimeoutError naming ``what`` if it does not hold within ``timeout`` seconds.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    poll.start()
    limit.start(round(timeout * 1000))
    loop.exec()
    poll.stop()
    limit.stop()
    if not predicate():
        raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def spin(seconds: float) -> None:
    """Run the event loop for ``seconds`` (lets queued signals, timers and paints happen)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, round(seconds * 1000)), loop.quit)
    loop.exec()


class StallProbe:
    """A 5 ms precise timer on the UI thread that records how late each tick fires.

    The lateness of a tick (time since the previous tick minus the interval) is the time the event
    loop could not run: the longest one is the longest stall a user would feel.
    """

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(STALL_PROBE_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.lateness: list[float] = []  # seconds, one per tick

    def start(self) -> None:
        self.lateness.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - STALL_PROBE_MS / 1000.0))
        self._last = now

    @property
    def max_ms(self) -> float:
        return ms(max(self.lateness)) if self.lateness else math.nan

    def summary(self) -> dict[str, Any]:
        late = sorted(self.lateness)
        return {
            "ticks": len(late),
            "max_ms": round(self.max_ms, 2),
            "p99_ms": round(ms(late[int(0.99 * (len(late) - 1))]), 2) if late else None,
            "over_30ms": sum(1 for v in late if v > 0.030),
        }


@contextlib.contextmanager
def probing() -> Iterator[StallProbe]:
    probe = StallProbe()
    probe.start()
    try:
        yield probe
    finally:
        probe.stop()


# ---------------------------------------------------------------------------------------- test pictures


def synthetic_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 that compresses like a photo: smooth colour fields plus fine grain.

    A 3840x2160 one is a ~16 MB PNG, as a real 4K photo is; flat test images would flatter every encoder.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(40, 220, (height // 64 + 2, width // 64 + 2, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-6, 7, (height, width, 3), dtype=np.int16)
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def encode(pixels: np.ndarray, fmt: str) -> bytes:
    """PNG (level 1), JPEG (q90) or WebP (q85) bytes of an RGB array."""
    from PIL import Image

    buf = io.BytesIO()
    img = Image.fromarray(pixels)
    if fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        img.save(buf, "JPEG", quality=90)
    else:
        img.save(buf, "WEBP", quality=85)
    return buf.getvalue()


def wandering_stroke(width: int, height: int, events: int, step: float, seed: int = 1) -> list[tuple[float, float]]:
    """``events`` points of a smooth hand-like stroke, ``step`` px apart, kept inside a width x height box."""
    rng = np.random.default_rng(seed)
    x, y = width * 0.2, height * 0.5
    heading = 0.0
    points = []
    for _ in range(events):
        heading += rng.normal(0, 0.25)
        nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
        if not (0.05 * width < nx < 0.95 * width and 0.05 * height < ny < 0.95 * height):
            heading += math.pi  # turn back at the edges
            nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
        x, y = nx, ny
        points.append((x, y))
    return points


def blob_mask(width: int, height: int, coverage: float = 0.08, seed: int = 2) -> np.ndarray:
    """A painted-looking (H, W) uint8 mask, 255 = edit, covering about ``coverage`` of the picture."""
    yy, xx = np.ogrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), dtype=bool)
    radius = math.sqrt(coverage * width * height / (4 * math.pi))
    for _ in range(4):
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        mask |= (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
    return mask.astype(np.uint8) * 255


@dataclass(frozen=True)
class EditInputs:
    """Files for one masked edit: the 3840x2160 picture first, then the references (16 images in all)."""

    image: Path
    references: tuple[Path, ...]
    mask_npy: Path  # the painted mask, (H, W) uint8, 255 = edit
    mask_png: Path  # the same mask as an API mask file, for the SDK script

    @property
    def all_images(self) -> tuple[Path, ...]:
        return (self.image, *self.references)

    @property
    def mask(self) -> np.ndarray:
        return np.load(self.mask_npy)

    def to_json(self) -> str:
        """For a benchmark subprocess: ``EditInputs.from_json(text)`` gives the same fixture back."""
        return json.dumps({"image": str(self.image), "references": [str(p) for p in self.references],
                           "mask_npy": str(self.mask_npy), "mask_png": str(self.mask_png)})

    @classmethod
    def from_json(cls, text: str) -> EditInputs:
        d = json.loads(text)
        return cls(Path(d["image"]), tuple(Path(p) for p in d["references"]), Path(d["mask_npy"]),
                   Path(d["mask_png"]))


def edit_inputs(ctx: Context) -> EditInputs:
    """The shared edit fixture (built once per run): a 4K photo PNG, 15 references in PNG, JPEG and WebP."""

    def make() -> EditInputs:
        folder = ctx.folder("inputs")
        image = folder / "photo-3840x2160.png"
        image.write_bytes(encode(synthetic_photo(3840, 2160, seed=0), "png"))
        refs = []
        sizes = [(1024, 1024), (1536, 1024), (1024, 1536)]
        for i in range(15):
            fmt = ("jpeg", "png", "webp")[i % 3]
            w, h = sizes[i % len(sizes)]
            path = folder / f"reference-{i + 1:02d}.{'jpg' if fmt == 'jpeg' else fmt}"
            path.write_bytes(encode(synthetic_photo(w, h, seed=100 + i), fmt))
            refs.append(path)
        mask = blob_mask(3840, 2160)
        from gptimg_desktop.core.images import painted_mask_to_api_mask

        mask_npy = folder / "mask-3840x2160.npy"
        np.save(mask_npy, mask)
        mask_png = folder / "mask-3840x2160.png"
        mask_png.write_bytes(painted_mask_to_api_mask(mask, (3840, 2160)).data)
        return EditInputs(image, tuple(refs), mask_npy, mask_png)

    return ctx.cached("edit_inputs", make)


# ---------------------------------------------------------------------------------------- processes and machine


def python_subprocess(
    code: str, env: dict[str, str] | None = None, timeout: float = 120.0, args: list[str] | None = None
) -> str:
    """Run ``code`` (with ``args`` as sys.argv[1:]) in a fresh interpreter of this venv from the repository
    root; return its stdout.

    A failure raises with the child's stderr, so a broken benchmark crashes loudly instead of printing a figure.
    """
    proc = subprocess.run(
        [sys.executable, "-c", code, *(args or [])],
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def peak_rss_kb() -> int:
    """This process's peak resident set size since it started its program (VmHWM), in kB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource  # not Linux: ru_maxrss (kB on most systems; it may include pre-exec pages)

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def machine() -> dict[str, Any]:
    """Cores, CPU model, Python, Qt and PySide versions and the date: the README's machine line."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    with contextlib.suppress(ImportError):
        import PySide6
        from PySide6.QtCore import qVersion

        info["qt"] = qVersion()
        info["pyside6"] = PySide6.__version__
    return info


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info.get('cores')} cores, {info.get('cpu')}, Python {info.get('python')}, "
        f"Qt {info.get('qt', '?')} (PySide6 {info.get('pyside6', '?')}), {info.get('os')}, {info.get('date')}"
    )


# ---------------------------------------------------------------------------------------- the editor, scripted


EDIT_PROMPT = "replace the sky with a stormy sunset, keep the horizon"


def open_edit_window(inputs: EditInputs, demo_delay: float = 0.35, environ: dict[str, str] | None = None):
    """The real main window with the 4K picture, its mask and the references.

    Demo mode (the local server inside the app) unless ``environ`` names a provider. Uses the current
    GPTIMG_HOME; returns the shown window once every file has loaded.
    """
    from PySide6.QtTest import QTest

    from gptimg_desktop.app import create_window

    qt_app()
    window = create_window(environ=environ or {}, demo_delay=demo_delay)
    window.resize(1600, 1000)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.open_image(str(inputs.image))
    wait_until(window.canvas.has_image, 30, "the picture to open")
    window.document.set_mask_array(inputs.mask)
    window.tray.add_files([str(p) for p in inputs.references])
    wait_until(lambda: window.tray.count() == len(inputs.references) and not window.tray.is_loading(), 60,
               "the references to load")
    return window


def run_edit(window, n: int = 1, partial_images: int = 3, timeout: float = 180.0) -> str:
    """Press Run (from inside the event loop, as a click would) and wait until the result is on the canvas.

    Returns the history job id; raises if the job failed.
    """
    from PySide6.QtCore import QTimer

    from gptimg_desktop.ui.prompt.prompt_panel import PromptSettings

    window.prompt.apply_settings(PromptSettings(
        prompt=EDIT_PROMPT, size="3840x2160", quality="medium", n=n, stream=True, partial_images=partial_images,
    ))
    outcome: dict[str, str] = {}
    jobs = window.jobs
    jobs.jobRecorded.connect(lambda _t, job_id: outcome.setdefault("job", job_id))
    jobs.jobSucceeded.connect(lambda _t, _r: outcome.setdefault("done", "ok"))
    jobs.jobFailed.connect(lambda _t, message, _refused: outcome.setdefault("done", message))
    QTimer.singleShot(0, window.run)
    wait_until(lambda: "done" in outcome, timeout, "the edit to finish")
    if outcome["done"] != "ok":
        raise RuntimeError(f"the edit failed: {outcome['done']}")
    return outcome.get("job", "")


class local_server:
    """``gptimg serve`` in its own process on a free loopback port, as shipped (0.35 s of simulated work per
    image); ``with local_server() as url`` gives its /v1 URL."""

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gptimg_desktop.cli", "serve", "--port", "0"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"the local server did not start: {line!r}")
        return match.group(1)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

