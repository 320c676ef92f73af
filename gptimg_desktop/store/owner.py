"""Which process owns a job, and whether that process is still alive.

A job row records its owner's pid plus a start marker, so a pid reused by an unrelated process after a
crash is not mistaken for the owner. Used to interrupt only the jobs of processes that are gone.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessOwner:
    pid: int
    started: str | None  # boot id + start time on Linux; None where the platform cannot say


_current: ProcessOwner | None = None


def current_owner() -> ProcessOwner:
    """This process; recomputed after a fork (the pid changes)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        _current = ProcessOwner(os.getpid(), process_marker(os.getpid()))
    return _current


def process_marker(pid: int) -> str | None:
    """A string that differs between two processes that had the same pid; None when unknown."""
    stat = _linux_stat(pid)
    if stat is None:
        return None
    boot = _read_text("/proc/sys/kernel/random/boot_id") or "boot"
    # Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (fields counted after the name).
    return f"{boot}:{stat[19]}"


def is_alive(pid: int | None, started: str | None) -> bool:
    """True while the process that recorded (pid, started) still runs; a zombie counts as gone."""
    if pid is None or pid <= 0:
        return False
    if sys.platform.startswith("linux"):
        stat = _linux_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            return False
        return started is None or process_marker(pid) == started
    if os.name == "nt":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0 only checks that the pid exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def _linux_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the process name (state first), or None."""
    text = _read_text(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name may contain spaces and parentheses
    return fields if len(fields) > 19 else None


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def _windows_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
