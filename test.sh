#!/usr/bin/env bash
# Installs what the tests need (system packages, .venv, test extras) and runs every test offscreen.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/scripts/setup-env.sh" test
cd "$here"
export QT_QPA_PLATFORM=offscreen
exec "${GPTIMG_VENV:-$here/.venv}/bin/python" -m pytest "$@"
