"""Runs the performance benchmarks and prints one ``BENCH`` line per figure; ``--quick`` is the CI mode.

    python benchmarks/run.py            full mode (the README's figures) -> benchmarks/results.json
    python benchmarks/run.py --quick    fewer repeats, same lines       -> benchmarks/results-quick.json

Runs offscreen in a temporary GPTIMG_HOME and talks to 127.0.0.1 only. Exit code 0 when every benchmark ran
(a missed target prints MISS, it is not an error); 1 when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Before anything imports Qt or the app: offscreen, isolated data, no keyring, no provider from the environment.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_API_KEY",
             "AZURE_OPENAI_ENDPOINT"):
    os.environ.pop(_var, None)
for _var in ("NO_PROXY", "no_proxy"):  # loopback never goes through a proxy that may be configured
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1", "localhost"]))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from benchmarks import (  # noqa: E402, F401 (they register themselves)
    bench_canvas,
    bench_history,
    bench_jobs,
    bench_pipeline,
    bench_proof,
    bench_selection,
    bench_startup,
)
from benchmarks._util import REGISTRY, Context, format_line, machine, machine_line  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: fewer repeats, under 2 minutes")
    parser.add_argument("--only", action="append", metavar="GROUP",
                        help=f"run only these groups ({', '.join(b.group for b in REGISTRY)}); repeatable")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results (default: benchmarks/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    benches = [b for b in REGISTRY if not args.only or b.group in args.only]
    unknown = set(args.only or ()) - {b.group for b in REGISTRY}
    if unknown:
        print(f"run.py: unknown group(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    info = machine()
    mode = "quick" if args.quick else "full"
    print(f"# gptimg-desktop benchmarks, {mode} mode; {machine_line(info)}", flush=True)
    figures, errors = [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gptimg-bench-") as scratch:
        os.environ["GPTIMG_HOME"] = str(Path(scratch) / "home")
        ctx = Context(quick=args.quick, scratch=Path(scratch))
        for bench in benches:
            t0 = time.perf_counter()
            try:
                for figure in bench.run(ctx):
                    figures.append(figure)
                    print(format_line(figure) + (f"  # {figure.note}" if figure.note else ""), flush=True)
            except Exception as exc:  # noqa: BLE001 (report it, run the others, fail the run at the end)
                errors.append({"group": bench.group, "error": f"{type(exc).__name__}: {exc}"})
                print(f"ERROR {bench.group}: {type(exc).__name__}: {exc}", flush=True)
                traceback.print_exc()
            print(f"# {bench.group}: {time.perf_counter() - t0:.1f} s", flush=True)
    elapsed = time.perf_counter() - started
    out = args.json or HERE / ("results-quick.json" if args.quick else "results.json")
    out.write_text(json.dumps({
        "mode": mode,
        "machine": info,
        "elapsed_s": round(elapsed, 1),
        "figures": [f.to_json() for f in figures],
        "errors": errors,
    }, indent=2) + "\n")
    missed = sum(1 for f in figures if not f.ok)
    print(f"# {len(figures)} figures, {missed} MISS, {len(errors)} errors in {elapsed:.0f} s; results in {out}",
          flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
