#!/usr/bin/env bash
# Seedwave developer entry point: sets everything up, then runs the app or the tests.
#
#   ./dev.sh run [FILES...]   set up, then start the editor (demo project if no file)
#   ./dev.sh test [PYTEST ARGS]  set up, then run the whole test suite
#
# Set-up is idempotent: Debian packages are installed only if missing, the virtual
# environment (.venv) is created once, and the project is reinstalled only when
# pyproject.toml changes. torch comes from pip's configured index. Its default Linux build
# carries CUDA (several GB); on a machine without an NVIDIA GPU, point
# SEEDWAVE_TORCH_INDEX at the PyTorch CPU wheel index (pytorch.org's install selector
# names it) to get the small CPU build instead:
#
#   SEEDWAVE_TORCH_INDEX=<CPU wheel index URL> ./dev.sh run
#
# SEEDWAVE_TORCH=cpu|cuda forces the choice; by default a GPU (nvidia-smi) means cuda.
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
TEST_PKGS="pulseaudio pulseaudio-utils libasound2-plugins xvfb xauth fluidsynth timgm6mb-soundfont"

say() { echo "dev.sh: $*" >&2; }

# Another apt or dpkg (an unattended upgrade, a software centre) may hold the package
# lock: wait for it, saying so, instead of failing at once.
wait_for_apt() {
  local waited=0 limit=${SEEDWAVE_APT_WAIT:-600}
  command -v fuser >/dev/null 2>&1 || return 0
  while $SUDO fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [ "$waited" -eq 0 ]; then say "another package manager is running; waiting for it (up to ${limit} s)"; fi
    if [ "$waited" -ge "$limit" ]; then
      say "the package manager is still busy after ${limit} s; try again when it has finished"
      exit 1
    fi
    sleep 5; waited=$((waited + 5))
  done
}

apt_install() {
  local missing=""
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "please install these system packages:$missing"
    return 0
  fi
  say "installing system packages:$missing"
  wait_for_apt
  $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 $missing >/dev/null
}

# shellcheck disable=SC2086
if [ "$MODE" = test ]; then apt_install $RUN_PKGS $TEST_PKGS; else apt_install $RUN_PKGS; fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "dev.sh: Python 3.11 or newer is needed" >&2; exit 1; }
  "$PY" -m venv .venv
fi
VPY=$ROOT/.venv/bin/python

if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  TORCH_KIND=${SEEDWAVE_TORCH:-}
  if [ -z "$TORCH_KIND" ]; then
    if command -v nvidia-smi >/dev/null 2>&1; then TORCH_KIND=cuda; else TORCH_KIND=cpu; fi
  fi
  if [ "$TORCH_KIND" = cpu ] && [ -n "${SEEDWAVE_TORCH_INDEX:-}" ]; then
    say "installing PyTorch (CPU build from SEEDWAVE_TORCH_INDEX)"
    "$VPY" -m pip install -q --progress-bar off "torch>=2.2" --index-url "$SEEDWAVE_TORCH_INDEX"
  elif [ "$TORCH_KIND" = cpu ] && "$VPY" -m pip install -q --no-deps "torch==2.13.0+cpu" >/dev/null 2>&1; then
    # A CPU build that pip's configuration already offers (a wheel folder or a mirror);
    # torch's own dependencies arrive with the project below.
    say "installed PyTorch (CPU build)"
  else
    say "installing PyTorch from the configured index (this can take several minutes;" \
        "set SEEDWAVE_TORCH_INDEX for the smaller CPU build)"
    "$VPY" -m pip install -q --progress-bar off "torch>=2.2"
  fi
fi

STAMP=.venv/.seedwave-installed
HASH=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  say "installing Seedwave and its Python packages into .venv (a few minutes the first time)"
  "$VPY" -m pip install -q --progress-bar off -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  say "set-up done"
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
