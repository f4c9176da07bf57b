"""The OSC server: one UDP socket, one receiving thread, messages handled in arrival order.

Threading model: a single thread receives datagrams and handles them in order (no thread per
packet, which would lose order). During a flood it pauses briefly after every few ms of
work, so it never holds the GIL for long against the engine's generator thread. Parameter changes go through a :class:`Coalescer`: the first
change after a quiet spell reaches the engine at once, later ones within the engine's block
time are held and only the latest is applied, so a flood (TouchDesigner sends every channel
every frame) costs at most one ``Engine.set`` per parameter per block. A command flushes the
held changes first, so its order relative to parameter changes is kept. A model switch, which
can take a while, runs on a worker thread so it never holds up parameter changes. Bundle
timetags are ignored: clock skew must never delay control.

Replies (in the spirit of SuperCollider's server) go to ``reply_host:reply_port`` when a reply
port is configured (Max's ``[udpsend]`` sends from a random port), otherwise back to the
sender. Parameter changes are not acknowledged (like ``/n_set``); with ``echo=True`` every
change that takes effect is sent back as ``/distill/<param> value``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ControlError, DistillLiveError
from ..params import OSC_PREFIX, PARAMS
from .coalesce import Coalescer
from .engine_api import EngineLike
from .oscwire import OscDecodeError, OscMessage, decode_packet, encode_message
from .ratelog import RateLimitedLog

__all__ = [
    "COMMANDS",
    "DEFAULT_VELOCITY",
    "NOTE_ADDRESS",
    "NOTES_OFF_ADDRESS",
    "REPLIES",
    "Command",
    "OscServer",
    "STATUS_KEYS",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """An OSC address that is not a parameter: what it takes and what it answers."""

    address: str
    typetags: str  # "" for none; "[s]" for an optional string; "i [i]" an int, optional int
    description: str
    reply: str  # "" when success is not answered (as for parameter changes)


#: ``/distill/note note [velocity]``: a key (velocity 0 is a note-off).
NOTE_ADDRESS = f"{OSC_PREFIX}/note"
#: ``/distill/notes_off``: all notes off.
NOTES_OFF_ADDRESS = f"{OSC_PREFIX}/notes_off"
#: The velocity of ``/distill/note`` without one (the engine's default too).
DEFAULT_VELOCITY = 100


#: Every OSC command besides the per-parameter addresses (``/distill/<param> i|f|s``).
COMMANDS: Mapping[str, Command] = {
    c.address: c
    for c in (
        Command(
            NOTE_ADDRESS,
            "i [i]",
            "A key: note 0..127 and velocity 0..127 (0 = note-off; without it 100). The engine "
            "plays the last key held (last-note priority); floats that are whole numbers are "
            "accepted.",
            "",
        ),
        Command(
            NOTES_OFF_ADDRESS,
            "",
            "Release every key (all notes off, MIDI CC 123), the sustain pedal's held ones too.",
            f"{OSC_PREFIX}/done {NOTES_OFF_ADDRESS}",
        ),
        Command(
            f"{OSC_PREFIX}/record/start",
            "[s]",
            "Start recording, to the given path or an automatic name.",
            f"{OSC_PREFIX}/done {OSC_PREFIX}/record/start <path>",
        ),
        Command(
            f"{OSC_PREFIX}/record/stop",
            "",
            "Stop recording.",
            f"{OSC_PREFIX}/done {OSC_PREFIX}/record/stop <path>",
        ),
        Command(
            f"{OSC_PREFIX}/model",
            "s",
            "Switch to another model file (the sound crossfades; parameters are kept).",
            f"{OSC_PREFIX}/done {OSC_PREFIX}/model <path>",
        ),
        Command(
            f"{OSC_PREFIX}/learn",
            "s",
            "MIDI learn: the next MIDI control moved is mapped to this parameter and saved.",
            f"{OSC_PREFIX}/done {OSC_PREFIX}/learn <param> <cc> <channel>",
        ),
        Command(
            f"{OSC_PREFIX}/preset",
            "s",
            "Apply a preset from the presets file by name.",
            f"{OSC_PREFIX}/done {OSC_PREFIX}/preset <name>",
        ),
        Command(
            f"{OSC_PREFIX}/status",
            "",
            "Ask for parameters, underruns, buffer fill and recording state.",
            f"{OSC_PREFIX}/status.reply <key> <value> ...",
        ),
        Command(
            f"{OSC_PREFIX}/get",
            "[s]",
            "Ask for one parameter's current value (or all of them without an argument).",
            f"{OSC_PREFIX}/<param> <value> (one message per parameter)",
        ),
    )
}

#: Engine statistics included in ``/distill/status.reply`` when the engine reports them.
#: ``recording`` is the path while recording (empty otherwise); ``recording_status`` is
#: recording | failed | empty, and ``recording_error`` the reason a recording failed.
STATUS_KEYS = (
    "underruns",
    "buffer_fill",
    "recording",
    "recording_status",
    "recording_error",
    "frames_played",
    "rtf",
    "level_db",
)

#: Messages distill_live sends back, with their arguments.
REPLIES: Mapping[str, str] = {
    f"{OSC_PREFIX}/done": "`<address> [details...]`: a command succeeded",
    f"{OSC_PREFIX}/fail": "`<address> <reason>`: a message was rejected, or clamped "
    "(then the clamped value was applied and the reason says so)",
    f"{OSC_PREFIX}/status.reply": "`<key> <value>` pairs: every parameter, then "
    + ", ".join(STATUS_KEYS)
    + " (where the engine reports them; recording is the path or empty, recording_status "
    "recording or failed, recording_error the reason), osc_errors",
    f"{OSC_PREFIX}/<param>": "`<value>`: answer to `/distill/get`, and the echo of every change "
    "that took effect (--osc-echo)",
    NOTE_ADDRESS: "`<note> <velocity>`: the echo of every key that took effect, from any source "
    "(--osc-echo)",
}

_ADDR_TO_PARAM = {p.osc_address: p for p in PARAMS.values()}
_NUMERIC_TAGS = frozenset("ifhd")
_STRING_TAGS = frozenset("sS")
_MAX_BATCH = 512
#: During a flood, pause _YIELD_S after every _BUSY_S of work (GIL fairness for the engine's
#: generator thread), checked every _SLICE datagrams.
_SLICE = 32
_BUSY_S = 0.004
_CYCLE_S = 0.002
_YIELD_S = 0.0005
#: Address used in /distill/fail when a datagram could not be decoded at all.
MALFORMED = "?"


def _osc_value(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float, str)):
        return v
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)


class OscServer:
    """OSC control of an engine. ``start()`` binds and starts the threads; ``close()`` stops.

    ``learn`` (a callable ``(param, on_done) -> None``, from the MIDI part) and ``presets``
    (a callable ``(name) -> dict`` applying a preset) are optional; without them the
    corresponding commands answer ``/distill/fail``.
    """

    def __init__(
        self,
        engine: EngineLike,
        host: str = "127.0.0.1",
        port: int = 9000,
        *,
        reply_host: str | None = None,
        reply_port: int | None = None,
        echo: bool = False,
        learn: Callable[[str, Callable[[str, tuple[object, ...]], None]], None] | None = None,
        preset: Callable[[str], Mapping[str, object]] | None = None,
        coalesce_s: float | None = None,
    ) -> None:
        self.engine = engine
        self.host = host
        self.reply_host = reply_host
        self.reply_port = reply_port
        self.echo = echo
        self.learn = learn
        self.preset = preset
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._out: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._echoes: queue.SimpleQueue[tuple[str, object] | None] = queue.SimpleQueue()
        self._last_sender: tuple[str, int] | None = None
        self._coalesce_s = coalesce_s
        self._coalescer: Coalescer | None = None
        self._badlog = RateLimitedLog(log)
        self.counts: Counter[str] = Counter()
        #: name -> (value, monotonic arrival time) of the latest change handed to the engine
        self.last_set: dict[str, tuple[object, float]] = {}

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound UDP port (useful when constructed with port 0)."""
        if self._sock is None:
            return self._requested_port
        return int(self._sock.getsockname()[1])

    def start(self) -> OscServer:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            sock.bind((self.host, self._requested_port))
        except OSError as e:
            raise ControlError(
                f"cannot listen for OSC on {self.host}:{self._requested_port}: {e.strerror}; "
                "choose another --osc-port (or --no-osc)"
            ) from None
        sock.settimeout(0.2)
        self._sock = sock
        self._coalescer = Coalescer(
            self.engine,
            "osc",
            self._coalesce_s,
            on_applied=self._on_set,
            on_error=self._on_set_error,
        )
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        out.setblocking(False)
        self._out = out
        for target, name in (
            (self._receive_loop, "osc-receive"),
            (self._job_loop, "osc-jobs"),
            (self._echo_loop, "osc-echo"),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        if self.echo:
            self.engine.add_listener(self._on_applied)
        log.info("OSC listening on %s:%d", self.host, self.port)
        return self

    def close(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        self._echoes.put(None)
        for t in self._threads:
            t.join(timeout=2.0)
        self._threads.clear()
        if self._coalescer is not None:
            self._coalescer.close()
            self._coalescer = None
        for s in (self._sock, self._out):
            if s is not None:
                s.close()
        self._sock = self._out = None

    def __enter__(self) -> OscServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, int]:
        """Counters: ``datagrams``, ``messages``, ``applied``, ``malformed``, ``rejected``,
        ``clamped``, ``errors`` (malformed + rejected + clamped)."""
        c = dict(self.counts)
        c["errors"] = c.get("malformed", 0) + c.get("rejected", 0) + c.get("clamped", 0)
        return c

    # -- sending ---------------------------------------------------------------------------
    def _reply_target(self, sender: tuple[str, int] | None) -> tuple[str, int] | None:
        if self.reply_port is not None:
            host = self.reply_host or (sender[0] if sender else None) or "127.0.0.1"
            return (host, self.reply_port)
        if sender is None:
            return None
        return (self.reply_host or sender[0], sender[1])

    def send(self, target: tuple[str, int] | None, address: str, *args: object) -> None:
        """Send one message; never blocks (dropped if the socket buffer is full)."""
        out = self._out
        if target is None or out is None:
            return
        try:
            out.sendto(encode_message(address, *(_osc_value(a) for a in args)), target)
            self.counts["replies"] += 1
        except OSError:
            self.counts["replies_dropped"] += 1

    def _fail(self, sender: tuple[str, int] | None, address: str, reason: str, kind: str) -> None:
        self.counts[kind] += 1
        self._badlog.warning("OSC %s from %s: %s: %s", kind, sender, address, reason)
        self.send(self._reply_target(sender), f"{OSC_PREFIX}/fail", address, reason)

    def _done(self, sender: tuple[str, int] | None, address: str, *details: object) -> None:
        self.send(self._reply_target(sender), f"{OSC_PREFIX}/done", address, *details)

    # -- receiving -------------------------------------------------------------------------
    def _receive_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        busy_since = done_at = time.monotonic()
        while not self._stop.is_set():
            try:
                data, sender = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            now = time.monotonic()
            if now - done_at > 0.001:
                busy_since = now  # the thread was idle (waiting in recvfrom) before this
            batch = [(data, sender, now)]
            # Drain what is already waiting: a flood becomes one batch, coalesced below.
            sock.setblocking(False)
            try:
                for _ in range(_MAX_BATCH - 1):
                    d, s = sock.recvfrom(65536)
                    batch.append((d, s, now))
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass
            finally:
                if not self._stop.is_set():
                    with contextlib.suppress(OSError):
                        sock.settimeout(0.2)
            for i in range(0, len(batch), _SLICE):
                if time.monotonic() - busy_since > _BUSY_S:
                    # A flood: after a few ms of work, pause briefly so that this thread never
                    # holds the GIL for long; the engine's generator shares this process.
                    time.sleep(_YIELD_S)
                    busy_since = time.monotonic()
                try:
                    self._handle_batch(batch[i : i + _SLICE])
                except Exception:  # keep serving whatever a handler did
                    log.exception("OSC batch handling failed")
            done_at = time.monotonic()
            # At most one batch per _CYCLE_S: a flood wakes this thread (and takes the GIL)
            # a few hundred times a second instead of once per datagram; an isolated message
            # is not delayed (the wait comes after it was handled).
            rest = _CYCLE_S - (done_at - now)
            if rest > 0:
                time.sleep(rest)

    def handle_datagram(self, data: bytes, sender: tuple[str, int] | None = None) -> None:
        """Handle one datagram synchronously (as the receiving thread would)."""
        self._handle_batch([(data, sender or ("127.0.0.1", 0), time.monotonic())])

    def _handle_batch(self, batch: list[tuple[bytes, Any, float]]) -> None:
        for data, sender, arrival in batch:
            self.counts["datagrams"] += 1
            self._last_sender = sender
            try:
                messages = decode_packet(data)
            except OscDecodeError as e:
                self._fail(sender, MALFORMED, f"malformed datagram: {e}", "malformed")
                continue
            for msg in messages:
                self.counts["messages"] += 1
                self._handle_message(msg, sender, arrival)

    def _flush(self) -> None:
        if self._coalescer is not None:
            self._coalescer.flush()

    def _on_set(self, name: str, value: object, meta: Any) -> None:
        self.counts["applied"] += 1
        self.last_set[name] = (value, meta[1])

    def _on_set_error(self, name: str, error: DistillLiveError, meta: Any) -> None:
        self._fail(meta[0], PARAMS[name].osc_address, str(error), "rejected")

    def _handle_message(self, msg: OscMessage, sender: tuple[str, int], arrival: float) -> None:
        param = _ADDR_TO_PARAM.get(msg.address)
        if param is not None:
            # a choice takes its name (s) or its index (a menu's number); others a number
            accepted = _NUMERIC_TAGS | _STRING_TAGS if param.is_choice else _NUMERIC_TAGS
            if len(msg.args) != 1 or msg.typetags not in accepted:
                what = (
                    f"one of {param.range_text} (s) or its index 0..{len(param.choices) - 1}"
                    if param.is_choice
                    else f"one number ({param.osc_typetag}) in {param.range_text}"
                )
                self._fail(
                    sender,
                    msg.address,
                    f"expected {what}, got type tags ',{msg.typetags}'",
                    "rejected",
                )
                return
            raw = msg.args[0]
            try:
                value, clamped = param.coerce(raw)
            except ControlError as e:
                self._fail(sender, msg.address, str(e), "rejected")
                return
            if clamped:
                self._fail(
                    sender,
                    msg.address,
                    f"{raw!r} is outside {param.range_text}; clamped to {value!r}",
                    "clamped",
                )
            if self._coalescer is not None:
                self._coalescer.submit(param.name, value, (sender, arrival))
            return
        command = COMMANDS.get(msg.address)
        if command is None:
            self._fail(sender, msg.address, "unknown address", "rejected")
            return
        # keep order: parameter changes before this command (a bend before a note) take
        # effect first
        self._flush()
        try:
            self._run_command(msg, sender)
        except DistillLiveError as e:
            self._fail(sender, msg.address, str(e), "rejected")
        except Exception as e:  # an engine error must not stop the server
            log.exception("OSC command %s failed", msg.address)
            self._fail(sender, msg.address, f"{type(e).__name__}: {e}", "rejected")

    def _string_arg(self, msg: OscMessage, optional: bool) -> str | None:
        if not msg.args and optional:
            return None
        if len(msg.args) != 1 or msg.typetags not in ("s", "S"):
            raise ControlError(
                f"{msg.address} expects {'an optional ' if optional else 'one '}string "
                f"argument, got type tags ',{msg.typetags}'"
            )
        s = str(msg.args[0])
        if not s and not optional:
            raise ControlError(f"{msg.address} expects a non-empty string")
        return s or None

    def _note_args(self, msg: OscMessage) -> tuple[object, object]:
        """``/distill/note``'s note and velocity (100 when left out), not yet range-checked
        (the engine's ``note`` names a bad value and 0..127)."""
        if not 1 <= len(msg.args) <= 2:
            raise ControlError(
                f"{msg.address} expects a note (0..127) and an optional velocity (0..127, "
                f"0 = note-off), got {len(msg.args)} arguments (type tags ',{msg.typetags}')"
            )
        velocity = msg.args[1] if len(msg.args) == 2 else DEFAULT_VELOCITY
        return msg.args[0], velocity

    def _run_command(self, msg: OscMessage, sender: tuple[str, int]) -> None:
        a = msg.address
        eng = self.engine
        if a == NOTE_ADDRESS:
            # not answered on success, as a parameter change (a keyboard sends many)
            eng.note(*self._note_args(msg), source="osc")
            self.counts["notes"] += 1
        elif a == NOTES_OFF_ADDRESS:
            eng.all_notes_off(source="osc")
            self._done(sender, a)
        elif a == f"{OSC_PREFIX}/record/start":
            started = eng.record_start(self._string_arg(msg, optional=True))
            self._done(sender, a, str(started))
        elif a == f"{OSC_PREFIX}/record/stop":
            stopped = eng.record_stop()
            self._done(sender, a, "" if stopped is None else str(stopped))
        elif a == f"{OSC_PREFIX}/model":
            model_path = self._string_arg(msg, optional=False)

            def job() -> None:
                try:
                    eng.switch_model(model_path)
                except Exception as e:  # noqa: BLE001 - reported to the sender
                    self._fail(sender, a, f"{type(e).__name__}: {e}", "rejected")
                else:
                    self._done(sender, a, model_path)

            self._jobs.put(job)
        elif a == f"{OSC_PREFIX}/learn":
            name = self._string_arg(msg, optional=False)
            assert name is not None
            if name not in PARAMS:
                raise ControlError(
                    f"unknown parameter {name!r}; expected one of: {', '.join(PARAMS)}"
                )
            if self.learn is None:
                raise ControlError("MIDI learn needs a MIDI input: start with --midi-in NAME")

            def learned(param: str, details: tuple[object, ...]) -> None:
                self._done(sender, a, param, *details)

            self.learn(name, learned)
        elif a == f"{OSC_PREFIX}/preset":
            name = self._string_arg(msg, optional=False)
            assert name is not None
            if self.preset is None:
                raise ControlError("no presets loaded: start with --presets FILE")
            self.preset(name)
            self._done(sender, a, name)
        elif a == f"{OSC_PREFIX}/status":
            self.send(self._reply_target(sender), f"{OSC_PREFIX}/status.reply", *self.status_args())
        elif a == f"{OSC_PREFIX}/get":
            name = self._string_arg(msg, optional=True)
            names = list(PARAMS) if name is None else [name]
            if name is not None and name not in PARAMS:
                raise ControlError(
                    f"unknown parameter {name!r}; expected one of: {', '.join(PARAMS)}"
                )
            target = self._reply_target(sender)
            for n in names:
                self.send(target, PARAMS[n].osc_address, eng.get(n))

    def status_args(self) -> list[object]:
        """The arguments of ``/distill/status.reply``: key, value, key, value, ..."""
        out: list[object] = []
        params = self.engine.params
        for name in PARAMS:
            out += [name, params[name]]
        stats = self.engine.stats()
        for key in STATUS_KEYS:
            if key in stats:
                v = stats[key]
                if isinstance(v, float) and not math.isfinite(v):
                    v = 0.0
                out += [key, "" if v is None else v]
        out += ["osc_errors", self.stats()["errors"]]
        return out

    # -- worker and echo threads -----------------------------------------------------------
    def _job_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                log.exception("OSC job failed")

    def _on_applied(self, change: Any) -> None:
        # Called from the engine's generator thread: only enqueue.
        if self._stop.is_set():
            return
        if change.param == "note":  # every key is echoed (never coalesced: order matters)
            self._echoes.put((NOTE_ADDRESS, (change.value, getattr(change, "velocity", None))))
        else:
            self._echoes.put((change.param, change.value))

    def _echo_loop(self) -> None:
        while True:
            item = self._echoes.get()
            if item is None:
                return
            latest = {item[0]: item[1]}
            notes: list[Any] = [item[1]] if item[0] == NOTE_ADDRESS else []
            for _ in itertools.count():  # coalesce whatever else is queued (notes: all)
                try:
                    nxt = self._echoes.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    return
                if nxt[0] == NOTE_ADDRESS:
                    notes.append(nxt[1])
                latest[nxt[0]] = nxt[1]
            target = self._reply_target(self._last_sender)
            for name, value in latest.items():
                if name in PARAMS:
                    self.send(target, PARAMS[name].osc_address, value)
            for n, velocity in notes:
                self.send(target, NOTE_ADDRESS, n, *(() if velocity is None else (velocity,)))
