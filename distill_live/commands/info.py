"""``distill-live info``: show what a model file holds.

The header and file facts come from :func:`distill_live.model.files.info_dict` (the content
hash verified); this module prints them as JSON or as a table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["HELP", "add_arguments", "run"]

HELP = "show what a model file holds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live info``."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        default="default",
        help="a .distill file, or 'default' for the shipped model (the default)",
    )
    parser.add_argument("--json", action="store_true", help="print the header as JSON")


def _fmt_seconds(s: Any) -> str:
    try:
        s = float(s)
    except (TypeError, ValueError):
        return str(s)
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _short(value: Any) -> str:
    """A header value for the table: floats to 4 digits, long lists as a count."""
    if isinstance(value, list) and len(value) > 8:
        return f"{len(value)} items (see --json)"
    if isinstance(value, (dict, list)):
        return json.dumps(_round(value))
    return str(_round(value))


def _codebooks_row(info: dict[str, Any]) -> str:
    pack = int(info.get("codec_config", {}).get("pack", 1))
    row = f"{info['n_codebooks']} x {info['codebook_size']} codes"
    if pack > 1:
        row += f" a frame ({info['n_codebooks'] // pack} codebooks x {pack} sub-frames)"
    return row


def _keys(table: dict[str, Any]) -> str:
    """The key table in a line: how many keys the model holds, and the poorest."""
    from ..engine.keyboard import KEY_GOOD, KeyMap
    from ..scales import note_name

    keymap = KeyMap.from_table(table)
    if keymap is None:
        return _short(table)
    low, quality = keymap.low_key, keymap.quality
    good = sum(q >= KEY_GOOD for q in quality)
    worst = sorted(range(len(quality)), key=lambda i: quality[i])[:3]
    poorest = ", ".join(f"{note_name(low + i)} {quality[i]:.2f}" for i in worst)
    return (
        f"{good} of {len(quality)} held at {KEY_GOOD} or better ({note_name(low)} to "
        f"{note_name(low + len(quality) - 1)}); poorest {poorest}"
    )


def run(args: argparse.Namespace) -> int:
    """``distill-live info``: returns the exit status."""
    from ..model.files import info_dict

    info = info_dict(args.model)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"distill_live model: {info['path']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    params = info.get("parameters", {})
    rows = [
        (
            "format",
            f"{info['format']} version {info['format_version']} ({info.get('written_by', '?')})",
        ),
        ("created", str(info.get("created", "?"))),
        (
            "file",
            f"{info['file_bytes'] / 1e6:.2f} MB, tensors {info.get('tensor_dtype', '?')}, "
            f"content hash ok",
        ),
        ("sha256", info["file_sha256"]),
        ("sample rate", f"{info['sample_rate']} Hz"),
        ("hop", f"{info['hop']} samples ({info['sample_rate'] / info['hop']:.3f} frames/s)"),
        ("codebooks", _codebooks_row(info)),
        ("decoder context", f"{info.get('decoder_context', '?')} frames each side"),
        ("parameters", ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in params.items())),
    ]
    pc = info.get("prior_config", {})
    rows.append(
        (
            "prior",
            f"d{pc.get('d_model')} x {pc.get('n_layers')} layers, "
            f"{pc.get('n_heads')} heads, window {pc.get('window')} frames",
        )
    )
    training = info.get("training") or {}
    if not training:
        rows.append(("training", "none recorded (untrained?)"))
    for key, value in training.items():
        if key == "options":
            continue  # every training option: see --json
        if key == "metrics" and isinstance(value, dict):
            for mk, mv in value.items():
                rows.append((f"metric {mk}", _short(mv)))
        elif key == "key_quality" and isinstance(value, dict):
            rows.append(("keys", _keys(value)))
        elif isinstance(value, (int, float)) and ("seconds" in key or key.endswith("_s")):
            rows.append((key.replace("_", " "), _fmt_seconds(value)))
        else:
            rows.append((key.replace("_", " "), _short(value)))
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)
    return 0
