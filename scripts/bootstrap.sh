#!/usr/bin/env bash
# Install everything distill_live needs on a Debian/Ubuntu machine: system packages (when run
# as root; otherwise it says what to install), a virtual environment in .venv, the CPU build of
# torch, and the package itself. Safe to run again: it only does what is missing.
#
#   scripts/bootstrap.sh          runtime only (what `make play` needs)
#   scripts/bootstrap.sh dev      also the test and lint tools (what `make test` needs)
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRA="${1:-}"
TORCH_VERSION="2.13.0"   # the CPU build; a bare `torch` requirement pulls multi-GB CUDA wheels
APT_PACKAGES="libportaudio2 libsndfile1 jackd2 liblo-tools puredata-core sonic-pi-samples fluidsynth musescore-general-soundfont-small"

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

# -- system packages -----------------------------------------------------------------------
PY="$(command -v python3.11 || command -v python3 || true)"
missing=()
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ -z "$PY" ] || ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}   (then run this again)"
    exit 1
  fi
fi
PY="$(command -v python3.11 || command -v python3)"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "distill_live needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)"
  exit 1
fi

# -- virtual environment -------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  say "installing torch==$TORCH_VERSION (CPU build)"
  "${PIP[@]}" "torch==$TORCH_VERSION"
fi
stamp=".venv/.distill-live-installed${EXTRA:+-$EXTRA}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing distill_live${EXTRA:+ with [$EXTRA]} into .venv"
  "${PIP[@]}" -e ".${EXTRA:+[$EXTRA]}"
  touch "$stamp"
fi
say "ready: .venv/bin/distill-live"
