"""`python -m gptimg_desktop.cli`: the same as the `gptimg` command."""

import sys

from . import main

sys.exit(main())
