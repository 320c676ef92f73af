"""Start-up benchmarks: launch to the first painted window (warm), and peak memory of a full 4K session.

Both run the app in fresh interpreters, as a user starts it, offscreen, in a benchmark GPTIMG_HOME: the launch
in demo mode (with no key the local server starts with the app), the session against the local server in its
own process, as against a provider.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

from ._util import (
    REPO_ROOT,
    Context,
    Figure,
    Target,
    benchmark,
    edit_inputs,
    local_server,
    median,
    ms,
    python_subprocess,
)

STARTUP = Target("startup_warm_first_window", "ms", "<=", 1500)
PEAK_RSS = Target("peak_rss_4k_session", "MB", "<=", 900)

# The app's own start (app.main without its event loop): the first Paint of the window ends the clock.
_FIRST_WINDOW = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject
from gptimg_desktop.app import create_window, ensure_app

app = ensure_app()
window = create_window(environ={})

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(time.time(), flush=True)
            os._exit(0)  # the clock has stopped: skip the shutdown
        return False

spy = FirstPaint()
window.installEventFilter(spy)
window.show()
app.exec()
"""

# A full session: the 4K picture, its mask, 15 references (16 images), then a 4-image masked edit whose
# results fill the strip; prints the peak resident set size in kB. argv: the fixture, then the provider URL
# ("" for demo mode, where the app starts the local server in a child process of its own). VmHWM, not
# ru_maxrss: a child's ru_maxrss also counts the parent's pages it shared between fork and exec.
_SESSION = """
import sys
from benchmarks._util import EditInputs, open_edit_window, peak_rss_kb, run_edit
url = sys.argv[2]
environ = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "local"} if url else {}
window = open_edit_window(EditInputs.from_json(sys.argv[1]), environ=environ)
run_edit(window, n=4, partial_images=3)
if window.result_strip.count() != 4:
    raise SystemExit(f"the result strip shows {window.result_strip.count()} images, not 4")
print(peak_rss_kb(), flush=True)
"""


@benchmark("startup", STARTUP, PEAK_RSS)
def bench_startup(ctx: Context) -> Iterator[Figure]:
    with ctx.fresh_home("startup"):
        launches = []
        # An installed app has its bytecode (pip compiles it, PyInstaller bundles it): let the cold launch write
        # it even where the shell says not to, or every "warm" launch compiles ~300 modules again (~0.3 s).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for _ in range(ctx.pick(6, 3)):  # the first launch is cold (creates the history, fills the page cache)
            started = time.time()
            proc = subprocess.run(
                [sys.executable, "-c", _FIRST_WINDOW], cwd=REPO_ROOT, env=env,
                capture_output=True, text=True, timeout=60, check=False,
            )
            if proc.returncode != 0 or not proc.stdout.strip():
                raise RuntimeError(f"the app did not start: {proc.stderr[-2000:]}")
            launches.append(float(proc.stdout.split()[-1]) - started)
    warm = launches[1:]
    yield STARTUP.measured(ms(median(warm)), cold_ms=round(ms(launches[0])), warm_ms=[round(ms(t)) for t in warm])

    # The editor's own memory: the answer comes from the local server in its own process, as a provider's
    # would. Demo mode (the server inside the app, decoding 16 uploads and rendering four 4K images) is
    # measured too, in full mode, for the record.
    inputs = edit_inputs(ctx)
    peaks = {}
    with local_server() as url:
        for mode, server in [("provider", url)] + ([] if ctx.quick else [("demo", "")]):
            with ctx.fresh_home(f"peak-memory-{mode}"):
                out = python_subprocess(_SESSION, timeout=300, args=[inputs.to_json(), server])
            peaks[mode] = int(out.split()[-1]) / 1024
    yield PEAK_RSS.measured(peaks["provider"], images=16, results=4,
                            demo_mode_mb=round(peaks["demo"]) if "demo" in peaks else None)
