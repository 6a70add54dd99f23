"""OSC in's dispatcher: what each address means, from a decoded message to a command on the queue.

The server (engine.control.osc.inbound) owns the socket and the guards in front of it; this side owns the
addresses, as python-osc keeps its server and its Dispatcher apart. Every handler checks its
arguments against the address and the parameter registry and puts a small `Command` on the queue
the render thread drains; it never touches a stage. A bad argument is counted in `stats` and said
through the server's log throttle, never raised. `/engine/ping` and `/engine/status` are answered
here, through the server's socket (`send`), so the answer comes from the port the sender wrote to.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence

from engine.control.commands import CommandQueue
from engine.control.midi_map import TRIGGERS
from engine.control.osc.mapping import OscMapping
from engine.control.osc.safety import LogThrottle, RateLimiter
from engine.control.osc.wire import Arg, OscMessage, encode_message
from engine.params import ParamRegistry
from engine.presets import PresetError, check_name
from engine.styles import PREFIX

# address → (argument types, what it does); docs/osc.md is written from the same list
ADDRESSES = {
    "/param/<name>": ("f|i|T|F", "set a parameter (clamped to its range)"),
    "/style/<name>": ("f|i|T|F", "weight 0..1 of one of the model's styles (= /param/style.<name>)"),
    "/scene/select": ("s", "switch to a scene by name (crossfading over [scenes] transition_s)"),
    "/show/next": ("", "the show's next entry now"),
    "/show/prev": ("", "the show's previous entry now"),
    "/show/pause": ("[f|i|T|F]", "hold the show on its entry: 1 holds, 0 plays on, no argument toggles"),
    "/preset/save": ("s", "save every parameter and the scene as a preset"),
    "/preset/load": ("s", "load a preset"),
    "/latent/jump": ("[f|i]", "cut to a new keyframe (an argument of 0 is a button release: ignored)"),
    "/latent/seed": ("i", "restart the idle wander from this seed, 0..2147483647"),
    "/engine/blackout": ("f|i|T|F", "0 = picture, 1 = black (same as /param/engine.blackout)"),
    "/engine/ping": ("[i]", "answered with /engine/pong to the sender's host, at this port or its own"),
    "/engine/status": ("[i]", "answered with /engine/status <JSON string> like /engine/ping's pong"),
    "/engine/refresh": ("", "echo every parameter to the feedback targets"),
    "/engine/sleep": ("", "fade to black and idle now, until the schedule's next opening"),
    "/engine/wake": ("", "wake now (outside opening hours: until the schedule's next closing)"),
    "/sync/beat": ("[i]", "a beat happened (an int argument is its index; a float 0 is ignored)"),
    "/sync/bpm": ("f", "tempo in beats per minute"),
    "/sync/tap": ("[f|i|T|F]", "tap tempo: 3+ taps set the tempo, each tap the beat (a 0 is a release)"),
    "/audio/level": ("f", "audio level 0..1"),
    "/audio/bands": ("f…", "band levels 0..1, lowest first (up to 32)"),
    "/midi/learn": (
        "[s]",
        "bind the next MIDI control moved to a parameter, a trigger address, "
        "scene:NAME or preset:NAME; no argument cancels (docs/midi.md)",
    ),
}
# The JSON of an /engine/status reply: with the OSC header it stays within one Ethernet frame's UDP
# payload (1472 bytes), so it arrives whole on any network and in any OSC receiver's buffer.
STATUS_MAX_BYTES = 1400
STATUS_REPLIES_PER_S = 10.0  # per sender: a status costs more than a pong; a flood must not amplify


def _number(args: Sequence[Arg], i: int = 0) -> float | None:
    """The i-th argument as a finite float (int, float, T/F), else None."""
    if i >= len(args):
        return None
    a = args[i]
    if isinstance(a, bool | int | float):
        v = float(a)
        return v if math.isfinite(v) else None
    return None


def _preset_name_ok(name: str) -> bool:
    try:
        check_name(name)
    except PresetError:
        return False
    return True


def _shown(text: str) -> str:
    """An address or name from the network, safe to put in a log line."""
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


class OscDispatcher:
    """Address → command. `stats` is the server's counter dict and `warn` its log throttle, so one
    sender's problems are counted and said in one place whichever side found them."""

    def __init__(
        self,
        registry: ParamRegistry,
        commands: CommandQueue,
        *,
        send: Callable[[bytes, tuple[str, int]], object],
        stats: dict[str, int],
        warn: LogThrottle,
        scenes: Iterable[str] = (),
        mappings: Iterable[OscMapping] = (),
        status: Callable[[], str] | None = None,
        origin: str = "osc",
    ) -> None:
        """`origin` goes with every command (engine.control.midi dispatches through here as "midi:<port>")."""
        self.registry = registry
        self.origin = origin
        self.commands = commands
        self.send = send
        self.stats = stats
        self.warn = warn
        self.scenes = frozenset(scenes)
        self.status = status
        self.status_limiter = RateLimiter(STATUS_REPLIES_PER_S)
        self.maps: dict[str, list[OscMapping]] = {}
        for m in mappings:
            self.maps.setdefault(m.address, []).append(m)
        self._handlers: dict[str, Callable[[OscMessage, tuple, float], None]] = {
            "/scene/select": self._scene,
            "/show/next": lambda m, s, at: self._put("show", ("next",), at),
            "/show/prev": lambda m, s, at: self._put("show", ("prev",), at),
            "/show/pause": self._show_pause,
            "/preset/save": self._preset,
            "/preset/load": self._preset,
            "/latent/jump": self._jump,
            "/latent/seed": self._seed,
            "/engine/blackout": self._blackout,
            "/engine/ping": self._ping,
            "/engine/status": self._status,
            "/engine/refresh": lambda m, s, at: self._put("refresh", (), at),
            "/engine/sleep": lambda m, s, at: self._put("sleep", (True,), at),
            "/engine/wake": lambda m, s, at: self._put("sleep", (False,), at),
            "/sync/beat": self._beat,
            "/sync/bpm": self._sync_number,
            "/sync/tap": self._tap,
            "/audio/level": self._sync_number,
            "/audio/bands": self._bands,
            "/midi/learn": self._midi_learn,
        }

    def dispatch(self, msg: OscMessage, sender: tuple, at: float, mapped: bool = False) -> None:
        a = msg.address
        if a.startswith("/param/"):
            self._param(a[len("/param/") :], msg, at)
        elif a.startswith("/style/"):
            self._style(a[len("/style/") :], msg, at)
        elif a in self._handlers:
            self._handlers[a](msg, sender, at)
        elif a in self.maps and not mapped:
            for m in self.maps[a]:
                self._mapped(m, msg, sender, at)
        else:
            self.stats["unknown"] += 1
            self.warn(f"unknown:{a[:80]}", "OSC in: unknown address %s (ignored)", _shown(a))

    def _bad(self, msg: OscMessage, expected: str) -> None:
        self.stats["bad_args"] += 1
        self.warn(
            f"args:{msg.address[:80]}",
            "OSC in: %s wants %s, got %s",
            _shown(msg.address),
            expected,
            _shown(",".join(type(a).__name__ for a in msg.args)),
        )

    def _put(self, kind: str, args: tuple, at: float) -> None:
        if not self.commands.put(kind, args, at, origin=self.origin):
            self.stats["full"] += 1
            self.warn("full", "OSC in: command queue full; dropping commands (the loop is behind)")

    # ------------------------------------------------------------------ handlers
    def _param(self, name: str, msg: OscMessage, at: float) -> None:
        if not self.registry.has(name):
            self.stats["unknown"] += 1
            self.warn(f"param:{name[:80]}", "OSC in: unknown parameter %s (ignored)", _shown(name))
            return
        v = _number(msg.args)
        if v is None:
            self._bad(msg, "a number")
            return
        self._put("param", (name, v), at)

    def _style(self, name: str, msg: OscMessage, at: float) -> None:
        """A style weight is a registry parameter (`style.<name>`, declared from the model's manifest);
        a name the model lacks is said with the ones it has, so a VJ's typo is found in the log."""
        if not self.registry.has(PREFIX + name):
            self.stats["unknown"] += 1
            styles = [s.name[len(PREFIX) :] for s in self.registry.specs() if s.name.startswith(PREFIX)]
            self.warn(
                f"style:{name[:80]}",
                "OSC in: no style %s in this model (its styles: %s; ignored)",
                _shown(name),
                ", ".join(styles) or "none",
            )
            return
        self._param(PREFIX + name, msg, at)

    def _string(self, msg: OscMessage) -> str | None:
        return msg.args[0] if len(msg.args) >= 1 and isinstance(msg.args[0], str) else None

    def _scene(self, msg: OscMessage, sender: tuple, at: float) -> None:
        name = self._string(msg)
        if name is None:
            self._bad(msg, "a scene name (string)")
        elif name not in self.scenes:
            self.warn(f"scene:{name[:80]}", "OSC in: no scene named %s", _shown(name))
        else:
            self._put("scene", (name,), at)

    def _show_pause(self, msg: OscMessage, sender: tuple, at: float) -> None:
        v = _number(msg.args)
        if msg.args and v is None:
            self._bad(msg, "nothing (toggle) or 0/1")
        else:
            self._put("show", ("pause",) if v is None else ("pause", v >= 0.5), at)

    def _preset(self, msg: OscMessage, sender: tuple, at: float) -> None:
        name = self._string(msg)
        if name is None:
            self._bad(msg, "a preset name (string)")
            return
        try:
            check_name(name)
        except PresetError as e:
            self.warn("preset-name", "OSC in: %s", e)
            return
        self._put("preset_save" if msg.address.endswith("save") else "preset_load", (name,), at)

    def _jump(self, msg: OscMessage, sender: tuple, at: float) -> None:
        self._button(msg, "jump", at)

    def _button(self, msg: OscMessage, kind: str, at: float) -> None:
        """A command with no argument from a push button: nothing or a number; the release (0) is
        not a second press."""
        v = _number(msg.args)
        if msg.args and v is None:
            self._bad(msg, "nothing or a number")
        elif v is None or v >= 0.5:
            self._put(kind, (), at)

    def _seed(self, msg: OscMessage, sender: tuple, at: float) -> None:
        v = _number(msg.args)
        if v is None or v != int(v) or not 0 <= v < 2**31:
            self._bad(msg, "an integer 0..2147483647")
        else:
            self._put("seed", (int(v),), at)

    def _blackout(self, msg: OscMessage, sender: tuple, at: float) -> None:
        v = _number(msg.args)
        if v is None:
            self._bad(msg, "0..1")
        else:
            self._put("param", ("engine.blackout", v), at)

    def _reply_to(self, msg: OscMessage, sender: tuple) -> tuple[str, int] | None:
        """Where to answer: the sender's host, at the port given as the argument or the sender's own."""
        port = _number(msg.args)
        if msg.args and (port is None or port != int(port) or not 0 < port < 65536):
            self._bad(msg, "nothing or a port 1..65535")
            return None
        return (sender[0], int(port) if port is not None else sender[1])

    def _answer(self, reply_to: tuple[str, int], address: str, args: tuple[str, ...] = ()) -> None:
        try:
            self.send(encode_message(address, args), reply_to)
        except OSError as e:
            self.warn(
                f"answer:{reply_to[0]}", "OSC in: cannot answer %s to %s:%d (%s)", address, *reply_to, e
            )

    def _ping(self, msg: OscMessage, sender: tuple, at: float) -> None:
        reply_to = self._reply_to(msg, sender)
        if reply_to is not None:
            self._answer(reply_to, "/engine/pong")

    def _status(self, msg: OscMessage, sender: tuple, at: float) -> None:
        reply_to = self._reply_to(msg, sender)
        if reply_to is None:
            return
        if not self.status_limiter.allow(str(sender[0])):
            self.stats["rate_limited"] += 1
            self.warn(f"status-rate:{sender[0]}", "OSC in: %s asks /engine/status too often", sender[0])
            return
        if self.status is None:
            text = json.dumps({"error": "this engine has no status to give"})
        else:
            try:
                text = self.status()
            except Exception as e:  # noqa: BLE001 - a broken status must not end the server
                self.warn(f"status:{type(e).__name__}", "OSC in: the status failed: %r", e)
                text = json.dumps(
                    {"error": f"status failed: {type(e).__name__}: {e}"[: STATUS_MAX_BYTES // 2]}
                )
        if len(text.encode()) > STATUS_MAX_BYTES:
            text = json.dumps({"error": f"status larger than {STATUS_MAX_BYTES} bytes"})
        self._answer(reply_to, "/engine/status", (text,))

    def _beat(self, msg: OscMessage, sender: tuple, at: float) -> None:
        a = msg.args[0] if msg.args else None
        if isinstance(a, int) and not isinstance(a, bool):  # a sequencer's beat index
            self._put("beat", (a if a >= 0 else None,), at)
        elif a is None or (_number(msg.args) or 0.0) >= 0.5:  # a float/bool 0 is a button's release
            self._put("beat", (None,), at)

    def _tap(self, msg: OscMessage, sender: tuple, at: float) -> None:
        self._button(msg, "tap", at)

    def _sync_number(self, msg: OscMessage, sender: tuple, at: float) -> None:
        v = _number(msg.args)
        if v is None:
            self._bad(msg, "a number")
        else:
            self._put("bpm" if msg.address == "/sync/bpm" else "level", (v,), at)

    def _bands(self, msg: OscMessage, sender: tuple, at: float) -> None:
        flat = [a for x in msg.args for a in (x if isinstance(x, list) else [x])]  # [ ] arrays too
        values = [_number(flat, i) for i in range(len(flat))]
        if not values or any(v is None for v in values):
            self._bad(msg, "one or more numbers")
        else:
            self._put("bands", (tuple(values[:32]),), at)

    def _midi_learn(self, msg: OscMessage, sender: tuple, at: float) -> None:
        """The target is checked here, where the registry and scenes are known; the engine's MIDI
        side binds it when the command is applied (engine.control.midi)."""
        target = self._string(msg) if msg.args else ""
        if target is None:
            self._bad(msg, "nothing (cancel) or a parameter, trigger address, scene:NAME or preset:NAME")
            return
        scene, preset = target.removeprefix("scene:"), target.removeprefix("preset:")
        ok = (
            target == ""
            or self.registry.has(target)
            or target in TRIGGERS
            or (target.startswith("scene:") and scene in self.scenes)
            or (target.startswith("preset:") and _preset_name_ok(preset))
        )
        if not ok:
            self.warn(f"learn:{target[:80]}", "OSC in: /midi/learn: nothing to bind named %s", _shown(target))
            return
        self._put("midi_learn", (target,), at)

    def _mapped(self, m: OscMapping, msg: OscMessage, sender: tuple, at: float) -> None:
        x = _number(msg.args, m.arg)
        if m.to:
            pressed = x is None or (x - m.in_lo) / (m.in_hi - m.in_lo) >= 0.5
            if pressed:
                self.dispatch(OscMessage(m.to, msg.args, msg.timetag), sender, at, mapped=True)
            return
        if x is None:
            self._bad(msg, f"a number as argument {m.arg}")
            return
        spec = self.registry.spec(m.param)
        self._put("param", (m.param, m.forward(x, spec.lo, spec.hi)), at)
