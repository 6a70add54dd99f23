"""Latent motion: a bounded-speed integrator toward the scene's target, and idle drift.

The picture must never jump, whatever perception reports, so the current latent
approaches its target with exponential smoothing capped by a maximum speed
(in units of the directions' σ per second). When nobody is there, the base
latent wanders through random keyframes on its own. Everything is a function
of the seed and of dt, so offline runs are exactly repeatable.

With a styled model (engine.styles) each keyframe is sampled with the style weights of its moment
and remembers them. Keyframes change slowly, so a style change also moves the target at once by
centre(weights now) - centre(the keyframe's weights): the target jumps, the latent glides there at
the same bounded speed as any other change of target, and that glide is the style's crossfade.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.config_meta import rng
from engine.styles import NO_STYLES, Styles

# (n, rng) → [n, D]; a styled model's also takes the normalised style weights as a third argument
Sampler = Callable[..., np.ndarray]


@dataclass(frozen=True)
class LatentSettings:
    speed: float = field(default=2.5, metadata=rng(0.05, 50, "max motion, in σ per second"))
    smoothing: float = field(default=0.35, metadata=rng(0.0, 10, "seconds: time constant of the approach"))
    drift_period: float = field(
        default=14.0, metadata=rng(0.5, 600, "seconds from one idle keyframe to the next")
    )
    seed: int = field(default=1, metadata=rng(0, 2**31 - 1, "the idle wander's seed"))


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-8 or nb < 1e-8:
        return (1 - t) * a + t * b
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    if omega < 1e-5:
        return (1 - t) * a + t * b
    return (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)


def smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


class LatentIntegrator:
    def __init__(
        self,
        sampler: Sampler,
        mean: np.ndarray,
        directions: np.ndarray,
        sigma: np.ndarray,
        space: str = "w",
        settings: LatentSettings | None = None,
        styles: Styles = NO_STYLES,
    ) -> None:
        self.settings = settings or LatentSettings()
        self.sampler = sampler
        self.styles = styles
        self.weights = styles.uniform()  # the style blend now (normalised)
        self.key_weights = (self.weights, self.weights)  # the blends key_a and key_b were sampled with
        self.mean = mean.astype(np.float32)
        self.directions = directions.astype(np.float32)
        self.sigma = sigma.astype(np.float32)
        self.space = space
        self.unit = float(np.mean(sigma)) if len(sigma) else 1.0  # one "σ" of motion
        self.reseed(self.settings.seed)

    def _sample(self, n: int) -> np.ndarray:
        if len(self.styles):
            return self.sampler(n, self.rng, self.weights)
        return self.sampler(n, self.rng)

    def set_style(self, weights: np.ndarray) -> None:
        """The blend from now on: new keyframes are sampled with it and the target moves to it."""
        if len(self.styles):
            self.weights = self.styles.normalise(weights)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        keys = self._sample(2)
        self.key_a, self.key_b = keys[0], keys[1]
        self.key_weights = (self.weights, self.weights)
        self.phase = 0.0
        self.current = self.key_a.copy()
        self.last_step = 0.0

    def jump(self) -> None:
        """Cut to a new keyframe (the integrator still glides there at bounded speed)."""
        self.key_a = self.base()  # already moved into the current blend
        self.key_b = self._sample(1)[0]
        self.key_weights = (self.weights, self.weights)
        self.phase = 0.0

    def base(self) -> np.ndarray:
        t = smoothstep(self.phase)
        lerp = (1 - t) * self.key_a + t * self.key_b
        out = slerp(self.key_a, self.key_b, t) if self.space == "z" else lerp
        return (out + self.style_shift(t)).astype(np.float32)

    def style_shift(self, t: float) -> np.ndarray | float:
        """centre(now) - centre(the blend the keyframes were sampled with, mixed as the keys are)."""
        if not len(self.styles):
            return 0.0
        wa, wb = self.key_weights
        return self.styles.centre(self.weights) - self.styles.centre((1 - t) * wa + t * wb)

    def target(self, offsets: Mapping[int, float]) -> np.ndarray:
        tgt = self.base()
        for idx, amount in offsets.items():
            if 0 <= idx < len(self.directions) and amount:
                tgt = tgt + float(amount) * self.sigma[idx] * self.directions[idx]
        return tgt

    def step(
        self,
        offsets: Mapping[int, float],
        dt: float,
        drift: float = 1.0,
        speed: float = 1.0,
        style: np.ndarray | None = None,
    ) -> np.ndarray:
        """Advance by dt seconds toward base(drift) + offsets; returns the new latent.

        `style`: the style weights of this frame (None keeps the blend as it is)."""
        if style is not None:
            self.set_style(style)
        dt = max(0.0, float(dt))
        s = self.settings
        self.phase += dt * max(0.0, drift) / s.drift_period
        while self.phase >= 1.0:
            self.phase -= 1.0
            self.key_a, self.key_b = self.key_b, self._sample(1)[0]
            self.key_weights = (self.key_weights[1], self.weights)
        tgt = self.target(offsets)
        delta = tgt - self.current
        dist = float(np.linalg.norm(delta))
        want = dist * (1.0 - math.exp(-dt / s.smoothing)) if s.smoothing > 0 else dist
        bound = self.max_step(dt, speed)
        move = min(want, bound)
        if dist > 1e-9 and move > 0:
            if self.space == "z":  # follow the sphere; the chord is clipped so the bound still holds
                nxt = slerp(self.current, tgt, move / dist)
                chord = nxt - self.current
                length = float(np.linalg.norm(chord))
                if length > move:
                    nxt = self.current + chord * (move / length)
            else:
                nxt = self.current + delta * (move / dist)
            self.current = nxt.astype(np.float32)
        self.last_step = move
        return self.current

    def max_step(self, dt: float, speed: float = 1.0) -> float:
        return self.settings.speed * max(0.0, speed) * self.unit * dt

    def coordinates(self, k: int = 8) -> np.ndarray:
        """The current latent's first k PCA coordinates in σ units (for OSC and the HUD)."""
        k = min(k, len(self.directions))
        # a styled model's directions span the variety within a style: measured from the blend's centre
        centre = self.styles.centre(self.weights) if len(self.styles) else self.mean
        rel = self.current - centre
        return (self.directions[:k] @ rel) / np.maximum(self.sigma[:k], 1e-8)
