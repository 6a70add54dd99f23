"""One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for noisy, interactive signals.

Landmarks jitter by a pixel or two from frame to frame. A fixed low-pass either
leaves that jitter visible or makes fast gestures lag; the One Euro filter
adapts its cutoff to the signal's speed: heavy smoothing when the viewer is
still, little lag when they move. Time is always passed in explicitly (the
capture time of the frame on the injected clock), so offline runs with a
fixed-step clock filter exactly the same way every time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def _alpha(cutoff: float, dt: float) -> float:
    """Smoothing factor of a first-order low-pass with this cutoff (Hz) over dt (s)."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def _check_params(min_cutoff: float, beta: float, d_cutoff: float) -> None:
    if not (math.isfinite(min_cutoff) and min_cutoff > 0):
        raise ValueError(f"min_cutoff must be > 0 Hz, got {min_cutoff!r}")
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    if not (math.isfinite(d_cutoff) and d_cutoff > 0):
        raise ValueError(f"d_cutoff must be > 0 Hz, got {d_cutoff!r}")


class OneEuroFilter:
    """Filters one scalar signal sampled at irregular, explicit timestamps.

    min_cutoff (Hz): cutoff when the signal is still; lower = smoother, more lag.
    beta: how fast the cutoff rises with speed (per unit of value per second);
    0 makes this a plain low-pass, larger values cut lag during fast motion.
    d_cutoff (Hz): cutoff of the low-pass on the speed estimate itself.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        _check_params(min_cutoff, beta, d_cutoff)
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._x: float | None = None
        self._dx = 0.0
        self._t = 0.0

    @property
    def value(self) -> float | None:
        """The current estimate, or None before the first sample."""
        return self._x

    def reset(self) -> None:
        """Forget the history: the next sample passes through unfiltered."""
        self._x = None
        self._dx = 0.0
        self._t = 0.0

    def __call__(self, x: float, t: float) -> float:
        """Feed sample x taken at time t (s); returns the filtered value.

        A sample that is not newer than the previous one (a repeated frame, or a
        clock that stepped back) cannot be placed in time, so it leaves the
        estimate untouched. A long gap lets the estimate jump to the new value,
        which is what a viewer who left and came back should see.
        """
        x = float(x)
        if self._x is None:
            self._x, self._dx, self._t = x, 0.0, t
            return x
        dt = t - self._t
        if not dt > 0:
            return self._x
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x


class OneEuroBank:
    """One OneEuroFilter per named feature, created on first use, all with the same settings.

    Features share ranges of about one unit (0..1 or -1..1), so one beta fits
    them all; that keeps the settings an artist has to tune to three numbers.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        _check_params(min_cutoff, beta, d_cutoff)
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._filters: dict[str, OneEuroFilter] = {}

    def __call__(self, values: Mapping[str, float], t: float) -> dict[str, float]:
        """Filter every value at time t; returns a new dict with the same keys."""
        out: dict[str, float] = {}
        for name, x in values.items():
            f = self._filters.get(name)
            if f is None:
                f = self._filters[name] = OneEuroFilter(self.min_cutoff, self.beta, self.d_cutoff)
            out[name] = f(x, t)
        return out

    def reset(self, names: Iterable[str] | None = None) -> None:
        """Reset the named filters (all when names is None)."""
        for name in self._filters if names is None else names:
            f = self._filters.get(name)
            if f is not None:
                f.reset()
