"""Give big image buffers back to the system as soon as they are freed (glibc's malloc keeps them otherwise).

glibc raises its mmap threshold every time a big block is freed, so after the first 4K frame every later one
is carved from the heap, where freed memory fragments instead of going back to the system: a 4-image 4K edit
then peaks ~160 MB higher than it needs (905 MB instead of ~745). A fixed threshold keeps each buffer of
16 MB or more (a 4K frame is 25-33 MB; Pillow allocates in 16 MB blocks) in a mapping of its own, unmapped on
free. Lower thresholds save a little more memory but cost every 4K job ~0.2 s of page faults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
BIG_BUFFER_BYTES = 16 * 1024 * 1024


def return_big_buffers_to_os() -> bool:
    """Set the fixed threshold; True when it took effect (glibc only: a no-op on macOS, Windows and musl)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, BIG_BUFFER_BYTES) == 1
