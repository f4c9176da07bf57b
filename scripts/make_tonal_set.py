#!/usr/bin/env python3
"""Render the tonal development set: phrases of General MIDI instruments, written as FLAC.

The sonic-pi samples are mostly percussive; this set is what a performer's pitched material
sounds like: single notes, legato lines and some two-note chords, on several instruments,
rendered by fluidsynth from a General MIDI soundfont that Debian ships. The phrases come from
a seeded random generator, so the same command always writes the same MIDI (and, with the same
fluidsynth and soundfont, the same audio).

    sudo apt-get install fluidsynth musescore-general-soundfont-small
    .venv/bin/python scripts/make_tonal_set.py data/tonal            # about 5 minutes of audio
    .venv/bin/python scripts/make_tonal_set.py data/tonal --minutes 2 --seed 1

Each file is ``{index:03d}_{instrument}_{kind}.flac`` (48 kHz, mono, 16 bit); the names carry
the instrument so a file-hash held-out split mixes instruments.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

__all__ = ["INSTRUMENTS", "SOUNDFONTS", "phrase", "main"]

#: (General MIDI program, name, lowest note, highest note): the instrument's comfortable range
INSTRUMENTS: tuple[tuple[int, str, int, int], ...] = (
    (0, "piano", 40, 84),
    (24, "nylon_guitar", 40, 76),
    (33, "finger_bass", 28, 52),
    (40, "violin", 55, 91),
    (42, "cello", 36, 67),
    (48, "strings", 43, 84),
    (52, "choir_aahs", 48, 79),
    (56, "trumpet", 54, 82),
    (65, "alto_sax", 49, 80),
    (71, "clarinet", 50, 86),
    (73, "flute", 60, 93),
    (81, "saw_lead", 45, 81),
    (89, "warm_pad", 40, 76),
)

#: soundfonts tried in order (Debian packages musescore-general-soundfont-small, timgm6mb-soundfont)
SOUNDFONTS = (
    "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
)
KINDS = ("notes", "legato", "chords")
SAMPLE_RATE = 48000
TICKS = 480  # ticks per beat


def phrase(rng: np.random.Generator, low: int, high: int, kind: str, seconds: float) -> list:
    """A phrase as (start s, duration s, notes, velocity) events within ``seconds``."""
    events = []
    t = 0.1
    note = int(rng.integers(low + 4, high - 4))
    while True:
        dur = float(rng.choice([0.25, 0.4, 0.6, 0.9, 1.4]))
        if kind == "notes":  # separate notes with rests between them
            gap = float(rng.choice([0.1, 0.2, 0.35]))
            note = int(rng.integers(low, high + 1))
        else:  # stepwise motion, notes joined (legato) or a second voice (chords)
            gap = 0.0
            note = int(np.clip(note + rng.choice([-4, -3, -2, -1, 1, 2, 3, 5, 7]), low, high))
        if t + dur > seconds - 0.3:
            break
        notes = [note]
        if kind == "chords" and rng.random() < 0.6:
            notes.append(int(np.clip(note + rng.choice([3, 4, 5, 7, 8, 9]), low, high + 7)))
        events.append((t, dur, notes, int(rng.integers(60, 118))))
        t += dur + gap
    return events


def _write_midi(path: Path, program: int, events: list) -> None:
    mid = mido.MidiFile(ticks_per_beat=TICKS)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000))  # 120 bpm: 960 ticks a second
    track.append(mido.Message("program_change", program=program, channel=0))
    timeline = []
    for start, dur, notes, vel in events:
        # legato: the next note starts before this one ends (10 ms overlap)
        for n in notes:
            timeline.append((start, 1, n, vel))
            timeline.append((start + dur + 0.01, 0, n, 0))
    timeline.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for when, on, n, vel in timeline:
        tick = int(round(when * 2 * TICKS))
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=n, velocity=vel, channel=0, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=2 * TICKS))
    mid.save(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder to write the FLAC files into")
    p.add_argument("--minutes", type=float, default=5.0, help="total length (default 5)")
    p.add_argument("--phrase-seconds", type=float, default=6.0, help="length of each phrase")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--soundfont", type=Path, help="an .sf2/.sf3 file (default: Debian's)")
    args = p.parse_args(argv)
    if shutil.which("fluidsynth") is None:
        print(
            "error: fluidsynth not found; install it: apt-get install fluidsynth", file=sys.stderr
        )
        return 1
    sf_path = args.soundfont or next((Path(s) for s in SOUNDFONTS if Path(s).exists()), None)
    if sf_path is None or not sf_path.exists():
        print(
            "error: no General MIDI soundfont found (tried "
            + ", ".join(SOUNDFONTS)
            + "); apt-get install musescore-general-soundfont-small or pass --soundfont",
            file=sys.stderr,
        )
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    n = max(1, int(round(args.minutes * 60 / args.phrase_seconds)))
    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            program, name, low, high = INSTRUMENTS[i % len(INSTRUMENTS)]
            kind = KINDS[(i // len(INSTRUMENTS)) % len(KINDS)]
            events = phrase(rng, low, high, kind, args.phrase_seconds)
            mid = Path(tmp) / f"{i}.mid"
            wav = Path(tmp) / f"{i}.wav"
            _write_midi(mid, program, events)
            subprocess.run(
                ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SAMPLE_RATE), "-F", str(wav)]
                + [str(sf_path), str(mid)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            audio, rate = sf.read(wav, dtype="float32", always_2d=True)
            mono = audio.mean(axis=1)
            mono = mono[: int(args.phrase_seconds * rate)]
            peak = float(np.max(np.abs(mono))) if mono.size else 0.0
            if peak > 0.99:  # never clip: scale a loud phrase down
                mono *= 0.99 / peak
            out = args.out / f"{i:03d}_{name}_{kind}.flac"
            sf.write(out, mono, rate, subtype="PCM_16")
            total += len(mono) / rate
    print(f"wrote {n} files, {total / 60:.1f} minutes, to {args.out} (soundfont {sf_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
