"""The parameter registry that scenes, presets, keys and OSC all write to.

Every controllable value is declared once with a dotted name, range, default
and doc, so addresses, presets and the HUD can all be derived from one place.
Values are clamped on the way in: a VJ's fader can never push a scene out of
the range it was designed for.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ParamSpec:
    name: str  # dotted, e.g. "mirror.gain"
    default: float
    lo: float
    hi: float
    doc: str
    kind: str = "float"  # "float" | "int" | "bool"

    def __post_init__(self) -> None:
        if not self.lo <= self.default <= self.hi:
            raise ValueError(f"param {self.name}: default {self.default} outside {self.lo}..{self.hi}")
        if self.kind not in ("float", "int", "bool"):
            raise ValueError(f"param {self.name}: kind must be float, int or bool")

    def coerce(self, value: float) -> float:
        v = float(value)
        if not math.isfinite(v):  # NaN would slip through min/max and poison the frame
            raise ValueError(f"param {self.name}: {value!r} is not a finite number")
        v = min(max(v, self.lo), self.hi)
        if self.kind == "int":
            return float(round(v))
        if self.kind == "bool":
            return 1.0 if v >= 0.5 else 0.0
        return v


Listener = Callable[[str, float, str], None]  # name, new value, origin ("osc", "config", "key", ...)


class ParamRegistry:
    """Thread-safe: written from OSC/keyboard threads, read once per frame by the loop."""

    def __init__(self, specs: Iterable[ParamSpec] = ()) -> None:
        self._specs: dict[str, ParamSpec] = {}
        self._values: dict[str, float] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        for s in specs:
            self.declare(s)

    def declare(self, spec: ParamSpec) -> None:
        with self._lock:
            if spec.name in self._specs and self._specs[spec.name] != spec:
                raise ValueError(f"param {spec.name} declared twice with different specs")
            self._specs[spec.name] = spec
            self._values.setdefault(spec.name, spec.default)

    def spec(self, name: str) -> ParamSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"unknown parameter '{name}'") from None

    def has(self, name: str) -> bool:
        return name in self._specs

    def specs(self) -> list[ParamSpec]:
        with self._lock:
            return sorted(self._specs.values(), key=lambda s: s.name)

    def get(self, name: str) -> float:
        with self._lock:
            return self._values[name]

    def set(self, name: str, value: float, origin: str = "api") -> float:
        """Clamp and store; listeners hear every change (for feedback to controllers)."""
        spec = self.spec(name)
        v = spec.coerce(value)
        with self._lock:
            changed = self._values.get(name) != v
            self._values[name] = v
            listeners = list(self._listeners) if changed else []
        for fn in listeners:
            fn(name, v, origin)
        return v

    def check(self, values: dict[str, float], prefix: str = "params.") -> None:
        """Refuse, in one line naming key, value and range, what `set` would clamp or reject.

        `set` clamps because a fader pushed past its end means "all the way"; a value written in a
        config file is a promise, and running with a different one unannounced is a bug."""
        for name, value in values.items():
            spec = self._specs.get(name)
            if spec is None:
                known = ", ".join(sorted(self._specs))
                raise ValueError(f"{prefix}{name}: unknown parameter (known: {known})")
            if not spec.lo <= value <= spec.hi:  # NaN fails this too
                raise ValueError(f"{prefix}{name} = {value:g} is out of range {spec.lo:g}..{spec.hi:g}")

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)

    def subscribe(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)
