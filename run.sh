#!/usr/bin/env bash
# Sets up (first time only) and starts the gptimg-desktop editor. With no API key it opens in demo mode.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/scripts/setup-env.sh" app
exec "${GPTIMG_VENV:-$here/.venv}/bin/gptimg-desktop" "$@"
