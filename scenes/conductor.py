"""conductor: the hands are the controls.

The viewer conducts. Each hand steers two directions continuously: its height (hip to above the head,
centred on the shoulder) and its sideways reach. Opening the arms (arm span) sets the intensity: arms
down, the hands nudge the picture; arms wide, the same gestures sweep it, and the colour opens up with
them. Holding still for `conductor.hold_s` freezes the picture where it is (the latent's speed goes to
0, the look is held): a conductor's held fermata, and the way for a visitor to keep a picture they like
for as long as they stand there. Moving again releases it, and the picture glides to where the hands
now point. Raising both hands above the head jumps to a new keyframe, with a brief flash: the one
gesture everybody tries first, and the one that needs no explanation.

Why hands and not the face: at gallery distance the face is small and its expressions are noisy,
while arms are large, deliberate and readable from across the room; and a gesture vocabulary of
"steer, open, hold, jump" is learnt in seconds by watching someone else.

Keyframes are points in the first PCA directions (engine.keyframes), numbered from `conductor.seed`;
the hands' pushes are added on top. Within a visit the integrator's own wander is held still, so the
picture moves only when the viewer does; with nobody there it drifts slowly (`conductor.idle_drift`).
The sideways reach of each hand is read from `left_hand_x`/`right_hand_x` when perception offers them;
the current catalogue has no such features, so it is estimated from the body's position `x` and the arm
span (facing the camera, the person's left hand is on the image's right).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from engine.keyframes import add_offsets, as_offsets, key_dims, keyframe
from engine.messages import Target
from engine.params import ParamSpec
from engine.scene import Scene, SceneInputs, register

SHOULDER = 0.5  # hand height at the shoulder: the hands' neutral
REARM = 0.15  # both hands must come this far below `conductor.up` before the next jump
FLASH_S = 0.35  # time constant of the flash a jump gives


@dataclass(frozen=True)
class HandAxes:
    height: int  # direction the hand's height steers
    reach: int  # direction its sideways reach steers


HANDS = {"left": HandAxes(0, 1), "right": HandAxes(2, 3)}


def hand_reach(f: Mapping[str, float], side: str) -> float:
    """Sideways position of a hand, -1..1 like `x`, from `<side>_hand_x` or estimated from body and span."""
    direct = f.get(f"{side}_hand_x")
    if direct is not None:
        return direct
    sign = 1.0 if side == "left" else -1.0  # facing the camera, the left hand is on the image's right
    return max(-1.0, min(1.0, f.get("x", 0.0) + sign * 0.5 * f.get("arm_span", 0.0)))


def steering(f: Mapping[str, float], amount: float) -> dict[int, float]:
    """Both hands' pushes in σ (1.5 σ per unit of height above the shoulder or of reach), × amount."""
    out: dict[int, float] = {}
    for side, axes in HANDS.items():
        out[axes.height] = amount * 3.0 * (f.get(f"{side}_hand_height", 0.0) - SHOULDER)
        out[axes.reach] = amount * 1.5 * hand_reach(f, side)
    return out


@register
class ConductorScene(Scene):
    name = "conductor"
    description = "the hands steer: height and reach push directions, arms wide intensify, still freezes"
    params = (
        ParamSpec("conductor.gain", 1.0, 0.0, 3.0, "strength of the hands' steering"),
        ParamSpec("conductor.span", 1.2, 0.0, 3.0, "how much opening the arms intensifies the steering"),
        ParamSpec("conductor.still", 0.06, 0.0, 0.5, "motion energy below which the viewer holds still"),
        ParamSpec("conductor.hold_s", 1.5, 0.2, 10.0, "seconds of holding still before the picture freezes"),
        ParamSpec("conductor.up", 0.8, 0.55, 1.0, "hand height that counts as above the head, for the jump"),
        ParamSpec("conductor.seed", 3, 0, 9999, "which keyframes the jumps visit", kind="int"),
        ParamSpec("conductor.depth", 1.6, 0.0, 3.0, "keyframes' distance from the base, σ per direction"),
        ParamSpec("conductor.idle_drift", 0.4, 0.0, 3.0, "drift speed while nobody is there"),
        ParamSpec("conductor.mirror", 1.0, 0.0, 1.0, "flip horizontally like a mirror", kind="bool"),
    )

    def __init__(self) -> None:
        self.key = 0  # the keyframe the picture is at; both hands up moves on to the next
        self.armed = True  # a jump needs the hands to come down before the next one
        self.still_for = 0.0  # seconds the viewer has held still
        self.frozen = False
        self.last_jump = -math.inf
        self.held: Target | None = None  # the target the picture froze on

    def update(self, inputs: SceneInputs) -> Target:
        f, p, t = inputs.viewer.features, inputs.params, inputs.t
        present = f.get("presence", 0.0) >= 0.5
        self.track_stillness(present, f.get("motion_energy", 0.0), inputs.dt, p)
        if self.frozen and self.held is not None:
            # speed 0: the integrator does not move at all, whatever the target (motion.speed scales 0)
            return dataclasses.replace(
                self.held, speed=0.0, drift=0.0, capture_time=inputs.viewer.capture_time
            )
        if present:
            self.track_jump(f, t, p["conductor.up"])
        span = f.get("arm_span", 0.0)
        amount = p["conductor.gain"] * max(0.0, 1.0 + p["conductor.span"] * (span - 0.3))
        offsets: dict[int, float] = {}
        dims = key_dims(inputs.directions)
        if dims:
            offsets = as_offsets(keyframe(int(p["conductor.seed"]), self.key, dims, p["conductor.depth"]))
        if present:
            add_offsets(offsets, {d: v for d, v in steering(f, amount).items() if d < inputs.directions})
        flash = math.exp(-(t - self.last_jump) / FLASH_S) if t >= self.last_jump else 0.0
        uniforms = {
            "mirror": p["conductor.mirror"],
            "mask_mix": 0.0,
            "trails": 0.25,
            "saturation": 0.8 + 0.6 * span if present else 1.0,
            "contrast": 1.0 + 0.2 * span if present else 1.0,
            "brightness": 0.0,
            "intensity": 1.0 + 0.4 * flash,
        }
        target = Target(
            directions=offsets,
            speed=1.0 + 0.5 * span,  # wide arms, bold moves
            drift=0.0 if present else p["conductor.idle_drift"],
            uniforms=uniforms,
            capture_time=inputs.viewer.capture_time,
        )
        self.held = target
        return target

    def track_stillness(self, present: bool, energy: float, dt: float, p: Mapping[str, float]) -> None:
        """Freeze after `hold_s` below `still`; release only above twice that (no flicker at the edge)."""
        threshold = p["conductor.still"]
        if not present or energy > 2 * threshold or (not self.frozen and energy > threshold):
            self.still_for, self.frozen = 0.0, False
            return
        self.still_for += max(0.0, dt)
        self.frozen = self.frozen or self.still_for >= p["conductor.hold_s"]

    def track_jump(self, f: Mapping[str, float], t: float, up: float) -> None:
        low = min(f.get("left_hand_height", 0.0), f.get("right_hand_height", 0.0))
        if self.armed and low >= up:
            self.key += 1
            self.armed = False
            self.last_jump = t
        elif low < up - REARM:
            self.armed = True
