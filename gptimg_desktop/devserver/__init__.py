"""The local OpenAI-compatible Images API that tests and the app's demo mode talk to."""

from __future__ import annotations

from .faults import FAULT_KINDS, Fault, FaultQueue
from .intake import RecordedRequest
from .server import DevServer, serve_forever

__all__ = ["FAULT_KINDS", "DevServer", "Fault", "FaultQueue", "RecordedRequest", "serve_forever"]
