"""`python -m gptimg_desktop` starts the editor (the same as `gptimg-desktop`)."""

from __future__ import annotations

import sys

from .app import main

sys.exit(main())
