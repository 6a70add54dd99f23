"""The engine's HTTP port: `GET /status` (JSON) and `GET /metrics` (Prometheus) for remote monitoring.

A piece that runs for months with nobody at the machine is watched from elsewhere: a phone on the
gallery's network opens /status, a Prometheus server scrapes /metrics and alerts when fps drops or the
watchdog acts. Both read the same status callable at request time, so they never disagree and never go
stale. Read-only; loopback by default, and a wider listen address needs a password (HTTP basic auth):
the status names the camera, scene and model of someone's artwork. A status callable that raises is
answered with a 500 naming the error; the server, and the piece, go on.

`JsonHandler` and `HttpThread` are the engine's one HTTP mechanism (OSCQuery uses them too; the
staff's panel, engine.control.web, adds its routes through `routes`). What /metrics says, in
Prometheus's terms, is engine.metrics_export's; this module only serves it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import math
import socket
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import urlsplit

from engine.config import HttpSettings
from engine.control.osc.safety import LogThrottle
from engine.hostport import parse_listen
from engine.metrics_export import metrics_page

log = logging.getLogger(__name__)

ROUTES = ("/status", "/metrics")


# ---------------------------------------------------------------------- the shared HTTP mechanism
class JsonHandler(BaseHTTPRequestHandler):
    """Replies of a known length, errors as JSON (never http.server's HTML page), and no access log."""

    timeout = 5  # a client that opens a connection and says nothing must not hold a thread
    server_version = "latent-mirror"
    sys_version = ""

    def reply(
        self, code: int, body: bytes, content_type: str, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, code: int, doc: object, headers: Iterable[tuple[str, str]] = ()) -> None:
        body = b"" if doc is None else json.dumps(jsonable(doc), separators=(",", ":")).encode()
        self.reply(code, body, "application/json", headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests and unknown methods: one JSON line like every other answer."""
        self.close_connection = True
        self.reply_json(code, {"error": message or HTTPStatus(code).phrase})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass  # one line per request would flood the log of a long-running piece


class _Server(ThreadingHTTPServer):
    """At most MAX_CLIENTS connections at once (a thread each); more are closed at once, so a client
    that opens hundreds and says nothing costs a few threads for `timeout` seconds, not the process."""

    daemon_threads = True
    MAX_CLIENTS = 16

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._slots = threading.BoundedSemaphore(self.MAX_CLIENTS)
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: tuple) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class HttpThread:
    """A threaded HTTP server in a daemon thread. It binds here: OSError when the port is taken."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self.httpd = _Server(address, handler)
        self.address: tuple[str, int] = self.httpd.server_address[:2]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------- status as JSON
def jsonable(obj: object) -> object:
    """Strict JSON: NaN and infinity become null (browsers and Max's [dict] refuse `NaN`), numpy
    scalars become numbers, anything unexpected becomes its text rather than an exception."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(obj)


def status_json(doc: dict, max_bytes: int | None = None) -> str:
    """Compact JSON of the status. Over `max_bytes` (one UDP packet), the biggest fields are dropped
    first and named in "trimmed", so the answer always fits and says what it left out."""
    clean = jsonable(doc)
    assert isinstance(clean, dict)
    text = json.dumps(clean, separators=(",", ":"))
    if max_bytes is None or len(text.encode()) <= max_bytes:
        return text
    size = {k: len(json.dumps(v, separators=(",", ":")).encode()) for k, v in clean.items() if k != "ok"}
    trimmed: list[str] = []
    for key in sorted(size, key=lambda k: -size[k]):
        del clean[key]
        trimmed.append(key)
        text = json.dumps({**clean, "trimmed": trimmed}, separators=(",", ":"))
        if len(text.encode()) <= max_bytes:
            return text
    return json.dumps({"ok": bool(clean.get("ok", False)), "trimmed": True})


# ---------------------------------------------------------------------- access
def authorized(header: str | None, password: str) -> bool:
    """HTTP basic auth with any user name; the password compared in constant time."""
    if not password:
        return True
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    _, sep, given = decoded.partition(":")
    return hmac.compare_digest(given.encode(), password.encode()) and sep == ":"


# ---------------------------------------------------------------------- the server
class Routes(Protocol):
    """More paths on the same port (the staff's panel, engine.control.web.panel), behind the same password."""

    def handle(self, handler: JsonHandler, path: str) -> bool: ...  # True: answered

    def close(self) -> None: ...


class StatusServer:
    """GET /status, GET /metrics; any other path is a 404. Binds in the constructor (OSError when the
    port is taken, ValueError for a bad or unprotected address) and serves after `start()`."""

    def __init__(
        self, listen: str, password: str, status: Callable[[], dict], routes: Routes | None = None
    ) -> None:
        HttpSettings(listen, password).validate()  # one rule for the config file and direct use
        address = parse_listen(listen)
        if address is None:
            raise ValueError(f"listen = '{listen}' is off: nothing to serve")
        self.status = status
        metrics = metrics_page(lambda: jsonable(status()))  # numpy scalars → numbers, NaN → None (left out)
        warn, lock = LogThrottle(log), threading.Lock()

        def answer(path: str, accept: str | None) -> tuple[int, bytes, str]:
            if path == "/status":
                return 200, json.dumps(jsonable(status()), separators=(",", ":")).encode(), "application/json"
            if path == "/metrics":
                body, content_type = metrics(accept)
                return 200, body, content_type
            doc = {"error": f"no such path: {path[:80]}", "paths": list(ROUTES)}
            return 404, json.dumps(doc).encode(), "application/json"

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's spelling
                if not authorized(self.headers.get("Authorization"), password):
                    challenge = ("WWW-Authenticate", 'Basic realm="latent-mirror", charset="UTF-8"')
                    self.reply_json(401, {"error": "password required (HTTP basic auth)"}, [challenge])
                    return
                path = urlsplit(self.path).path.rstrip("/") or "/"
                if routes is not None and routes.handle(self, path):
                    return
                if self.command == "POST":  # only the panel's routes take a body
                    self.send_error(501, f"Unsupported method ('POST') for {path[:80]}")
                    return
                try:
                    code, body, content_type = answer(path, self.headers.get("Accept"))
                except Exception as e:  # noqa: BLE001 - a broken status must not end the server
                    with lock:
                        warn(f"status:{type(e).__name__}", "HTTP %s: the status failed: %r", path, e)
                    self.reply_json(500, {"error": f"status failed: {type(e).__name__}: {e}"})
                    return
                self.reply(code, body, content_type)

            do_HEAD = do_POST = do_GET  # noqa: N815 - http.server's spelling

        self.routes = routes
        self._http = HttpThread(address, Handler, "http-status")
        self.address = self._http.address

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def url(self) -> str:
        host = self.address[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def start(self) -> None:
        self._http.start()
        log.info("status on %s/status, metrics on %s/metrics", self.url, self.url)

    def close(self) -> None:
        if self.routes is not None:
            self.routes.close()
        self._http.close()


def start_status_server(
    listen: str, password: str, status: Callable[[], dict], routes: Routes | None = None
) -> StatusServer | None:
    """For App.run: a started server, or None when off or the port cannot be had (logged, and the
    piece runs on, as with the OSC ports: a dark projector would be the worse failure)."""
    if parse_listen(listen) is None:
        return None
    try:
        server = StatusServer(listen, password, status, routes)
    except OSError as e:
        log.error("HTTP status: cannot listen on %s (%s); running without it", listen, e)
        return None
    server.start()
    return server
