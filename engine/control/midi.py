"""MIDI in and out: controllers onto the parameter registry and the command queue, learn, feedback.

A message from a controller is mapped (engine.control.midi_map) and handed to an OSC dispatcher as the
address it stands for (`/param/<name>`, `/scene/select`, a trigger): one place checks arguments
and puts commands on the queue the render thread drains, whichever surface they came from. The
commands carry origin `midi:<port>`, so feedback skips the controller that made the change.

Three threads touch this object: rtmidi's (JACK's process thread, or ALSA's) calls `_on_message`,
which only looks up a mapping and queues a command; the `midi` thread polls the ports, sends
feedback and writes MIDI learn's file; any thread may call `learn`. Which ports are open, and
finding a controller again once it is plugged back in, is engine.control.midi_ports' part.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.config import ConfigError, midi_maps
from engine.control.commands import CommandQueue
from engine.control.midi_map import MidiMapping, MidiSettings, merge, target_mapping, write_learned
from engine.control.midi_ports import MidiPorts, Out
from engine.control.osc.dispatch import OscDispatcher
from engine.control.osc.mapping import OscMapping
from engine.control.osc.safety import LogThrottle, RateLimiter
from engine.control.osc.wire import OscMessage
from engine.params import ParamRegistry
from engine.presets import PresetError, check_name

log = logging.getLogger(__name__)


@dataclass
class _Binding:
    m: MidiMapping
    curve: OscMapping  # forward for input, inverse for feedback: the same table as OSC mappings


class MidiIO:
    def __init__(
        self,
        settings: MidiSettings,
        registry: ParamRegistry,
        commands: CommandQueue,
        clock: Callable[[], float],
        scenes: Iterable[str],
    ) -> None:
        self.s = settings
        self.registry = registry
        self.commands = commands
        self.clock = clock
        self.scenes = frozenset(scenes)
        for i, m in enumerate(settings.map):
            problem = self._problem(m)
            if problem:
                raise ValueError(f"midi.map[{i}] ({m.control()}): {problem}")
        self.path = settings.learned_path()
        self.learned = self._load_learned()
        self.warn = LogThrottle(log)
        self.stats = dict.fromkeys(("received", "unmapped", "sent", "unknown", "bad_args", "full"), 0)
        self._lock = threading.Lock()
        self._bindings: list[_Binding] = []
        self._rebuild()
        self.ports = MidiPorts(settings, self._on_message, self._output_opened)
        self._dispatchers: dict[str, OscDispatcher] = {}  # per input port: its origin for feedback
        self._down: dict[tuple[str, MidiMapping], bool] = {}  # a button held, per port
        self._pending: dict[str, str] = {}  # parameter → origin of its latest change, for feedback
        self._learning: tuple[str, float] | None = None  # (target, deadline)
        self._save_due = False
        self.last_param = ""  # the newest change from another surface: key L binds it
        self._limiter = RateLimiter(settings.out_rate, burst=max(settings.out_rate / 10, 16))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        registry.subscribe(self._param_changed)

    # ------------------------------------------------------------------ mappings and learn
    def _problem(self, m: MidiMapping) -> str:
        if m.param and not self.registry.has(m.param):
            return f"unknown parameter '{m.param}'"
        if m.scene and m.scene not in self.scenes:
            return f"no scene named '{m.scene}' (scenes: {', '.join(sorted(self.scenes))})"
        if m.preset:
            try:
                check_name(m.preset)
            except PresetError as e:
                return str(e)
        return ""

    def _load_learned(self) -> list[MidiMapping]:
        """MIDI learn's file, through the config's check; a binding to what this engine lacks (a
        parameter of another model) is said and left out, not a reason to keep the piece dark."""
        if not self.path.is_file():
            return []
        import tomllib

        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            maps = midi_maps(data.get("map", []), "map")
        except (tomllib.TOMLDecodeError, ConfigError, OSError) as e:
            raise ConfigError(f"midi.learned {self.path}: {e}") from None
        kept = []
        for m in maps:
            problem = self._problem(m)
            if problem:
                log.warning("MIDI learn file %s: %s: %s; left out", self.path, m.control(), problem)
            else:
                kept.append(m)
        return kept

    def _rebuild(self) -> None:
        self._bindings = [_Binding(m, m.curve_map()) for m in merge(self.s.map, self.learned)]

    def learn(self, target: str) -> None:
        """Bind the next control moved to `target` (parameter, trigger, scene:NAME, preset:NAME);
        '' cancels. The `midi_learn` command, from /midi/learn or key L, lands here."""
        if not target:
            with self._lock:
                was, self._learning = self._learning, None
            if was:
                log.info("MIDI learn cancelled")
            return
        try:
            problem = self._problem(target_mapping(target, "cc", 0, 0))
        except ValueError as e:
            problem = str(e)
        if problem:
            log.warning("MIDI learn: cannot bind %r: %s", target, problem)
            return
        with self._lock:
            self._learning = (target, time.monotonic() + self.s.learn_timeout_s)
        log.info("MIDI learn: move a control to bind it to %s", target)

    def learn_last(self) -> None:
        """Key L: learn the parameter changed last from another surface (OSC, web), or cancel."""
        if self._learning is not None:
            self.learn("")
        elif self.last_param:
            self.learn(self.last_param)
        else:
            log.warning("MIDI learn: change a parameter (OSC, web panel) first, then press L")

    def _bind(self, kind: str, number: int, channel: int) -> None:
        """Under the lock, on rtmidi's thread: the armed target takes this control (saved later)."""
        target, deadline = self._learning or ("", 0.0)
        self._learning = None
        if time.monotonic() > deadline:
            return
        m = target_mapping(target, kind, number, channel)
        self.learned = [x for x in self.learned if not x.same_control(m)] + [m]
        self._rebuild()
        self._save_due = True
        self._wake.set()

    # ------------------------------------------------------------------ MIDI in (rtmidi's thread)
    def _on_message(self, event: tuple[list[int], float], port: str) -> None:
        data = event[0]
        if not data:
            return
        status, channel = data[0] & 0xF0, (data[0] & 0x0F) + 1
        if status == 0xB0 and len(data) == 3:
            kind, number, value = "cc", data[1], data[2]
        elif status in (0x80, 0x90) and len(data) == 3:
            kind, number, value = "note", data[1], data[2] if status == 0x90 else 0
        else:
            return
        self.stats["received"] += 1
        with self._lock:
            if self._learning is not None and (kind == "cc" or value > 0):  # not a note's release
                self._bind(kind, number, channel)
            hits = [b for b in self._bindings if b.m.matches(port, channel, kind, number)]
        if not hits:
            self.stats["unmapped"] += 1
            return
        dispatcher = self._dispatchers.get(port) or self._dispatcher(port)
        at = self.clock()
        for b in hits:
            m = b.m
            if m.param:
                spec = self.registry.spec(m.param)
                v = b.curve.forward(float(value), spec.lo, spec.hi)
                dispatcher.dispatch(OscMessage(f"/param/{m.param}", (v,)), (port, 0), at)
                continue
            down = value > 0 if m.kind == "note" else m.pressed(value)
            key = (port, m)
            if down and not self._down.get(key, False):  # on the press, not while held
                args = (m.scene,) if m.scene else (m.preset,) if m.preset else ()
                address = "/scene/select" if m.scene else "/preset/load" if m.preset else m.to
                dispatcher.dispatch(OscMessage(address, args), (port, 0), at)
            self._down[key] = down

    def _dispatcher(self, port: str) -> OscDispatcher:
        d = self._dispatchers[port] = OscDispatcher(
            self.registry,
            self.commands,
            send=lambda data, to: None,  # nothing is answered over MIDI
            stats=self.stats,
            warn=self.warn,
            scenes=self.scenes,
            origin=f"midi:{port}",
        )
        return d

    # ------------------------------------------------------------------ feedback
    def _param_changed(self, name: str, value: float, origin: str) -> None:
        if not origin.startswith("midi") and origin not in ("config", "preset"):
            self.last_param = name
        if self.s.feedback and any(b.m.param == name and b.m.feedback for b in self._bindings):
            with self._lock:
                self._pending[name] = origin
            self._wake.set()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            bindings = list(self._bindings)
        for name, origin in pending.items():
            self._queue_values(name, origin, bindings, list(self.ports.outs.values()))
        for out in list(self.ports.outs.values()):
            self._send(out)

    def _queue_values(self, name: str, origin: str, bindings: list[_Binding], outs: list[Out]) -> None:
        spec, v = self.registry.spec(name), self.registry.get(name)
        for b in bindings:
            if b.m.param != name or not b.m.feedback:
                continue
            value = int(round(min(max(b.curve.inverse(v, spec.lo, spec.hi), 0.0), 127.0)))
            for out in outs:
                if out.partner and origin == f"midi:{out.partner}":
                    continue  # the controller that made the change shows it already
                where = f"{out.name} {out.partner}".lower()
                if not b.m.port or b.m.port.lower() in where:
                    out.queue[(b.m.kind, b.m.channel or 1, b.m.number)] = value

    def _send(self, out: Out) -> None:
        """What the port's token bucket allows now; the rest waits for the next flush."""
        for key, value in list(out.queue.items()):
            if not self._limiter.allow(out.name):
                return
            kind, channel, number = key
            status = (0xB0 if kind == "cc" else 0x90) | (channel - 1)
            try:
                out.rt.send_message([status, number, value])
            except (OSError, ValueError) as e:
                self.warn(f"send:{out.name}", "MIDI out: sending to %s failed (%s)", out.name, e)
                return
            del out.queue[key]
            self.stats["sent"] += 1

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="midi", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_poll = next_flush = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_poll:
                    self.ports.poll()
                    next_poll = now + self.ports.delay
                if self._save_due:
                    self._save()
                if self._learning is not None and now > self._learning[1]:
                    self._learning = None
                    log.warning("MIDI learn: no control moved within %.0f s", self.s.learn_timeout_s)
                busy = self._pending or any(o.queue for o in self.ports.outs.values())
                if busy and now >= next_flush:
                    self._flush()
                    next_flush = now + 1.0 / self.s.feedback_rate
            except Exception as e:  # noqa: BLE001 - MIDI must never end the piece
                self.warn(f"loop:{type(e).__name__}", "MIDI: %r", e, exc_info=True)
            busy = self._pending or any(o.queue for o in self.ports.outs.values())
            wait = next_poll - time.monotonic()
            if busy:
                wait = min(wait, next_flush - time.monotonic())
            self._wake.wait(max(wait, 0.0005))
            self._wake.clear()

    def _output_opened(self, out: Out) -> None:
        """A feedback port (re)opened: motor faders and LEDs go to where things are now."""
        with self._lock:
            bindings = list(self._bindings)
        for p in {b.m.param for b in bindings if b.m.param and b.m.feedback}:
            self._queue_values(p, "", bindings, [out])

    def _save(self) -> None:
        with self._lock:
            self._save_due = False
            learned = list(self.learned)
        try:
            write_learned(self.path, learned)
        except OSError as e:
            log.error(
                "MIDI learn: cannot write %s (%s); the binding holds until the engine stops", self.path, e
            )
            return
        log.info("MIDI learn: %s → %s (saved in %s)", learned[-1].control(), _target(learned[-1]), self.path)

    def status(self) -> dict:
        return {
            "inputs": sorted(self.ports.ins),
            "outputs": sorted(self.ports.outs),
            "mappings": len(self._bindings),
            "learning": self._learning[0] if self._learning else "",
            **{k: self.stats[k] for k in ("received", "unmapped", "sent")},
        }

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.ports.close()


def _target(m: MidiMapping) -> str:
    return m.param or m.to or (f"scene:{m.scene}" if m.scene else f"preset:{m.preset}")
