#!/usr/bin/env bash
# Play the default model (or pass any `distill-live play` flags). On a machine with no audio
# output at all (a headless server), start a JACK server with the dummy driver so the engine
# still plays against a real audio clock, and say so.
set -euo pipefail
cd "$(dirname "$0")/.."
export JACK_NO_START_SERVER=1
if ! .venv/bin/python -c "
import sys
from distill_live.devices import list_audio_outputs
sys.exit(0 if list_audio_outputs() else 1)" 2>/dev/null; then
  if command -v jackd >/dev/null; then
    name="distill-dummy"
    echo "No audio output found: starting a JACK server with the dummy driver ($name): you will" \
         "hear nothing, but everything runs against a real audio clock."
    # realtime where this user may (as JACK runs on a music machine): libjack then gives the
    # engine's audio callback thread realtime priority too
    mode=(--no-realtime)
    if chrt -f 70 true 2>/dev/null; then mode=(-R -P 70); fi
    jackd "${mode[@]}" -n "$name" -d dummy -r 48000 -p 256 >/dev/null 2>&1 &
    jack_pid=$!
    trap 'kill $jack_pid 2>/dev/null || true' EXIT
    export JACK_DEFAULT_SERVER="$name"
    for _ in $(seq 50); do jack_lsp >/dev/null 2>&1 && break; sleep 0.1; done
  fi
fi
.venv/bin/distill-live play "$@"
