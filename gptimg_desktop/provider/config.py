"""Where requests go and how they are signed: OpenAI, Azure OpenAI, compatible servers, the demo server.

The API key never appears in ``repr``/``str``/``redacted()``; ``check()`` refuses settings that
would fail or leak before anything is sent.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from gptimg_desktop import __version__

from .errors import ProviderConfigError

OPENAI_BASE_URL = "https://api.openai.com/v1"
AZURE_DEFAULT_API_VERSION = "2025-04-01-preview"
# Azure's v1-style endpoint (…/openai/v1) takes this api-version instead of a dated one.
AZURE_V1_API_VERSION = "preview"
DEMO_API_KEY = "demo"
KINDS = ("openai", "azure", "compatible", "demo")
USER_AGENT = f"gptimg-desktop/{__version__}"


@dataclass(frozen=True)
class ProviderConfig:
    kind: str  # "openai" | "azure" | "compatible" | "demo"
    base_url: str
    api_key: str = field(repr=False)
    organization: str | None = None  # OpenAI-Organization header
    project: str | None = None  # OpenAI-Project header
    api_version: str | None = None  # azure: the api-version query parameter
    deployment: str | None = None  # azure: deployment name; the model name when unset
    allow_insecure_http: bool = False  # http:// to a non-loopback host needs this explicit opt-in
    max_retries: int = 2
    timeout: float = 600.0  # read timeout per attempt; connect timeout is 10 s

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ProviderConfig | None:
        """Settings from the environment variables the official SDKs read, or None when no key is set.

        OPENAI_API_KEY wins when both it and AZURE_OPENAI_API_KEY are set: it is the more common one
        and the Azure pair also needs AZURE_OPENAI_ENDPOINT to mean anything.
        """
        key = (environ.get("OPENAI_API_KEY") or "").strip()
        if key:
            base = (environ.get("OPENAI_BASE_URL") or "").strip() or OPENAI_BASE_URL
            return cls(
                kind="openai" if _host(base) == "api.openai.com" else "compatible",
                base_url=base,
                api_key=key,
                organization=(environ.get("OPENAI_ORG_ID") or "").strip() or None,
                project=(environ.get("OPENAI_PROJECT_ID") or "").strip() or None,
            )
        azure_key = (environ.get("AZURE_OPENAI_API_KEY") or "").strip()
        endpoint = (environ.get("AZURE_OPENAI_ENDPOINT") or "").strip()
        if azure_key and endpoint:
            return cls(
                kind="azure",
                base_url=endpoint,
                api_key=azure_key,
                api_version=(environ.get("OPENAI_API_VERSION") or "").strip() or None,
                deployment=(environ.get("AZURE_OPENAI_DEPLOYMENT") or "").strip() or None,
            )
        return None

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Raise ProviderConfigError (one clear sentence) when these settings cannot be used safely."""
        if self.kind not in KINDS:
            raise ProviderConfigError(f"Unknown provider kind '{self.kind}'; choose one of: {', '.join(KINDS)}.")
        if not self.api_key or not self.api_key.strip():
            raise ProviderConfigError("No API key is set: add your key in Settings → Provider or set OPENAI_API_KEY.")
        if any(ch.isspace() or ord(ch) < 32 for ch in self.api_key):
            raise ProviderConfigError(
                "The API key contains spaces or line breaks; paste it again in Settings → Provider."
            )
        parts = urlsplit(self.base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderConfigError(
                f"'{self.base_url}' is not a web address; write it like https://api.openai.com/v1."
            )
        if parts.query or parts.fragment:
            raise ProviderConfigError(
                f"The provider URL '{self.base_url}' must not contain '?' or '#'; remove that part."
            )
        if parts.scheme == "http" and not self.allow_insecure_http and not is_loopback(parts.hostname):
            raise ProviderConfigError(
                f"{self.base_url} uses http://, which would send your API key unencrypted over the network; "
                "use https:// or turn on “Allow unencrypted HTTP” for this provider."
            )
        if self.max_retries < 0:
            raise ProviderConfigError("Retries must be 0 or more.")
        if self.timeout <= 0:
            raise ProviderConfigError("The timeout must be more than 0 seconds.")

    # ------------------------------------------------------------------ requests
    @property
    def host(self) -> str:
        return _host(self.base_url) or self.base_url

    @property
    def is_azure_v1(self) -> bool:
        return self.kind == "azure" and "/openai/v1" in self.base_url

    def endpoint_url(self, path: str, model: str) -> str:
        """The full URL for ``path`` ("/images/generations" | "/images/edits") and ``model``."""
        base = self.base_url.strip().rstrip("/")
        if self.kind != "azure":
            return base + path
        if self.is_azure_v1:
            return f"{base}{path}?{urlencode({'api-version': AZURE_V1_API_VERSION})}"
        query = urlencode({"api-version": self.api_version or AZURE_DEFAULT_API_VERSION})
        if "/openai/deployments/" in base:  # the URL already names the deployment, as the SDK allows
            return f"{base}{path}?{query}"
        deployment = quote(self.deployment or model, safe="")
        return f"{base}/openai/deployments/{deployment}{path}?{query}"

    def models_url(self) -> str:
        """A cheap authenticated GET that proves the key works."""
        base = self.base_url.strip().rstrip("/")
        if self.kind != "azure":
            return base + "/models"
        if self.is_azure_v1:
            return f"{base}/models?{urlencode({'api-version': AZURE_V1_API_VERSION})}"
        root = base.split("/openai/deployments/")[0]
        return f"{root}/openai/models?{urlencode({'api-version': self.api_version or AZURE_DEFAULT_API_VERSION})}"

    def headers(self) -> dict[str, str]:
        """Authentication and identification headers for every request."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.kind == "azure":
            headers["api-key"] = self.api_key
        else:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        return headers

    def redacted(self) -> dict[str, object]:
        """These settings for logs and the UI, with the key reduced to its last 4 characters."""
        return {
            "kind": self.kind,
            "base_url": self.base_url,
            "api_key": redact_key(self.api_key),
            "organization": self.organization,
            "project": self.project,
            "api_version": self.api_version,
            "deployment": self.deployment,
            "allow_insecure_http": self.allow_insecure_http,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
        }


def redact_key(key: str | None) -> str:
    """``sk-proj-abc…wxyz`` -> ``sk-…wxyz``; short keys show nothing of themselves."""
    if not key:
        return "(none)"
    prefix = "sk-" if key.startswith("sk-") else ""
    tail = key[-4:] if len(key) >= 16 else ""
    return f"{prefix}…{tail}"


def demo_config(base_url: str) -> ProviderConfig:
    """Settings for the local demo server (loopback, so plain http is fine)."""
    return ProviderConfig(kind="demo", base_url=base_url, api_key=DEMO_API_KEY)


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None
