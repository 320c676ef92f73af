"""The one registry of the editor's own settings (QSettings): every key declared once, with its default.

Settings that the CLI shares live elsewhere on purpose: the provider, prices and transparent preview in the
history's settings table (store), the data folder in ``store.paths`` (a plain file the CLI reads too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

APP_NAME = "gptimg-desktop"


@dataclass(frozen=True)
class UiSetting:
    key: str
    default: Any
    description: str

    def read(self, settings: QSettings) -> Any:
        value = settings.value(self.key, self.default)
        return self.default if value is None else value

    def write(self, settings: QSettings, value: Any) -> None:
        settings.setValue(self.key, value)


WINDOW_GEOMETRY = UiSetting("window/geometry", None, "the window's size and place (QByteArray)")
WINDOW_STATE = UiSetting("window/state", None, "docks and toolbars (QByteArray)")
LAST_PROMPT_SETTINGS = UiSetting("prompt/last_settings", "", "the prompt panel at the last close (JSON)")
LAST_DIR = UiSetting("files/last_dir", str(Path.home()), "where Open and Export dialogs start")

REGISTRY = (WINDOW_GEOMETRY, WINDOW_STATE, LAST_PROMPT_SETTINGS, LAST_DIR)


def open_ui_settings() -> QSettings:
    """``$GPTIMG_HOME/config/ui.ini`` when GPTIMG_HOME is set (tests, portable installs), else the platform's."""
    home = os.environ.get("GPTIMG_HOME")
    if home:
        return QSettings(str(Path(home) / "config" / "ui.ini"), QSettings.Format.IniFormat)
    return QSettings(APP_NAME, APP_NAME)
