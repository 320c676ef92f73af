"""The API key in the OS keyring (service "gptimg-desktop"), with the environment as fallback.

Accounts are provider ids: "openai", "azure", "compatible:<host>". Keyring failures become one
clear KeyStorageUnavailable (for writes) or a quiet fallback (for reads); the key is never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import keyring
import keyring.errors

SERVICE = "gptimg-desktop"
_PROBE_ACCOUNT = "__gptimg_probe__"

log = logging.getLogger("gptimg.provider")

_NO_KEYRING_ADVICE = (
    "set OPENAI_API_KEY in the environment, or install a Secret Service such as gnome-keyring (or KeePassXC) "
    "and log in again"
)


class KeyStorageUnavailable(Exception):
    """The OS keyring cannot store the key; the message says what to do instead."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.user_message = f"The API key can't be saved in the system keyring ({reason}): {_NO_KEYRING_ADVICE}."
        super().__init__(self.user_message)


# Keys typed while no keyring works, kept in this process only (never written anywhere).
SESSION_KEYS: dict[str, str] = {}


def account_for(kind: str | None, base_url: str | None = "") -> str:
    """The keyring account a provider's key is stored under: "openai", "azure" or "compatible:<base URL>"."""
    kind = kind or "openai"
    return kind if kind in ("openai", "azure") else f"compatible:{base_url or ''}"


def remember_for_session(account: str, key: str) -> None:
    """Keep ``key`` for this run only (no usable keyring); get_api_key returns it after keyring and environment."""
    SESSION_KEYS[account] = key.strip()


def env_var_for(account: str) -> str:
    """The environment variable holding the key for ``account``."""
    return "AZURE_OPENAI_API_KEY" if account == "azure" or account.startswith("azure:") else "OPENAI_API_KEY"


def get_api_key(account: str = "openai", environ: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """(key, source): the keyring, then the environment, then a key kept for this session;
    source is "keyring" | "environment" | "session" | "none"."""
    try:
        stored = keyring.get_password(SERVICE, account)
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        # No usable keyring is normal on headless machines: fall back quietly, without a traceback.
        log.debug("keyring read for %s failed: %s", account, _describe_error(exc))
        stored = None
    if stored and stored.strip():
        return stored.strip(), "keyring"
    from_env = (environ.get(env_var_for(account)) or "").strip()
    if from_env:
        return from_env, "environment"
    if SESSION_KEYS.get(account):
        return SESSION_KEYS[account], "session"
    return None, "none"


def set_api_key(account: str, key: str) -> None:
    """Store ``key`` for ``account``; KeyStorageUnavailable when the keyring cannot keep it."""
    key = key.strip()
    if not key:
        raise ValueError("The API key is empty.")
    backend = keyring.get_keyring()
    if _is_null_backend(backend):
        raise KeyStorageUnavailable("no keyring is installed, so the key would be lost")
    try:
        keyring.set_password(SERVICE, account, key)
        stored = keyring.get_password(SERVICE, account)
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        raise KeyStorageUnavailable(_describe_error(exc)) from None
    if stored != key:
        # Some backends accept writes and drop them; tell the user now rather than at the next start.
        raise KeyStorageUnavailable("the keyring accepted the key but did not keep it")
    log.info("API key for %s saved in the keyring (%s)", account, _backend_name(backend))


def delete_api_key(account: str) -> None:
    """Remove the stored key for ``account``; removing a key that isn't there is not an error."""
    try:
        keyring.delete_password(SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        raise KeyStorageUnavailable(_describe_error(exc)) from None
    log.info("API key for %s removed from the keyring", account)


def keyring_status() -> tuple[bool, str]:
    """(usable, a human description of the keyring backend or why there is none)."""
    try:
        backend = keyring.get_keyring()
    except (keyring.errors.KeyringError, RuntimeError, OSError, ImportError, ValueError) as exc:
        # A broken keyring configuration (e.g. a bad PYTHON_KEYRING_BACKEND) must not stop the settings page.
        return False, f"The keyring could not be loaded ({_describe_error(exc)})."
    name = _backend_name(backend)
    if _is_null_backend(backend):
        return False, f"No system keyring is available ({name}); {_NO_KEYRING_ADVICE}."
    try:
        keyring.get_password(SERVICE, _PROBE_ACCOUNT)
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        return False, f"The system keyring ({name}) can't be used: {_describe_error(exc)}; {_NO_KEYRING_ADVICE}."
    return True, f"Keys are kept in {name}."


def _is_null_backend(backend: object) -> bool:
    """Backends that can never keep a key: keyring's fail and null ones, or a chain of nothing."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return True
    if isinstance(backend, chainer.ChainerBackend):
        return not backend.backends
    return False


def _backend_name(backend: object) -> str:
    name = getattr(backend, "name", None)
    return str(name) if name else type(backend).__name__


def _describe_error(exc: BaseException) -> str:
    # keyring's NoKeyringError text is long; keep the first sentence.
    text = str(exc).strip().split("\n")[0] or type(exc).__name__
    return text.rstrip(".")
