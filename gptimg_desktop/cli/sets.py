"""`gptimg templates`, `gptimg set`, `gptimg sets` and `gptimg channels`: whole sets from one brief and one
approved version in every channel size.

Exit codes as for `generate`: 0 success, 2 refused before sending (bad input, over budget), 1 any other
failure (an item or channel that failed; the JSON still lists every item).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.channels import CHANNEL_PRESETS, CUSTOM, ChannelPreset, channel_preset, custom_preset
from ..core.errors import RequestRefused
from ..core.models import DEFAULT_MODEL
from ..core.set_plan import SetPlan, SetReference, plan_set
from ..core.templates import TemplateLibrary, load_templates
from . import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, CliError, _open_store, _price_table, _progress

USER_TEMPLATES_FOLDER = "templates"


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    templates = sub.add_parser("templates", help="list the set templates (built-in and your own)")
    templates.add_argument("--json", action="store_true")

    run = sub.add_parser("set", help="make a whole set (anchor first, then every item as an edit of it)")
    run.add_argument("template_id", metavar="TEMPLATE_ID")
    run.add_argument("brief", metavar="BRIEF", help="the set in one sentence")
    run.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a template field; repeat")
    run.add_argument("--ref", action="append", default=[], metavar="FILE[:ROLE]",
                     help="a reference image sent with every item (roles: subject, style, palette, layout, text)")
    run.add_argument("--items", default=None, metavar="ID,ID...", help="only these items (the anchor is always made)")
    run.add_argument("--model", default=DEFAULT_MODEL)
    run.add_argument("--quality", default="auto", help="low, medium, high or auto (default %(default)s)")
    run.add_argument("--project", default=None, help="history project (default: Default)")
    run.add_argument("--out", type=Path, default=None, help="also export the set here: images, contact sheet, manifest")
    run.add_argument("--dry-run", action="store_true", help="send nothing; print the plan and its estimate")
    run.add_argument("--json", action="store_true")
    run.add_argument("--batch", action="store_true", help="send the items through the Batch API (half price, slower)")
    run.add_argument("--over-budget", action="store_true", help="run even when the set would pass a budget")

    listing = sub.add_parser("sets", help="list sets with their progress and cost")
    listing.add_argument("--json", action="store_true")

    channels = sub.add_parser("channels", help="re-render a version for channel sizes, delivered at exact pixels")
    channels.add_argument("version_id", metavar="VERSION_ID", nargs="?")
    channels.add_argument("--preset", action="append", default=[], metavar="NAME[,NAME...]")
    channels.add_argument("--size", action="append", default=[], metavar="WxH", help="a custom channel size; repeat")
    channels.add_argument("--out", type=Path, default=None, help="folder for the delivered files")
    channels.add_argument("--dry-run", action="store_true", help="send nothing; print the sizes and estimate")
    channels.add_argument("--list", action="store_true", help="list the channel presets")
    channels.add_argument("--json", action="store_true")
    channels.add_argument("--over-budget", action="store_true", help="run even when it would pass a budget")
    channels.add_argument("--batch", action="store_true", help="send the channels as one batch (half price, slower)")
    return {"templates": cmd_templates, "set": cmd_set, "sets": cmd_sets, "channels": cmd_channels}


# ---------------------------------------------------------------------------------------------- templates
def template_library() -> TemplateLibrary:
    from ..store.paths import data_dir

    return load_templates([data_dir() / USER_TEMPLATES_FOLDER])


def cmd_templates(args: argparse.Namespace) -> int:
    library = template_library()
    for problem in library.problems:
        _progress(f"note: skipped a template: {problem}")
    if args.json:
        print(json.dumps([t.to_json() for t in library], indent=2))
        return EXIT_OK
    for t in library:
        fields = ", ".join(f.name + ("*" if f.required else "") for f in t.fields)
        print(f"{t.id:12} {t.name} ({len(t.items)} items; fields: {fields})")
        print(f"{'':12} {t.description}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- set
def _fields(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--field takes NAME=VALUE (got '{pair}').", EXIT_REFUSED)
        out[name.strip()] = value.replace("\\n", "\n")
    return out


def _references(texts: list[str]) -> list[SetReference]:
    refs = [SetReference.parse(t) for t in texts]
    for ref in refs:
        if not Path(ref.path).is_file():
            raise CliError(f"{ref.path}: no such file (--ref FILE[:ROLE]).", EXIT_REFUSED)
    return refs


def build_plan(args: argparse.Namespace, library: TemplateLibrary | None = None) -> SetPlan:
    """The plan `gptimg set` would run, from its arguments; RequestRefused/CliError (exit 2) when it can't."""
    library = library or template_library()
    template = library.get(args.template_id)
    items = [i for i in args.items.split(",")] if args.items else None
    return plan_set(template, args.brief, _fields(args.field), _references(args.ref), items, args.model, args.quality)


def _reference_sizes(plan: SetPlan) -> list[tuple[int, int]]:
    from PIL import Image

    sizes = []
    for ref in plan.references:
        try:
            with Image.open(ref.path) as img:
                sizes.append(img.size)
        except OSError:
            sizes.append((1024, 1024))  # prepare() refuses it with a proper sentence when the set runs
    return sizes


def _check_set_budget(args: argparse.Namespace, store: Any, project: str | None, credits: int, usd: float) -> None:
    from ..store.history import DEFAULT_PROJECT

    status = store.budget_status(" ".join((project or DEFAULT_PROJECT).split()), credits, usd)
    if status.blocks:
        if getattr(args, "over_budget", False) and not getattr(args, "dry_run", False):
            _progress(f"note: {status.message} Running anyway (--over-budget).")
            return
        if getattr(args, "dry_run", False):
            _progress(f"note: {status.message}")
            return
        raise RequestRefused(f"{status.message} Raise it with `gptimg budget`, or add --over-budget to run anyway.",
                             param="budget")
    if status.level == "warning":
        _progress(f"note: {status.message}")


def run_set_batch(args: argparse.Namespace, plan: SetPlan) -> int:
    """`set --batch`: the anchor runs now, the other items go into one batch (cli/batch.py)."""
    from .batch import run_set_batch as run_through_batch

    return run_through_batch(args, plan)


def cmd_set(args: argparse.Namespace) -> int:
    plan = build_plan(args)
    for note in plan.notes:
        _progress(f"note: {note}")
    if args.batch and not args.dry_run:
        return run_set_batch(args, plan)
    store = _open_store()
    try:
        prices = _price_table(store)
        estimate = plan.estimate(prices, _reference_sizes(plan))
        _check_set_budget(args, store, args.project, estimate.credits, estimate.usd)
        if args.dry_run:
            return _print_plan(args, plan, prices)
        return _run_set(args, store, plan)
    finally:
        store.close()


def _print_plan(args: argparse.Namespace, plan: SetPlan, prices: Any) -> int:
    data = plan.dry_run_json(prices, _reference_sizes(plan))
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    for item in plan.items:
        tag = "anchor" if item.anchor else item.kind
        print(f"{item.position + 1:2}. {item.id:16} {item.size:>10} {item.quality:6} {tag}")
    est = data["estimate"]
    _progress(f"{len(plan.items)} item(s) · about {est['credits']} credits · ${est['usd']:.4f} · nothing was sent")
    return EXIT_OK


def _run_set(args: argparse.Namespace, store: Any, plan: SetPlan) -> int:
    from ..connection import choose_provider
    from ..jobs.set_delivery import export_set, item_file_name
    from ..jobs.sets import SetListener, SetRunner
    from ..provider.client import ImagesClient

    choice = choose_provider(store)
    if choice.is_demo:
        _progress("No API key found: using the local demo server (images are synthesised on this machine).")
    client = ImagesClient(choice.config)

    class Progress(SetListener):
        def set_recorded(self, record):
            _progress(f"set {record.id}: {len(record.items)} item(s), anchor first ({record.anchor_item})")

        def item_started(self, set_id, item_id):
            _progress(f"{item_id}: sending…")

        def item_finished(self, set_id, item, version):
            _progress(f"{item.item_id}: {item.status}" + (f" ({item.error})" if item.error else ""))

        def retrying(self, job_id, attempt, delay, error):
            _progress(f"{error.user_message} Retrying in {delay:.1f} s.")

    try:
        outcome = SetRunner(store, client, _price_table(store)).run(plan, args.project, Progress())
    finally:
        client.close()
        choice.close()
    record = outcome.record
    delivered: dict[str, str] = {}
    if args.out is not None:
        delivery = export_set(store, record.id, args.out.expanduser())
        for item in record.items:
            version = store.get_version(item.version_id) if item.version_id else None
            if version is not None and item.status == "succeeded":
                delivered[item.item_id] = str((delivery.path / item_file_name(item, version.format)).resolve())
        _progress(delivery.describe())
    rows = []
    for item in record.items:
        version = store.get_version(item.version_id) if item.version_id else None
        files = [delivered[item.item_id]] if item.item_id in delivered else (
            [str(version.path)] if version is not None and item.status == "succeeded" else [])
        rows.append({"id": item.item_id, "version_id": item.version_id, "status": item.status, "files": files,
                     "size": item.size, "cost_usd": item.cost_usd, "credits": item.credits})
    if args.json:
        print(json.dumps({"set_id": record.id, "items": rows}, indent=2))
    else:
        for row in rows:
            print(f"{row['id']:16} {row['status']:10} {' '.join(row['files'])}")
    _progress(f"set {record.id}: {record.done}/{len(record.items)} done · ${record.cost_usd:.4f}")
    if outcome.stopped:
        _progress(outcome.stopped)
    if outcome.failed:
        for item_id in outcome.failed:
            _progress(f"{item_id}: {outcome.errors.get(item_id, 'not made')}")
        raise CliError(f"{len(outcome.failed)} item(s) of set {record.id} were not made; the others are kept.",
                       EXIT_FAILED)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- sets
def cmd_sets(args: argparse.Namespace) -> int:
    from ..store.sets import list_sets, reconcile

    store = _open_store()  # also finishes paid answers a killed run left behind
    try:
        records = [reconcile(store, r.id) if r.done < len(r.items) else r for r in list_sets(store)]
    finally:
        store.close()
    if args.json:
        print(json.dumps([r.summary_json() for r in records], indent=2))
        return EXIT_OK
    if not records:
        _progress('No sets yet. Try: gptimg set vi "A friendly coffee roaster" --field brand=Lume --field colours=teal')
    for r in records:
        print(f"{r.id}  {r.created_at[:19]}  {r.template_id:10} {r.done}/{len(r.items)} done  "
              f"${r.cost_usd:.4f}  {r.project}  {r.brief[:60]}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- channels
def _presets(args: argparse.Namespace) -> list[ChannelPreset]:
    presets: list[ChannelPreset] = []
    wants_custom = False
    for group in args.preset:
        for name in (n.strip() for n in group.split(",")):
            if not name:
                continue
            if name.lower() == CUSTOM:
                wants_custom = True
                continue
            presets.append(channel_preset(name))
    presets += [custom_preset(text) for text in args.size]
    if wants_custom and not args.size:
        raise CliError("The custom preset needs a size: add --size WIDTHxHEIGHT.", EXIT_REFUSED)
    if not presets:
        raise CliError("Name at least one --preset (see `gptimg channels --list`) or give --size WxH.", EXIT_REFUSED)
    return presets


def cmd_channels(args: argparse.Namespace) -> int:
    if args.list:
        rows = [p.to_json() for p in CHANNEL_PRESETS] + [{"name": CUSTOM, "width": None, "height": None}]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                size = f"{row['width']}x{row['height']}" if row["width"] else "any size (--size WxH)"
                print(f"{row['name']:20} {size}")
        return EXIT_OK
    if not args.version_id:
        raise CliError("channels needs a VERSION_ID (see `gptimg history`), or --list.", EXIT_REFUSED)
    presets = _presets(args)
    store = _open_store()
    try:
        return _channels(args, store, presets)
    finally:
        store.close()


def _channels(args: argparse.Namespace, store: Any, presets: list[ChannelPreset]) -> int:
    from ..jobs.channels import ChannelRunner, channel_request, estimate_channels, plan_channels

    version = store.get_version(args.version_id)
    if version is None:
        raise CliError(f"No version '{args.version_id}' in the history; see `gptimg history`.", EXIT_REFUSED)
    if not version.path.is_file():
        raise CliError(f"The image of version {version.id} is missing from the data folder ({version.path}).")
    plans = plan_channels(version, presets)
    for plan in plans:
        request = channel_request(version, plan).validate()
        for warning in [plan.note, *request.warnings()]:
            if warning:
                _progress(f"note: {plan.preset.name}: {warning}")
    prices = _price_table(store)
    credits, usd = estimate_channels(version, plans, prices)
    _check_set_budget(args, store, version.project, credits, usd)
    if args.dry_run:
        rows = []
        for plan in plans:
            est = channel_request(version, plan).estimate(prices, input_sizes=((version.width, version.height),))
            rows.append({"preset": plan.preset.name, "size": str(plan.target), "api_size": str(plan.api_size),
                         "version_id": None, "files": [], "cost_usd": est.cost_usd})
        _print_channels(args, rows)
        _progress(f"{len(plans)} channel(s) · about {credits} credits · ${usd:.4f} · nothing was sent")
        return EXIT_OK
    from ..connection import choose_provider
    from ..provider.client import ImagesClient
    from ..store.paths import exports_dir

    out = args.out.expanduser() if args.out is not None else exports_dir(store.root) / f"channels-{version.id[:8]}"
    if args.batch:  # delivered at exact pixels when the batch is collected (cli/batch.py)
        from .batch import run_channels_batch

        return run_channels_batch(args, store, version, plans, out)
    choice = choose_provider(store)
    client = ImagesClient(choice.config)
    try:
        results = ChannelRunner(store, client, prices).run(version, plans, out)
    finally:
        client.close()
        choice.close()
    _print_channels(args, [r.to_json() for r in results])
    failed = [r for r in results if not r.ok]
    for r in failed:
        _progress(f"{r.plan.preset.name}: {r.error}")
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} channel(s) failed; the others were delivered.", EXIT_FAILED)
    return EXIT_OK


def _print_channels(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        files = " ".join(row["files"]) or "(dry run)"
        print(f"{row['preset']:20} {row['size']:>10} (made at {row['api_size']})  {files}")
