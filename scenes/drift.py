"""drift: attract mode as a scene — a slow tour through keyframes that comes back to where it began.

The viewer does nothing; nobody needs to be there. The picture travels through `drift.keys` keyframes
(points in the first PCA directions, drawn from `drift.seed`) and is back at the first one after exactly
`drift.loop_s` seconds, then goes round again. It rests a moment at each keyframe and eases out of it
(slerp with smoothstep), so the tour reads as a sequence of paintings melting into each other rather
than as a constant slide. On top, a few further directions breathe: sinusoids whose periods are whole
fractions of the loop (about `drift.breath_s`, three slightly different ones so they never move in
unison), so nothing stands still between keyframes yet every loop is the same loop. The hue swings
gently over the loop for the same reason.

Why a loop rather than the integrator's random wander: an attract mode in a foyer runs for hours, and
a curator wants to choose and approve what it shows; a loop of a set length can be recorded, reviewed
and trusted. The target is a pure function of the clock time t (the scene holds the integrator's own
wander still with drift 0), so target(t) == target(t + loop_s), offline frames are exact, and any scene
can hand over to `drift` when the room empties without the tour depending on what came before.
"""

from __future__ import annotations

import math

import numpy as np

from engine.keyframes import add_offsets, as_offsets, key_dims, keyframe, tour
from engine.messages import Target
from engine.params import ParamSpec
from engine.scene import Scene, SceneInputs, register

BREATHS = 3  # directions that breathe, after the keyframes' own


def breath_harmonics(loop_s: float, breath_s: float) -> tuple[int, ...]:
    """Whole numbers of breaths per loop, near loop/breath_s: their periods divide the loop exactly."""
    n = max(1, round(loop_s / max(breath_s, 1e-6)))
    return tuple(n + j for j in range(BREATHS))


def breath_directions(directions: int) -> tuple[int, ...]:
    """The directions just past the keyframes' when the model has them, else the first ones."""
    start = key_dims(directions)
    if start + BREATHS <= directions:
        return tuple(range(start, start + BREATHS))
    return tuple(range(min(BREATHS, directions)))


@register
class DriftScene(Scene):
    name = "drift"
    description = "attract mode: a slow seamless loop through keyframes, breathing along a few directions"
    params = (
        ParamSpec("drift.loop_s", 120.0, 10.0, 3600.0, "seconds for one tour, then it starts over"),
        ParamSpec("drift.keys", 5, 2, 12, "keyframes on the tour", kind="int"),
        ParamSpec("drift.seed", 7, 0, 9999, "which keyframes: another seed, another tour", kind="int"),
        ParamSpec("drift.depth", 1.6, 0.0, 3.0, "keyframes' distance from the base picture, σ per direction"),
        ParamSpec("drift.glide", 0.7, 0.05, 1.0, "share of each leg spent moving (the rest rests on a key)"),
        ParamSpec("drift.breath", 0.5, 0.0, 2.0, "breathing amplitude, in σ"),
        ParamSpec("drift.breath_s", 12.0, 2.0, 120.0, "about how long one breath takes, in seconds"),
        ParamSpec("drift.hue", 0.04, 0.0, 0.5, "hue swing over the loop, in turns"),
        ParamSpec("drift.trails", 0.3, 0.0, 0.95, "feedback trails"),
    )

    def update(self, inputs: SceneInputs) -> Target:
        p = inputs.params
        loop_s = p["drift.loop_s"]
        phase = (inputs.t % loop_s) / loop_s  # 0..1 around the loop
        offsets: dict[int, float] = {}
        dims = key_dims(inputs.directions)
        if dims:
            count, seed = int(p["drift.keys"]), int(p["drift.seed"])
            keys = [keyframe(seed, i, dims, p["drift.depth"]) for i in range(count)]
            offsets = as_offsets(tour(keys, phase * count, p["drift.glide"]))
        swing = math.sin(2 * math.pi * phase)
        breaths = breath_harmonics(loop_s, p["drift.breath_s"])
        # phases from the seed too: another tour breathes differently
        shifts = np.random.default_rng(int(p["drift.seed"])).uniform(0, 2 * math.pi, BREATHS)
        for d, n, shift in zip(breath_directions(inputs.directions), breaths, shifts):
            add_offsets(offsets, {d: p["drift.breath"] * math.sin(2 * math.pi * n * phase + shift)})
        uniforms = {
            "mirror": 0.0,
            "mask_mix": 0.0,  # nobody is cut out: this is the picture on its own
            "trails": p["drift.trails"],
            "hue_shift": p["drift.hue"] * swing,
            "saturation": 1.0,
            "contrast": 1.0,
            "brightness": 0.0,
            "intensity": 1.0,
        }
        return Target(
            directions=offsets,
            speed=1.0,
            drift=0.0,  # the base holds still: the loop alone moves the picture
            uniforms=uniforms,
            capture_time=inputs.viewer.capture_time,
        )
