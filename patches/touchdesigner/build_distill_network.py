"""Build a TouchDesigner network that plays distill_live over OSC.

Run it in TouchDesigner's Textport (Alt+T); it builds in the network shown in the current
pane (or /project1):

    exec(open('/path/to/patches/touchdesigner/build_distill_network.py').read())

It makes:
  distill_params   Constant CHOP, one channel per parameter; the channel NAME is the OSC
                   address (/distill/temperature ...), the value starts at the default.
  distill_out      OSC Out CHOP -> 127.0.0.1:9000: sends each channel name as the address.
  distill_replies  OSC In DAT on port 9001: /distill/done, /distill/fail, /distill/status.reply.
  distill_values   OSC In CHOP on port 9002: echoed values (start distill-live with
                   --osc-echo --osc-reply-port 9002 to use it instead of the DAT).

Keys: send_note(60, 100) plays middle C, send_note(60, 0) releases it; notes_off() releases
all (a choice parameter's channel, scale or keys, is an index into CHOICES).

Start distill_live with:  distill-live play --osc-reply-port 9001
The OSC Out CHOP sends every frame; distill_live coalesces to the latest value per block.
Generated from distill_live's parameter table (python -m distill_live.control.patchgen).
"""

OSC_HOST = "127.0.0.1"
OSC_PORT = 9000
REPLY_PORT = 9001

#: (OSC address = channel name, minimum, maximum, default), from distill_live.params.PARAMS
PARAMETERS = [
    ('/distill/temperature', float(0.1), float(2), float(1)),
    ('/distill/top_k', int(0), int(512), int(0)),
    ('/distill/top_p', float(0), float(1), float(1)),
    ('/distill/seed', int(0), int(2147483647), int(0)),
    ('/distill/gain', float(-60), float(12), float(0)),
    ('/distill/width', float(0), float(2), float(1)),
    ('/distill/transpose', int(-24), int(24), int(0)),
    ('/distill/scale', 0, 120, 0),  # CHOICES
    ('/distill/keys', 0, 1, 0),  # CHOICES
    ('/distill/glide', float(0), float(2000), float(0)),
    ('/distill/bend_range', float(0), float(24), float(2)),
    ('/distill/bend', float(-1), float(1), float(0)),
    ('/distill/sustain', int(0), int(1), int(0)),
]

#: A choice parameter's channel is an index into its list here (distill_live takes it).
CHOICES = {
    '/distill/scale': ['off', 'C chromatic', 'C major', 'C minor', 'C harmonic minor', 'C dorian', 'C mixolydian', 'C pentatonic', 'C minor pentatonic', 'C blues', 'C whole tone', 'C# chromatic', 'C# major', 'C# minor', 'C# harmonic minor', 'C# dorian', 'C# mixolydian', 'C# pentatonic', 'C# minor pentatonic', 'C# blues', 'C# whole tone', 'D chromatic', 'D major', 'D minor', 'D harmonic minor', 'D dorian', 'D mixolydian', 'D pentatonic', 'D minor pentatonic', 'D blues', 'D whole tone', 'D# chromatic', 'D# major', 'D# minor', 'D# harmonic minor', 'D# dorian', 'D# mixolydian', 'D# pentatonic', 'D# minor pentatonic', 'D# blues', 'D# whole tone', 'E chromatic', 'E major', 'E minor', 'E harmonic minor', 'E dorian', 'E mixolydian', 'E pentatonic', 'E minor pentatonic', 'E blues', 'E whole tone', 'F chromatic', 'F major', 'F minor', 'F harmonic minor', 'F dorian', 'F mixolydian', 'F pentatonic', 'F minor pentatonic', 'F blues', 'F whole tone', 'F# chromatic', 'F# major', 'F# minor', 'F# harmonic minor', 'F# dorian', 'F# mixolydian', 'F# pentatonic', 'F# minor pentatonic', 'F# blues', 'F# whole tone', 'G chromatic', 'G major', 'G minor', 'G harmonic minor', 'G dorian', 'G mixolydian', 'G pentatonic', 'G minor pentatonic', 'G blues', 'G whole tone', 'G# chromatic', 'G# major', 'G# minor', 'G# harmonic minor', 'G# dorian', 'G# mixolydian', 'G# pentatonic', 'G# minor pentatonic', 'G# blues', 'G# whole tone', 'A chromatic', 'A major', 'A minor', 'A harmonic minor', 'A dorian', 'A mixolydian', 'A pentatonic', 'A minor pentatonic', 'A blues', 'A whole tone', 'A# chromatic', 'A# major', 'A# minor', 'A# harmonic minor', 'A# dorian', 'A# mixolydian', 'A# pentatonic', 'A# minor pentatonic', 'A# blues', 'A# whole tone', 'B chromatic', 'B major', 'B minor', 'B harmonic minor', 'B dorian', 'B mixolydian', 'B pentatonic', 'B minor pentatonic', 'B blues', 'B whole tone'],
    '/distill/keys': ['free', 'gate'],
}

COMMANDS = [
    "/distill/record/start",
    "/distill/record/stop",
    "/distill/status",
    "/distill/notes_off",
]


def build(parent_comp):
    """Create (or replace) the distill_live operators inside ``parent_comp``."""
    for name in ("distill_params", "distill_out", "distill_replies", "distill_values"):
        old = parent_comp.op(name)
        if old is not None:
            old.destroy()
    params = parent_comp.create(constantCHOP, "distill_params")
    for i, (address, lo, hi, default) in enumerate(PARAMETERS):
        getattr(params.par, "const%dname" % i).val = address
        getattr(params.par, "const%dvalue" % i).val = default
    params.nodeX, params.nodeY = 0, 0

    out = parent_comp.create(oscoutCHOP, "distill_out")
    out.par.netaddress = OSC_HOST
    out.par.port = OSC_PORT
    out.inputConnectors[0].connect(params)
    out.nodeX, out.nodeY = 200, 0

    replies = parent_comp.create(oscinDAT, "distill_replies")
    replies.par.port = REPLY_PORT
    replies.nodeX, replies.nodeY = 0, -200

    values = parent_comp.create(oscinCHOP, "distill_values")
    values.par.port = REPLY_PORT + 1
    values.nodeX, values.nodeY = 200, -200
    return params, out, replies, values


def send_command(address, *args):
    """Send a command such as /distill/record/start (uses the OSC Out CHOP's sendOSC)."""
    if address not in COMMANDS:
        raise ValueError("unknown distill_live command %r; expected one of %s" % (address, COMMANDS))
    op("distill_out").sendOSC(address, args)


def send_note(note, velocity=100):
    """A key: note 0..127, velocity 0..127 (0 releases it). distill_live plays the last key
    held; pair every note-on with a velocity-0 note-off (or call notes_off())."""
    for what, x in (("note", note), ("velocity", velocity)):
        if int(x) != x or not 0 <= x <= 127:
            raise ValueError("%s must be a whole number in 0..127, got %r" % (what, x))
    op("distill_out").sendOSC("/distill/note", [int(note), int(velocity)])


def notes_off():
    """Release every key (all notes off)."""
    send_command("/distill/notes_off")


if "ui" in globals() and "op" in globals():  # inside TouchDesigner: build in the open network
    build(ui.panes.current.owner if ui.panes.current is not None else op("/project1"))  # noqa: F821
