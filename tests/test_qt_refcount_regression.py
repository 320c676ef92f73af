"""Regression guard: PySide6 6.12.0 on Python 3.11 drops None's refcount on every void call and aborts.

See tooling-notes §0. On Python >= 3.12 None is immortal, so the check means nothing there.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QImage


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal on Python 3.12+")
def test_void_qt_calls_keep_none_alive(qapp):
    img = QImage(4, 4, QImage.Format.Format_ARGB32)
    img.fill(0)  # warm up any one-off caches before counting
    before = sys.getrefcount(None)
    for _ in range(20_000):
        img.fill(0)  # returns void: the buggy binding decrefs None each time
    after = sys.getrefcount(None)
    # A healthy binding leaves the count where it was (give a little slack for unrelated objects).
    assert after >= before - 100, f"None lost {before - after} references in 20,000 QImage.fill calls"
