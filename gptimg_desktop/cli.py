"""`gptimg`: generate and edit from the command line, read the history and usage, run the local server.

Exit codes: 0 success; 2 a request refused before sending (or bad arguments); 1 any other failure.
Every failure prints one line naming the problem on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from . import __version__
from .core.errors import InputImageError, RequestRefused
from .core.models import DEFAULT_MODEL
from .core.pricing import PriceTable
from .core.requests import ImageRequest

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
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
    p.add_argument("--background", default="auto", help="auto, opaque (transparent: see --transparent-preview)")
    p.add_argument("--transparent-preview", action="store_true",
                   help="allow background=transparent on models where it is a preview")
    p.add_argument("--moderation", default="auto", help="auto or low")
    p.add_argument("--partial-images", type=int, default=0, help="stream with 0-3 preview images")
    p.add_argument("--stream", action="store_true", help="stream the answer (implied by --partial-images)")
    p.add_argument("--out", type=Path, default=None, help="also copy the images into this folder")
    p.add_argument("--project", default=None, help="history project (default: Default)")
    p.add_argument("--json", action="store_true", help="print the versions as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gptimg", description="GPT Image generation and editing with a local history.")
    parser.add_argument("--version", action="version", version=f"gptimg {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests (never the API key)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="make new images from a prompt")
    gen.add_argument("prompt")
    _request_options(gen)

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

    usage = sub.add_parser("usage", help="tokens, USD and credits used")
    usage.add_argument("--project", default=None)
    usage.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="run the local OpenAI-compatible Images API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--delay", type=float, default=0.35, help="simulated seconds of work per image")
    return parser


# ---------------------------------------------------------------------------- commands
def _open_store():
    from .store.history import HistoryStore

    store = HistoryStore()
    if getattr(store, "recovered_from", None):
        _progress(f"The history database was damaged; it was moved to {store.recovered_from} and a new one started.")
    return store


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
    from .connection import choose_provider
    from .jobs.pipeline import JobListener, JobPipeline, prepare
    from .provider.client import ImagesClient
    from .store.history import version_to_json

    # Refuse bad requests before starting any provider or touching the network.
    prepared = prepare(spec)
    for warning in prepared.request.warnings():
        _progress(f"note: {warning}")
    for note in prepared.notes:
        _progress(f"note: {note}")
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
    if outcome.status != "succeeded":
        raise CliError(outcome.error or "The job failed.")
    records = []
    for version in outcome.versions:
        record = version_to_json(version)
        if args.out is not None:
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
    from .jobs.pipeline import JobSpec

    store = _open_store()
    try:
        spec = JobSpec(request=_request_from_args(args), project=args.project)
        return _run_job(args, store, spec)
    finally:
        store.close()


def cmd_edit(args) -> int:
    from .jobs.pipeline import JobSpec

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
    from .store.history import version_to_json

    store = _open_store()
    try:
        versions = store.list_versions(project=args.project, limit=args.limit)
        if args.json:
            print(json.dumps([version_to_json(v) for v in versions], indent=2))
            return EXIT_OK
        if not versions:
            _progress("No versions yet. Try: gptimg generate \"a lighthouse at dusk\"")
        for v in versions:
            parent = f" ← {v.parent_id}" if v.parent_id else ""
            star = "★ " if v.starred else ""
            prompt = v.prompt.replace("\n", " ")
            prompt = prompt if len(prompt) <= 60 else prompt[:57] + "…"
            print(f"{v.id}{parent}  {v.created_at[:19]}  {v.kind:8} {v.model} {v.size} {v.quality}  "
                  f"{v.credits} cr ${v.cost_usd:.4f}  {star}{prompt}")
        return EXIT_OK
    finally:
        store.close()


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
    from .devserver.server import serve_forever

    serve_forever(port=args.port, delay=args.delay)
    return EXIT_OK


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
    from .provider.errors import ProviderError

    try:
        return COMMANDS[args.command](args)
    except (RequestRefused, InputImageError) as exc:
        print(f"gptimg: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except CliError as exc:
        print(f"gptimg: error: {exc}", file=sys.stderr)
        return exc.code
    except ProviderError as exc:
        print(f"gptimg: error: {exc.user_message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gptimg: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # the promise: one clear line, never a traceback
        logging.getLogger("gptimg").debug("unexpected failure", exc_info=True)
        print(f"gptimg: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
