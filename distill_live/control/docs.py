"""Tables for the README and docs/control.md, generated from PARAMS and the control code.

``readme_block()`` is what ``python -m distill_live.docs`` puts between
``<!-- control:start -->`` and ``<!-- control:end -->`` in README.md; tests compare both
README.md and docs/control.md against these functions.
"""

from __future__ import annotations

from ..params import PARAMS, _fmt
from .mapping import default_mapping
from .midi import ALL_NOTES_OFF_CCS, SOFT_TAKEOVER_THRESHOLD, SUSTAIN_CC
from .osc import COMMANDS, NOTE_ADDRESS, REPLIES

__all__ = ["midi_table", "osc_table", "readme_block", "replies_table"]


def osc_table() -> str:
    """Every OSC address: parameters (from PARAMS), then commands."""
    rows = [
        "| address | arguments | range | default | what it does |",
        "|---|---|---|---|---|",
    ]
    for p in PARAMS.values():
        unit = f" {p.unit}" if p.unit else ""
        if p.is_choice:  # a name, or its index (a menu's number)
            args = f"s (or its index 0..{len(p.choices) - 1}, i or f)"
            default = str(p.default)
        else:
            args = f"{p.osc_typetag} (i or f accepted)"
            default = _fmt(float(p.default))
        rows.append(
            f"| `{p.osc_address}` | {args} | {p.range_text}{unit} | {default} | {p.description} |"
        )
    for c in COMMANDS.values():
        args = c.typetags or "—"
        answers = f" Answers `{c.reply}`." if c.reply else " Not answered unless rejected."
        rng = "0..127 each" if c.address == NOTE_ADDRESS else "—"
        rows.append(f"| `{c.address}` | {args} | {rng} | — | {c.description}{answers} |")
    return "\n".join(rows)


def replies_table() -> str:
    rows = ["| reply | arguments |", "|---|---|"]
    rows += [f"| `{addr}` | {text} |" for addr, text in REPLIES.items()]
    return "\n".join(rows)


def midi_table() -> str:
    """The default MIDI mapping (from PARAMS' ``midi_cc`` and the default buttons)."""
    m = default_mapping()
    rows = [
        "| control | CC (any channel) | 14-bit LSB | range | curve | takeover |",
        "|---|---|---|---|---|---|",
    ]
    for c in m.controls:
        p = PARAMS[c.param]
        lsb = f"CC {c.lsb_cc}" if c.lsb_cc is not None else "—"
        rows.append(
            f"| `{c.param}` | CC {c.cc} | {lsb} | {p.range_text} | {c.curve or p.curve} | "
            f"{c.takeover} |"
        )
    for b in m.buttons:
        rows.append(
            f"| {b.action.replace('_', ' ')} (button, {b.mode}) | CC {b.cc} | — | — | — | — |"
        )
    rows.append("| preset (with `--presets`) | program change | — | — | — | — |")
    # the keyboard (midi.py): not in the mapping, on any channel unless --midi-channel
    rows += [
        "| keys (last-note priority; velocity 0 = note-off) | note on / note off | — | "
        "0..127 | — | — |",
        "| `bend` | pitch wheel | — | -8192..8191 → -1..1 | linear | — |",
        f"| `sustain` (pedal, down at 64) | CC {SUSTAIN_CC} | — | 0..1 | — | — |",
        "| all notes off | "
        + " / ".join(f"CC {c}" for c in ALL_NOTES_OFF_CCS)
        + " | — | — | — | — |",
    ]
    return "\n".join(rows)


def readme_block() -> str:
    """The control section of the README: addresses, replies, MIDI defaults."""
    return "\n\n".join(
        [
            "OSC addresses (UDP, default port 9000, bound to 127.0.0.1):",
            osc_table(),
            "Replies (to `--osc-reply-host`/`--osc-reply-port`, else to the sender):",
            replies_table(),
            "Default MIDI mapping (absolute controls; the LSB is used once it arrives; soft "
            f"takeover picks a knob up within {round(SOFT_TAKEOVER_THRESHOLD * 128)}/128 of the "
            "value or when it crosses it):",
            midi_table(),
        ]
    )
