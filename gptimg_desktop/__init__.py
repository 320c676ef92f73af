"""gptimg-desktop: a desktop studio for OpenAI's GPT Image models."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("gptimg-desktop")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"
