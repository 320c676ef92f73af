"""Which provider the app and the CLI talk to, and the local demo server when there is no key.

Order: OPENAI_API_KEY/OPENAI_BASE_URL (or Azure variables) in the environment override everything;
then the provider saved in Settings with its key from the OS keyring; otherwise demo mode, which
starts the local Images API on 127.0.0.1 so a new user can try every feature at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .provider.config import DEMO_API_KEY, ProviderConfig, demo_config
from .provider.keys import account_for as _account_for
from .provider.keys import get_api_key

if TYPE_CHECKING:
    from .devserver.process import DevServerProcess

log = logging.getLogger("gptimg.connection")

PROVIDER_SETTING = "provider"
PROVIDER_KINDS = ("demo", "openai", "azure", "compatible")


@dataclass
class ProviderChoice:
    config: ProviderConfig
    source: str  # "environment" | "settings" | "demo"
    demo_server: DevServerProcess | None = None  # the local server process we started, if any

    @property
    def is_demo(self) -> bool:
        return self.config.kind == "demo"

    def close(self) -> None:
        if self.demo_server is not None:
            self.demo_server.stop()
            self.demo_server = None


def saved_provider(store) -> dict:
    return dict(store.get_setting(PROVIDER_SETTING, {}) or {})


def save_provider(store, settings: Mapping) -> None:
    """Store the provider's non-secret settings; the key goes to the keyring separately."""
    allowed = ("kind", "base_url", "organization", "project", "api_version", "deployment", "allow_insecure_http")
    store.set_setting(PROVIDER_SETTING, {k: settings.get(k) for k in allowed if settings.get(k) is not None})


def config_from_saved(saved: Mapping, environ: Mapping[str, str] = os.environ) -> ProviderConfig | None:
    kind = saved.get("kind") or "demo"
    if kind == "demo":
        return None
    key, _source = get_api_key(account_for(saved), environ)
    if not key:
        return None
    defaults = {"openai": "https://api.openai.com/v1"}
    return ProviderConfig(
        kind=kind,
        base_url=saved.get("base_url") or defaults.get(kind, ""),
        api_key=key,
        organization=saved.get("organization") or None,
        project=saved.get("project") or None,
        api_version=saved.get("api_version") or None,
        deployment=saved.get("deployment") or None,
        allow_insecure_http=bool(saved.get("allow_insecure_http")),
    )


def account_for(saved: Mapping) -> str:
    """The keyring account the key of this saved provider is stored under."""
    return _account_for(saved.get("kind"), saved.get("base_url"))


def choose_provider(store, environ: Mapping[str, str] = os.environ, start_demo: bool = True) -> ProviderChoice:
    env_config = ProviderConfig.from_env(environ)
    if env_config is not None:
        return ProviderChoice(env_config, "environment")
    saved = saved_provider(store)
    config = config_from_saved(saved, environ)
    if config is not None:
        return ProviderChoice(config, "settings")
    return start_demo_provider() if start_demo else ProviderChoice(demo_config("http://127.0.0.1:0/v1"), "demo")


def start_demo_provider(delay: float = 0.35) -> ProviderChoice:
    """The local Images API in its own process (its rendering and encoding never share the editor's
    interpreter), on a free port, stopped with the app and never outliving it."""
    from .devserver.process import DevServerProcess

    server = DevServerProcess(delay=delay, keep_uploads=False)
    server.start()
    log.info("demo mode: local Images API at %s", server.url)
    return ProviderChoice(demo_config(server.url), "demo", server)


__all__ = [
    "DEMO_API_KEY",
    "PROVIDER_KINDS",
    "ProviderChoice",
    "account_for",
    "choose_provider",
    "config_from_saved",
    "save_provider",
    "saved_provider",
    "start_demo_provider",
]
