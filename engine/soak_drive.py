"""The soak's two OSC peers: a listener on the engine's OSC out, and the scenarios that drive it.

Both talk to the engine over real UDP on loopback, as a sound system and a VJ's controller would:
the listener counts visitors arriving and leaving (`/viewer/enter`, `/viewer/leave`), which proves
that the `visitors` scenario really reaches perception, and keeps the latest `/engine/fps` for
engines that have no GET /status yet; the scenarios send scene changes, presets and parameter
traffic into `--osc-in`.
"""

from __future__ import annotations

import math
import socket
import threading
import time

from pythonosc.osc_packet import OscPacket, ParseError
from pythonosc.udp_client import SimpleUDPClient

# Scene-independent engine parameters and their ranges: the `osc` scenario sweeps these.
SWEEP = (
    ("fx.hue_shift", -0.2, 0.2),
    ("fx.saturation", 0.8, 1.3),
    ("motion.speed", 0.6, 1.4),
    ("fx.trails", 0, 0.3),
)
OSC_RATE = 100.0  # parameter messages per second, like a controller's fader being moved non-stop
EVENTS = ("/viewer/enter", "/viewer/leave", "/scene/changed", "/preset/saved", "/preset/loaded")
SCENE_EVERY_S = 60.0  # `scenes`: a scene every minute from 30 s on, a preset save or load half-way between


def free_port() -> int:
    """A UDP/TCP port nobody listens on now on loopback (the engine binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        udp = s.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        try:
            t.bind(("127.0.0.1", udp))
            return udp
        except OSError:
            t.bind(("127.0.0.1", 0))
            return t.getsockname()[1]


class OscListener:
    """Receives the engine's OSC out on a port of its own and counts what matters to the soak."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.fps: float | None = None
        self.packets = self.bad = 0
        self.events: dict[str, int] = {}  # address in EVENTS → how many times the engine sent it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-osc-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.packets += 1
            try:
                messages = [m.message for m in OscPacket(data).messages]
            except (ParseError, ValueError, IndexError):
                self.bad += 1
                continue
            for m in messages:
                if m.address == "/engine/fps" and m.params:
                    self.fps = float(m.params[0])
                elif m.address in EVENTS:
                    self.events[m.address] = self.events.get(m.address, 0) + 1

    @property
    def enters(self) -> int:
        return self.events.get("/viewer/enter", 0)

    @property
    def leaves(self) -> int:
        return self.events.get("/viewer/leave", 0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.sock.close()


class Scenarios:
    """Sends the chosen scenarios' OSC into the engine from one thread, on schedule."""

    def __init__(self, names: set[str], target: tuple[str, int], scene: str) -> None:
        self.scenes = "scenes" in names
        self.params = "osc" in names
        self.scene = scene
        self.client = SimpleUDPClient(*target)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-scenarios", daemon=True)

    def start(self) -> None:
        if self.scenes or self.params:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def _send(self, address: str, *args: float | str) -> None:
        try:
            self.client.send_message(address, list(args))
            self.sent += 1
        except OSError:
            pass  # the engine is gone or restarting: the soak's rows say so

    def _run(self) -> None:
        t0 = time.monotonic()
        step = 1.0 / OSC_RATE if self.params else 0.25
        k, half_minutes = 0, 0
        while not self._stop.is_set():
            k += 1
            wait = t0 + k * step - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
            t = time.monotonic() - t0
            if self.params:
                name, lo, hi = SWEEP[k % len(SWEEP)]
                self._send(f"/param/{name}", lo + (hi - lo) * 0.5 * (1 + math.sin(t * 0.7 + k % len(SWEEP))))
            if self.scenes and t >= (half_minutes + 1) * SCENE_EVERY_S / 2:
                half_minutes += 1
                if half_minutes % 2 == 1:
                    self._send("/scene/select", self.scene)  # only one scene today: select it again
                else:
                    self._send("/preset/save" if half_minutes % 4 == 2 else "/preset/load", "soak")
