"""User mappings: any incoming OSC address onto a parameter (or an engine address), as declared data.

A TouchOSC layout sends `/1/fader1 0..1`; a Max patch sends MIDI-ish 0..127.
Rather than asking users to rename their controls, the config maps them:

    [[osc.map]]
    address = "/1/fader1"
    param = "mirror.gain"
    in_lo = 0.0
    in_hi = 1.0
    curve = "ease_in"          # out range defaults to the parameter's range

A mapping is a range, a curve from a fixed table (engine/curves.py, shared with
the scenes) and a range: it is never evaluated as code. Curves are monotonic, so
the mapping can be inverted and a parameter changed from elsewhere moves the
user's fader too (feedback).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.curves import CURVES


@dataclass(frozen=True)
class OscMapping:
    address: str  # incoming address, e.g. "/1/fader1"
    param: str = ""  # a parameter's dotted name, or…
    to: str = ""  # …an engine address to forward to, e.g. "/latent/jump" (fires when the value ≥ 0.5)
    arg: int = field(default=0, metadata={"lo": 0, "hi": 63, "doc": "which argument carries the value"})
    in_lo: float = 0.0
    in_hi: float = 1.0
    out_lo: float | None = None  # None: the parameter's lo
    out_hi: float | None = None  # None: the parameter's hi
    curve: str = field(default="linear", metadata={"choices": tuple(CURVES)})
    feedback: bool = True  # echo parameter changes back to `address` on the controller targets

    def validate(self) -> None:
        if not self.address.startswith("/") or any(c in self.address for c in " #*,?[]{}"):
            raise ValueError(f"address '{self.address}' must start with '/' and hold no OSC pattern chars")
        if bool(self.param) == bool(self.to):
            raise ValueError(f"mapping {self.address}: give exactly one of 'param' or 'to'")
        if self.to and not self.to.startswith("/"):
            raise ValueError(f"mapping {self.address}: 'to' must be an address like /latent/jump")
        if self.in_lo == self.in_hi:
            raise ValueError(f"mapping {self.address}: in_lo and in_hi must differ")

    def forward(self, x: float, lo: float, hi: float) -> float:
        """Incoming value → parameter value (lo..hi is the parameter's range)."""
        out_lo = lo if self.out_lo is None else self.out_lo
        out_hi = hi if self.out_hi is None else self.out_hi
        u = min(max((x - self.in_lo) / (self.in_hi - self.in_lo), 0.0), 1.0)
        return out_lo + CURVES[self.curve](u) * (out_hi - out_lo)

    def inverse(self, v: float, lo: float, hi: float) -> float:
        """Parameter value → the controller's value, for feedback (bisection: every curve is monotonic)."""
        out_lo = lo if self.out_lo is None else self.out_lo
        out_hi = hi if self.out_hi is None else self.out_hi
        if out_hi == out_lo:
            return self.in_lo
        c = min(max((v - out_lo) / (out_hi - out_lo), 0.0), 1.0)
        if self.curve == "step":
            return self.in_hi if c >= 0.5 else self.in_lo
        f = CURVES[self.curve]
        a, b = 0.0, 1.0
        if c <= 0.0 or c >= 1.0:  # every curve maps 0 → 0 and 1 → 1: the ends are exact
            a = b = c
        for _ in range(40 if a != b else 0):
            m = 0.5 * (a + b)
            if f(m) < c:
                a = m
            else:
                b = m
        return self.in_lo + b * (self.in_hi - self.in_lo)
