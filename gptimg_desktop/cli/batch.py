"""`gptimg batch …`: send many requests through the Batch API at half price and collect them later.

submit FILE · list · status BATCH_ID · collect [BATCH_ID] [--wait] · cancel BATCH_ID · resubmit BATCH_ID.
Every other gptimg command also picks up finished batches at its start (``resume_batches``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, CliError, _open_store, _price_table, _progress

log = logging.getLogger("gptimg.cli.batch")
_state = {"in_batch_command": False}


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    batch = sub.add_parser("batch", help="run many requests through the Batch API at half price (within 24 h)")
    actions = batch.add_subparsers(dest="batch_command", required=True, metavar="ACTION")
    submit = actions.add_parser("submit", help="send a .txt, .csv or .jsonl file of requests as batches")
    submit.add_argument("file", type=Path, metavar="FILE")
    submit.add_argument("--model", default=None, help="model for rows that name none")
    submit.add_argument("--size", default=None, help="size for rows that name none (default auto)")
    submit.add_argument("--quality", default=None, help="quality for rows that name none (default auto)")
    submit.add_argument("--project", default=None, help="history project (default: Default)")
    submit.add_argument("--json", action="store_true")
    submit.add_argument("--over-budget", action="store_true", help="send even past the budget")
    listing = actions.add_parser("list", help="batches, newest first")
    listing.add_argument("--json", action="store_true")
    status = actions.add_parser("status", help="one batch, with its errors")
    status.add_argument("batch_id", metavar="BATCH_ID")
    status.add_argument("--json", action="store_true")
    collect = actions.add_parser("collect", help="download finished results into the history")
    collect.add_argument("batch_id", nargs="?", default=None, metavar="BATCH_ID")
    collect.add_argument("--wait", action="store_true", help="poll until the batches are done")
    collect.add_argument("--json", action="store_true")
    cancel = actions.add_parser("cancel", help="cancel a batch; what finished is still collected")
    cancel.add_argument("batch_id", metavar="BATCH_ID")
    resubmit = actions.add_parser("resubmit", help="send an expired batch's unfinished requests again")
    resubmit.add_argument("batch_id", metavar="BATCH_ID")
    resubmit.add_argument("--json", action="store_true")
    return {"batch": cmd_batch}


def cmd_batch(args: argparse.Namespace) -> int:
    # Like any command, list/status/submit first pick up finished batches; collect does that itself, reporting
    # what it collected, so it must find them still unfinished.
    _state["in_batch_command"] = args.batch_command == "collect"
    store = _open_store()
    try:
        return _ACTIONS[args.batch_command](args, store)
    finally:
        store.close()


# ---------------------------------------------------------------------------- engine and provider
def _engine(store: Any, need_provider: bool = True, quick: bool = False) -> tuple[Any, Callable[[], None]]:
    from ..connection import choose_provider
    from ..jobs.batch_engine import BatchEngine
    from ..provider.batches import BatchesClient

    engine = BatchEngine(store, None, _price_table(store))
    if not need_provider:
        return engine, lambda: None
    choice = choose_provider(store, start_demo=False)
    if choice.is_demo:
        raise CliError(
            "Batches run on the provider for up to 24 hours, so they need a real provider: set OPENAI_API_KEY (and "
            "OPENAI_BASE_URL for `gptimg serve`) or add a key in the app's Settings."
        )
    config = choice.config
    if quick:  # a look on the side of another command: one try, never a long wait for an unreachable provider
        config = dataclasses.replace(config, max_retries=0, timeout=min(config.timeout, 30.0))
    client = BatchesClient(config)
    engine.client = client

    def close() -> None:
        client.close()
        choice.close()

    return engine, close


def resume_batches(store: Any) -> None:
    """At the start of any gptimg command: send, follow and collect unfinished batches once (no waiting)."""
    if _state["in_batch_command"]:
        return
    try:
        from ..store.batches import BatchStore

        if not BatchStore(store).unfinished():
            return
        engine, close = _engine(store, quick=True)
    except CliError:
        return  # no real provider now: the batches wait for one
    except Exception:
        log.warning("looking for unfinished batches failed", exc_info=True)
        return
    try:
        for report in engine.resume(wait=False):
            _progress(_report_line(report))
    except Exception as exc:  # a command must never fail because a batch could not be followed
        log.warning("resuming batches failed: %s", exc)
    finally:
        close()


# ---------------------------------------------------------------------------- actions
def _submit(args: argparse.Namespace, store: Any) -> int:
    from ..core.errors import RequestRefused
    from ..core.models import DEFAULT_MODEL
    from ..jobs.batch_sources import Defaults, read_batch_file
    from ..provider.errors import ProviderError
    from ..store.history import DEFAULT_PROJECT

    defaults = Defaults(model=args.model or DEFAULT_MODEL, size=args.size or "auto", quality=args.quality or "auto",
                        project=args.project)
    items = read_batch_file(args.file, defaults)  # RequestRefused -> exit 2 naming the line
    engine, _ = _engine(store, need_provider=False)
    prepared = engine.prepare(items)
    credits, usd = engine.estimate(prepared)
    project = " ".join((args.project or DEFAULT_PROJECT).split())
    status = store.budget_status(project, credits, usd)
    if status.blocks and not args.over_budget:
        raise RequestRefused(f"{status.message} Raise it with `gptimg budget`, or add --over-budget to send anyway.",
                             param="budget")
    engine, close = _engine(store)
    try:
        records = engine.record(prepared, args.project)
        sent = []
        try:
            for record in records:
                sent.append(engine.send(record))
        except ProviderError as exc:
            raise CliError(f"{exc.user_message} The batch is saved and is sent by the next gptimg command "
                           "(or `gptimg batch collect`).") from None
    finally:
        close()
    data = {
        "batches": [{"batch_id": r.batch_id, "endpoint": r.endpoint, "requests": r.requests} for r in sent],
        "requests": sum(r.requests for r in sent),
        "estimate": {"credits": credits, "usd": usd},
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for r in sent:
            print(f"{r.batch_id}  {r.endpoint}  {r.requests} request(s)")
        _progress(f"{data['requests']} request(s) · about {credits} credits · ${usd:.4f} at the batch price (½); "
                  "results within 24 h. Collect them with `gptimg batch collect --wait`.")
    return EXIT_OK


def _list(args: argparse.Namespace, store: Any) -> int:
    from ..store.batches import BatchStore

    batches = BatchStore(store)
    rows = [_entry(batches, r) for r in batches.list()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        _progress("No batches yet. Try: gptimg batch submit prompts.txt")
    for row in rows:
        print(f"{row['batch_id']}  {row['status']:11} {row['completed']}/{row['requests']} done, {row['failed']} "
              f"failed  {row['created_at'][:19]}  ${row['cost_usd']:.4f}")
    return EXIT_OK


def _status(args: argparse.Namespace, store: Any) -> int:
    from ..provider.errors import ProviderError
    from ..store.batches import BatchStore

    batches = BatchStore(store)
    record = _require(batches, args.batch_id)
    if record.collected_at is None:
        engine, close = _engine(store)
        try:
            record = engine.refresh(engine.send(record))
        except ProviderError as exc:
            _progress(f"note: {exc.user_message} Showing the last known status.")
        finally:
            close()
    entry = {**_entry(batches, record), "errors": list(record.errors)}
    if args.json:
        print(json.dumps(entry, indent=2))
        return EXIT_OK
    print(f"{entry['batch_id']}  {entry['status']}  {entry['completed']}/{entry['requests']} done, "
          f"{entry['failed']} failed  ${entry['cost_usd']:.4f}")
    for error in entry["errors"]:
        print(f"  line {error.get('line')}: {error.get('message')}")
    return EXIT_OK


def _collect(args: argparse.Namespace, store: Any) -> int:
    from ..store.batches import BatchStore

    batches = BatchStore(store)
    if args.batch_id is not None:
        targets = [_require(batches, args.batch_id).key]
    else:
        targets = [b.key for b in batches.unfinished()]
    if not targets:
        if args.json:
            print("[]")
        else:
            _progress("No batches are waiting to be collected.")
        return EXIT_OK
    engine, close = _engine(store)
    try:
        def update(record: Any) -> None:
            if args.wait and not record.finished:
                _progress(f"{record.batch_id}: {record.status}, {record.completed + record.failed}/{record.requests}")

        for report in engine.resume(batch_ids=targets, wait=args.wait, on_update=update):
            if not args.json:
                _progress(_report_line(report))
    finally:
        close()
    results = [_collected(batches, batches.require(key)) for key in targets]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            for version in result["versions"]:
                for path in version["files"]:
                    print(path)
            for failure in result["failed"]:
                _progress(f"{result['batch_id']} {failure['custom_id']}: {failure['message']}")
    for key in targets:
        record = batches.require(key)
        if record.status == "expired" and any(line.state == "expired" for line in batches.lines(key)):
            _progress(f"{record.batch_id} expired before every request ran; send the rest again with "
                      f"`gptimg batch resubmit {record.batch_id}`.")
    return EXIT_OK


def _cancel(args: argparse.Namespace, store: Any) -> int:
    from ..store.batches import BatchStore

    record = _require(BatchStore(store), args.batch_id)
    if record.finished:
        raise CliError(f"Batch {record.batch_id} is already {record.status}; there is nothing to cancel.",
                       EXIT_REFUSED)
    engine, close = _engine(store)
    try:
        record = engine.cancel(record)
    finally:
        close()
    print(f"{record.batch_id} {record.status}: what finished before the cancel is still collected "
          "(`gptimg batch collect`).")
    return EXIT_OK


def _resubmit(args: argparse.Namespace, store: Any) -> int:
    from ..store.batches import BatchStore

    record = _require(BatchStore(store), args.batch_id)
    engine, close = _engine(store)
    try:
        new = engine.resubmit_expired(record)
    finally:
        close()
    if new is None:
        raise CliError(f"Batch {record.batch_id} has no expired requests to send again.", EXIT_REFUSED)
    if args.json:
        print(json.dumps({"batch_id": new.batch_id, "endpoint": new.endpoint, "requests": new.requests}))
    else:
        print(f"{new.batch_id}  {new.endpoint}  {new.requests} request(s)")
    return EXIT_OK


def run_set_batch(args: argparse.Namespace, plan: Any) -> int:
    """`gptimg set … --batch`: the anchor runs now (the other items are edits of it), the rest go into one batch."""
    from ..connection import choose_provider
    from ..jobs.batch_engine import BatchItem
    from ..jobs.sets import SetRunner, item_job_spec
    from ..provider.client import ImagesClient
    from ..provider.errors import ProviderError
    from ..store import sets as set_store
    from .sets import _check_set_budget, _reference_sizes

    _state["in_batch_command"] = True
    store = _open_store()
    try:
        prices = _price_table(store)
        estimate = plan.estimate(prices, _reference_sizes(plan))  # an upper bound: the rest goes at half price
        _check_set_budget(args, store, args.project, estimate.credits, estimate.usd)
        engine, close = _engine(store)  # refuses before anything is recorded when there is no real provider
        choice = choose_provider(store, start_demo=False)
        client = ImagesClient(choice.config)
        try:
            runner = SetRunner(store, client, prices)
            record = runner.record(plan, args.project)
            anchor = record.anchor
            assert anchor is not None
            _progress(f"set {record.id}: making the anchor ({anchor.item_id}) now…")
            version = runner.run_item(record.id, anchor.item_id)
            if version is None:
                item = next(i for i in set_store.get_set(store, record.id).items if i.anchor)
                raise CliError(f"The anchor was not made ({item.error or 'it failed'}); nothing was batched. "
                               f"Run the set again.")
            set_store.set_anchor_approved(store, record.id, True)
            record = set_store.get_set(store, record.id)
            others = [i for i in record.items if not i.anchor]
            items = [BatchItem(item_job_spec(store, record, i.item_id), f"item {i.item_id}") for i in others]
            by_spec = {id(item.spec): other.item_id for item, other in zip(items, others, strict=True)}
            prepared = engine.prepare(items)
            credits, usd = engine.estimate(prepared)

            def link(p: Any, job: Any) -> None:
                set_store.update_item(store, record.id, by_spec[id(p.item.spec)], "queued", job_id=job.id)

            records = engine.record(prepared, args.project, on_job=link) if prepared else []
            try:
                sent = [engine.send(r) for r in records]
            except ProviderError as exc:
                raise CliError(f"{exc.user_message} The batch is saved and is sent by the next gptimg command.") \
                    from None
        finally:
            client.close()
            choice.close()
            close()
        data = {
            "set_id": record.id,
            "anchor": {"id": anchor.item_id, "version_id": version.id, "files": [str(version.path)],
                       "cost_usd": version.cost_usd},
            "batches": [{"batch_id": r.batch_id, "endpoint": r.endpoint, "requests": r.requests} for r in sent],
            "requests": sum(r.requests for r in sent),
            "estimate": {"credits": credits, "usd": usd},
        }
        if args.json:
            print(json.dumps(data, indent=2))
        else:
            print(f"{anchor.item_id:16} succeeded  {version.path}")
            for r in sent:
                print(f"{r.batch_id}  {r.endpoint}  {r.requests} request(s)")
            _progress(f"set {record.id}: anchor made; {data['requests']} item(s) in a batch at half price "
                      f"(about ${usd:.4f}), within 24 h. Collect with `gptimg batch collect --wait`.")
        return EXIT_OK
    finally:
        store.close()


def run_channels_batch(args: argparse.Namespace, store: Any, version: Any, plans: list[Any], out: Path) -> int:
    """`gptimg channels … --batch`: every channel in one batch; each is written at exact pixels into ``out`` when
    the batch is collected."""
    from ..provider.errors import ProviderError

    _state["in_batch_command"] = True
    engine, close = _engine(store)
    try:
        records = engine.record_channels(version, plans, out)
        credits = sum(r.estimate_credits for r in records)
        usd = round(sum(r.estimate_usd for r in records), 6)
        try:
            sent = [engine.send(r) for r in records]
        except ProviderError as exc:
            raise CliError(f"{exc.user_message} The batch is saved and is sent by the next gptimg command.") from None
    finally:
        close()
    data = {
        "batches": [{"batch_id": r.batch_id, "endpoint": r.endpoint, "requests": r.requests} for r in sent],
        "requests": sum(r.requests for r in sent),
        "estimate": {"credits": credits, "usd": usd},
        "deliver_to": str(out.absolute()),
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for r in sent:
            print(f"{r.batch_id}  {r.endpoint}  {r.requests} channel(s)")
        _progress(f"{data['requests']} channel(s) in a batch at half price (about ${usd:.4f}); collected files go "
                  f"to {out} at exact pixels. Collect with `gptimg batch collect --wait`.")
    return EXIT_OK


_ACTIONS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "submit": _submit,
    "list": _list,
    "status": _status,
    "collect": _collect,
    "cancel": _cancel,
    "resubmit": _resubmit,
}


# ---------------------------------------------------------------------------- shapes
def _require(batches: Any, batch_id: str) -> Any:
    record = batches.get(batch_id)
    if record is None:
        raise CliError(f"There is no batch {batch_id} in the history; see `gptimg batch list`.", EXIT_REFUSED)
    return record


def _entry(batches: Any, record: Any) -> dict[str, Any]:
    """One batch as `batch list` shows it (a CLI contract: add keys, never rename)."""
    spent = batches.cost_usd(record.key)
    return {
        "batch_id": record.batch_id,
        "status": record.status,
        "requests": record.requests,
        "completed": record.completed,
        "failed": record.failed,
        "created_at": record.created_at,
        "cost_usd": spent if spent or record.collected_at else record.estimate_usd,
        "endpoint": record.endpoint,
        "collected": record.collected_at is not None,
    }


def _collected(batches: Any, record: Any) -> dict[str, Any]:
    """What the history holds from one batch, in the `batch collect --json` shape."""
    versions, failed = [], []
    store = batches.history
    for line in batches.lines(record.key):
        if line.state == "imported" and line.job_id:
            for v in store.versions_for_job(line.job_id):
                versions.append({"version_id": v.id, "custom_id": line.custom_id, "files": [str(v.path)],
                                 "cost_usd": v.cost_usd})
        elif line.state in ("failed", "expired", "cancelled"):
            failed.append({"custom_id": line.custom_id, "message": line.message or line.state})
    return {"batch_id": record.batch_id, "status": record.status, "versions": versions, "failed": failed}


def _report_line(report: Any) -> str:
    b = report.batch
    if report.busy:
        return f"{b.batch_id}: another gptimg is collecting it."
    parts = [f"{len(report.versions)} image(s) collected"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.expired:
        parts.append(f"{len(report.expired)} expired (resend with `gptimg batch resubmit {b.batch_id}`)")
    if report.cancelled:
        parts.append(f"{len(report.cancelled)} cancelled")
    return f"Batch {b.batch_id} {b.status}: " + ", ".join(parts) + "."


__all__ = ["EXIT_FAILED", "register", "resume_batches", "run_channels_batch", "run_set_batch"]
