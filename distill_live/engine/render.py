"""Offline render: the live stream driven by a virtual clock instead of an audio device.

The same :class:`~distill_live.engine.stream.Stream` (generator, crossfade, post chain) runs
as in :class:`~distill_live.engine.Engine`; a virtual play position advances ``blocksize``
frames at a time while the generator keeps ``lookahead_ms`` queued ahead of it, exactly as
the generator thread does against the audio callback. Automation events reach the stream
the way a live change does, shortly before they are due, and take effect at the first chunk
boundary at or after their time (rolling back queued look-ahead when it already passed it).
Given the same model, seed, settings and automation, the output is bit-identical whatever
``blocksize`` and ``lookahead_ms`` are: every change lands on the same boundary, and rolling
back to a boundary reproduces the stream from there exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ControlError
from ..model.runtime import resolve_model, setup_torch
from ..params import ParamValues, Value, coerce_note, get_param
from .defaults import DEFAULT_LOOKAHEAD_MS
from .generator import chunk_frames_for
from .stream import AppliedChange, Change, FrameQueue, Stream

__all__ = [
    "render",
    "render_frames",
    "drive",
    "AutomationEvent",
    "load_automation",
    "Take",
    "load_take",
    "replay",
    "RENDER_RATES",
]

RENDER_RATES = (44100, 48000, 96000)


@dataclass(frozen=True)
class AutomationEvent:
    """A parameter change at ``time_s``, or a key: ``param`` "note" with ``value`` the MIDI
    note and ``velocity`` (0 releases it), or "notes_off"."""

    time_s: float
    param: str
    value: Value
    velocity: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"time_s": self.time_s, "param": self.param, "value": self.value}
        if self.velocity is not None:
            d["velocity"] = self.velocity
        return d


_FORM = "{time_s, param, value} (a note adds velocity)"


def parse_automation(items: Iterable[Any], where: str = "automation") -> list[AutomationEvent]:
    """Validate a list of ``{time_s, param, value}`` (values clamped like live control) and
    ``{time_s, param: "note", value: NOTE, velocity: 0..127}`` keys."""
    out = []
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ControlError(f"{where} must be a JSON list of {_FORM} objects")
    for i, item in enumerate(items):
        if isinstance(item, AutomationEvent):
            item = item.as_dict()
        keys = {"time_s", "param", "value"}
        if isinstance(item, Mapping) and item.get("param") == "note":
            keys.add("velocity")
        if not isinstance(item, Mapping) or set(item) != keys:
            raise ControlError(f"{where}[{i}] must be an object with exactly {_FORM}, got {item!r}")
        t = item["time_s"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < 1e7:
            raise ControlError(f"{where}[{i}].time_s must be a number of seconds >= 0, got {t!r}")
        name = str(item["param"])
        if name == "note":
            try:
                note, velocity = coerce_note(item["value"], item["velocity"])
            except ControlError as exc:
                raise ControlError(f"{where}[{i}]: {exc}") from None
            out.append(AutomationEvent(float(t), name, note, velocity))
            continue
        if name == "notes_off":
            out.append(AutomationEvent(float(t), name, 0))
            continue
        p = get_param(name)
        value, _ = p.coerce(item["value"])
        out.append(AutomationEvent(float(t), p.name, value))
    return sorted(out, key=lambda e: e.time_s)  # stable: same-time events keep their order


def _read_json(path: Path, what: str) -> Any:
    """The JSON document in ``path``; :class:`ControlError` naming ``what`` and the file when
    it is missing or not JSON."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ControlError(f"{what} {str(path)!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ControlError(f"{what} {str(path)!r} is not valid JSON: {exc}") from None


def load_automation(path: str | os.PathLike[str]) -> list[AutomationEvent]:
    """Read an automation file (JSON list of ``{time_s, param, value}``)."""
    p = Path(path)
    return parse_automation(_read_json(p, "automation file"), where=str(p))


def drive(
    model: Any,
    n_frames: int,
    sink: Callable[[np.ndarray], object],
    *,
    params: ParamValues | None = None,
    stereo: str = "mono",
    samplerate: int = 48000,
    channels: int | None = None,
    automation: Sequence[AutomationEvent] | None = None,
    blocksize: int = 256,
    lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
    chunk_frames: int | None = None,
    safety_ms: float = 30.0,
    context_frames: int | None = None,
    crossfade: int | None = None,
    fast_context: int | None = 2,
    on_change: Callable[[AppliedChange], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the stream on a virtual clock for ``n_frames`` output frames; final frames go to
    ``sink`` block by block, in order. ``on_change`` sees each applied change."""
    setup_torch()
    model = resolve_model(model)
    if channels is None:
        channels = 1 if stereo == "mono" else 2
    if blocksize < 1:
        raise ValueError(f"blocksize must be >= 1, got {blocksize}")
    stream = Stream(
        model,
        params or ParamValues(),
        stereo,
        out_rate=samplerate,
        channels=channels,
        chunk_frames=chunk_frames,
        context_frames=context_frames,
        crossfade=crossfade,
        fast_context=fast_context,
    )
    events = [
        (
            int(round(e.time_s * samplerate)),
            Change(e.param, e.value, "automation", velocity=e.velocity),
        )
        for e in (automation or [])
    ]
    lookahead = max(1, int(lookahead_ms * samplerate / 1000))
    safety = int(safety_ms * samplerate / 1000)
    queue = FrameQueue()
    read = 0  # the virtual play position
    i_next = 0  # next automation event not yet delivered
    pending: list[tuple[int, Change]] = []
    while queue.final < n_frames:
        while i_next < len(events) and events[i_next][0] - safety <= read:
            pending.append(events[i_next])
            i_next += 1
        while pending:  # same-time events go together, each group at its own boundary
            due = pending[0][0]
            group = [c for t, c in pending if t == due]
            res = stream.apply(group, due)
            if res is None:
                break
            pending = pending[len(group) :]
            for ch in res[1]:
                if on_change is not None:
                    on_change(ch)
        if stream.out_pos < read + lookahead or stream.out_pos != queue.end:
            pos = stream.out_pos
            queue.put(pos, stream.produce())
        else:
            read += blocksize
        # final: played, and beyond the reach of any change still to come
        horizon = min(
            [read, n_frames]
            + [t for t, _ in pending]
            + ([events[i_next][0]] if i_next < len(events) else [])
        )
        stream.prune(horizon)
        for _, block in queue.take(horizon):
            sink(block)
        if progress is not None:
            progress(queue.final, n_frames)


def render_frames(model: Any, n_frames: int, **kw: Any) -> np.ndarray:
    """:func:`drive` into memory: (n_frames, channels) float32 (keyword arguments as there)."""
    parts: list[np.ndarray] = []
    drive(model, n_frames, parts.append, **kw)
    if not parts:
        stereo = kw.get("stereo", "mono")
        channels = kw.get("channels") or (1 if stereo == "mono" else 2)
        return np.zeros((0, channels), np.float32)
    return np.concatenate(parts)


def render(
    model: Any,
    out_path: str | os.PathLike[str],
    duration_s: float,
    *,
    params: ParamValues | None = None,
    stereo: str = "mono",
    samplerate: int = 48000,
    subtype: str = "PCM_24",
    container: str = "wav",
    split_bytes: int | None = None,
    channels: int | None = None,
    automation: Sequence[AutomationEvent] | Sequence[Mapping[str, Any]] | None = None,
    blocksize: int = 256,
    lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
    chunk_frames: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    metadata: Mapping[str, Any] | None = None,
    start_s: float = 0.0,
) -> Path:
    """Render ``duration_s`` seconds to ``out_path`` (never overwritten) and its JSON sidecar
    through :class:`~distill_live.record.Recorder`. Returns the path written. ``start_s``
    (on a whole output frame) renders the stream from its start but writes from there on
    (automation times count from the stream's start).

    ``container`` (wav, rf64, w64) and ``split_bytes`` (part size limit; None: just under
    4 GiB for wav, no split for rf64/w64) are passed to the Recorder."""
    from ..record import Recorder, session_metadata

    if samplerate not in RENDER_RATES:
        raise ValueError(
            f"samplerate must be one of {', '.join(map(str, RENDER_RATES))}, got {samplerate}"
        )
    if not 0 < float(duration_s) <= 24 * 3600:
        raise ValueError(f"duration must be > 0 and at most 24 h, got {duration_s} s")
    model = resolve_model(model)
    if chunk_frames is None:
        chunk_frames = chunk_frames_for(model.hop, hasattr(model.codec, "decode_step"))
    params = params or ParamValues()
    events = parse_automation(automation or [])
    if channels is None:
        channels = 1 if stereo == "mono" else 2
    n_frames = int(round(float(duration_s) * samplerate))
    skip = int(round(float(start_s) * samplerate))
    rec = Recorder(
        out_path,
        samplerate=samplerate,
        channels=channels,
        subtype=subtype,
        container=container,
        split_bytes=split_bytes,
        blocking=True,
        metadata=session_metadata(
            model=model,
            params=params,
            stereo=stereo,
            render={
                "duration_s": float(duration_s),
                "automation": [e.as_dict() for e in events],
                "chunk_frames": chunk_frames,
            },
            **dict(metadata or {}),
        ),
    )
    rec.start()
    done = 0

    def sink(block: np.ndarray) -> None:
        nonlocal done
        cut = min(max(skip - done, 0), block.shape[0])
        done += block.shape[0]
        if cut < block.shape[0]:
            rec.write(block[cut:])

    try:
        drive(
            model,
            skip + n_frames,
            sink,
            params=params,
            stereo=stereo,
            samplerate=samplerate,
            channels=channels,
            automation=events,
            blocksize=blocksize,
            lookahead_ms=lookahead_ms,
            chunk_frames=chunk_frames,
            on_change=lambda ch: rec.event(
                ch.frame - skip, ch.param, ch.value, ch.source, ch.velocity
            ),
            progress=progress,
        )
    finally:
        rec.stop()  # on an error too: keeps what was written, the sidecar says how much
    return Path(rec.path)


# ------------------------------------------------------------------------------- replay
@dataclass(frozen=True)
class Take:
    """What replaying a recorded take needs, read from its sidecar (:func:`load_take`)."""

    params: ParamValues  # the stream's parameters when it started
    events: list[AutomationEvent]  # every change, in seconds from the stream's start
    origin_frame: int  # the take's first frame in the stream
    frames: int  # frames the take holds
    samplerate: int
    channels: int
    stereo: str
    chunk_frames: int | None
    model_path: str | None
    model_sha256: str | None
    #: take-relative [from, to) frames played other than the stream made them (a change's
    #: replacement came late and faded in later): a replay differs there, and only there
    late: tuple[tuple[int, int], ...] = ()


def load_take(path: str | os.PathLike[str]) -> Take:
    """Read a take's sidecar (``TAKE.wav.json``, or the take itself: its sidecar is found
    next to it). :class:`ControlError` says what is missing or why it cannot be replayed."""
    from ..record.naming import sidecar_path

    p = Path(path)
    side = p if p.suffix == ".json" else sidecar_path(p)
    doc = _read_json(side, "the take's sidecar")
    stream = doc.get("stream") if isinstance(doc, dict) else None
    if not isinstance(stream, dict):
        raise ControlError(
            f"{side} has no 'stream' block: only takes recorded by distill-live play (this "
            "version or later) can be replayed; for a render, render its automation again"
        )
    if not stream.get("replayable", False):
        raise ControlError(f"{side}: the model was switched during the session: no replay")
    sr = int(doc["audio"]["samplerate"])
    origin = int(stream["origin_frame"])
    raw = [*stream.get("events_before", [])]
    raw += [{**e, "frame": origin + int(e["frame"])} for e in doc.get("events", [])]
    events = parse_automation(
        [
            {k: v for k, v in {**e, "time_s": int(e["frame"]) / sr}.items() if k in _KEYS}
            for e in raw
        ],
        where=str(side),
    )
    model = doc.get("model") or {}
    return Take(
        params=ParamValues(stream["params"]),
        events=events,
        origin_frame=origin,
        frames=int(doc["frames_written"]),
        samplerate=sr,
        channels=int(doc["audio"]["channels"]),
        stereo=str(doc.get("stereo") or "mono"),
        chunk_frames=(doc.get("engine") or {}).get("chunk_frames"),
        model_path=model.get("path"),
        model_sha256=model.get("sha256"),
        late=tuple((int(a), int(b)) for a, b in doc.get("late_replacements") or ()),
    )


_KEYS = ("time_s", "param", "value", "velocity")


def replay(
    take: Take | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    model: Any = None,
    **kw: Any,
) -> Path:
    """Render a recorded take again from its sidecar: the same model, seed, settings and
    events give the same audio, bit for bit. ``model`` defaults to the take's (by path);
    other keyword arguments (subtype, container) go to :func:`render`."""
    if not isinstance(take, Take):
        take = load_take(take)
    if model is None:
        if take.model_path is None:
            raise ControlError("the take does not name its model file: give the model")
        model = take.model_path
    model = resolve_model(model)
    sha = getattr(model, "sha256", None)
    if take.model_sha256 and sha and sha != take.model_sha256:
        raise ControlError(
            f"the model {getattr(model, 'path', model)} is not the take's (sha256 "
            f"{take.model_sha256[:12]}..., this one {sha[:12]}...)"
        )
    return render(
        model,
        out_path,
        take.frames / take.samplerate,
        params=take.params,
        stereo=take.stereo,
        samplerate=take.samplerate,
        channels=take.channels,
        automation=take.events,
        chunk_frames=take.chunk_frames,
        start_s=take.origin_frame / take.samplerate,
        **kw,
    )
