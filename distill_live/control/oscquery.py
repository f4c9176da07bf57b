"""OSCQuery: the parameter namespace over HTTP (JSON), advertised over mDNS.

Clients such as ossia score and Chataigne read ``GET /`` and find every parameter with its
type, current VALUE, RANGE, UNIT, CLIPMODE, ACCESS and DESCRIPTION, plus the commands;
``GET /distill/temperature?VALUE`` answers one attribute; ``GET /?HOST_INFO`` tells where to
send OSC. Built on the standard library's HTTP server (python-oscquery 0.4 has no RANGE,
UNIT, CLIPMODE or live values) and ``zeroconf`` for ``_oscjson._tcp`` and ``_osc._udp``.
mDNS failure is logged and is not fatal. No WebSocket: LISTEN is not offered (HOST_INFO
says so); clients poll VALUE, or use ``--osc-echo``.

Threading model: ``ThreadingHTTPServer`` (a thread per request, daemon threads); handlers
only read ``engine.params``. mDNS registration runs on its own thread (it takes seconds).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .._version import __version__
from ..errors import ControlError
from ..params import OSC_PREFIX, PARAMS, Param, Value
from .engine_api import EngineLike
from .osc import COMMANDS, NOTE_ADDRESS

__all__ = ["OscQueryServer", "namespace"]

log = logging.getLogger(__name__)

ACCESS_READ_WRITE = 3
ACCESS_WRITE = 2
#: OSCQuery attributes this server can answer.
EXTENSIONS = {
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "TAGS": False,
    "EXTENDED_TYPE": False,
    "UNIT": True,
    "CRITICAL": False,
    "CLIPMODE": True,
    "LISTEN": False,
    "PATH_CHANGED": False,
    "PATH_RENAMED": False,
    "PATH_ADDED": False,
    "PATH_REMOVED": False,
}
_UNITS = {"dB": "gain.dB"}  # ossia's unit names where one exists


def _param_node(p: Param, value: Value) -> dict[str, Any]:
    # A choice is a string whose RANGE is the list of its values (VALS); CLIPMODE does not
    # apply to it (anything else is rejected, never clipped).
    rng: dict[str, Any] = (
        {"VALS": list(p.choices)}
        if p.is_choice
        else {"MIN": p.type(p.minimum), "MAX": p.type(p.maximum)}
    )
    node: dict[str, Any] = {
        "FULL_PATH": p.osc_address,
        "TYPE": p.osc_typetag,
        "ACCESS": ACCESS_READ_WRITE,
        "VALUE": [value],
        "RANGE": [rng],
        "CLIPMODE": ["none" if p.is_choice else "both"],
        "DESCRIPTION": p.description,
    }
    if p.unit:
        node["UNIT"] = [_UNITS.get(p.unit, p.unit)]
    return node


def _command_type(typetags: str) -> str:
    """OSCQuery TYPE of a command: its type tags without the optional marks ("i [i]" → "ii",
    "[s]" → "s"), or "N" (nil) for none."""
    return "".join(c for c in typetags if c.isalpha()) or "N"


def namespace(engine: EngineLike) -> dict[str, Any]:
    """The whole OSCQuery tree, with current values."""
    values = engine.params
    root: dict[str, Any] = {
        "FULL_PATH": "/",
        "ACCESS": 0,
        "DESCRIPTION": "distill_live",
        "CONTENTS": {},
    }
    top = OSC_PREFIX.strip("/")
    base: dict[str, Any] = {
        "FULL_PATH": OSC_PREFIX,
        "ACCESS": 0,
        "DESCRIPTION": "distill_live parameters and commands",
        "CONTENTS": {},
    }
    root["CONTENTS"][top] = base
    for p in PARAMS.values():
        base["CONTENTS"][p.name] = _param_node(p, values[p.name])
    for c in COMMANDS.values():
        parts = c.address[len(OSC_PREFIX) + 1 :].split("/")
        node = base
        for i, part in enumerate(parts[:-1]):
            node = node["CONTENTS"].setdefault(
                part,
                {
                    "FULL_PATH": f"{OSC_PREFIX}/{'/'.join(parts[: i + 1])}",
                    "ACCESS": 0,
                    "CONTENTS": {},
                },
            )
        node["CONTENTS"][parts[-1]] = leaf = {
            "FULL_PATH": c.address,
            "TYPE": _command_type(c.typetags),
            "ACCESS": ACCESS_WRITE,
            "DESCRIPTION": f"{c.description} Answers {c.reply}." if c.reply else c.description,
        }
        if c.address == NOTE_ADDRESS:  # note and velocity, one RANGE per argument
            leaf["RANGE"] = [{"MIN": 0, "MAX": 127}, {"MIN": 0, "MAX": 127}]
            leaf["CLIPMODE"] = ["none", "none"]  # out of range is rejected, not clipped
    return root


def _find(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    node = tree
    for part in [p for p in path.split("/") if p]:
        contents = node.get("CONTENTS")
        if not contents or part not in contents:
            return None
        node = contents[part]
    return node


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: debug log only
        log.debug("OSCQuery %s " + fmt, self.client_address[0], *args)

    def _send_json(self, code: int, body: object | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = unquote(url.query)
        owner = self.server.owner
        if query == "HOST_INFO":
            self._send_json(200, owner.host_info())
            return
        node = _find(namespace(owner.engine), unquote(url.path))
        if node is None:
            self._send_json(404, {"ERROR": f"no such OSC path {url.path}"})
        elif not query:
            self._send_json(200, node)
        elif query in node:
            self._send_json(200, {query: node[query]})
        elif query in EXTENSIONS or query in ("FULL_PATH", "CONTENTS", "TYPE"):
            self._send_json(204, None)
        else:
            self._send_json(400, {"ERROR": f"unknown attribute {query}"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: OscQueryServer


def _advertised_ip(host: str) -> str:
    if host not in ("0.0.0.0", ""):
        return host
    try:  # the address of the interface with the default route
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1; nothing is sent
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"


class OscQueryServer:
    """HTTP OSCQuery server for ``engine``'s parameters; ``osc_port`` is where OSC goes."""

    def __init__(
        self,
        engine: EngineLike,
        osc_port: int,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "distill_live",
        mdns: bool = True,
    ) -> None:
        self.engine = engine
        self.osc_port = osc_port
        self.host = host
        self.name = name
        self._requested_port = port
        self._mdns = mdns
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._zc: Any = None
        self._infos: list[Any] = []
        self._mdns_thread: threading.Thread | None = None
        #: None until mDNS registration finished; then True, or the error text.
        self.mdns_status: bool | str | None = None
        self._mdns_lock = threading.Lock()
        self._closing = threading.Event()

    @property
    def port(self) -> int:
        return self._requested_port if self._httpd is None else int(self._httpd.server_address[1])

    def host_info(self) -> dict[str, Any]:
        return {
            "NAME": self.name,
            "EXTENSIONS": EXTENSIONS,
            "OSC_IP": _advertised_ip(self.host),
            "OSC_PORT": self.osc_port,
            "OSC_TRANSPORT": "UDP",
        }

    def start(self) -> OscQueryServer:
        try:
            httpd = _HTTPServer((self.host, self._requested_port), _Handler)
        except OSError as e:
            raise ControlError(
                f"cannot serve OSCQuery on {self.host}:{self._requested_port}: {e.strerror}; "
                "choose another --oscquery-port (or --no-oscquery)"
            ) from None
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="oscquery", daemon=True
        )
        self._thread.start()
        log.info("OSCQuery on http://%s:%d/", self.host, self.port)
        if self._mdns:
            self._mdns_thread = threading.Thread(target=self._register, name="mdns", daemon=True)
            self._mdns_thread.start()
        return self

    def _register(self) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf

            ip = _advertised_ip(self.host)
            hostname = socket.gethostname().split(".")[0] or "distill-live"
            infos = [
                ServiceInfo(
                    "_oscjson._tcp.local.",
                    f"{self.name}._oscjson._tcp.local.",
                    addresses=[socket.inet_aton(ip)],
                    port=self.port,
                    properties={"version": __version__},
                    server=f"{hostname}.local.",
                ),
                ServiceInfo(
                    "_osc._udp.local.",
                    f"{self.name}._osc._udp.local.",
                    addresses=[socket.inet_aton(ip)],
                    port=self.osc_port,
                    properties={"version": __version__},
                    server=f"{hostname}.local.",
                ),
            ]
            zc = Zeroconf()
            with self._mdns_lock:
                self._zc = zc
            for info in infos:
                zc.register_service(info, allow_name_change=True)
                self._infos.append(info)
            self.mdns_status = True
            log.info("mDNS: advertised %s as _oscjson._tcp and _osc._udp", self.name)
        except Exception as e:  # no multicast, no network: OSCQuery still works over HTTP
            self.mdns_status = f"{type(e).__name__}: {e}"
            log.warning("mDNS advertisement failed (OSCQuery still served over HTTP): %s", e)
        if self._closing.is_set():  # closed while registering: clean up here
            self._unregister()

    def _unregister(self) -> None:
        with self._mdns_lock:
            zc, self._zc = self._zc, None
            infos, self._infos = self._infos, []
        if zc is None:
            return
        try:
            for info in infos:
                zc.unregister_service(info)
            zc.close()
        except Exception:
            log.debug("mDNS shutdown failed", exc_info=True)

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._closing.set()
        thread, self._mdns_thread = self._mdns_thread, None
        if thread is not None and thread.is_alive():
            return  # still registering (takes seconds): the thread unregisters when done
        self._unregister()

    def __enter__(self) -> OscQueryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
