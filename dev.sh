#!/usr/bin/env bash
# Seedwave developer entry point: sets everything up, then runs the app or the tests.
#
#   ./dev.sh run [FILES...]   set up, then start the editor (demo project if no file)
#   ./dev.sh test [PYTEST ARGS]  set up, then run the whole test suite
#
# Set-up is idempotent: Debian packages are installed only if missing, the virtual
# environment (.venv) is created once, and the project is reinstalled only when
# pyproject.toml changes. torch: on a machine without an NVIDIA GPU the CPU build is
# installed (no multi-GB CUDA download); with a GPU, pip's default CUDA build.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
MODE=${1:-run}
[ $# -gt 0 ] && shift

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

RUN_PKGS="python3-venv libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libglib2.0-0 libportaudio2 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 espeak-ng"
TEST_PKGS="pulseaudio pulseaudio-utils libasound2-plugins xvfb xauth"

apt_install() {
  local missing=""
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "dev.sh: please install these system packages:$missing" >&2
    return 0
  fi
  echo "dev.sh: installing system packages:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# shellcheck disable=SC2086
if [ "$MODE" = test ]; then apt_install $RUN_PKGS $TEST_PKGS; else apt_install $RUN_PKGS; fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "dev.sh: Python 3.11 or newer is needed" >&2; exit 1; }
  "$PY" -m venv .venv
fi
VPY=$ROOT/.venv/bin/python

if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    "$VPY" -m pip install -q "torch>=2.2"
  elif "$VPY" -m pip install -q --no-index --no-deps "torch==2.13.0" >/dev/null 2>&1; then
    :  # a local CPU wheel (this workplace's wheel cache); torch's own dependencies come with the project below
  else
    "$VPY" -m pip install -q --retries 1 --timeout 30 "torch>=2.2" \
      --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
  fi
fi

STAMP=.venv/.seedwave-installed
HASH=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  "$VPY" -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  "$VPY" -c "import editor, seedwave_plugins" && echo "$HASH" > "$STAMP"
fi

export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$ROOT/.cache/numba}
mkdir -p "$NUMBA_CACHE_DIR"

case "$MODE" in
  run)
    exec "$ROOT/.venv/bin/seedwave" "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    # A PulseAudio null sink gives playback tests a real, paced output device.
    if command -v pulseaudio >/dev/null 2>&1 && ! pactl info >/dev/null 2>&1; then
      pulseaudio --daemonize=yes --exit-idle-time=-1 --system=false -n \
        --load="module-null-sink sink_name=seedwave_null" \
        --load="module-native-protocol-unix" >/dev/null 2>&1 || true
      for _ in $(seq 20); do pactl info >/dev/null 2>&1 && break; sleep 0.2; done
    fi
    # With the null sink up, a playback test that finds no device fails instead of skipping.
    if pactl info >/dev/null 2>&1; then export SEEDWAVE_REQUIRE_AUDIO=${SEEDWAVE_REQUIRE_AUDIO:-1}; fi
    exec "$VPY" -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [FILES...] | ./dev.sh test [PYTEST ARGS]" >&2
    exit 2
    ;;
esac
