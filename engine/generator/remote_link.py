"""Where the remote generator lives (`triton://HOST:PORT/MODEL`) and whether it answers right now.

Kept apart from remote.py so the config can check a URL without importing ONNX Runtime or
tritonclient. `Link` is the reconnection policy: a lost server is said once in the log and on the
HUD, retried with a doubling wait (capped, so a server back after a reboot is found within seconds),
and said once more when it answers again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SCHEMES = {"triton": "grpc", "grpc": "grpc", "http": "http"}
DEFAULT_PORTS = {"grpc": 8001, "http": 8000}
FIRST_RETRY_S = 0.25
MAX_RETRY_S = 5.0
_URL = re.compile(
    r"(?P<scheme>[a-z]+)://(?P<host>\[[0-9a-fA-F:]+\]|[^:/\s]+)(?::(?P<port>\d+))?/(?P<model>[^/\s]+)/?"
)


@dataclass(frozen=True)
class RemoteUrl:
    text: str  # as the user wrote it: what the log and the HUD name
    protocol: str  # "grpc" | "http"
    host: str
    port: int
    model: str

    @property
    def address(self) -> str:
        """host:port as tritonclient takes it."""
        return f"{self.host}:{self.port}"


def parse_remote(text: str) -> RemoteUrl:
    """`triton://HOST:PORT/MODEL` (gRPC; also `grpc://`) or `http://HOST:PORT/MODEL`; ValueError names it."""
    example = "triton://HOST:PORT/MODEL (gRPC) or http://HOST:PORT/MODEL"
    m = _URL.fullmatch(text.strip())
    if m is None or m["scheme"] not in SCHEMES:
        raise ValueError(f"generator.remote = '{text}' must look like {example}")
    protocol = SCHEMES[m["scheme"]]
    port = int(m["port"]) if m["port"] else DEFAULT_PORTS[protocol]
    if not 1 <= port <= 65535:
        raise ValueError(f"generator.remote = '{text}': port {port} is out of range 1..65535")
    return RemoteUrl(text.strip(), protocol, m["host"], port, m["model"])


def short_reason(e: BaseException) -> str:
    """One line out of grpc's or urllib's long error text: its last clause says what happened."""
    text = (str(e).strip() or type(e).__name__).splitlines()[0]
    if len(text) > 100 and ": " in text:
        text = text.rsplit(": ", 1)[1]
    return text[:160]


class Link:
    """Up or down, since when, and when to try again; thread-safe (callbacks report from grpc's threads)."""

    def __init__(self, url: RemoteUrl, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.clock = clock
        self._lock = threading.Lock()
        self.up = False
        self.ever_up = False
        self.reason = "not connected yet"
        self.lost_at = clock()
        self._said_lost = False
        self._delay = FIRST_RETRY_S
        self._next_try = self.lost_at  # the first try is due at once
        self.fresh_since: float | None = None  # the first image delivered since the link came up

    def lost(self, reason: str, retry: bool = False) -> None:
        """A request failed, or (`retry`) a reconnection did: only a failed retry doubles the wait,
        and the outage is said once, however many requests fail with it."""
        with self._lock:
            was_up, self.up = self.up, False
            now = self.clock()
            if was_up:
                self.lost_at, self._delay, self.fresh_since = now, FIRST_RETRY_S, None
                self._next_try = now + self._delay
            elif retry:
                self._delay = min(self._delay * 2, MAX_RETRY_S)
                self._next_try = now + self._delay
            self.reason = reason
            say, self._said_lost = not self._said_lost, True
        if say:
            what = "generator server %s unreachable: %s; holding the last picture, retrying"
            log.warning(what, self.url.text, reason)

    def back(self) -> None:
        with self._lock:
            if self.up:
                return
            self.up, self.ever_up = True, True
            said, self._said_lost = self._said_lost, False
            down_s = self.clock() - self.lost_at
        if said:
            log.info("generator server %s back after %.1f s", self.url.text, down_s)

    def delivered(self) -> None:
        """A fresh image arrived: from a second after the first one, the watchdog may expect more."""
        with self._lock:
            if self.up and self.fresh_since is None:
                self.fresh_since = self.clock()

    def due(self) -> bool:
        with self._lock:
            return not self.up and self.clock() >= self._next_try

    def delivering(self, settle_s: float = 1.0) -> bool:
        """Up, and images flowing for `settle_s`: before that, the picture on screen is still the one
        held through the outage, which the watchdog would take for a frozen generator."""
        with self._lock:
            return self.up and self.fresh_since is not None and self.clock() - self.fresh_since >= settle_s

    def status(self) -> str:
        with self._lock:
            if self.up:
                return ""
            return f"generator server {self.url.text} unreachable; retrying"
