"""The Batches feature of the editor: the panel, and ``install_batches`` which puts it in a window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from ...jobs.batch_monitor import BatchMonitor
from ..common.dock_panel import DockPanel
from .batches_panel import BatchesPanel
from .notify import notify
from .set_batch import add_channels_batch_button, add_set_batch_button


def install_batches(window: Any, services: Any) -> BatchesPanel:
    """Add the Batches panel as a dock tabbed with Jobs, wire it to the window, and resume unfinished batches."""
    monitor = BatchMonitor(services.store, lambda: services.choice.config, lambda: services.prices)
    window.batch_monitor = monitor  # no Qt parent: it must outlive the window until the services close
    panel = BatchesPanel(monitor, window.build_spec, lambda: window.project, window)
    dock = DockPanel("Batches", "batchesDock", panel, window)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.tabifyDockWidget(window.jobs_dock, dock)
    window.jobs_dock.raise_()  # Jobs stays in front; the Batches tab sits beside it
    window.batches_dock = dock
    panel.runNowRequested.connect(window.run)

    def finished(batch_id: str, status: str, versions: int, failed: int) -> None:
        window.history.refresh()  # results land in history like any other version
        window._update_totals()  # noqa: SLF001 - the window's own refresh of the spending label
        text = f"{versions} new version(s) in the history" + (f"; {failed} not made." if failed else ".")
        notify(window, f"Batch {status}", f"{batch_id}: {text}")

    monitor.batchFinished.connect(finished)
    sets = getattr(window, "sets", None)
    if sets is not None and hasattr(sets, "window_hooks"):  # the Sets workspace (ui/sets), when present
        sets.window_hooks.append(lambda sets_window: add_set_batch_button(sets_window, monitor))
        sets.channels_hooks.append(lambda dialog: add_channels_batch_button(dialog, monitor))
    services.close_hooks.append(monitor.close)
    window.batches_panel = panel
    monitor.start()
    return panel


__all__ = ["BatchesPanel", "add_set_batch_button", "install_batches", "notify"]
