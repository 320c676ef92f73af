"""The Sets workspace and the Channels… action, attached to the main window by ``install_sets``.

Kept out of main_window.py on purpose: the window gets a "Sets" menu and a history context-menu entry,
and everything else lives here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from ...jobs.set_queue import SetQueue

__all__ = ["SetsFeature", "install_sets"]


class SetsFeature:
    """The main window's handle on sets: one SetQueue, the workspace window, Channels dialogs."""

    def __init__(self, window: Any, services: Any) -> None:
        self.window = window
        self.services = services
        self.queue = SetQueue(lambda: (services.store, services.client, services.prices))
        self.sets_window: QWidget | None = None
        self.window_hooks: list[Any] = []  # other features add to the workspace when it opens (ui/batches)
        self.channels_hooks: list[Any] = []  # … and to each Channels dialog
        self.actionSets = QAction("&Sets Workspace…", window)
        self.actionSets.setObjectName("actionSets")
        self.actionSets.setShortcut(QKeySequence("Ctrl+Alt+S"))
        self.actionSets.setToolTip("Make a whole set from one brief: templates, a locked style, every format")
        self.actionSets.triggered.connect(self.open_sets)
        self.actionChannels = QAction("&Channels…", window)
        self.actionChannels.setObjectName("actionChannels")
        self.actionChannels.setToolTip("Re-render the current version for channel sizes at exact pixels")
        self.actionChannels.triggered.connect(lambda: self.open_channels(window.current_version_id))
        menu = window.menuBar().addMenu("&Sets")
        menu.addAction(self.actionSets)
        menu.addAction(self.actionChannels)
        window.addAction(self.actionSets)
        history = getattr(window, "history", None)
        if history is not None and hasattr(history, "channelsRequested"):
            history.channelsRequested.connect(self.open_channels)
        if getattr(window, "proof_actions", None) is not None:
            # A set item that was made is proofed like any result: against the text its prompt quotes.
            self.queue.itemMade.connect(window.proof_actions.auto_proof)  # a QObject's slot: run on the GUI thread

    def templates(self):
        from ...core.templates import load_templates

        return load_templates([self.services.data_dir / "templates"])

    def open_sets(self):
        from .sets_window import SetsWindow

        if self.sets_window is None:
            self.sets_window = SetsWindow(self.services.store, self.queue, self.templates(),
                                          lambda: self.services.prices, lambda: self.window.project, self.window)
            for hook in self.window_hooks:
                hook(self.sets_window)
        self.sets_window.show()
        self.sets_window.raise_()
        self.sets_window.activateWindow()
        return self.sets_window

    def open_channels(self, version_id: str | None, modal: bool = False):
        from ...store.paths import exports_dir
        from .channels_dialog import ChannelsDialog

        version = self.services.store.get_version(version_id) if version_id else None
        if version is None:
            self.window.statusBar().showMessage("Pick a version in the history first, then choose Channels….", 8000)
            return None
        out = exports_dir(self.services.data_dir) / f"channels-{version.id[:8]}"
        dialog = ChannelsDialog(self.services.store, self.queue, version, lambda: self.services.prices, out,
                                self.window)
        for hook in self.channels_hooks:
            hook(dialog)
        if modal:
            dialog.exec()
        else:
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()
        return dialog

    def close(self) -> None:
        self.queue.shutdown()


def install_sets(window: Any, services: Any) -> SetsFeature:
    feature = SetsFeature(window, services)
    window.sets = feature
    return feature
