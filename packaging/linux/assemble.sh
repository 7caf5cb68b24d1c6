#!/usr/bin/env bash
# Wrap a PyInstaller "seedwave" folder into the Linux artefacts (called by build_linux.sh):
#
#   assemble.sh APPDIR ICONS NAME VERSION OUTDIR
#
#   APPDIR   the PyInstaller output folder (contains the `seedwave` executable)
#   ICONS    a folder with hicolor/<size>/apps/seedwave.png (packaging/make_icons.py --out)
#   NAME     artefact name, e.g. seedwave-0.1.0-linux-x86_64
#
# Writes OUTDIR/NAME/ (program, share/, install.sh, README.txt), OUTDIR/NAME.tar.gz and
# OUTDIR/NAME.run (selfextract.sh followed by the tarball). APPDIR is moved, not copied.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
APPDIR=$1 ICONS=$2 NAME=$3 VERSION=$4 OUT=$5
STAGE=$OUT/$NAME
rm -rf "$STAGE" "$OUT/$NAME.tar.gz" "$OUT/$NAME.run"
mkdir -p "$STAGE/share/applications" "$STAGE/share/mime/packages" "$STAGE/share/icons"
mv "$APPDIR" "$STAGE/seedwave"
cp "$HERE/seedwave.desktop" "$STAGE/share/applications/seedwave.desktop"
cp "$HERE/seedwave-mime.xml" "$STAGE/share/mime/packages/seedwave.xml"
cp -R "$ICONS/hicolor" "$STAGE/share/icons/hicolor"
cp "$HERE/install.sh" "$HERE/README.txt" "$STAGE/"
chmod +x "$STAGE/install.sh"

tar -C "$OUT" -cf - "$NAME" | gzip -6 > "$OUT/$NAME.tar.gz"
SKIP=$(( $(wc -l < "$HERE/selfextract.sh") + 1 ))
sed -e "s/@NAME@/$NAME/g" -e "s/@VERSION@/$VERSION/g" -e "s/@SKIP@/$SKIP/g" "$HERE/selfextract.sh" > "$OUT/$NAME.run"
cat "$OUT/$NAME.tar.gz" >> "$OUT/$NAME.run"
chmod +x "$OUT/$NAME.run"
