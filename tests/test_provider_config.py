"""ProviderConfig: environment matrix, safety checks, URLs per provider kind, headers, redaction."""

from __future__ import annotations

import pytest

from gptimg_desktop import __version__
from gptimg_desktop.provider import DEMO_API_KEY, ProviderConfig, ProviderConfigError, demo_config, redact_key

KEY = "sk-proj-CONFIGSECRET0123456789wxyz"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"OPENAI_API_KEY": "   "}, None),
        ({"OPENAI_BASE_URL": "https://x.test/v1"}, None),  # a URL without a key is not a provider
        (
            {"OPENAI_API_KEY": KEY},
            {"kind": "openai", "base_url": "https://api.openai.com/v1", "organization": None, "project": None},
        ),
        (
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "", "OPENAI_ORG_ID": "org-1", "OPENAI_PROJECT_ID": "proj_2"},
            {"kind": "openai", "base_url": "https://api.openai.com/v1", "organization": "org-1", "project": "proj_2"},
        ),
        (
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"},
            {"kind": "compatible", "base_url": "http://127.0.0.1:8080/v1"},
        ),
        (
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://litellm.example.test/v1"},
            {"kind": "compatible", "base_url": "https://litellm.example.test/v1"},
        ),
        (
            {"AZURE_OPENAI_API_KEY": "az-key", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com"},
            {"kind": "azure", "base_url": "https://res.openai.azure.com", "api_version": None, "deployment": None},
        ),
        (
            {
                "AZURE_OPENAI_API_KEY": "az-key",
                "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
                "OPENAI_API_VERSION": "2025-06-01-preview",
                "AZURE_OPENAI_DEPLOYMENT": "img2",
            },
            {"kind": "azure", "api_version": "2025-06-01-preview", "deployment": "img2"},
        ),
        ({"AZURE_OPENAI_API_KEY": "az-key"}, None),  # no endpoint: nowhere to send it
        (
            {
                "OPENAI_API_KEY": KEY,
                "AZURE_OPENAI_API_KEY": "az",
                "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
            },
            {"kind": "openai"},
        ),
    ],
)
def test_from_env_matrix(environ, expected):
    config = ProviderConfig.from_env(environ)
    if expected is None:
        assert config is None
        return
    assert config is not None
    for name, value in expected.items():
        assert getattr(config, name) == value, name
    assert config.api_key in (KEY, "az-key")


def test_from_env_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    config = ProviderConfig.from_env()
    assert config is not None and config.api_key == KEY


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (ProviderConfig("openai", "https://api.openai.com/v1", ""), "No API key is set"),
        (ProviderConfig("openai", "https://api.openai.com/v1", "  "), "No API key is set"),
        (ProviderConfig("openai", "https://api.openai.com/v1", "sk-abc\ndef"), "spaces or line breaks"),
        (ProviderConfig("openai", "api.openai.com/v1", KEY), "is not a web address"),
        (ProviderConfig("openai", "ftp://api.openai.com/v1", KEY), "is not a web address"),
        (ProviderConfig("openai", "https://", KEY), "is not a web address"),
        (ProviderConfig("compatible", "http://192.168.1.20:8000/v1", KEY), "would send your API key unencrypted"),
        (ProviderConfig("compatible", "http://images.example.test/v1", KEY), "would send your API key unencrypted"),
        (ProviderConfig("mystery", "https://api.openai.com/v1", KEY), "Unknown provider kind"),
        (ProviderConfig("openai", "https://api.openai.com/v1", KEY, timeout=0), "timeout"),
    ],
)
def test_check_refuses_unusable_settings_with_one_sentence(config, fragment):
    with pytest.raises(ProviderConfigError) as info:
        config.check()
    message = str(info.value)
    assert fragment in message
    assert KEY not in message
    assert message.endswith(".")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "http://127.0.0.1:9999/v1",
        "http://127.3.4.5/v1",
        "http://localhost:8080/v1",
        "http://[::1]:8080/v1",
    ],
)
def test_check_accepts_https_and_loopback_http(url):
    ProviderConfig("compatible", url, KEY).check()


def test_insecure_http_needs_the_explicit_opt_in():
    config = ProviderConfig("compatible", "http://192.168.1.20:8000/v1", KEY, allow_insecure_http=True)
    config.check()


def test_endpoint_urls_per_kind():
    openai = ProviderConfig("openai", "https://api.openai.com/v1/", KEY)
    assert openai.endpoint_url("/images/generations", "gpt-image-2") == "https://api.openai.com/v1/images/generations"
    assert openai.models_url() == "https://api.openai.com/v1/models"

    azure = ProviderConfig("azure", "https://res.openai.azure.com/", "az", deployment="my deploy")
    assert azure.endpoint_url("/images/edits", "gpt-image-2") == (
        "https://res.openai.azure.com/openai/deployments/my%20deploy/images/edits?api-version=2025-04-01-preview"
    )
    no_deployment = ProviderConfig("azure", "https://res.openai.azure.com", "az", api_version="2025-06-01")
    assert no_deployment.endpoint_url("/images/generations", "gpt-image-2") == (
        "https://res.openai.azure.com/openai/deployments/gpt-image-2/images/generations?api-version=2025-06-01"
    )
    assert no_deployment.models_url() == "https://res.openai.azure.com/openai/models?api-version=2025-06-01"

    v1 = ProviderConfig("azure", "https://res.openai.azure.com/openai/v1/", "az")
    assert v1.endpoint_url("/images/generations", "img-deploy") == (
        "https://res.openai.azure.com/openai/v1/images/generations?api-version=preview"
    )

    named = ProviderConfig("azure", "https://res.openai.azure.com/openai/deployments/pinned", "az")
    assert named.endpoint_url("/images/edits", "other") == (
        "https://res.openai.azure.com/openai/deployments/pinned/images/edits?api-version=2025-04-01-preview"
    )


def test_headers_per_kind():
    openai = ProviderConfig("openai", "https://api.openai.com/v1", KEY, organization="org-1", project="proj_2")
    headers = openai.headers()
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["OpenAI-Organization"] == "org-1"
    assert headers["OpenAI-Project"] == "proj_2"
    assert headers["User-Agent"] == f"gptimg-desktop/{__version__}"
    assert "api-key" not in headers

    azure = ProviderConfig("azure", "https://res.openai.azure.com", "az-key").headers()
    assert azure["api-key"] == "az-key"
    assert "Authorization" not in azure and "OpenAI-Organization" not in azure


def test_key_is_never_in_repr_str_or_redacted():
    config = ProviderConfig("openai", "https://api.openai.com/v1", KEY, organization="org-1")
    assert KEY not in repr(config)
    assert KEY not in str(config)
    redacted = config.redacted()
    assert redacted["api_key"] == "sk-…wxyz"
    assert KEY not in str(redacted)
    assert redacted["organization"] == "org-1" and redacted["base_url"] == "https://api.openai.com/v1"


def test_redact_key_shows_nothing_of_short_keys():
    assert redact_key("") == "(none)"
    assert redact_key("demo") == "…"
    assert redact_key("abcdefghijklmnopqrst") == "…qrst"


def test_demo_config_points_at_the_local_server():
    config = demo_config("http://127.0.0.1:5123/v1")
    assert config.kind == "demo" and config.api_key == DEMO_API_KEY
    config.check()
    assert config.headers()["Authorization"] == "Bearer demo"
    assert config.endpoint_url("/images/generations", "gpt-image-2") == "http://127.0.0.1:5123/v1/images/generations"
