"""systemd's notify protocol: READY once the first frame is shown, WATCHDOG while frames are shown.

The supervisor (a `Type=notify` unit with `WatchdogSec`, deploy/latent-mirror.service) restarts the
engine when the pings stop, so they are sent from the render loop and only for frames really
presented: a hung loop, or one that no longer shows anything, stops pinging. READY waits for the
first presented frame, not for the models to load, so `systemctl is-active` means "a picture is on
the wall". Plain datagrams to $NOTIFY_SOCKET, no dependency; without that variable (a desk, the
tests) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Talks to the service manager; never raises, never blocks the render loop."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        # Ping at a third of the supervisor's timeout, so one slow frame never trips it. No timeout
        # (no WatchdogSec, or the pings are meant for another process): no pings at all.
        self.interval: float | None = watchdog_usec / 1e6 / 3 if watchdog_usec else None
        self.ready_sent = False
        self._last_ping = float("-inf")
        self._sock: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, pid: int | None = None) -> SystemdNotifier:
        """Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID the way sd_watchdog_enabled() does."""
        env = os.environ if environ is None else environ
        usec = env.get("WATCHDOG_USEC", "")
        wd_pid = env.get("WATCHDOG_PID", "")
        # a child that inherited the variables (a capture subprocess, ffmpeg) must not ping for us
        if wd_pid and wd_pid != str(os.getpid() if pid is None else pid):
            usec = ""
        return cls(env.get("NOTIFY_SOCKET") or None, int(usec) if usec.isdigit() else None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog(self) -> bool:
        return self.address is not None and self.interval is not None

    def send(self, text: str) -> bool:
        if self.address is None:
            return False
        addr = self.address
        if addr.startswith("@"):  # abstract namespace
            addr = "\0" + addr[1:]
        try:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # a manager that stopped reading must cost us a lost ping, never a stalled frame
                sock.setblocking(False)
                self._sock = sock
            self._sock.sendto(text.encode(), addr)
            return True
        except OSError as e:
            if not self._failed:
                self._failed = True
                log.warning("systemd notify to %s failed: %s", self.address, e)
            return False

    def frame_presented(self, now: float) -> None:
        """Called for every presented frame (`now` in seconds, monotonic): READY once, then pings."""
        if self.address is None:
            return
        if not self.ready_sent:
            self.ready_sent = self.send("READY=1\nSTATUS=presenting frames")
            self._last_ping = now
        elif self.interval is not None and now - self._last_ping >= self.interval:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def extend_start(self, seconds: float) -> None:
        """Before READY: asks for more start time (a first TensorRT build can outlast TimeoutStartSec)."""
        if not self.ready_sent:
            self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1e6)}")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def reloading(self) -> None:
        """A config reload (SIGHUP) began: the unit shows `reloading` until the next presented frame."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000  # systemd >= 253 wants the stamp
        if self.send(f"RELOADING=1\nMONOTONIC_USEC={usec}"):
            self.ready_sent = False  # READY=1 again ends the reload

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
