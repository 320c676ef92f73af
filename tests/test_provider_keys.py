"""API key storage: an in-memory keyring round trip, the environment fallback, and no keyring at all."""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail, null

from gptimg_desktop.provider import KeyStorageUnavailable, delete_api_key, get_api_key, keyring_status, set_api_key
from gptimg_desktop.provider.keys import SERVICE

SECRET = "sk-proj-KEYRINGSECRET0123456789"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A dict-backed keyring; priority 0 so importing it never makes keyring pick it on its own."""

    priority = 0

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.store[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A keyring whose every call fails, like a locked Secret Service the user dismissed."""

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("the collection is locked")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked("the collection is locked")


@pytest.fixture
def use_keyring():
    """Set a keyring backend for one test and restore the previous one afterwards."""
    previous = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


def test_round_trip_in_memory_keyring(use_keyring, caplog):
    caplog.set_level(logging.DEBUG)
    memory = use_keyring(MemoryKeyring())
    set_api_key("openai", SECRET)
    assert memory.store[(SERVICE, "openai")] == SECRET
    assert get_api_key("openai", environ={}) == (SECRET, "keyring")
    # The keyring wins over the environment.
    assert get_api_key("openai", environ={"OPENAI_API_KEY": "sk-from-env"}) == (SECRET, "keyring")
    delete_api_key("openai")
    assert memory.store == {}
    assert get_api_key("openai", environ={}) == (None, "none")
    delete_api_key("openai")  # deleting again is fine
    assert SECRET not in caplog.text


def test_accounts_are_separate(use_keyring):
    use_keyring(MemoryKeyring())
    set_api_key("compatible:images.example.test", "key-for-compatible-server")
    assert get_api_key("openai", environ={}) == (None, "none")
    assert get_api_key("compatible:images.example.test", environ={})[0] == "key-for-compatible-server"


def test_environment_fallback(use_keyring):
    use_keyring(MemoryKeyring())
    assert get_api_key("openai", environ={"OPENAI_API_KEY": " sk-env-key "}) == ("sk-env-key", "environment")
    assert get_api_key("azure", environ={"OPENAI_API_KEY": "x", "AZURE_OPENAI_API_KEY": "az-env"}) == (
        "az-env",
        "environment",
    )
    assert get_api_key("azure", environ={"OPENAI_API_KEY": "x"}) == (None, "none")


def test_no_keyring_reading_falls_back_quietly(use_keyring, caplog):
    use_keyring(fail.Keyring())
    assert get_api_key("openai", environ={"OPENAI_API_KEY": "sk-env"}) == ("sk-env", "environment")
    assert get_api_key("openai", environ={}) == (None, "none")
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring, LockedKeyring])
def test_unusable_keyring_raises_a_clear_key_storage_unavailable(use_keyring, backend):
    use_keyring(backend())
    with pytest.raises(KeyStorageUnavailable) as info:
        set_api_key("openai", SECRET)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and "gnome-keyring" in message
    assert SECRET not in message
    assert info.value.user_message == message


def test_delete_on_a_locked_keyring_is_key_storage_unavailable(use_keyring):
    use_keyring(LockedKeyring())
    with pytest.raises(KeyStorageUnavailable):
        delete_api_key("openai")


def test_a_keyring_that_drops_writes_is_caught(use_keyring):
    class Forgetful(MemoryKeyring):
        def set_password(self, service, username, password):
            pass

    use_keyring(Forgetful())
    with pytest.raises(KeyStorageUnavailable) as info:
        set_api_key("openai", SECRET)
    assert "did not keep it" in str(info.value)


def test_keyring_status(use_keyring):
    use_keyring(MemoryKeyring())
    usable, description = keyring_status()
    assert usable and "MemoryKeyring" in description

    use_keyring(fail.Keyring())
    usable, description = keyring_status()
    assert not usable and "No system keyring" in description and "OPENAI_API_KEY" in description

    use_keyring(LockedKeyring())
    usable, description = keyring_status()
    assert not usable and "locked" in description


def test_empty_key_is_refused(use_keyring):
    memory = use_keyring(MemoryKeyring())
    with pytest.raises(ValueError):
        set_api_key("openai", "   ")
    assert memory.store == {}
