"""Export and import bundles from the UI: pick a file, run store.bundles on a worker thread, report one sentence.

``on_done(message, error)`` runs on the UI thread with the summary sentence, or "" and an error sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from ...editor.background import run_background

BUNDLE_SUFFIX = ".gptimg"
BUNDLE_FILTER = "gptimg bundles (*.gptimg *.zip);;All files (*)"
Done = Callable[[str, str], None]


def _friendly(error: str, doing: str) -> str:
    error = error.strip().rstrip(".")
    return f"{doing} failed: {error}." if error else f"{doing} failed; check the file and try again."


def default_bundle_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "project"
    return slug + BUNDLE_SUFFIX


def run_export_project(store, project: str, dest: Path, on_done: Done) -> None:
    from ...store.bundles import export_project

    run_background(lambda: export_project(store, project, Path(dest)).describe_export(),
                   lambda result, error: on_done(result or "", _friendly(error, "Export") if error else ""))


def run_export_branch(store, version_id: str, dest: Path, on_done: Done) -> None:
    from ...store.bundles import export_branch

    run_background(lambda: export_branch(store, version_id, Path(dest)).describe_export(),
                   lambda result, error: on_done(result or "", _friendly(error, "Export") if error else ""))


def run_import_bundle(store, src: Path, on_done: Done) -> None:
    from ...store.bundles import import_bundle

    run_background(lambda: import_bundle(store, Path(src)).describe_import(),
                   lambda result, error: on_done(result or "", _friendly(error, "Import") if error else ""))


def _save_path(parent: QWidget | None, title: str, suggested: str, folder: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / suggested), BUNDLE_FILTER)
    if not path:
        return None
    dest = Path(path)
    return dest if dest.suffix else dest.with_suffix(BUNDLE_SUFFIX)


def export_project_dialog(parent: QWidget | None, store, project: str, on_done: Done, folder: str = "") -> bool:
    """Ask where to save ``project`` as a bundle and export it; False when the user cancelled."""
    dest = _save_path(parent, f"Export project {project}", default_bundle_name(project), folder or str(Path.home()))
    if dest is None:
        return False
    run_export_project(store, project, dest, on_done)
    return True


def export_branch_dialog(parent: QWidget | None, store, version_id: str, on_done: Done, folder: str = "") -> bool:
    """Ask where to save the branch starting at ``version_id`` and export it; False when cancelled."""
    version = store.get_version(version_id)
    name = f"{version.project}-branch-{version_id}" if version else f"branch-{version_id}"
    dest = _save_path(parent, "Export branch", default_bundle_name(name), folder or str(Path.home()))
    if dest is None:
        return False
    run_export_branch(store, version_id, dest, on_done)
    return True


def import_bundle_dialog(parent: QWidget | None, store, on_done: Done, folder: str = "") -> bool:
    """Ask for a bundle file and import it; False when the user cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import bundle", folder or str(Path.home()), BUNDLE_FILTER)
    if not path:
        return False
    run_import_bundle(store, Path(path), on_done)
    return True
