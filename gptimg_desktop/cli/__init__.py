"""`gptimg`: generate and edit from the command line, read the history and usage, run the local server.

Exit codes: 0 success; 2 a request refused before sending (or bad arguments); 1 any other failure.
Every failure prints one line naming the problem on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import shutil
import sqlite3
import sys
from pathlib import Path

from .. import __version__
from ..core.errors import InputImageError, RequestRefused
from ..core.models import DEFAULT_MODEL
from ..core.pricing import PriceTable
from ..core.requests import ImageRequest
from ..core.text import terminal_safe

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2

# Command families that live in their own modules of this package. Each module has
# `register(sub) -> dict[str, handler]`: it adds its parsers and returns its handlers by command name.
FEATURE_COMMANDS: tuple[str, ...] = ("projects", "jobs", "sets", "batch", "proof")
PRICES_SETTING = "prices"


class CliError(Exception):
    """A failure with a one-line message and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- arguments
def _request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help="model (default %(default)s)")
    p.add_argument("--size", default="auto", help="WIDTHxHEIGHT or auto (default %(default)s)")
    p.add_argument("--quality", default="auto", help="low, medium, high or auto (default %(default)s)")
    p.add_argument("-n", type=int, default=1, help="number of images, 1-10")
    p.add_argument("--format", dest="output_format", default="png", help="png, jpeg or webp")
    p.add_argument("--compression", type=int, default=None, help="0-100, jpeg/webp only")
    p.add_argument("--background", default="auto",
                   help="auto, opaque or transparent (gpt-image-2: only with --transparent-preview)")
    p.add_argument("--transparent-preview", action="store_true",
                   help="allow background=transparent on models where it is a preview")
    p.add_argument("--moderation", default="auto", help="auto or low")
    p.add_argument("--partial-images", type=int, default=0, help="stream with 0-3 preview images")
    p.add_argument("--stream", action="store_true", help="stream the answer (implied by --partial-images)")
    p.add_argument("--out", type=Path, default=None, help="also copy the images into this folder")
    p.add_argument("--project", default=None, help="history project (default: Default)")
    p.add_argument("--json", action="store_true", help="print the versions as JSON")
    p.add_argument("--over-budget", action="store_true",
                   help="run even when the job would take the project or overall budget past its limit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gptimg", description="GPT Image generation and editing with a local history.")
    parser.add_argument("--version", action="version", version=f"gptimg {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests (never the API key)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="make new images from a prompt")
    gen.add_argument("prompt")
    _request_options(gen)
    from .proof import add_generate_options

    add_generate_options(gen)  # --for-cutout

    edit = sub.add_parser("edit", help="edit one or more images, optionally through a mask")
    edit.add_argument("prompt")
    edit.add_argument("--image", action="append", default=[], type=Path,
                      help="input image; repeat for references (the first is the one edited)")
    edit.add_argument("--mask", type=Path, default=None,
                      help="PNG with alpha (transparent = edit) or a painted mask (white = edit)")
    edit.add_argument("--parent", default=None, help="history version this edit continues from")
    edit.add_argument("--no-keep-outside", dest="keep_outside", action="store_false",
                      help="do not blend the result back outside the mask")
    edit.add_argument("--feather", type=int, default=8, help="feather of the blend-back in pixels")
    _request_options(edit)

    hist = sub.add_parser("history", help="list versions, newest first")
    hist.add_argument("--project", default=None)
    hist.add_argument("--json", action="store_true")
    hist.add_argument("--limit", type=int, default=None)
    hist.add_argument("--starred", action="store_true", help="only starred versions")

    usage = sub.add_parser("usage", help="tokens, USD and credits used")
    usage.add_argument("--project", default=None)
    usage.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="run the local OpenAI-compatible Images API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--delay", type=float, default=0.35, help="simulated seconds of work per image")
    for name in FEATURE_COMMANDS:
        COMMANDS.update(importlib.import_module(f"{__name__}.{name}").register(sub))
    return parser


# ---------------------------------------------------------------------------- commands
def _open_store():
    from ..store.history import HistoryStore

    store = HistoryStore()
    if getattr(store, "recovered_from", None):
        _progress(f"The history database was damaged; it was moved to {store.recovered_from} and a new one started.")
    _recover_paid_answers(store)
    from .batch import resume_batches

    resume_batches(store)  # finished batches land in the history at the next command, whichever it is
    return store


# Jobs this run found interrupted (their process died since the last run), for `gptimg history` to mention.
_INTERRUPTED_NOW: list = []


def _recover_paid_answers(store) -> None:
    """Finish paid answers a killed run left on disk (no request is sent); jobs of live processes are left alone."""
    from ..jobs.recovery import recover

    try:
        report = recover(store, _price_table(store))
    except Exception as exc:  # recovery must never stop a command; the next start tries again
        logging.getLogger("gptimg").warning("recovering paid answers failed: %s", exc)
        return
    _INTERRUPTED_NOW[:] = report.interrupted
    if report.versions:
        _progress(f"Recovered {len(report.versions)} paid image(s) that arrived before gptimg last stopped "
                  "(nothing was sent again).")
    for note in report.notes:
        _progress(f"note: {terminal_safe(note)}")
    if report.gave_up:
        _progress(f"Gave up finishing {len(report.gave_up)} paid answer(s) that can't be used; the reasons are "
                  "in `gptimg jobs --status failed` (the raw answers stay in the data folder).")


def _price_table(store) -> PriceTable:
    return PriceTable.from_dict(store.get_setting(PRICES_SETTING, None))


def _request_from_args(args, images=()) -> ImageRequest:
    stream = bool(args.stream or args.partial_images)
    return ImageRequest(
        prompt=args.prompt,
        model=args.model,
        size=args.size,
        quality=args.quality,
        n=args.n,
        output_format=args.output_format,
        output_compression=args.compression,
        background=args.background,
        moderation=args.moderation,
        stream=stream,
        partial_images=args.partial_images,
        allow_transparent_preview=args.transparent_preview,
    )


def _run_job(args, store, spec) -> int:
    from ..connection import choose_provider
    from ..jobs.pipeline import JobListener, JobPipeline, prepare
    from ..provider.client import ImagesClient
    from ..store.history import version_to_json

    # Refuse bad requests before starting any provider or touching the network.
    prepared = prepare(spec)
    for warning in prepared.request.warnings():
        _progress(f"note: {warning}")
    for note in prepared.notes:
        _progress(f"note: {note}")
    _check_budget(args, store, spec.project, prepared.request)
    choice = choose_provider(store)
    if choice.is_demo:
        _progress("No API key found: using the local demo server (images are synthesised on this machine).")
    client = ImagesClient(choice.config)

    class Progress(JobListener):
        def stage(self, job_id, text):
            _progress(text)

        def partial(self, job_id, partial, expected):
            _progress(f"preview {partial.index + 1}" + (f" of {expected}" if expected else ""))

        def retrying(self, job_id, attempt, delay, error):
            _progress(f"{error.user_message} Retrying in {delay:.1f} s.")

    try:
        outcome = JobPipeline(store, client, _price_table(store)).run(spec, Progress(), prepared=prepared)
    finally:
        client.close()
        choice.close()
    for note in outcome.notes[len(prepared.notes):]:  # what the answer itself got wrong (usage, count, format)
        _progress(f"note: {terminal_safe(note)}")
    if outcome.status != "succeeded":
        raise CliError(outcome.error or "The job failed.")
    records = []
    for version in outcome.versions:
        record = version_to_json(version)
        if getattr(args, "cutout_key", None) is not None:
            from .proof import finish_for_cutout

            finish_for_cutout(args, store, version, record)
        elif args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            target = args.out / f"gptimg-{version.id}.{version.format}"
            shutil.copyfile(store.root / version.file, target)
            record["files"] = [str(target.resolve())]
        records.append(record)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for record in records:
            for path in record["files"]:
                print(path)
        total_credits = sum(r["credits"] for r in records)
        total_usd = sum(r["cost_usd"] for r in records)
        _progress(f"{len(records)} image(s) · {total_credits} credits · ${total_usd:.4f}")
    return EXIT_OK


def cmd_generate(args) -> int:
    from ..jobs.pipeline import JobSpec
    from .proof import adjust_generate

    store = _open_store()
    try:
        adjust_generate(args, store)  # --for-cutout, the Settings preview switch, transparent refusals
        spec = JobSpec(request=_request_from_args(args), project=args.project)
        return _run_job(args, store, spec)
    finally:
        store.close()


def cmd_edit(args) -> int:
    from ..jobs.pipeline import JobSpec

    store = _open_store()
    try:
        images: list = [str(p) for p in args.image]
        if args.parent:
            version = store.get_version(args.parent)
            if version is None:
                raise CliError(f"No version '{args.parent}' in the history; see `gptimg history`.", EXIT_REFUSED)
            if not images:
                images = [str(store.root / version.file)]
        if not images:
            raise CliError("edit needs at least one --image FILE (or --parent VERSION_ID).", EXIT_REFUSED)
        for path in images:
            if not Path(path).is_file():
                raise CliError(f"{path}: no such file.", EXIT_REFUSED)
        if args.mask is not None and not args.mask.is_file():
            raise CliError(f"{args.mask}: no such file.", EXIT_REFUSED)
        spec = JobSpec(
            request=_request_from_args(args),
            images=tuple(images),
            mask=str(args.mask) if args.mask else None,
            project=args.project,
            parent_version_id=args.parent,
            keep_outside_mask=args.keep_outside,
            feather_px=args.feather,
        )
        return _run_job(args, store, spec)
    finally:
        store.close()


def cmd_history(args) -> int:
    from ..store.history import version_to_json

    store = _open_store()
    try:
        _mention_interrupted()
        versions = store.list_versions(project=args.project, limit=args.limit,
                                       starred=True if getattr(args, "starred", False) else None)
        if args.json:
            from ..store.batches import via_for

            via = via_for(store, {v.job_id for v in versions})
            print(json.dumps([{**version_to_json(v), "via": via[v.job_id]} for v in versions], indent=2))
            return EXIT_OK
        if not versions:
            _progress("No versions yet. Try: gptimg generate \"a lighthouse at dusk\"")
        for v in versions:
            parent = f" ← {v.parent_id}" if v.parent_id else ""
            star = "★ " if v.starred else ""
            prompt = terminal_safe(v.prompt)
            prompt = prompt if len(prompt) <= 60 else prompt[:57] + "…"
            print(f"{v.id}{parent}  {v.created_at[:19]}  {v.kind:8} {terminal_safe(v.model)} {v.size} "
                  f"{terminal_safe(v.quality)}  {v.credits} cr ${v.cost_usd:.4f}  {star}{prompt}")
        return EXIT_OK
    finally:
        store.close()


def _mention_interrupted() -> None:
    """Say (on stderr) which jobs were interrupted since the last run, and how to restore them."""
    jobs = [j for j in _INTERRUPTED_NOW if j.status == "interrupted"]
    if not jobs:
        return
    what = "1 job was" if len(jobs) == 1 else f"{len(jobs)} jobs were"
    _progress(f"{what} interrupted since the last run (it stopped before finishing; the provider may have "
              "charged for it): see `gptimg jobs --status interrupted` for how to restore each, or use Retry "
              "in the editor's Jobs list.")


def cmd_usage(args) -> int:
    store = _open_store()
    try:
        totals = store.usage_totals(project=args.project)
        data = {
            "images": totals.images,
            "input_tokens": totals.input_tokens,
            "output_tokens": totals.output_tokens,
            "total_tokens": totals.input_tokens + totals.output_tokens,
            "total_cost_usd": round(totals.cost_usd, 6),
            "total_credits": totals.credits,
            "by_day": [dict(d) if not isinstance(d, dict) else d for d in store.usage_by_day(project=args.project)],
            "by_month": [dict(m) if not isinstance(m, dict) else m for m in store.usage_by_month(project=args.project)],
        }
        if args.project:
            data["project"] = args.project
        if args.json:
            print(json.dumps(data, indent=2, default=_jsonable))
        else:
            print(f"{data['images']} images · {data['total_credits']} credits · ${data['total_cost_usd']:.4f} · "
                  f"{data['input_tokens']:,} tokens in, {data['output_tokens']:,} out")
        return EXIT_OK
    finally:
        store.close()


def _jsonable(value):
    if hasattr(value, "__dict__"):
        return vars(value)
    if hasattr(value, "_asdict"):
        return value._asdict()
    return str(value)


def cmd_serve(args) -> int:
    from ..devserver.server import serve_forever

    serve_forever(port=args.port, delay=args.delay)
    return EXIT_OK


def _check_budget(args, store, project, request) -> None:
    """Refuse (exit 2) a job that would take its project or the overall budget past the limit, unless
    --over-budget; warn on stderr when it brings a budget to 80 % or more."""
    from ..store.history import DEFAULT_PROJECT

    est = request.estimate(_price_table(store))
    status = store.budget_status(" ".join((project or DEFAULT_PROJECT).split()), est.credits, est.cost_usd)
    if status.blocks:
        if getattr(args, "over_budget", False):
            _progress(f"note: {status.message} Running anyway (--over-budget).")
            return
        raise RequestRefused(
            f"{status.message} Raise it with `gptimg budget`, or add --over-budget to run anyway.", param="budget"
        )
    if status.level == "warning":
        _progress(f"note: {status.message}")


COMMANDS = {
    "generate": cmd_generate,
    "edit": cmd_edit,
    "history": cmd_history,
    "usage": cmd_usage,
    "serve": cmd_serve,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    from ..provider.errors import ProviderError
    from ..store.db import StoreUnavailable, describe_store_error
    from ..store.paths import data_dir

    try:
        return COMMANDS[args.command](args)
    except (RequestRefused, InputImageError) as exc:
        print(f"gptimg: refused: {terminal_safe(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    except CliError as exc:
        print(f"gptimg: error: {terminal_safe(exc)}", file=sys.stderr)
        return exc.code
    except ProviderError as exc:
        print(f"gptimg: error: {terminal_safe(exc.user_message)}", file=sys.stderr)
        return EXIT_FAILED
    except StoreUnavailable as exc:
        print(f"gptimg: error: {terminal_safe(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (sqlite3.OperationalError, OSError) as exc:  # the history or data folder failed mid-command
        message = _store_sentence(exc, describe_store_error, data_dir)
        if message is None:
            raise
        print(f"gptimg: error: {terminal_safe(message)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gptimg: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # the promise: one clear line, never a traceback
        logging.getLogger("gptimg").debug("unexpected failure", exc_info=True)
        print(f"gptimg: error: {type(exc).__name__}: {terminal_safe(exc)}", file=sys.stderr)
        return EXIT_FAILED


def _store_sentence(exc: BaseException, describe, data_dir) -> str | None:
    """The plain sentence for a history or data-folder failure, or None when it is something else."""
    import os

    from ..store.paths import HOME_ENV

    try:
        root = Path(os.environ[HOME_ENV]).expanduser() if os.environ.get(HOME_ENV) else data_dir()
    except OSError:
        root = Path(os.environ.get(HOME_ENV, "."))
    filename = getattr(exc, "filename", None)
    if isinstance(exc, OSError) and filename and not Path(str(filename)).absolute().is_relative_to(root.absolute()):
        return None  # not the history's own files (e.g. an --out folder): the generic line names it
    return describe(exc, root / "history.db")


if __name__ == "__main__":
    sys.exit(main())
