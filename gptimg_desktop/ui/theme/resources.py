"""Finds the files in resources/ through importlib.resources, from an install, a checkout or the bundle."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources as _res
from pathlib import Path

from PySide6.QtGui import QIcon


@lru_cache(maxsize=1)
def resource_root() -> Path:
    try:
        root = Path(str(_res.files("gptimg_desktop.resources")))
        if (root / "icons").is_dir():
            return root
    except ModuleNotFoundError:
        pass
    # Running from a source tree that was never installed: resources/ beside the package.
    return Path(__file__).resolve().parents[3] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        path = resource_path("icons", f"app-{size}.png")
        if path.exists():
            icon.addFile(str(path))
    return icon
