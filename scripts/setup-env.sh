#!/usr/bin/env bash
# Prepares everything gptimg-desktop needs on this machine, once: Qt's system libraries (Debian/Ubuntu,
# when run as root or with sudo), a virtual environment in .venv and the Python packages.
# Usage: scripts/setup-env.sh [app|test|package]   (what to install besides the app itself)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="${1:-app}"
venv="${GPTIMG_VENV:-$here/.venv}"

# Qt's offscreen/xcb platforms link these; fonts-dejavu-core or every glyph is an empty box.
qt_debs="libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core \
libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0"
# fonts-wqy-microhei: the proofing tests render Chinese posters and need a CJK font.
test_debs="xvfb xauth gnome-keyring dbus binutils desktop-file-utils appstream fonts-wqy-microhei"
debs="$qt_debs"
[ "$extra" = app ] || debs="$debs $test_debs"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $debs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
    echo "Installing system packages:$missing" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "Please install these system packages first:$missing" >&2
  fi
fi

py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "gptimg-desktop needs Python 3.11 or newer (found: $("$py" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
case "$extra" in
  app) spec="." ;;
  test) spec=".[test]" ;;
  package) spec=".[test,package]" ;;
  *) echo "unknown extra: $extra" >&2; exit 2 ;;
esac
# Reinstall only when pyproject.toml changed since the last install of this extra.
stamp="$venv/.installed-$extra"
if [ ! -f "$stamp" ] || [ "$here/pyproject.toml" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$here$( [ "$spec" = . ] && echo "" || echo "${spec#.}")"
  touch "$stamp"
fi
