"""crowd: many people, far away; each one bends the picture from where they stand.

For a foyer or a festival hall: a fixed camera looks down the room at people 3–15 m away, too far
for pose or a face mesh. Crowd perception (engine/perception/crowd.py) sees them as tracked blobs
with stable ids, and this scene makes each of them an attractor:

- Every person in view holds a pair of PCA directions, picked by their id, so a person keeps the
  same pair from the moment they enter until they leave. Where they stand sets the push: across the
  hall (x) pushes the pair's first direction, along it (y, near ↔ far) the second, ± `crowd.gain`
  σ at the edges and nothing in the middle. Walking across the room sweeps "your" part of the
  picture, and two people in the same place pull the same way.
- Bigger blobs pull harder: the push is weighted by √(size / `crowd.ref_size`), capped at
  `crowd.max_weight`, so someone near the camera (or a group) outweighs a figure at the far end.
- More people, more complexity: each newcomer brings another pair of directions into play (up to
  `crowd.pairs`, then pairs are shared), and the wander between keyframes runs faster with every
  person (`crowd.complexity` per person), so an empty hall rests, a few visitors sway it and a busy
  foyer churns.
- The crowd as a whole grades the picture: its total motion leaves trails (a rush smears, a
  standing audience is crisp), its spread sets the saturation (scattered = vivid, huddled = muted),
  and the side of the hall it gathers on turns the hue a little.

When nobody is there (or crowd perception is off) nothing pushes and the picture drifts at
`crowd.idle_drift`. The scene is a pure function of the crowd it is given; the latent
integrator's bounded speed smooths people's steps, so a blob that jitters never makes the picture
twitch.
"""

from __future__ import annotations

import math

from engine.messages import Target
from engine.params import ParamSpec
from engine.perception.crowd_types import EMPTY, Crowd, Person
from engine.scene import Scene, SceneInputs, register


def pair_of(person_id: int, pairs: int) -> int:
    """The pair of directions a person holds: consecutive arrivals take consecutive pairs."""
    return (person_id - 1) % pairs


def weight(p: Person, ref_size: float, cap: float) -> float:
    """How hard a person pulls: √ of their size against a typical person's, capped."""
    return min(cap, math.sqrt(max(p.size, 0.0) / max(ref_size, 1e-9)))


def attractor_offsets(
    crowd: Crowd, directions: int, pairs: int, gain: float, ref_size: float, cap: float
) -> dict[int, float]:
    """Each person's (x, y) onto their pair of directions, in σ, summed over the crowd."""
    pairs = min(pairs, directions // 2)
    offsets: dict[int, float] = {}
    if pairs < 1:
        return offsets
    for p in crowd.people:
        k = pair_of(p.id, pairs)
        w = gain * weight(p, ref_size, cap)
        for d, v in ((2 * k, 2 * p.x - 1), (2 * k + 1, 2 * p.y - 1)):
            offsets[d] = offsets.get(d, 0.0) + w * v
    return offsets


@register
class CrowdScene(Scene):
    name = "crowd"
    description = "many people far away: each person is an attractor bending the picture where they stand"
    params = (
        ParamSpec("crowd.gain", 1.5, 0.0, 3.0, "σ a typical person at the view's edge pushes their pair"),
        ParamSpec("crowd.ref_size", 0.004, 0.0001, 0.1, "blob size (share of the frame) that weighs 1"),
        ParamSpec("crowd.max_weight", 2.0, 0.1, 5.0, "most one blob (someone near, a group) can weigh"),
        ParamSpec("crowd.pairs", 4, 1, 8, "pairs of directions people take before they share", kind="int"),
        ParamSpec("crowd.complexity", 0.25, 0.0, 2.0, "extra wander speed per person in view"),
        ParamSpec("crowd.present_drift", 0.3, 0.0, 2.0, "wander speed with one person in view"),
        ParamSpec("crowd.idle_drift", 1.0, 0.0, 3.0, "wander speed when nobody is there"),
        ParamSpec("crowd.trails", 0.2, 0.0, 0.95, "feedback trails at rest; the crowd's motion adds more"),
        ParamSpec("crowd.hue", 0.08, 0.0, 0.5, "hue turn when the crowd gathers at one side, in turns"),
    )

    def update(self, inputs: SceneInputs) -> Target:
        p = inputs.params
        crowd = inputs.viewer.crowd or EMPTY
        n = crowd.count
        offsets = attractor_offsets(
            crowd,
            inputs.directions,
            int(p["crowd.pairs"]),
            p["crowd.gain"],
            p["crowd.ref_size"],
            p["crowd.max_weight"],
        )
        if n:
            drift = p["crowd.present_drift"] * (1.0 + p["crowd.complexity"] * (n - 1))
        else:
            drift = p["crowd.idle_drift"]
        motion = min(crowd.motion, 2.0)  # frame widths per second; a stampede is no brighter than a rush
        spread = min(crowd.spread / 0.35, 1.0) if n > 1 else 0.5  # 0 huddled … 1 scattered
        uniforms = {
            "mirror": 0.0,
            "trails": min(0.95, p["crowd.trails"] + 0.35 * motion),
            "saturation": 0.7 + 0.7 * spread,
            "contrast": 1.0 + 0.03 * min(n, 10),
            "brightness": 0.0,
            "hue_shift": p["crowd.hue"] * (2 * crowd.x - 1) if n else 0.0,
            "intensity": 1.0,
        }
        return Target(
            directions=offsets,
            speed=1.0 + motion,
            drift=drift,
            uniforms=uniforms,
            capture_time=inputs.viewer.capture_time,
        )
