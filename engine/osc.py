"""OSC out, minimal: the viewer's features to every --osc-out target each frame.

Sound systems (SuperCollider, Pd, Max) listen for `/viewer/<feature> <float>`.
One plain message per feature (not a bundle) because that is what every OSC
peer parses, Pd's [oscparse] included. Sending never blocks the loop and never
raises into it: a target that is down just misses packets.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Mapping

from pythonosc.osc_message_builder import OscMessageBuilder

log = logging.getLogger(__name__)


def parse_target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"OSC target '{text}' must look like HOST:PORT, e.g. 127.0.0.1:57120")
    try:
        p = int(port)
    except ValueError:
        raise ValueError(f"OSC target '{text}': port '{port}' is not a number") from None
    if not 0 < p < 65536:
        raise ValueError(f"OSC target '{text}': port {p} is out of range 1..65535")
    return host, p


def message(address: str, *args: float | int | str) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


class OscSender:
    def __init__(self, targets: Iterable[str], rate: float = 30.0) -> None:
        self.targets = [parse_target(t) for t in targets]
        self.interval = 1.0 / rate
        self._last = -1e9
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._errors: set[tuple[str, int]] = set()

    def send_features(self, features: Mapping[str, float], now: float) -> bool:
        """Send at most `rate` times per second; returns whether it sent."""
        if not self.targets or now - self._last < self.interval:
            return False
        self._last = now
        packets = [message(f"/viewer/{name}", float(value)) for name, value in features.items()]
        for target in self.targets:
            for p in packets:
                try:
                    self._sock.sendto(p, target)
                except OSError as e:  # unreachable host, full buffer: drop, log once per target
                    if target not in self._errors:
                        self._errors.add(target)
                        log.warning("OSC to %s:%d failing (%s); will keep trying quietly", *target, e)
                    break
            else:
                self._errors.discard(target)
        return True

    def close(self) -> None:
        self._sock.close()
