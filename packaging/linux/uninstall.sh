#!/usr/bin/env bash
# Removes what install.sh put in the user's home. The history, images and settings stay
# (~/.local/share/gptimg-desktop, or GPTIMG_HOME); delete that folder by hand to remove them too.
set -euo pipefail
opt="$HOME/.local/opt/gptimg-desktop"
bin="$HOME/.local/bin/gptimg-desktop"
share="${XDG_DATA_HOME:-$HOME/.local/share}"

rm -rf "$opt" "$opt.new"
# Only our own link: never a gptimg-desktop in ~/.local/bin that something else put there.
if [ -L "$bin" ] && [ "$(readlink "$bin")" = "$opt/gptimg-desktop" ]; then
  rm -f "$bin"
fi
rm -f "$share/applications/gptimg-desktop.desktop" "$share/metainfo/app.gptimg.desktop.metainfo.xml"
for size in 16 24 32 48 64 128 256 512; do
  rm -f "$share/icons/hicolor/${size}x${size}/apps/gptimg-desktop.png"
done

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
# An icon cache in the home folder is only refreshed if one is already there (a stale one hides icons).
if [ -f "$share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi
echo "Removed gptimg-desktop (your history and images are kept in $share/gptimg-desktop)."
