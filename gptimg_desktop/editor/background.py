"""Run a function on the thread pool and get its result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

log = logging.getLogger("gptimg.editor")
_alive: set[_Relay] = set()  # relays stay alive until their result is delivered


class _Relay(QObject):
    done = Signal(object, str)  # result, error message ("" on success)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result, error = self.fn(), ""
        except Exception as exc:  # reported to the caller in plain words, never swallowed
            log.debug("background task failed", exc_info=True)
            result, error = None, str(exc) or type(exc).__name__
        try:
            self.relay.done.emit(result, error)
        except RuntimeError:  # the app quit while this ran: nobody is left to tell
            log.debug("background task finished after its receiver was deleted")


def run_background(fn: Callable[[], Any], on_done: Callable[[Any, str], None]) -> None:
    """Call ``fn()`` on a worker thread; ``on_done(result, error)`` runs on the GUI thread."""
    relay = _Relay()
    _alive.add(relay)

    def deliver(result: Any, error: str) -> None:
        _alive.discard(relay)
        on_done(result, error)

    relay.done.connect(deliver, Qt.ConnectionType.QueuedConnection)
    QThreadPool.globalInstance().start(_Task(fn, relay))
