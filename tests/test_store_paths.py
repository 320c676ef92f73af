"""The data and config folders: where they are, and that only the user can read them."""

from __future__ import annotations

import os
import stat

import pytest

from gptimg_desktop.store import paths


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_dir_follows_gptimg_home_and_creates_private_subfolders(gptimg_home):
    root = paths.data_dir()

    assert root == gptimg_home
    assert _mode(root) == 0o700
    for name in ("images", "inputs", "thumbs", "responses", "exports", "logs"):
        assert (root / name).is_dir()
        assert _mode(root / name) == 0o700


def test_data_dir_tightens_a_folder_that_was_readable_by_others(gptimg_home):
    os.chmod(gptimg_home, 0o755)
    (gptimg_home / "images").mkdir(mode=0o777)
    os.chmod(gptimg_home / "images", 0o777)

    paths.data_dir()

    assert _mode(gptimg_home) == 0o700
    assert _mode(gptimg_home / "images") == 0o700


def test_config_dir_lives_under_gptimg_home(gptimg_home):
    folder = paths.config_dir()

    assert folder == gptimg_home / "config"
    assert _mode(folder) == 0o700


def test_without_gptimg_home_the_platform_folders_are_used(tmp_path, monkeypatch):
    monkeypatch.delenv("GPTIMG_HOME", raising=False)
    calls = []

    def fake_data(appname, appauthor=None):
        calls.append(("data", appname, appauthor))
        return str(tmp_path / "platform-data")

    def fake_config(appname, appauthor=None):
        calls.append(("config", appname, appauthor))
        return str(tmp_path / "platform-config")

    monkeypatch.setattr(paths.platformdirs, "user_data_dir", fake_data)
    monkeypatch.setattr(paths.platformdirs, "user_config_dir", fake_config)

    assert paths.data_dir() == tmp_path / "platform-data"
    assert paths.config_dir() == tmp_path / "platform-config"
    # data_dir() first looks for a folder chosen in Settings, in the config folder.
    assert calls == [("config", "gptimg-desktop", False), ("data", "gptimg-desktop", False),
                     ("config", "gptimg-desktop", False)]
    assert _mode(tmp_path / "platform-data") == 0o700
    assert (tmp_path / "platform-data" / "logs").is_dir()


def test_subfolder_helpers(gptimg_home):
    assert paths.exports_dir() == gptimg_home / "exports"
    assert paths.logs_dir(gptimg_home / "other") == gptimg_home / "other" / "logs"
    with pytest.raises(ValueError, match="Unknown data folder"):
        paths.subfolder("downloads")


def test_the_data_folder_chosen_in_settings_takes_effect_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.delenv("GPTIMG_HOME", raising=False)
    monkeypatch.setattr(paths.platformdirs, "user_config_dir", lambda *a, **k: str(tmp_path / "config"))
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "default"))
    assert paths.data_dir() == tmp_path / "default"
    paths.set_data_dir_choice(tmp_path / "elsewhere")
    assert paths.data_dir() == tmp_path / "elsewhere" and (tmp_path / "elsewhere" / "images").is_dir()
    from gptimg_desktop.store.history import HistoryStore

    with HistoryStore() as store:  # what the app and the CLI open
        assert store.root == tmp_path / "elsewhere"
    paths.set_data_dir_choice(None)
    assert paths.data_dir() == tmp_path / "default"
    monkeypatch.setenv("GPTIMG_HOME", str(tmp_path / "home"))  # GPTIMG_HOME still wins
    assert paths.data_dir() == tmp_path / "home"
