"""OSC out: the engine's state to any number of targets, each with its own groups and rate.

Sound systems (SuperCollider, Pd, Max) want the viewer's features and the
latent's motion every frame; controllers (TouchOSC, Resolume) want parameter
feedback so their faders follow changes made elsewhere. One `OscOut` serves
both: every target names the groups it wants (GROUPS) and a rate. Per-frame
state goes at the target's rate as one timed bundle (timetag = send time, so a
receiver can line features up with audio), split below the MTU; events and
parameter echoes are never rate-dropped, only coalesced to one value per
parameter per frame. Plain messages instead of bundles are an option per
target for peers that ignore bundles.

Sending never blocks the loop and never raises into it: a target that is down
just misses packets. Raw landmarks are only sent if `send_landmarks` is set.
Targets are IPv4, bracketed IPv6 ("[::1]:57120") or names (engine.hostport),
resolved once at start, with one socket per address family they need.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.config_meta import rng
from engine.control.osc.crowd import CrowdEvents, crowd_messages
from engine.control.osc.mapping import OscMapping
from engine.control.osc.wire import Sendable, encode_bundles, encode_message
from engine.hostport import parse_target, resolve
from engine.params import ParamRegistry
from engine.perception.crowd_types import Crowd

log = logging.getLogger(__name__)

GROUPS = {
    "viewer": "/viewer/<feature> <float> per frame (and /viewer/skeleton if landmarks are enabled;"
    " /crowd/count, /crowd/centroid, /crowd/spread, /crowd/motion while crowd perception runs)",
    "events": "/viewer/enter, /viewer/leave, /crowd/enter <id>, /crowd/leave <id>, /scene/changed <name>,"
    " /preset/loaded <name>",
    "latent": "/latent/speed <float σ/s>, /latent/pc <floats: first PCA coordinates in σ>",
    "engine": "/engine/fps <float>",
    "params": "/param/<name> <float> whenever a parameter changes, plus mapped addresses (feedback)",
}
SOUND_GROUPS = ("viewer", "events", "latent", "engine")
CONTROLLER_GROUPS = ("params", "events")
PER_FRAME = frozenset({"viewer", "latent", "engine"})


@dataclass(frozen=True)
class OscTargetSettings:
    address: str  # HOST:PORT
    groups: tuple[str, ...] = SOUND_GROUPS
    rate: float = field(default=30.0, metadata=rng(1, 240, "per-frame state, per second"))
    bundles: bool = True  # False: plain messages (for peers that ignore bundles)

    def validate(self) -> None:
        parse_target(self.address)
        bad = [g for g in self.groups if g not in GROUPS]
        if bad or not self.groups:
            raise ValueError(f"target {self.address}: groups must be some of {', '.join(GROUPS)}")


@dataclass(frozen=True)
class FrameState:
    """What one presented frame tells the outside world."""

    features: Mapping[str, float]
    latent_speed: float  # σ per second
    pcs: Sequence[float]  # first PCA coordinates of the current latent, in σ
    fps: float
    skeleton: np.ndarray | None = None  # only sent with send_landmarks
    crowd: Crowd | None = None  # everyone in view, where crowd perception runs (engine.control.osc.crowd)


class _Target:
    def __init__(self, s: OscTargetSettings) -> None:
        self.name = s.address
        self.host, self.port = parse_target(s.address)
        self.family: int | None = None  # None: the host did not resolve at start; nothing is sent
        self.addr: tuple = ()
        self.groups = frozenset(s.groups)
        self.interval = 1.0 / s.rate
        self.bundles = s.bundles
        self.due = -1e18  # when the next per-frame state may go
        self.failing = False

    def resolve(self) -> None:
        """Once, at start: a name that does not resolve is said once, and the target stays silent."""
        try:
            self.family, self.addr = resolve(self.host, self.port)
        except OSError as e:
            log.error("OSC to %s: cannot resolve '%s' (%s); not sending there", self.name, self.host, e)

    def take_slot(self, now: float) -> bool:
        """Whether per-frame state goes to this target now, at most `rate` times a second.

        Deadlines advance by exactly one interval from a point at most half an interval behind
        now, so frames that jitter around their period keep their slots (30 fps presented at rate
        30 sends 30 a second, not 18), while the long-run rate never exceeds `rate`."""
        if now < self.due:
            return False
        self.due = max(self.due, now - self.interval / 2) + self.interval
        return True


class OscOut:
    def __init__(
        self,
        targets: Iterable[OscTargetSettings],
        registry: ParamRegistry | None = None,
        mappings: Iterable[OscMapping] = (),
        send_landmarks: bool = False,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        self.targets = [_Target(t) for t in targets]
        self.registry = registry
        self.mappings = [m for m in mappings if m.param and m.feedback]
        self.send_landmarks = send_landmarks
        self.epoch = epoch  # wall-clock seconds, only for bundle timetags
        self._socks: dict[int, socket.socket] = {}  # one per address family the targets need
        for t in self.targets:
            t.resolve()
            if t.family is not None and t.family not in self._socks:
                self._socks[t.family] = sock = socket.socket(t.family, socket.SOCK_DGRAM)
                sock.setblocking(False)
        self._lock = threading.Lock()
        self._events: list[bytes] = []
        self._echo: dict[str, float] = {}  # coalesced: the newest value per parameter
        self._present = False
        self._crowd_events = CrowdEvents(self.event)
        self.sent = 0
        if registry is not None:
            registry.subscribe(self.param_changed)

    # ------------------------------------------------------ inputs (any thread)
    def param_changed(self, name: str, value: float, origin: str) -> None:
        """Registry listener: every change, whatever its origin, is echoed (the newest per frame)."""
        with self._lock:
            self._echo[name] = value

    def refresh(self) -> None:
        """Echo every parameter on the next frame (start-up, or a controller asking)."""
        if self.registry is not None:
            with self._lock:
                self._echo.update(self.registry.snapshot())

    def event(self, address: str, *args: Sendable) -> None:
        with self._lock:
            if len(self._events) < 256:  # a flood of scene switches must not grow memory
                self._events.append(encode_message(address, args))

    # ------------------------------------------------------ per frame (render thread)
    def publish(self, state: FrameState, now: float) -> None:
        present = state.features.get("presence", 0.0) >= 0.5
        if present != self._present:
            self._present = present
            self.event("/viewer/enter" if present else "/viewer/leave")
        self._crowd_events(state.crowd)
        with self._lock:
            events, self._events = self._events, []
            echo, self._echo = self._echo, {}
        echoes = self._echo_messages(echo) if echo else []
        frame: dict[str, list[bytes]] = {}
        stamp = self.epoch()
        for t in self.targets:
            msgs: list[bytes] = []
            if "events" in t.groups:
                msgs += events
            if "params" in t.groups:
                msgs += echoes
            if t.groups & PER_FRAME and t.take_slot(now):
                for g in sorted(t.groups & PER_FRAME):
                    if g not in frame:
                        frame[g] = self._frame_messages(g, state)
                    msgs += frame[g]
            if msgs:
                self._send(t, encode_bundles(msgs, stamp) if t.bundles else msgs)

    def _frame_messages(self, group: str, s: FrameState) -> list[bytes]:
        if group == "viewer":
            out = [encode_message(f"/viewer/{k}", (float(v),)) for k, v in s.features.items()]
            if self.send_landmarks and s.skeleton is not None:
                flat = np.asarray(s.skeleton, np.float32).ravel().tolist()
                out.append(encode_message("/viewer/skeleton", flat))
            if s.crowd is not None:
                out += crowd_messages(s.crowd)
            return out
        if group == "latent":
            return [
                encode_message("/latent/speed", (float(s.latent_speed),)),
                encode_message("/latent/pc", [float(v) for v in s.pcs]),
            ]
        return [encode_message("/engine/fps", (float(s.fps),))]

    def _echo_messages(self, echo: Mapping[str, float]) -> list[bytes]:
        out = [encode_message(f"/param/{k}", (float(v),)) for k, v in sorted(echo.items())]
        if self.registry is None:
            return out
        by_address: dict[str, list[OscMapping]] = {}
        for m in self.mappings:
            if m.param in echo:
                by_address.setdefault(m.address, [])
        for m in self.mappings:  # every mapping of a touched address: an xy pad sends x and y together
            if m.address in by_address:
                by_address[m.address].append(m)
        for address, maps in by_address.items():
            args = [0.0] * (max(m.arg for m in maps) + 1)
            for m in maps:
                spec = self.registry.spec(m.param)
                args[m.arg] = float(m.inverse(self.registry.get(m.param), spec.lo, spec.hi))
            out.append(encode_message(address, args))
        return out

    def _send(self, t: _Target, packets: Sequence[bytes]) -> None:
        if t.family is None:
            return
        sock = self._socks[t.family]
        for p in packets:
            try:
                sock.sendto(p, t.addr)
                self.sent += 1
            except OSError as e:  # unreachable host, full buffer: drop, log once per target
                if not t.failing:
                    t.failing = True
                    log.warning("OSC to %s failing (%s); will keep trying quietly", t.name, e)
                return
        if t.failing:
            t.failing = False
            log.info("OSC to %s works again", t.name)

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()
