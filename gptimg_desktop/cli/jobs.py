"""`gptimg jobs`: every job in the history, including those that made no version (failed, cancelled,
interrupted), so a command-line user can see what happened to each and restore it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from ..core.text import terminal_safe

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    jobs = sub.add_parser("jobs", help="list jobs, including those without versions (failed, interrupted …)")
    jobs.add_argument("--json", action="store_true", help="print the jobs as JSON")
    jobs.add_argument("--status", choices=STATUSES, default=None, help="only jobs with this status")
    jobs.add_argument("--project", default=None, help="only jobs of this project")
    jobs.add_argument("--limit", type=int, default=None)
    return {"jobs": cmd_jobs}


def job_record(job: Any, version_ids: list[str]) -> dict[str, Any]:
    """The JSON shape of one job: exactly the keys of the `gptimg jobs --json` contract."""
    return {
        "id": job.id,
        "status": job.status,
        "kind": job.kind,
        "model": job.model,
        "prompt": job.prompt,
        "created_at": job.created_at,
        "error": job.error,
        "version_ids": version_ids,
    }


def cmd_jobs(args: argparse.Namespace) -> int:
    from . import EXIT_OK, _open_store, _progress

    store = _open_store()
    try:
        jobs = store.list_jobs(status=args.status, project=args.project, limit=args.limit)
        versions = store.version_ids_by_job(j.id for j in jobs)
        records = [job_record(j, versions.get(j.id, [])) for j in jobs]
        if args.json:
            print(json.dumps(records, indent=2))  # ASCII escapes: nothing in it can drive a terminal
            return EXIT_OK
        if not records:
            _progress("No jobs" + (f" with status {args.status}" if args.status else "") + ".")
        for job, record in zip(jobs, records, strict=True):
            prompt = terminal_safe(job.prompt)
            prompt = prompt if len(prompt) <= 60 else prompt[:57] + "…"
            made = f"{len(record['version_ids'])} version(s)" if record["version_ids"] else "no versions"
            print(f"{job.id}  {job.created_at[:19]}  {job.status:11} {job.kind:8} {terminal_safe(job.model)}  "
                  f"{made}  {prompt}")
            if job.error and job.status != "succeeded":
                print(f"    {terminal_safe(job.error)}")
            if job.status in ("interrupted", "failed", "cancelled") and not record["version_ids"]:
                print(f"    restore: {restore_hint(job, store.root)}")
        return EXIT_OK
    finally:
        store.close()


def restore_hint(job: Any, root: Any) -> str:
    """How to run an unfinished job again from the command line, with the inputs the history kept."""
    prompt = json.dumps(terminal_safe(job.prompt))
    params = job.params if isinstance(job.params, dict) else {}
    options = "".join(f" --{name} {terminal_safe(params[key])}" for name, key in
                      (("size", "size"), ("quality", "quality")) if params.get(key))
    if job.kind == "edit" and job.input_files:
        images = "".join(f" --image {terminal_safe(root / f.path)}" for f in job.input_files)
        mask = f" --mask {terminal_safe(root / job.mask_file)}" if job.mask_file else ""
        return f"gptimg edit {prompt}{images}{mask}{options}"
    return f"gptimg generate {prompt}{options}"


__all__ = ["STATUSES", "cmd_jobs", "job_record", "register", "restore_hint"]
