"""The response curves a mapping may name: one table for OSC mappings and scenes alike.

A curve shapes 0..1 into 0..1, maps 0 to 0 and 1 to 1 and never falls, so an OSC mapping can be
inverted for feedback (a parameter changed elsewhere moves the user's fader too). A scene's
feature pushes both ways from a centre (a head turned left or right): `signed` extends a curve
to -1..1 symmetrically, so "smooth" means the same easing on either side and the same thing in
a scene's mapping as in the config's [[osc.map]]. The table is data, named in config files and
docs/osc.md: names are never evaluated as code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda u: u,
    "ease_in": lambda u: u * u,  # fine control at the low end
    "ease_out": lambda u: 1.0 - (1.0 - u) ** 2,  # quick response, then fine control at the top
    "smooth": lambda u: u * u * (3.0 - 2.0 * u),  # smoothstep: gentle at both ends
    "exp": lambda u: (2.0 ** (10.0 * u) - 1.0) / 1023.0,  # frequency- or speed-like: fine control low
    "log": lambda u: math.log2(1.0 + 1023.0 * u) / 10.0,
    "step": lambda u: 1.0 if u >= 0.5 else 0.0,  # a button: pressed or not
}


def signed(curve: str, u: float) -> float:
    """`curve` on |u| with u's sign, u clamped to -1..1: a push left mirrors a push right."""
    u = max(-1.0, min(1.0, u))
    return math.copysign(CURVES[curve](abs(u)), u)
