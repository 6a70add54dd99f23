"""OSC in: a UDP server thread that turns controller and sound-system messages into commands.

The thread does only cheap, bounded work per packet: allow-list, token bucket,
decode (engine.control.osc.wire: never sleeps, one exception type), then hands each
message to the dispatcher (engine.control.osc.dispatch), which validates it against
its address and the parameter registry and puts a `Command` on the queue the
render thread drains. Nothing it receives can stall or crash a frame. Every
problem is counted in `stats` and logged through a throttle: once per address
or kind, then at most once a minute with a count. The dispatcher answers
`/engine/ping` and `/engine/status` from this listening socket.

Bundles timetagged in the future are not waited for: their commands are
queued with a due time (up to `max_future` seconds ahead; further than that
the clocks disagree and they apply at once).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable

from engine.control.commands import CommandQueue
from engine.control.osc.dispatch import OscDispatcher
from engine.control.osc.mapping import OscMapping
from engine.control.osc.safety import AllowList, LogThrottle, RateLimiter
from engine.control.osc.wire import OscDecodeError, OscMessage, decode
from engine.hostport import resolve
from engine.params import ParamRegistry

log = logging.getLogger(__name__)


class OscServer:
    def __init__(
        self,
        listen: tuple[str, int],
        registry: ParamRegistry,
        commands: CommandQueue,
        clock: Callable[[], float],
        *,
        scenes: Iterable[str] = (),
        allow: Iterable[str] = (),
        rate: float = 2000.0,
        mappings: Iterable[OscMapping] = (),
        max_future: float = 10.0,
        epoch: Callable[[], float] = time.time,
        status: Callable[[], str] | None = None,
    ) -> None:
        """`status` returns the status as JSON text within STATUS_MAX_BYTES (OscIO builds it from the
        engine's status dict); without it /engine/status is answered with an error document."""
        self.registry = registry
        self.commands = commands
        self.clock = clock
        self.epoch = epoch
        self.allowed = AllowList(allow)
        self.limiter = RateLimiter(rate)
        self.max_future = max_future
        self.warn = LogThrottle(log)
        self.stats = dict.fromkeys(
            ("packets", "messages", "refused", "rate_limited", "malformed", "unknown", "bad_args", "full"), 0
        )
        family, where = resolve(*listen)  # an IPv6 address ("::1", "::") gets an IPv6 socket
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(where)  # raises OSError (port in use): the caller decides
        self.sock.settimeout(0.2)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dispatcher = OscDispatcher(
            registry,
            commands,
            send=self.sock.sendto,
            stats=self.stats,
            warn=self.warn,
            scenes=scenes,
            mappings=mappings,
            status=status,
        )

    # ------------------------------------------------------------------ thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="osc-in", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError as e:
                if self._stop.is_set():
                    return
                self.warn("recv", "OSC in: receive failed (%s)", e)
                self._stop.wait(0.05)
                continue
            try:
                self.handle(data, sender)
            except Exception as e:  # noqa: BLE001 - a packet must never end the server
                self.warn(f"internal:{type(e).__name__}", "OSC in: internal error %r (packet ignored)", e)

    # ------------------------------------------------------------------ packets
    def handle(self, data: bytes, sender: tuple) -> None:
        """One datagram from `sender` (ip, port): check, decode, dispatch. Public for tests."""
        ip = str(sender[0])
        self.stats["packets"] += 1
        if not self.allowed(ip):
            self.stats["refused"] += 1
            self.warn(f"refused:{ip}", "OSC in: packet from %s refused (not in osc.allow)", ip)
            return
        if not self.limiter.allow(ip):
            self.stats["rate_limited"] += 1
            self.warn(f"rate:{ip}", "OSC in: %s sends too fast; dropping packets (osc.in_rate)", ip)
            return
        try:
            messages = decode(data)
        except OscDecodeError as e:
            self.stats["malformed"] += 1
            self.warn(f"malformed:{ip}:{e}", "OSC in: malformed packet from %s: %s", ip, e)
            return
        if len(messages) > 1 and not self.limiter.allow(ip, len(messages) - 1):
            self.stats["rate_limited"] += 1
            self.warn(f"rate:{ip}", "OSC in: %s sends too fast; dropping packets (osc.in_rate)", ip)
            return
        now = self.clock()
        for msg in messages:
            self.stats["messages"] += 1
            self.dispatcher.dispatch(msg, sender, self._due(msg, now, ip))

    def _due(self, msg: OscMessage, now: float, ip: str) -> float:
        if msg.timetag is None:
            return now
        ahead = msg.timetag - self.epoch()
        if ahead <= 0:
            return now
        if ahead > self.max_future:
            self.warn(
                f"future:{ip}",
                "OSC in: bundle from %s is %.0f s in the future (clocks out of sync?); applied now",
                ip,
                ahead,
            )
            return now
        return now + ahead
