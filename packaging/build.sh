#!/usr/bin/env bash
# Builds the desktop app with PyInstaller from a fresh clone, in one command: sets up .venv with the
# "package" extra (scripts/setup-env.sh), runs packaging/gptimg-desktop.spec, prints where the result is
# and its size (the `du -sh` line is the figure to quote in the README).
# Usage: packaging/build.sh [--onefile]
#   one folder (default): dist/gptimg-desktop/gptimg-desktop      (macOS: dist/gptimg-desktop.app)
#   --onefile:            dist/onefile/gptimg-desktop             (a single self-extracting file)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

onefile=0
for arg in "$@"; do
  case "$arg" in
    --onefile) onefile=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

"$here/scripts/setup-env.sh" package
py="${GPTIMG_VENV:-$here/.venv}/bin/python"

if [ "$onefile" = 1 ]; then
  distpath="$here/dist/onefile"
  workpath="$here/build/pyinstaller-onefile"
else
  distpath="$here/dist"
  workpath="$here/build/pyinstaller"
fi

start=$(date +%s)
cd "$here"
GPTIMG_ONEFILE="$onefile" "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$distpath" --workpath "$workpath" "$here/packaging/gptimg-desktop.spec"
seconds=$(( $(date +%s) - start ))

if [ "$(uname -s)" = Darwin ]; then
  out="$distpath/gptimg-desktop.app"
else
  out="$distpath/gptimg-desktop"
fi
[ -e "$out" ] || { echo "build.sh: PyInstaller finished but $out is missing" >&2; exit 1; }
if [ -d "$out" ] && [ "$(uname -s)" != Darwin ]; then
  launch="$out/gptimg-desktop"
else
  launch="$out"
fi

echo
echo "Built in ${seconds} s: ${out#"$here"/}"
echo "Run it:   ${launch#"$here"/}"
echo "Size (du -sh):"
(cd "$here" && du -sh "${out#"$here"/}")
