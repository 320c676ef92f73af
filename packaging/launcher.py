"""PyInstaller entry point: starts gptimg-desktop the same way the installed `gptimg-desktop` script does."""

from __future__ import annotations

import os
import sys

# A windowed build on Windows/macOS has no console: sys.stdout/stderr are None there, and a print()
# (--version, --selftest, logging) would raise instead of going nowhere.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115  (lives as long as the app)

import multiprocessing  # noqa: E402

# Jobs and demo mode's local server run in child processes started with the spawn method. In a frozen build
# the child is this same executable: freeze_support() turns that start into the child's work and exits, so
# it must run before anything else (PyInstaller's runtime hook makes it work on every OS, not only Windows).
if __name__ == "__main__":
    multiprocessing.freeze_support()

from gptimg_desktop.app import main  # noqa: E402  (after the stream guard above)

if __name__ == "__main__":
    raise SystemExit(main())
