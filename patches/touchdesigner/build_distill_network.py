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
]

COMMANDS = ["/distill/record/start", "/distill/record/stop", "/distill/status"]


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


if "ui" in globals() and "op" in globals():  # inside TouchDesigner: build in the open network
    build(ui.panes.current.owner if ui.panes.current is not None else op("/project1"))  # noqa: F821
