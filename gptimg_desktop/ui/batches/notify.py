"""A desktop notification when a batch finishes: the system tray's balloon where there is one, else the window's
status bar and a taskbar alert. Whatever the desktop offers, the message is never lost."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMainWindow, QSystemTrayIcon


def notify(window: QMainWindow, title: str, text: str) -> str:
    """Tell the user; returns how ("tray" or "status bar") so tests can see it happened."""
    window.statusBar().showMessage(f"{title}: {text}", 15000)
    QApplication.alert(window)
    how = "status bar"
    if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
        tray = getattr(window, "_batch_tray_icon", None)
        if tray is None:
            tray = QSystemTrayIcon(window.windowIcon(), window)
            window._batch_tray_icon = tray  # type: ignore[attr-defined]
            tray.show()
        tray.showMessage(title, text)
        how = "tray"
    window.setProperty("lastNotification", f"{title}: {text}")
    return how
