"""Who may talk to the engine, how fast, and how much the log may say about it.

An installation listens on a network for months. Anything on that network can
send packets: a misconfigured controller at 10 kHz, a port scanner, garbage.
Three small guards keep that from becoming a stalled projector or a full disk:
an allow-list of sender addresses, a token bucket per sender, and a log
throttle that says each kind of problem once and then at most once a minute,
with a count, in a bounded amount of memory.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AllowList:
    """Loopback is always allowed; anything else only if a listed address or network contains it."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks = list(LOOPBACK)
        for e in entries:
            self.networks.append(parse_network(e))
        self._cache: OrderedDict[str, bool] = OrderedDict()

    def __call__(self, ip: str) -> bool:
        hit = self._cache.get(ip)
        if hit is None:
            try:
                addr = ipaddress.ip_address(ip.split("%")[0])
            except ValueError:
                return False
            if getattr(addr, "ipv4_mapped", None):
                addr = addr.ipv4_mapped
            hit = any(addr.version == n.version and addr in n for n in self.networks)
            self._cache[ip] = hit
            if len(self._cache) > 1024:
                self._cache.popitem(last=False)
        return hit


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """'192.168.1.20', '192.168.1.0/24', '*' (anyone: IPv4 and IPv6)."""
    if text.strip() == "*":
        return ipaddress.ip_network("0.0.0.0/0")
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"'{text}' is not an IP address or network like 192.168.1.0/24") from None


class RateLimiter:
    """A token bucket per key (sender IP): `rate` per second, bursts of `burst`; bounded key count."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        max_keys: int = 256,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1.0))
        self.max_keys = max_keys
        self.now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        t = self.now()
        tokens, last = self._buckets.pop(key, (self.burst, t))
        tokens = min(self.burst, tokens + (t - last) * self.rate)
        ok = tokens >= cost
        if ok:
            tokens -= cost
        self._buckets[key] = (tokens, t)  # most recent last: the oldest sender is evicted first
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return ok


class LogThrottle:
    """Log each key the first time, then at most once per `interval` with a count of the suppressed.

    At most `max_keys` keys are remembered (beyond that they share one key), and
    across all keys at most `budget` lines per `interval`: the log is bounded
    however many distinct bad addresses a sender invents. Not OSC's alone: sources,
    the status server, the pipeline and the stages' error counts (engine/app.py
    ErrorLog) all say their repeated problems through one.
    """

    OVERFLOW = "<many different problems>"  # the key shared once max_keys are remembered

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        max_keys: int = 64,
        budget: int = 20,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = logger
        self.interval = interval
        self.max_keys = max_keys
        self.budget = budget
        self.now = now
        self._keys: OrderedDict[str, list[float]] = OrderedDict()  # key → [last logged, suppressed]
        self._window = (-1e18, 0)  # (start, lines in it)
        self.suppressed = 0

    def __call__(
        self,
        key: str,
        msg: str,
        *args: object,
        level: int = logging.WARNING,
        exc_info: BaseException | bool = False,
    ) -> bool:
        """Log `msg % args` unless `key` was said less than `interval` ago; True when it was logged.
        `exc_info` adds a traceback: an exception's, or True for the one being handled."""
        t = self.now()
        if key not in self._keys and len(self._keys) >= self.max_keys:
            key, msg = self.OVERFLOW, "many different problems; the latest: " + msg
        entry = self._keys.get(key)
        if entry is not None and t - entry[0] < self.interval:
            entry[1] += 1
            self.suppressed += 1
            return False
        start, count = self._window
        if t - start >= self.interval:
            start, count = t, 0
        if count >= self.budget:
            self.suppressed += 1
            if entry is not None:
                entry[1] += 1
            return False
        self._window = (start, count + 1)
        suppressed = int(entry[1]) if entry is not None else 0
        self._keys[key] = [t, 0]
        self._keys.move_to_end(key)
        if len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        if suppressed:
            msg += f" ({suppressed} more like it since last said)"
        self.log.log(level, msg, *args, exc_info=exc_info, stacklevel=2)  # the caller's line, not ours
        return True
