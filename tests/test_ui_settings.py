"""Settings: provider, key in the keyring (never the database), test connection, prices."""

from __future__ import annotations

import keyring
import pytest
from support import MemoryKeyring

from gptimg_desktop.connection import config_from_saved
from gptimg_desktop.core.pricing import PriceTable
from gptimg_desktop.provider.keys import SESSION_KEYS
from gptimg_desktop.store.history import HistoryStore
from gptimg_desktop.ui.window.settings_dialog import SettingsDialog

KEY = "sk-test-settings-0123456789abcdef"




@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


def _dialog(qtbot, store, tmp_path):
    dialog = SettingsDialog(store, tmp_path, PriceTable())
    qtbot.addWidget(dialog)
    return dialog


def test_provider_fields_follow_the_provider_kind(qtbot, store, tmp_path):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.show()
    dialog.kind.setCurrentIndex(dialog.kind.findData("azure"))
    assert dialog.deployment.isVisible() and dialog.api_version.isVisible()
    assert not dialog.organization.isVisible()
    dialog.kind.setCurrentIndex(dialog.kind.findData("demo"))
    assert not dialog.api_key.isVisible()


def test_saving_puts_the_key_in_the_keyring_and_never_in_the_database(qtbot, store, tmp_path, memory_keyring):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("openai"))
    dialog.api_key.setText(KEY)
    dialog.accept()
    assert memory_keyring.values[("gptimg-desktop", "openai")] == KEY
    assert store.get_setting("provider")["kind"] == "openai"
    db_bytes = b"".join(p.read_bytes() for p in store.root.glob("history.db*"))
    assert KEY.encode() not in db_bytes


def test_no_keyring_keeps_the_key_for_this_session_only(qtbot, store, tmp_path):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("openai"))
    dialog.api_key.setText(KEY)
    dialog.accept()  # the null keyring backend from conftest refuses to store
    assert "session only" in dialog.error.text() and "session only" in dialog.notice
    try:
        # The app uses the session key for this run: the saved provider resolves to a real config.
        config = config_from_saved(store.get_setting("provider"), environ={})
        assert config is not None and config.kind == "openai" and config.api_key == KEY
    finally:
        assert SESSION_KEYS.pop("openai") == KEY


def test_test_connection_against_the_local_server(qtbot, store, tmp_path, dev_server):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("compatible"))
    dialog.base_url.setText(dev_server.url)
    dialog.api_key.setText(KEY)
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith(("✓", "✗")), timeout=10_000)
    assert dialog.test_result.text().startswith("✓")
    dialog.api_key.setText("sk-invalid-0123456789abcdef")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("✗"), timeout=10_000)
    assert "sk-invalid-0123456789abcdef" not in dialog.test_result.text()


def test_insecure_remote_http_is_refused_without_opt_in(qtbot, store, tmp_path):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("compatible"))
    dialog.base_url.setText("http://images.example.test/v1")
    dialog.api_key.setText(KEY)
    dialog.accept()
    assert dialog.result() == 0 and "unencrypted" in dialog.error.text()
    assert store.get_setting("provider") is None


def test_price_table_and_credits_are_editable(qtbot, store, tmp_path):
    dialog = _dialog(qtbot, store, tmp_path)
    dialog.credits.setValue(45)
    dialog.price_grid.cellWidget(0, 2).setValue(25.0)  # gpt-image-2 image out
    table = dialog.price_table_value()
    assert table.credits_per_image == 45
    assert table.prices("gpt-image-2").image_out == 25.0
    dialog.accept()
    assert PriceTable.from_dict(store.get_setting("prices")).prices("gpt-image-2").image_out == 25.0
