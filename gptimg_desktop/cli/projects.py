"""`gptimg export`, `project`, `budget` and `star`: iterating with the history from the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from ..core.text import terminal_safe
from . import EXIT_OK, EXIT_REFUSED, CliError, _open_store


def register(sub) -> dict[str, Callable[[argparse.Namespace], int]]:
    exp = sub.add_parser("export", help="save one version as PNG, JPEG or WebP with its prompt embedded")
    exp.add_argument("version_id", metavar="VERSION_ID")
    exp.add_argument("file", type=Path, metavar="FILE", help="the format follows the extension: .png .jpg .webp")

    proj = sub.add_parser("project", help="list, create, rename, delete, export or import projects")
    actions = proj.add_subparsers(dest="project_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="projects with their versions, spending and budgets")
    listing.add_argument("--json", action="store_true")
    actions.add_parser("create", help="make an empty project").add_argument("name")
    rename = actions.add_parser("rename", help="give a project a new name")
    rename.add_argument("old")
    rename.add_argument("new")
    delete = actions.add_parser("delete", help="remove a project's versions from the history (files stay)")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    bundle_out = actions.add_parser("export", help="write a project and its images to one bundle file")
    bundle_out.add_argument("name")
    bundle_out.add_argument("file", type=Path)
    bundle_in = actions.add_parser("import", help="add a bundle's project to the history (nothing is overwritten)")
    bundle_in.add_argument("file", type=Path)

    budget = sub.add_parser("budget", help="show or set the overall or a project's budget")
    budget.add_argument("--credits", type=int, default=None, help="budget in credits")
    budget.add_argument("--usd", type=float, default=None, help="budget in US dollars")
    budget.add_argument("--project", default=None, help="a project's budget instead of the overall one")
    budget.add_argument("--clear", action="store_true", help="remove the budget")
    budget.add_argument("--json", action="store_true")

    star = sub.add_parser("star", help="star a version (or unstar it with --off)")
    star.add_argument("version_id", metavar="VERSION_ID")
    star.add_argument("--off", action="store_true", help="remove the star")
    return {"export": cmd_export, "project": cmd_project, "budget": cmd_budget, "star": cmd_star}


class _refusals:
    """Turn the store's one-sentence refusals into exit code 2 (bad input), never a traceback."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from ..store.history import RecordNotFound

        if exc is None or isinstance(exc, CliError):
            return False
        if isinstance(exc, RecordNotFound | ValueError):  # BundleError is a ValueError
            raise CliError(str(exc), EXIT_REFUSED) from None
        return False


def _export_metadata(version) -> dict:
    # The same keys the editor's export writes, so both kinds of export read back alike.
    return {
        "prompt": version.prompt,
        "model": version.model,
        "size": version.size,
        "quality": version.quality,
        "parent": version.parent_id,
        "version": version.id,
        "kind": version.kind,
        "created_at": version.created_at,
    }


def cmd_export(args) -> int:
    from PIL import Image

    from ..core.export import encode_with_metadata, format_for_path
    from ..store.files import atomic_write

    fmt = format_for_path(args.file)  # an unknown extension is refused (exit 2) before anything is opened
    target = args.file.expanduser().absolute()
    if not target.parent.is_dir():
        raise CliError(f"The folder {target.parent} does not exist; create it or choose another.", EXIT_REFUSED)
    store = _open_store()
    try:
        version = store.get_version(args.version_id)
        if version is None:
            raise CliError(f"No version '{args.version_id}' in the history; see `gptimg history`.", EXIT_REFUSED)
        if not version.path.is_file():
            raise CliError(f"The image of version {version.id} is missing from the data folder ({version.path}).")
        try:
            with Image.open(version.path) as img:
                img.load()
                data = encode_with_metadata(img, fmt, _export_metadata(version))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise CliError(f"The file of version {version.id} ({version.path}) is not a readable image (damaged "
                           "or replaced), so it can't be exported.") from None
        atomic_write(target, data)
        print(target)
        return EXIT_OK
    finally:
        store.close()


def cmd_project(args) -> int:
    store = _open_store()
    try:
        with _refusals():
            return _PROJECT_ACTIONS[args.project_command](args, store)
    finally:
        store.close()


def _project_list(args, store) -> int:
    counts = store.version_counts()
    rows = []
    for project in store.list_projects():
        used = store.usage_totals(project=project.name)
        rows.append({
            "name": project.name,
            "created_at": project.created_at,
            "versions": counts.get(project.name, 0),
            "used_credits": used.credits,
            "used_usd": used.cost_usd,
            "budget_credits": project.budget_credits,
            "budget_usd": project.budget_usd,
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        budget = _budget_text(row["budget_credits"], row["budget_usd"])
        print(f"{terminal_safe(row['name'])}  ·  {row['versions']} versions  ·  {row['used_credits']:,} credits, "
              f"${row['used_usd']:.2f} used{budget}")
    return EXIT_OK


def _budget_text(credits, usd) -> str:
    from ..core.budget import format_usd

    parts = ([f"{credits:,} credits"] if credits is not None else []) + ([format_usd(usd)] if usd is not None else [])
    return f"  ·  budget {' and '.join(parts)}" if parts else ""


def _project_create(args, store) -> int:
    if store.get_project(" ".join(args.name.split())) is not None:
        raise CliError(f"A project named '{args.name}' already exists.", EXIT_REFUSED)
    print(f"Created project {store.ensure_project(args.name).name}.")
    return EXIT_OK


def _project_rename(args, store) -> int:
    renamed = store.rename_project(args.old, args.new)
    print(f"Renamed project {args.old} to {renamed.name}.")
    return EXIT_OK


def _project_delete(args, store) -> int:
    project = store.get_project(args.name)
    if project is None:
        raise CliError(f"There is no project named '{args.name}'.", EXIT_REFUSED)
    count = store.version_counts().get(project.name, 0)
    if not args.yes:
        raise CliError(
            f"Deleting project {project.name} removes its {count} versions from the history (the image files "
            "stay on disk); add --yes to confirm.",
            EXIT_REFUSED,
        )
    store.delete_project(project.name)
    print(f"Deleted project {project.name} ({count} versions); its image files are still in {store.root}.")
    return EXIT_OK


def _project_export(args, store) -> int:
    from ..store.bundles import export_project

    target = args.file.expanduser().absolute()
    print(terminal_safe(export_project(store, args.name, target).describe_export()))
    return EXIT_OK


def _project_import(args, store) -> int:
    from ..store.bundles import import_bundle

    print(terminal_safe(import_bundle(store, args.file.expanduser()).describe_import()))
    return EXIT_OK


_PROJECT_ACTIONS = {
    "list": _project_list,
    "create": _project_create,
    "rename": _project_rename,
    "delete": _project_delete,
    "export": _project_export,
    "import": _project_import,
}


def cmd_budget(args) -> int:
    from ..core.budget import Budget, evaluate, format_usd

    if args.clear and (args.credits is not None or args.usd is not None):
        raise CliError("Use either --clear or --credits/--usd, not both.", EXIT_REFUSED)
    store = _open_store()
    try:
        with _refusals():
            project = " ".join(args.project.split()) if args.project is not None else None
            if project is not None and store.get_project(project) is None:
                raise CliError(
                    f"There is no project named '{args.project}'; create it with `gptimg project create`.",
                    EXIT_REFUSED,
                )
            credits, usd = store.budget_for(project)
            if args.clear or args.credits is not None or args.usd is not None:
                credits = None if args.clear else (args.credits if args.credits is not None else credits)
                usd = None if args.clear else (args.usd if args.usd is not None else usd)
                if project is None:
                    store.set_global_budget(credits, usd)
                else:
                    store.set_project_budget(project, credits, usd)
            used = store.usage_totals(project=project)
            status = evaluate(Budget(credits, usd, project), used.credits, used.cost_usd)
        if args.json:
            print(json.dumps({
                "project": project,
                "budget_credits": credits,
                "budget_usd": usd,
                "used_credits": used.credits,
                "used_usd": used.cost_usd,
                "level": status.level,
            }, indent=2))
            return EXIT_OK
        scope = f"Project {project}" if project is not None else "Overall"
        credit_text = (f"{used.credits:,} / {credits:,} credits ({_share(used.credits, credits)})"
                       if credits is not None else f"{used.credits:,} credits used, no credit budget")
        usd_text = (f"{format_usd(used.cost_usd)} / {format_usd(usd)} ({_share(used.cost_usd, usd)})"
                    if usd is not None else f"{format_usd(used.cost_usd)} used, no USD budget")
        print(f"{scope}: {credit_text} · {usd_text} · {status.level}")
        return EXIT_OK
    finally:
        store.close()


def _share(used: float, limit: float) -> str:
    return f"{used / limit * 100:.0f} %" if limit > 0 else "100 %"


def cmd_star(args) -> int:
    store = _open_store()
    try:
        with _refusals():
            version = store.set_star(args.version_id, not args.off)
        print(f"{'Starred' if version.starred else 'Unstarred'} {version.id}.")
        return EXIT_OK
    finally:
        store.close()
