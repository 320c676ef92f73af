"""`gptimg-desktop`: builds the services (history, provider, job queue), the window, and runs Qt.

``create_window()`` returns the main window without entering the event loop (tests and
automation use it). With OPENAI_BASE_URL and OPENAI_API_KEY set, that provider is used,
overriding saved settings; GPTIMG_HOME moves all data; with no key the app opens in demo mode.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__

log = logging.getLogger("gptimg.app")

APP_NAME = "gptimg-desktop"


class AppServices:
    """Everything behind the window; closed when the window goes away."""

    def __init__(self, environ=os.environ, demo_delay: float = 0.35, force_demo: bool = False) -> None:
        from .connection import choose_provider
        from .core.pricing import PriceTable
        from .jobs.pipeline import JobPipeline
        from .jobs.queue import JobQueue
        from .provider.client import ImagesClient
        from .store.history import HistoryStore
        from .store.paths import data_dir

        self.environ = environ
        self.store = HistoryStore()
        self.data_dir = data_dir()
        self.prices = PriceTable.from_dict(self.store.get_setting("prices", None))
        self.force_demo = force_demo
        self.choice = choose_provider(self.store, environ, start_demo=False)
        if force_demo or self.choice.is_demo:
            from .connection import start_demo_provider

            self.choice = start_demo_provider(delay=demo_delay)
        self.client = ImagesClient(self.choice.config)
        self.recovered = []
        self.gave_up: list = []  # saved paid answers that can never be finished (reasons on the jobs)
        try:
            from .jobs.recovery import recover

            report = recover(self.store, self.prices)
            self.recovered, self.gave_up = report.versions, report.gave_up
        except Exception:  # recovery must never stop the app from opening
            log.exception("recovering paid answers failed")
        self.jobs = JobQueue(lambda: JobPipeline(self.store, self.client, self.prices))
        self.close_hooks: list = []  # features that must stop before the store closes (the batch monitor)
        self.sets: Any = None  # the Sets feature (ui/sets), attached by create_window

    @property
    def provider_label(self) -> str:
        cfg = self.choice.config
        if self.choice.is_demo:
            return "Demo mode (local server)"
        where = "environment" if self.choice.source == "environment" else "settings"
        return f"{cfg.kind}: {cfg.base_url} (from {where})"

    def reload_provider(self) -> None:
        from .connection import choose_provider, start_demo_provider
        from .provider.client import ImagesClient

        new_choice = choose_provider(self.store, self.environ, start_demo=False)
        if self.force_demo or new_choice.is_demo:
            if self.choice.is_demo:
                return
            new_choice = start_demo_provider()
        old_choice, old_client = self.choice, self.client
        self.choice, self.client = new_choice, ImagesClient(new_choice.config)
        old_client.close()
        old_choice.close()

    def close(self) -> None:
        for hook in self.close_hooks:
            try:
                hook()
            except Exception:  # one feature failing to close must not keep the store or the worker open
                logging.getLogger("gptimg").warning("closing %r failed", hook, exc_info=True)
        if self.sets is not None:
            self.sets.close()
        self.jobs.shutdown()
        self.client.close()
        self.choice.close()
        self.store.close()


def ensure_app():
    from PySide6.QtWidgets import QApplication

    from .malloc_tuning import return_big_buffers_to_os

    return_big_buffers_to_os()  # 4K frames come and go all session: don't let them fragment the heap
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(sys.argv[:1])
        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName("gptimg-desktop")
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_NAME)
        app.setDesktopFileName(APP_NAME)
    try:
        from .ui.theme.style import apply_theme

        apply_theme(app)
    except ImportError:
        pass
    return app


def create_window(environ=os.environ, demo_delay: float = 0.35, force_demo: bool = False):
    """The main window, ready to show, without entering the event loop."""
    app = ensure_app()
    from .editor.ui_settings import open_ui_settings
    from .ui.theme.resources import app_icon
    from .ui.window.main_window import MainWindow

    services = AppServices(environ, demo_delay=demo_delay, force_demo=force_demo)
    scratch = services.data_dir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)

    def open_settings(parent) -> None:
        from .ui.window.settings_dialog import SettingsDialog

        dialog = SettingsDialog(services.store, services.data_dir, services.prices, parent,
                                env_override=services.choice.source == "environment")
        if dialog.exec():
            services.prices = dialog.price_table()
            window.prices = services.prices
            window.prompt.set_price_table(services.prices)
            window.prompt.set_transparent_preview_allowed(dialog.transparent_preview_allowed())
            services.reload_provider()
            window.banner.setVisible(services.choice.is_demo)
            window.provider_label.setText(services.provider_label)
            if dialog.notice:
                window.statusBar().showMessage(dialog.notice, 15000)

    window = MainWindow(
        services.store,
        services.jobs,
        demo=services.choice.is_demo,
        provider_label=services.provider_label,
        prices=services.prices,
        settings=open_ui_settings(),
        scratch_dir=scratch,
        open_settings=open_settings,
    )
    window.services = services
    window.setWindowIcon(app_icon())
    app.setWindowIcon(app_icon())
    window.prompt.set_transparent_preview_allowed(bool(services.store.get_setting("transparent_preview", False)))
    if services.recovered:
        window.statusBar().showMessage(
            f"Recovered {len(services.recovered)} paid image(s) that arrived before the app last closed.", 10000
        )
        window.history.refresh()
    elif services.gave_up:
        window.statusBar().showMessage(
            f"{len(services.gave_up)} paid answer(s) saved earlier can't be used; the reasons are in the jobs' "
            "errors (the raw answers stay in the data folder).", 15000
        )
    if getattr(services.store, "recovered_from", None):
        window.prompt.set_error(
            f"The history database was damaged. It was moved to {services.store.recovered_from} "
            "and a new one was started; your image files are untouched."
        )
    _open_files_from_the_os(app, window)
    from .editor.autosave import SessionAutosave

    # Unsaved work (prompt, mask, references, canvas) is autosaved; after a crash it comes back here.
    window.autosave = SessionAutosave(window.document, services.data_dir / "session",
                                      temp_dirs=(Path(window.tray.scratch_dir()), scratch), parent=window)
    window.autosave.watch_close(window)
    window.autosave.message.connect(lambda text: window.statusBar().showMessage(text, 15000))
    window.autosave.restore()
    from .ui.sets import install_sets

    services.sets = install_sets(window, services)  # the Sets workspace and Channels… (ui/sets)
    from .ui.batches import install_batches

    install_batches(window, services)  # the Batches tab (and the Sets workspace's batch choice); resumes batches
    window.destroyed.connect(lambda *_: services.close())
    app.aboutToQuit.connect(services.close)
    return window


def _open_files_from_the_os(app, window) -> None:
    """macOS delivers "Open With" files as QFileOpenEvent, not on the command line."""
    from PySide6.QtCore import QEvent, QObject

    class FileOpenFilter(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt API)
            if event.type() == QEvent.Type.FileOpen and event.file():
                window.open_image(event.file())
                return True
            return False

    window._file_open_filter = FileOpenFilter(window)
    app.installEventFilter(window._file_open_filter)


def _selftest(window) -> int:
    """Open the window, run a short scripted session against the local server, exit 0 on success."""
    from .ui.window.selftest import run_selftest

    return run_selftest(window)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Desktop studio for GPT Image models.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--selftest", action="store_true", help="run a scripted session against the local server and exit")
    parser.add_argument("--demo", action="store_true", help="use the local demo server even if a key is configured")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("image", nargs="?", help="an image to open")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    environ = dict(os.environ)
    if args.selftest and "GPTIMG_HOME" not in os.environ:
        import tempfile

        os.environ["GPTIMG_HOME"] = tempfile.mkdtemp(prefix="gptimg-selftest-")
    app = ensure_app()
    window = create_window(environ, demo_delay=0.05 if args.selftest else 0.35,
                           force_demo=args.demo or args.selftest)
    if args.selftest:
        return _selftest(window)
    window.show()
    if args.image:
        window.open_image(args.image)
    code = app.exec()
    return code


if __name__ == "__main__":
    sys.exit(main())
