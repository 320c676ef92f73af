"""Helpers shared by the tests: real images on disk, real drag-and-drop events, an in-memory keyring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from keyring.backend import KeyringBackend
from PIL import Image


def gradient_photo(path, size=(1024, 1024)):
    """A smooth RGB gradient saved at ``path`` (PNG by extension); returns ``path`` as given."""
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = np.linspace(30, 220, w, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(60, 160, h, dtype=np.uint8)[:, None]
    arr[..., 2] = 120
    Image.fromarray(arr).save(path)
    return path


def lay_out_window(qtbot, window, size: tuple[int, int]) -> None:
    """Size the window as a screen would and put every panel back in place (View → Reset Panels), laid out."""
    from PySide6.QtWidgets import QApplication

    window.resize(*size)
    window.reset_layout()
    qtbot.wait(50)
    QApplication.processEvents()


def drop_files(widget, paths: list[str]) -> None:
    """Drag ``paths`` from the file manager and drop them on ``widget`` (enter, then drop)."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.rect().center()
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        enter = QDragEnterEvent(QPointF(pos), *args)
    except TypeError:  # PySide6 6.11 takes a QPoint here
        enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(widget, enter)
    QApplication.sendEvent(widget, QDropEvent(QPointF(pos), *args))


class MemoryKeyring(KeyringBackend):
    """A keyring kept in memory; priority below zero so merely importing it never makes it the default."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.values.get((service, username))

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def delete_password(self, service, username):
        self.values.pop((service, username), None)


__all__ = ["MemoryKeyring", "Path", "drop_files", "gradient_photo"]
