"""Keyframes as scene data: points in the first PCA directions, and closed tours through them.

A scene steers the latent only through `Target` (offsets in σ along PCA directions, drift, speed),
so a scene's keyframes live there too: each is a vector of σ offsets, drawn from a seed. While the
scene holds the integrator's own wander still (`Target.drift = 0`) the base latent stays put, and the
picture is a pure function of the scene's offsets: a tour that comes back to its first keyframe is a
seamless loop, and the same time gives the same target offline and live. The integrator's bounded
speed still smooths every change, so a scene may step its target and trust the glide.

Between keyframes the offsets follow a great circle (slerp), not a straight line: two independent
keyframes are nearly orthogonal, and the straight line between them passes close to the base, which
reads as a dull, washed-out middle of every transition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from engine.latent import slerp, smoothstep

KEY_DIRECTIONS = 8  # keyframes move the first 8 PCA directions (fewer if the model has fewer)


@lru_cache(maxsize=256)
def _unit_keyframe(seed: int, index: int, dims: int) -> np.ndarray:
    v = np.random.default_rng((int(seed), int(index))).standard_normal(dims)
    v.setflags(write=False)
    return v


def keyframe(seed: int, index: int, dims: int, depth: float) -> np.ndarray:
    """Keyframe `index` of the endless sequence `seed` draws: N(0, depth²) per direction, in σ.

    The same (seed, index, dims) always gives the same keyframe, whatever was drawn before it, so a
    scene can number its keyframes and never store them."""
    if dims < 1:
        raise ValueError(f"keyframe: dims must be at least 1, got {dims}")
    return depth * _unit_keyframe(seed, index, dims)


def key_dims(directions: int) -> int:
    return max(0, min(KEY_DIRECTIONS, directions))


def tour(keys: Sequence[np.ndarray], pos: float, glide: float = 1.0) -> np.ndarray:
    """The point `pos` keyframes along the closed tour keys[0] → keys[1] → … → keys[0].

    Each segment holds at its keyframe for the first (1 - glide) of its length, then glides there
    with eased (smoothstep) slerp, arriving exactly on the next whole `pos`: zero velocity at every
    keyframe, so the picture lingers there and never jerks. pos and pos + len(keys) are the same point.
    """
    n = len(keys)
    if n == 0:
        raise ValueError("tour: no keyframes")
    if not math.isfinite(pos):
        raise ValueError(f"tour: position {pos} is not finite")
    base = math.floor(pos)
    frac = pos - base
    i = int(base) % n
    glide = min(max(glide, 1e-6), 1.0)
    u = smoothstep((frac - (1.0 - glide)) / glide)
    return slerp(np.asarray(keys[i], float), np.asarray(keys[(i + 1) % n], float), u)


def as_offsets(vector: np.ndarray, first: int = 0) -> dict[int, float]:
    """A vector of σ offsets as Target.directions, starting at direction `first`."""
    return {first + i: float(v) for i, v in enumerate(vector)}


def add_offsets(into: dict[int, float], more: dict[int, float]) -> dict[int, float]:
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + v
    return into
