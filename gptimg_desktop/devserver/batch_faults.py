"""How fast the local Batch API works and which failures it acts out, switched like ``faults.py``.

Set in process (``server.batches.settings``), over ``POST /__batches`` or through GPTIMG_DEVSERVER_BATCH, e.g.
``{"line_seconds": 0.01, "faults": [{"kind": "fail_line", "custom_id": "a"}, {"kind": "expire", "after_lines": 3}]}``.
Batch faults hit the next batch created (``times`` batches), not requests already running.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

BATCH_ENV = "GPTIMG_DEVSERVER_BATCH"
BATCH_FAULT_KINDS = ("fail_line", "expire", "hold")


@dataclass
class BatchFault:
    """``fail_line``: the line with ``custom_id`` (or 1-based ``line``) fails with ``status``/``code``/``message``;
    ``expire``: the batch expires after ``after_lines`` lines ran; ``hold``: it stops after ``after_lines`` lines
    and waits there until it is cancelled (or expires when ``expire_after`` seconds pass)."""

    kind: str
    custom_id: str | None = None
    line: int | None = None
    status: int = 400
    code: str = "moderation_blocked"
    message: str = "Your request was rejected by the safety system."
    after_lines: int = 0
    expire_after: float | None = None
    times: int = 1

    def __post_init__(self) -> None:
        if self.kind not in BATCH_FAULT_KINDS:
            raise ValueError(f"Unknown batch fault '{self.kind}'; use one of: {', '.join(BATCH_FAULT_KINDS)}.")
        if self.kind == "fail_line" and self.custom_id is None and self.line is None:
            raise ValueError("A fail_line fault needs a custom_id or a line number.")
        if not isinstance(self.times, int) or self.times < 1 or self.after_lines < 0:
            raise ValueError("A batch fault needs times >= 1 and after_lines >= 0.")

    @classmethod
    def from_dict(cls, data: Any) -> BatchFault:
        if not isinstance(data, dict) or "kind" not in data:
            raise ValueError("Each batch fault must be an object with at least a 'kind'.")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"Unknown batch fault option(s): {', '.join(unknown)}.")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"Bad batch fault: {exc}.") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hits(self, custom_id: str, line: int) -> bool:
        return self.kind == "fail_line" and (self.custom_id == custom_id or self.line == line)


@dataclass
class BatchSettings:
    """Seconds each stage takes: a batch of 25 lines finishes in about a second by default."""

    validate_seconds: float = 0.1
    line_seconds: float = 0.02
    finalize_seconds: float = 0.1
    faults: list[BatchFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def update(self, data: Any) -> None:
        """Apply a JSON object of settings; ValueError names what is wrong (nothing changes then)."""
        if not isinstance(data, dict):
            raise ValueError("Batch settings must be a JSON object.")
        unknown = sorted(set(data) - {"validate_seconds", "line_seconds", "finalize_seconds", "faults", "clear"})
        if unknown:
            raise ValueError(f"Unknown batch setting(s): {', '.join(unknown)}.")
        speeds = {}
        for name in ("validate_seconds", "line_seconds", "finalize_seconds"):
            if name in data:
                value = data[name]
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{name} must be a number of seconds, 0 or more.")
                speeds[name] = float(value)
        new = [BatchFault.from_dict(item) for item in (data.get("faults") or [])]
        with self._lock:
            for name, value in speeds.items():
                setattr(self, name, value)
            if data.get("clear"):
                self.faults.clear()
            self.faults.extend(new)

    def take_faults(self) -> list[BatchFault]:
        """The faults for the batch being created, spending one hit of each."""
        with self._lock:
            taken = list(self.faults)
            kept = []
            for fault in self.faults:
                fault.times -= 1
                if fault.times > 0:
                    kept.append(fault)
            self.faults = kept
        return taken

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "validate_seconds": self.validate_seconds,
                "line_seconds": self.line_seconds,
                "finalize_seconds": self.finalize_seconds,
                "faults": [f.to_dict() for f in self.faults],
            }


def settings_from_env(text: str | None) -> BatchSettings:
    settings = BatchSettings()
    if text:
        try:
            settings.update(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{BATCH_ENV} must be JSON: {exc}.") from None
    return settings
