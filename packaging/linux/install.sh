#!/bin/sh
# Install the standalone Seedwave with its desktop integration: the `seedwave`
# command, a menu entry, icons (16 to 512 px and SVG), the MIME type of Seedwave
# projects (application/x-seedwave-project, *.seedwave) and the audio types it opens.
#
#   ./install.sh                 install for this user under ~/.local
#   ./install.sh --prefix DIR    install under DIR (e.g. sudo ./install.sh --prefix /usr/local)
#   ./install.sh --uninstall [--prefix DIR]
#
# Files: DIR/lib/seedwave/ (the program), DIR/bin/seedwave (a link),
# DIR/share/applications/seedwave.desktop, DIR/share/icons/hicolor/*/{apps,mimetypes}/,
# DIR/share/mime/packages/seedwave.xml.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX="$HOME/.local"
MODE=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift ;;
    --uninstall) MODE=uninstall ;;
    --install) ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
SHARE=$PREFIX/share
MIME_ICON=application-x-seedwave-project

refresh() {
  if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$SHARE/mime" >/dev/null 2>&1 || true; fi
  if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$SHARE/applications" >/dev/null 2>&1 || true; fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" >/dev/null 2>&1 || true; fi
}

if [ "$MODE" = uninstall ]; then
  rm -rf "$PREFIX/lib/seedwave"
  rm -f "$PREFIX/bin/seedwave" "$SHARE/applications/seedwave.desktop" "$SHARE/mime/packages/seedwave.xml"
  for d in "$SHARE"/icons/hicolor/*; do
    rm -f "$d/apps/seedwave.png" "$d/apps/seedwave.svg" "$d/mimetypes/$MIME_ICON.png" "$d/mimetypes/$MIME_ICON.svg"
  done
  refresh
  echo "Seedwave removed from $PREFIX"
  exit 0
fi

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$SHARE/applications" "$SHARE/mime/packages"
rm -rf "$PREFIX/lib/seedwave.new"
if [ "${SEEDWAVE_INSTALL_MOVE:-}" = 1 ]; then  # from the .run file's own unpacked copy
  mv "$HERE/seedwave" "$PREFIX/lib/seedwave.new"
else
  cp -R "$HERE/seedwave" "$PREFIX/lib/seedwave.new"
fi
rm -rf "$PREFIX/lib/seedwave"
mv "$PREFIX/lib/seedwave.new" "$PREFIX/lib/seedwave"
ln -sf "$PREFIX/lib/seedwave/seedwave" "$PREFIX/bin/seedwave"

# Absolute paths: ~/.local/bin is not on every user's PATH.
sed -e "s|^Exec=seedwave|Exec=$PREFIX/bin/seedwave|" -e "s|^TryExec=seedwave|TryExec=$PREFIX/bin/seedwave|" \
  "$HERE/share/applications/seedwave.desktop" > "$SHARE/applications/seedwave.desktop"
cp "$HERE/share/mime/packages/seedwave.xml" "$SHARE/mime/packages/seedwave.xml"
for src in "$HERE"/share/icons/hicolor/*; do
  size=$(basename "$src")
  mkdir -p "$SHARE/icons/hicolor/$size/apps" "$SHARE/icons/hicolor/$size/mimetypes"
  for f in "$src"/apps/seedwave.*; do
    cp "$f" "$SHARE/icons/hicolor/$size/apps/"
    cp "$f" "$SHARE/icons/hicolor/$size/mimetypes/$MIME_ICON.${f##*.}"
  done
done
refresh
echo "Seedwave installed: $PREFIX/bin/seedwave"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "(add $PREFIX/bin to PATH to type 'seedwave' in a terminal)" ;; esac
