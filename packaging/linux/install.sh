#!/usr/bin/env bash
# Installs a built gptimg-desktop folder for the current user (no root): the app in ~/.local/opt,
# a `gptimg-desktop` link in ~/.local/bin, the menu entry ("Open with" for PNG/JPEG/WebP), icons
# and AppStream metadata in ~/.local/share. Undo with uninstall.sh.
# Usage: packaging/linux/install.sh [BUILT_FOLDER]    (default: dist/gptimg-desktop from packaging/build.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${1:-$here/../../dist/gptimg-desktop}"
if [ ! -x "$src/gptimg-desktop" ]; then
  echo "No built app at $src: run packaging/build.sh first, or pass the built folder." >&2
  exit 1
fi
src="$(cd "$src" && pwd)"

opt="$HOME/.local/opt/gptimg-desktop"
bin="$HOME/.local/bin"
share="${XDG_DATA_HOME:-$HOME/.local/share}"

# Copy into a fresh folder beside the old one and swap, so a failed copy never leaves half an app.
mkdir -p "$(dirname "$opt")" "$bin"
rm -rf "$opt.new"
cp -a "$src" "$opt.new"
rm -rf "$opt"
mv "$opt.new" "$opt"
ln -sfn "$opt/gptimg-desktop" "$bin/gptimg-desktop"

# The bundle uses the system's OpenGL/EGL, libxcb and fonts, which it does not contain: name any that are missing.
qxcb="$opt/_internal/PySide6/Qt/plugins/platforms/libqxcb.so"
if [ -f "$qxcb" ] && command -v ldd >/dev/null 2>&1; then
  missing="$(LD_LIBRARY_PATH="$opt/_internal" ldd "$qxcb" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
  if [ -n "$missing" ]; then
    echo "Warning: the app will not start until these system libraries are installed: $missing" >&2
    echo "  Debian/Ubuntu: sudo apt install libgl1 libegl1 libxcb1 libxkbcommon0 libfontconfig1 fonts-dejavu-core" >&2
  fi
fi

# The menu entry runs the app by its full path: ~/.local/bin is often not on a desktop session's PATH.
mkdir -p "$share/applications"
sed -e "s|^Exec=gptimg-desktop |Exec=\"$opt/gptimg-desktop\" |" \
    -e "s|^TryExec=gptimg-desktop$|TryExec=$opt/gptimg-desktop|" \
    "$here/gptimg-desktop.desktop" > "$share/applications/gptimg-desktop.desktop"

icons="$opt/_internal/gptimg_desktop/resources/icons"
for size in 16 24 32 48 64 128 256 512; do
  if [ -f "$icons/app-$size.png" ]; then
    mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
    cp "$icons/app-$size.png" "$share/icons/hicolor/${size}x${size}/apps/gptimg-desktop.png"
  fi
done

mkdir -p "$share/metainfo"
cp "$here/app.gptimg.desktop.metainfo.xml" "$share/metainfo/app.gptimg.desktop.metainfo.xml"

# Refresh the caches when the tools exist; desktops also notice the new files on their own.
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
# An icon cache in the home folder is only refreshed if one is already there (a stale one hides icons).
if [ -f "$share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi

echo "Installed gptimg-desktop to $opt"
echo "Menu entry: $share/applications/gptimg-desktop.desktop"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "Note: $bin is not on your PATH; start it from the menu or as $opt/gptimg-desktop." ;;
esac
