"""The panel's requests as OSC messages, through the same dispatcher as OSC and MIDI.

One mechanism checks arguments and queues commands whichever surface a change comes from: a
slider's value is clamped, a scene name checked, a preset name refused, exactly as `/param/<name>`,
`/scene/select` and `/preset/load` would be. The dispatcher says a refusal through its `warn`
rather than raising (a UDP sender cannot be answered); here that line is caught and becomes the
HTTP 400's one-line error, so the staff's phone shows why nothing happened.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable

from engine.control.commands import CommandQueue
from engine.control.osc.dispatch import OscDispatcher
from engine.control.osc.safety import LogThrottle
from engine.control.osc.wire import OscMessage
from engine.params import ParamRegistry
from engine.presets import PresetError, check_name

log = logging.getLogger(__name__)

ORIGIN = "web"


class Refused(ValueError):
    """The request was understood and refused; `status` is the HTTP code (400, or 503 when full)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class WebControl:
    def __init__(
        self,
        registry: ParamRegistry,
        commands: CommandQueue,
        clock: Callable[[], float],
        scenes: Iterable[str],
        presets: Callable[[], list[str]],
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.presets = presets
        self.stats = dict.fromkeys(("unknown", "bad_args", "full", "rate_limited"), 0)
        self._log = LogThrottle(log)
        self._said: list[str] = []
        self._lock = threading.Lock()  # one request at a time: `_said` belongs to the one dispatching
        self.dispatcher = OscDispatcher(
            registry,
            commands,
            send=lambda data, to: None,  # nothing is answered over OSC from here
            stats=self.stats,
            warn=self._warn,
            scenes=scenes,
            origin=ORIGIN,
        )

    @property
    def scenes(self) -> list[str]:
        return sorted(self.dispatcher.scenes)

    def _warn(self, key: str, msg: str, *args: object, **kw: object) -> bool:
        text = (msg % args if args else msg).removeprefix("OSC in: ").removesuffix(" (ignored)")
        self._said.append(text)
        return self._log(f"web:{key}", "web panel: %s", text)

    def send(self, address: str, *args: bool | int | float | str) -> None:
        """Dispatch one message now; `Refused` with the dispatcher's own words when it would not."""
        full = self.stats["full"]
        with self._lock:
            self._said.clear()
            self.dispatcher.dispatch(OscMessage(address, tuple(args)), ("web", 0), self.clock())
            said = list(self._said)
        if self.stats["full"] > full:
            raise Refused("the command queue is full (the engine is behind); try again", 503)
        if said:
            raise Refused(said[0])

    # ------------------------------------------------------------------ the panel's four controls
    def param(self, name: object, value: object) -> float:
        """The value the parameter will have (clamped to its range, as over OSC)."""
        if not isinstance(name, str) or not self.registry.has(name):
            raise Refused(f"unknown parameter {_shown(name)}")
        v = _finite(value, f"value for {name}")
        self.send(f"/param/{name}", v)
        return self.registry.spec(name).coerce(v)

    def blackout(self, value: object) -> float:
        v = _finite(value, "blackout value")
        self.send("/engine/blackout", v)
        return self.registry.spec("engine.blackout").coerce(v)

    def scene(self, name: object) -> str:
        if not isinstance(name, str):
            raise Refused(f"scene must be a name (one of {', '.join(self.scenes)})")
        if name not in self.dispatcher.scenes:
            raise Refused(f"no scene named {_shown(name)} (scenes: {', '.join(self.scenes)})")
        self.send("/scene/select", name)
        return name

    def preset(self, name: object) -> str:
        if not isinstance(name, str):
            raise Refused("preset must be a name")
        if name not in self.presets():
            try:
                check_name(name)  # the same words as /preset/load's for a malformed name
            except PresetError as e:
                raise Refused(str(e)) from None
            raise Refused(f"no preset named {_shown(name)} (presets: {', '.join(self.presets()) or 'none'})")
        self.send("/preset/load", name)
        return name


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    raise Refused(f"{what} must be a number, got {_shown(value)}")


def _shown(value: object) -> str:
    text = repr(value)
    return text[:80] + ("…" if len(text) > 80 else "")
