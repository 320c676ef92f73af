"""Where the app keeps its data and settings on disk, created private to the user (mode 0o700).

``GPTIMG_HOME`` overrides everything, so tests, portable installs and demos get one self-contained folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "gptimg-desktop"
HOME_ENV = "GPTIMG_HOME"
PRIVATE_MODE = 0o700
# images: generated results; inputs: copies of input images and masks so a job can be restored;
# thumbs: history thumbnails; responses: raw provider responses kept before decoding (paid results survive a
# decoding bug); exports: files the user exported; logs: the app's logs.
SUBFOLDERS = ("images", "inputs", "thumbs", "responses", "exports", "logs")


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it readable by the user only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_MODE)
    # mkdir's mode is filtered by the umask and ignored for a folder that already exists; chmod is not.
    os.chmod(path, PRIVATE_MODE)
    return path


def prepare_data_dir(root: Path) -> Path:
    """Create ``root`` and its subfolders, all private; return ``root``."""
    make_private_dir(root)
    for name in SUBFOLDERS:
        make_private_dir(root / name)
    return root


def data_dir() -> Path:
    """The folder holding history.db and the image files, with its subfolders created."""
    home = os.environ.get(HOME_ENV)
    if home:
        return prepare_data_dir(Path(home).expanduser())
    chosen = chosen_data_dir()
    return prepare_data_dir(chosen or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


DATA_DIR_CHOICE = "data-dir.txt"  # in config_dir(): the folder chosen in Settings, read by the app and the CLI


def chosen_data_dir() -> Path | None:
    """The data folder chosen in Settings (a plain file, so the CLI honours it too), or None."""
    try:
        text = (config_dir() / DATA_DIR_CHOICE).read_text("utf-8").strip()
    except (FileNotFoundError, OSError):
        return None
    return Path(text).expanduser() if text else None


def set_data_dir_choice(path: Path | None) -> None:
    """Remember the data folder for the next start (None: back to the default). GPTIMG_HOME still wins."""
    from .files import atomic_write

    target = config_dir() / DATA_DIR_CHOICE
    if path is None:
        target.unlink(missing_ok=True)
        return
    atomic_write(target, str(Path(path).expanduser()).encode("utf-8"))


def config_dir() -> Path:
    """The folder for settings files: ``$GPTIMG_HOME/config`` when set, else the platform's config folder."""
    home = os.environ.get(HOME_ENV)
    path = Path(home).expanduser() / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    return make_private_dir(path)


def subfolder(name: str, root: Path | None = None) -> Path:
    """One of SUBFOLDERS under ``root`` (default: data_dir()), created if missing."""
    if name not in SUBFOLDERS:
        raise ValueError(f"Unknown data folder '{name}'; expected one of: {', '.join(SUBFOLDERS)}.")
    return make_private_dir((root or data_dir()) / name)


def exports_dir(root: Path | None = None) -> Path:
    return subfolder("exports", root)


def logs_dir(root: Path | None = None) -> Path:
    return subfolder("logs", root)
