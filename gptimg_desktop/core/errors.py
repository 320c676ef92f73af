"""Errors raised by the core layer before anything is sent anywhere."""

from __future__ import annotations


class RequestRefused(ValueError):
    """A request broke a model rule; it was refused before any network call.

    ``message`` is one sentence a designer can act on; ``param`` names the API
    parameter at fault (``size``, ``n``, ``image`` …) when there is one.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InputImageError(ValueError):
    """An input file is not a usable image. The message names the file and the reason."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


class OutputImageError(ValueError):
    """An image the provider sent back (and was paid for) can't be decoded. The message says which and why."""
