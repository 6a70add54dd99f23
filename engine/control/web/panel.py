"""The staff's panel on the engine's HTTP port: the page, its state, its event stream, its controls.

Routes added to engine.control.http's server (the same port, password and thread limit as /status):

    GET  /                  the page (static/index.html, panel.js, panel.css: no build step)
    GET  /api/state         parameters (name, range, doc, value), scenes, presets, and the status
    GET  /events            server-sent events: the status and changed values every `tick_s`
    GET  /thumbnail.jpg     the newest picture of the output (read back only while a panel is open)
    POST /api/param         {"name": "mirror.gain", "value": 0.5}
    POST /api/blackout      {"value": 1}
    POST /api/scene         {"name": "pulse"}
    POST /api/preset        {"name": "evening"}

A POST is JSON of at most MAX_BODY bytes (413 above, before reading it); a bad one is a 400 with one
line saying why, and nothing is queued. Cross-site requests are refused: the body must be sent as
application/json (a page elsewhere cannot send that without asking first, and nobody answers its
asking) and an Origin, when given, must be this host. On a loopback address (where no password is
needed) every panel route wants a loopback Host, so a rebound DNS name in someone's browser can
neither press the buttons nor see the picture.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.control.commands import CommandQueue
from engine.control.http import JsonHandler, jsonable
from engine.control.osc.safety import LogThrottle, is_loopback_host
from engine.control.web.control import Refused, WebControl
from engine.control.web.thumbnail import Thumbnail
from engine.params import ParamRegistry

if TYPE_CHECKING:
    from engine.app import App

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_STREAMS = 4  # of the server's 16 connections: event streams never starve /status and the controls
STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/panel.js": ("panel.js", "text/javascript")}
STATIC["/panel.css"] = ("panel.css", "text/css")
ROUTES = (*STATIC, "/api/state", "/events", "/thumbnail.jpg", "/api/param", "/api/blackout")
ROUTES += ("/api/scene", "/api/preset")


def param_list(registry: ParamRegistry) -> list[dict]:
    """What a slider needs, from the registry's specs as OSCQuery lists them (engine.control.osc.query)."""
    values = registry.snapshot()
    return [
        {"name": s.name, "lo": s.lo, "hi": s.hi, "default": s.default, "kind": s.kind, "doc": s.doc}
        | {"value": values[s.name]}
        for s in registry.specs()
    ]


class WebPanel:
    def __init__(
        self,
        status: Callable[[], dict],
        control: WebControl,
        thumbnail: Thumbnail,
        tick_s: float = 1.0,
    ) -> None:
        self.status = status
        self.control = control
        self.registry = control.registry
        self.thumbnail = thumbnail
        self.tick_s = tick_s
        self._streams = threading.BoundedSemaphore(MAX_STREAMS)
        self.streams = 0  # event streams open now: panels being looked at
        self._closing = threading.Event()
        self._warn = LogThrottle(log)
        folder = files("engine.control.web").joinpath("static")
        self._pages = {path: folder.joinpath(name).read_bytes() for path, (name, _) in STATIC.items()}

    @classmethod
    def for_app(cls, app: App) -> WebPanel:
        p = app.pipeline
        control = WebControl(p.params, p.commands, p.clock, p.osc.scenes, p.presets.names)
        return cls(app.status, control, app.thumbnail)

    @classmethod
    def standalone(
        cls,
        status: Callable[[], dict],
        registry: ParamRegistry,
        commands: CommandQueue,
        scenes: Iterable[str],
        presets: Callable[[], list[str]] = list,
        tick_s: float = 1.0,
    ) -> WebPanel:
        """Without an App (tests, tools): the same parts, the monotonic clock."""
        control = WebControl(registry, commands, time.monotonic, scenes, presets)
        return cls(status, control, Thumbnail(), tick_s)

    def close(self) -> None:
        """End the event streams (their threads finish within a tick)."""
        self._closing.set()

    # ------------------------------------------------------------------ routing
    def handle(self, h: JsonHandler, path: str) -> bool:
        """Answer `path` if it is the panel's (True), else leave it to the server (False)."""
        if path not in ROUTES:
            return False
        try:
            self._answer(h, path)
        except Exception as e:  # noqa: BLE001 - a broken status or encoder must not end the server
            self._warn(f"{path}:{type(e).__name__}", "web panel: %s failed: %r", path, e)
            h.reply_json(500, {"error": f"{path} failed: {type(e).__name__}: {e}"})
        return True

    def _answer(self, h: JsonHandler, path: str) -> None:
        post = path.startswith("/api/") and path != "/api/state"
        host = h.headers.get("Host", "")
        bound = str(h.server.server_address[0])  # a wider address has a password (HttpSettings)
        if is_loopback_host(bound) and not is_loopback_host(urlsplit(f"//{host}").hostname or ""):
            h.reply_json(403, {"error": f"the panel is on {bound}: requests for host {host[:80]} refused"})
        elif (h.command == "POST") != post:
            allow = "POST" if post else "GET, HEAD"
            h.reply_json(405, {"error": f"{path} takes {allow}"}, [("Allow", allow)])
        elif post:
            self._post(h, path)
        elif path in STATIC:
            name, content_type = STATIC[path]
            h.reply(200, self._pages[path], content_type, [("X-Content-Type-Options", "nosniff")])
        elif path == "/api/state":
            h.reply_json(200, self.state())
        elif path == "/thumbnail.jpg":
            seq, jpeg = self.thumbnail.jpeg(wait_s=2.0)
            if not jpeg:
                h.reply_json(503, {"error": "no frame presented yet"}, [("Retry-After", "1")])
            else:
                h.reply(200, jpeg, "image/jpeg", [("X-Frame", str(seq))])
        else:
            self._events(h)

    def state(self) -> dict:
        return {
            "params": param_list(self.registry),
            "scenes": self.control.scenes,
            "presets": self.control.presets(),
            "status": self.status(),
            "thumb": self.thumbnail.seq,  # frames read back for panels so far (none while nobody looks)
            "streams": self.streams,
        }

    # ------------------------------------------------------------------ controls
    def _post(self, h: JsonHandler, path: str) -> None:
        try:
            doc = self._body(h)
            what, name = path.removeprefix("/api/"), doc.get("name")
            if what == "param":
                result: dict = {"name": name, "value": self.control.param(name, doc.get("value"))}
            elif what == "blackout":
                result = {"value": self.control.blackout(doc.get("value"))}
            elif what == "scene":
                result = {"scene": self.control.scene(name)}
            else:
                result = {"preset": self.control.preset(name)}
        except Refused as e:
            h.reply_json(e.status, {"error": str(e)})
            return
        h.reply_json(202, {"queued": True, **result})  # applied at the start of the next frame

    def _body(self, h: JsonHandler) -> dict:
        """The request's JSON object, after the checks that need no reading first."""
        origin = h.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != h.headers.get("Host", ""):
            raise Refused(f"cross-site request from {origin[:80]} refused", 403)
        length = h.headers.get("Content-Length")
        if length is None or not length.isdigit():
            h.close_connection = True
            raise Refused("a JSON body with a Content-Length is needed", 411)
        if int(length) > MAX_BODY:
            h.close_connection = True  # the body is never read: the connection cannot be reused
            raise Refused(f"body of {int(length)} bytes; at most {MAX_BODY}", 413)
        if (h.headers.get_content_type() or "") != "application/json":
            raise Refused("the body must be sent as application/json", 415)
        raw = h.rfile.read(int(length))
        try:
            doc = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as e:
            raise Refused(f"body is not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise Refused("body must be a JSON object")
        return doc

    # ------------------------------------------------------------------ server-sent events
    def _events(self, h: JsonHandler) -> None:
        if h.command == "HEAD":
            h.reply(200, b"", "text/event-stream")
            return
        if not self._streams.acquire(blocking=False):
            h.reply_json(503, {"error": f"at most {MAX_STREAMS} panels at once"}, [("Retry-After", "5")])
            return
        self.streams += 1
        try:
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Cache-Control", "no-store")
            h.send_header("X-Accel-Buffering", "no")
            h.end_headers()
            h.close_connection = True
            h.wfile.write(f"retry: {int(self.tick_s * 2000)}\n\n".encode())
            sent: dict[str, float] = {}
            while not self._closing.is_set():
                self.thumbnail.want()
                values = self.registry.snapshot()
                changed = {k: v for k, v in values.items() if sent.get(k) != v}
                sent = values
                try:
                    status = self.status()
                except Exception as e:  # noqa: BLE001 - a broken status is shown, the stream goes on
                    status = {"ok": False, "error": f"status failed: {type(e).__name__}: {e}"}
                doc = {"status": status, "values": changed, "thumb": self.thumbnail.seq}
                data = json.dumps(jsonable(doc), separators=(",", ":"))
                h.wfile.write(f"event: state\ndata: {data}\n\n".encode())
                h.wfile.flush()
                self._closing.wait(self.tick_s)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the panel was closed
        finally:
            self.streams -= 1
            self._streams.release()


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")
